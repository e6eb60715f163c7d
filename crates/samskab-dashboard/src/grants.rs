//! `/dashboard/grants`: a budget year of the municipality's §18 pools, for the committee (seed
//! 003): per pool what was applied for and granted, refused, committed against the budget,
//! paid out and back, and whose final report is overdue.

use axum::extract::{Extension, Query, State};
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use samskab_api::problem::ApiError;
use samskab_api::read::bad_query;
use samskab_api::routes::reports::{GrantFigures, GrantReport, load};
use samskab_api::{AppState, Principal};
use serde::Deserialize;

use crate::DashboardConfig;
use crate::chart::{self, Bar};
use crate::format;
use crate::layout::{self, Page, count_figure, figure};

#[derive(Debug, Deserialize)]
pub struct YearQuery {
    /// Text, so that a year that is not a number is told as one, on the page.
    pub year: Option<String>,
    pub part: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(config): Extension<DashboardConfig>,
    viewer: Principal,
    Query(query): Query<YearQuery>,
) -> Result<Response, ApiError> {
    let as_of = Utc::now();
    let year = year_of(query.year.as_deref(), as_of)?;
    let report = load::grants(&state.pool, &viewer.tenant, year, as_of).await?;
    let figures = html! {
        p.as-of {
            "Budgetår " strong { (year) } ", pr. "
            time datetime=(format::machine_time(as_of)) { (format::moment(as_of)) } "."
        }
        (totals(&report.total))
        (charts(&report))
        (pool_table(&report))
    };
    Ok(Page {
        path: "/dashboard/grants",
        title: "§18-puljer",
        viewer: &viewer,
        refresh: config.refresh,
        controls: year_form("/dashboard/grants", year),
        figures,
    }
    .render(layout::figures_only(query.part.as_deref())))
}

/// The budget year asked for, as `GET /reports/grants` takes it (`load::year`); the query's
/// text, so that a year that is not a number is told on the page as one out of range is.
pub fn year_of(text: Option<&str>, as_of: chrono::DateTime<Utc>) -> Result<i32, ApiError> {
    let year = match text.map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i32>()
                .map_err(|_| bad_query("year", "must be 2000 to 2100"))?,
        ),
    };
    load::year(year, as_of)
}

/// The form that picks a budget year.
pub fn year_form(action: &str, year: i32) -> Markup {
    html! {
        form.period method="get" action=(action) {
            label for="year" { "Budgetår" }
            input id="year" name="year" type="number" min="2000" max="2100" value=(year);
            button type="submit" { "Vis" }
        }
    }
}

fn totals(t: &GrantFigures) -> Markup {
    html! {
        section aria-labelledby="h-totals" {
            h2 id="h-totals" { "Alle puljer" }
            dl.figures {
                (figure("grants.budget", "Budget", t.budget, &format::kroner(t.budget)))
                (figure("grants.requested", "Ansøgt", t.requested, &format::kroner(t.requested)))
                (figure("grants.granted", "Bevilget", t.granted, &format::kroner(t.granted)))
                (figure("grants.committed", "Disponeret", t.committed, &format::kroner(t.committed)))
                (figure("grants.available", "Til rådighed", t.available, &format::kroner(t.available)))
                (figure("grants.paid", "Udbetalt", t.paid, &format::kroner(t.paid)))
                (figure("grants.repaid", "Tilbagebetalt", t.repaid, &format::kroner(t.repaid)))
                (count_figure("grants.granted_cases", "Bevillinger", t.granted_cases))
                (count_figure("grants.refused_cases", "Afslag", t.refused_cases))
                (count_figure("grants.awaiting_approval_cases", "Venter på godkendelse", t.awaiting_approval_cases))
                (count_figure("grants.reports_overdue", "Slutrapporter for sent", t.reports_overdue))
            }
        }
    }
}

fn charts(report: &GrantReport) -> Markup {
    let money = |pick: fn(&GrantFigures) -> i64| -> Vec<Bar> {
        report
            .pools
            .iter()
            .map(|pool| {
                let ore = pick(&pool.figures);
                Bar {
                    label: pool.name.clone(),
                    value: ore,
                    shown: format::kroner(ore),
                }
            })
            .collect()
    };
    html! {
        section aria-labelledby="h-charts" {
            h2 id="h-charts" { "Puljerne side om side" }
            (chart::bars("chart-committed", "Disponeret, efter pulje", &money(|f| f.committed)))
            (chart::bars("chart-paid", "Udbetalt, efter pulje", &money(|f| f.paid)))
        }
    }
}

fn pool_table(report: &GrantReport) -> Markup {
    let columns = [
        "Pulje",
        "Budget",
        "Ansøgt",
        "Bevilget",
        "Afslag",
        "Disponeret",
        "Andel",
        "Udbetalt",
        "Slutrapporter for sent",
    ];
    let rows = (!report.pools.is_empty()).then(|| {
        html! {
            @for pool in &report.pools {
                @let f = &pool.figures;
                tr {
                    th scope="row" { (pool.name) }
                    td { (format::kroner(f.budget)) }
                    td { (format::kroner(f.requested)) }
                    td { (format::kroner(f.granted)) " (" (format::count(f.granted_cases)) ")" }
                    td { (format::count(f.refused_cases)) }
                    td { (format::kroner(f.committed)) }
                    td { (f.share_committed.map(format::percent).unwrap_or_else(|| "–".to_owned())) }
                    td { (format::kroner(f.paid)) }
                    td { (format::count(f.reports_overdue)) }
                }
            }
        }
    });
    layout::table_section(
        "h-pools",
        "Hver pulje",
        "Kommunen har ingen puljer endnu.",
        &columns,
        rows,
    )
}
