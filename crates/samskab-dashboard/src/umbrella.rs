//! `/dashboard/umbrella`: an umbrella organisation's page (seed 000: club → district →
//! national), for its token only. Its members' volunteers (its districts' members too) in each
//! municipality that shares its figures with it, by age band, as `GET
//! /reports/umbrella/volunteers` counts them: suppressed, so no figure counts fewer than 5
//! persons or can be told from those shown. A suppressed figure reads "–", and the page says
//! why.

use axum::extract::{Extension, Query, State};
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use samskab_api::problem::ApiError;
use samskab_api::routes::reports::{UmbrellaReport, load};
use samskab_api::{AppState, Principal};

use crate::DashboardConfig;
use crate::chart::{self, Bar};
use crate::format;
use crate::layout::{self, Page, count_figure};
use crate::overview::{PeriodQuery, age_band_name, as_of_line, period_form};

pub async fn page(
    State(state): State<AppState>,
    Extension(config): Extension<DashboardConfig>,
    viewer: Principal,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let as_of = Utc::now();
    let period = load::period(query.period.as_deref(), as_of)?;
    let report = load::umbrella(&state, &viewer, &period, as_of, "active").await?;
    let figures = html! {
        (as_of_line(&period, as_of))
        (summary(&report))
        (by_municipality(&report))
    };
    Ok(Page {
        path: "/dashboard/umbrella",
        title: "Paraplyorganisation",
        viewer: &viewer,
        refresh: config.refresh,
        controls: period_form("/dashboard/umbrella", &period),
        figures,
    }
    .render(layout::figures_only(query.part.as_deref())))
}

/// A published figure as it reads: its count, or a dash for one suppressed.
fn shown(figure: Option<u64>) -> String {
    figure.map_or_else(|| "–".to_owned(), format::count)
}

fn summary(report: &UmbrellaReport) -> Markup {
    let f = &report.figures;
    let bars: Vec<Bar> = f
        .municipalities
        .iter()
        .filter_map(|row| {
            row.total.map(|n| Bar {
                label: row.municipality.clone(),
                value: i64::try_from(n).unwrap_or(i64::MAX),
                shown: format::count(n),
            })
        })
        .collect();
    html! {
        section aria-labelledby="h-umbrella" {
            h2 id="h-umbrella" { (report.umbrella_name) }
            dl.figures {
                (count_figure("umbrella.municipalities", "Kommuner, der deler tal", f.municipalities.len() as u64))
                @match f.total {
                    Some(total) => (count_figure("umbrella.active", "Aktive frivillige i medlemmerne", total)),
                    None => div.figure {
                        dt { "Aktive frivillige i medlemmerne" }
                        dd data-figure="umbrella.active" { "–" }
                    },
                }
            }
            p.hint {
                "Tallene tæller frivillige i medlemsorganisationerne (også distrikternes) i de kommuner, "
                "der deler deres tal. Et tal under " (f.min_persons) " personer vises ikke (–), "
                "og heller ikke et tal, som det kunne regnes ud fra."
            }
            (chart::bars("chart-umbrella", "Aktive frivillige efter kommune (viste tal)", &bars))
        }
    }
}

fn by_municipality(report: &UmbrellaReport) -> Markup {
    let f = &report.figures;
    let mut columns: Vec<String> = vec!["Kommune".to_owned()];
    columns.extend(f.age_bands.iter().map(|b| age_band_name(b)));
    columns.push("I alt".to_owned());
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows = (!f.municipalities.is_empty()).then(|| {
        html! {
            @for row in &f.municipalities {
                tr {
                    th scope="row" { (row.municipality) }
                    @for cell in &row.cells { td { (shown(*cell)) } }
                    td { (shown(row.total)) }
                }
            }
            tr {
                th scope="row" { "I alt" }
                @for cell in &f.age_band_totals { td { (shown(*cell)) } }
                td { (shown(f.total)) }
            }
        }
    });
    layout::table_section(
        "h-by-municipality",
        "Efter kommune og alder",
        "Ingen kommune deler endnu sine tal med organisationen.",
        &columns,
        rows,
    )
}
