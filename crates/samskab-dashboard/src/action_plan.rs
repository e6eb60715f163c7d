//! `/dashboard/action-plan`: the municipality's action plan for a budget year (seed 004): per
//! strategic goal and initiative (indsats), the pools that serve it, what they granted and
//! paid, and its partnerships.

use axum::extract::{Extension, Query, State};
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use samskab_api::problem::ApiError;
use samskab_api::routes::reports::{ActionPlanReport, load};
use samskab_api::{AppState, Principal};

use crate::DashboardConfig;
use crate::chart::{self, Bar};
use crate::format;
use crate::grants::{YearQuery, year_form, year_of};
use crate::layout::{self, Page, count_figure, figure};

pub async fn page(
    State(state): State<AppState>,
    Extension(config): Extension<DashboardConfig>,
    viewer: Principal,
    Query(query): Query<YearQuery>,
) -> Result<Response, ApiError> {
    let as_of = Utc::now();
    let year = year_of(query.year.as_deref(), as_of)?;
    let report = load::action_plan(&state.pool, &viewer.tenant, year, as_of).await?;
    let figures = html! {
        p.as-of {
            "Budgetår " strong { (year) } ", pr. "
            time datetime=(format::machine_time(as_of)) { (format::moment(as_of)) } "."
        }
        (overview(&report))
        (initiatives(&report))
    };
    Ok(Page {
        path: "/dashboard/action-plan",
        title: "Handleplan",
        viewer: &viewer,
        refresh: config.refresh,
        controls: year_form("/dashboard/action-plan", year),
        figures,
    }
    .render(layout::figures_only(query.part.as_deref())))
}

/// An initiative's name as the page shows it.
fn initiative_name(initiative: Option<&str>) -> String {
    initiative.unwrap_or("Uden indsats").to_owned()
}

fn overview(report: &ActionPlanReport) -> Markup {
    let named = report
        .initiatives
        .iter()
        .filter(|i| i.initiative.is_some())
        .count();
    let granted: i64 = report
        .initiatives
        .iter()
        .map(|i| i.figures.granted)
        .fold(0, i64::saturating_add);
    let partnerships: u64 = report.initiatives.iter().map(|i| i.partnerships).sum();
    let bars: Vec<Bar> = report
        .initiatives
        .iter()
        .map(|i| Bar {
            label: initiative_name(i.initiative.as_deref()),
            value: i.figures.granted,
            shown: format::kroner(i.figures.granted),
        })
        .collect();
    html! {
        section aria-labelledby="h-plan" {
            h2 id="h-plan" { "Handleplanen i tal" }
            dl.figures {
                (count_figure("plan.initiatives", "Indsatser med puljer", named as u64))
                (figure("plan.granted", "Bevilget i alt", granted, &format::kroner(granted)))
                (count_figure("plan.partnerships", "Partnerskaber", partnerships))
            }
            (chart::bars("chart-initiatives", "Bevilget, efter indsats", &bars))
        }
    }
}

fn initiatives(report: &ActionPlanReport) -> Markup {
    let columns = [
        "Strategisk mål",
        "Indsats",
        "Puljer",
        "Budget",
        "Bevilget",
        "Udbetalt",
        "Partnerskaber",
    ];
    let rows = (!report.initiatives.is_empty()).then(|| {
        html! {
            @for row in &report.initiatives {
                @let f = &row.figures;
                @let pools = row.pools.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
                tr {
                    td { (row.strategic_goal.as_deref().unwrap_or("–")) }
                    th scope="row" { (initiative_name(row.initiative.as_deref())) }
                    td { (pools) }
                    td { (format::kroner(f.budget)) }
                    td { (format::kroner(f.granted)) " (" (format::count(f.granted_cases)) ")" }
                    td { (format::kroner(f.paid)) }
                    td { (format::count(row.partnerships)) " (" (format::kroner(row.partnership_granted)) ")" }
                }
            }
        }
    });
    layout::table_section(
        "h-initiatives",
        "Hver indsats",
        "Ingen puljer tjener handleplanen endnu.",
        &columns,
        rows,
    )
}
