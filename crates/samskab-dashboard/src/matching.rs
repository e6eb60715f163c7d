//! `/dashboard/matching`: what a coordinator follows (seed 001). Needs published, closed and
//! open, matches at each step, how long a need waits for its first match, the hours given, and
//! how many matches last 3, 6 and 12 months.

use axum::extract::{Extension, Query, State};
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use samskab_api::problem::ApiError;
use samskab_api::routes::reports::{MatchingReport, load};
use samskab_api::{AppState, Principal};

use crate::DashboardConfig;
use crate::chart::{self, Bar};
use crate::format;
use crate::layout::{self, Page, count_figure, figure};
use crate::overview::{PeriodQuery, as_of_line, period_form};

pub async fn page(
    State(state): State<AppState>,
    Extension(config): Extension<DashboardConfig>,
    viewer: Principal,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let as_of = Utc::now();
    let period = load::period(query.period.as_deref(), as_of)?;
    let report = load::matching(&state.pool, &viewer.tenant, &period, as_of).await?;
    let figures = html! {
        (as_of_line(&period, as_of))
        (needs_and_matches(&report))
        (retention(&report))
    };
    Ok(Page {
        path: "/dashboard/matching",
        title: "Behov og match",
        viewer: &viewer,
        refresh: config.refresh,
        controls: period_form("/dashboard/matching", &period),
        figures,
    }
    .render(layout::figures_only(query.part.as_deref())))
}

fn needs_and_matches(report: &MatchingReport) -> Markup {
    let (n, m) = (&report.needs, &report.matches);
    let steps: Vec<Bar> = [
        ("Foreslået", m.proposed),
        ("Aftalt af begge", m.agreed),
        ("Afslået", m.declined),
        ("Startet", m.started),
        ("Afsluttet", m.ended),
        ("I gang nu", m.running),
    ]
    .iter()
    .map(|(label, count)| Bar {
        label: (*label).to_owned(),
        value: i64::try_from(*count).unwrap_or(i64::MAX),
        shown: format::count(*count),
    })
    .collect();
    let median = report.first_match.median_days;
    html! {
        section aria-labelledby="h-needs" {
            h2 id="h-needs" { "Behov" }
            dl.figures {
                (count_figure("needs.published", "Nye i perioden", n.published))
                (count_figure("needs.closed", "Lukket i perioden", n.closed))
                (count_figure("needs.open", "Åbne ved periodens slutning", n.open))
                (count_figure("first_match.needs", "Fik deres første match", report.first_match.needs))
                (figure("first_match.median_days", "Dage til første match (median)",
                    median.map_or(-1, |d| d.round() as i64),
                    &median.map_or_else(|| "–".to_owned(), |d| format::count(d.round() as i64))))
            }
        }
        section aria-labelledby="h-matches" {
            h2 id="h-matches" { "Match" }
            dl.figures {
                (count_figure("matches.proposed", "Foreslået", m.proposed))
                (count_figure("matches.started", "Startet", m.started))
                (count_figure("matches.running", "I gang nu", m.running))
                (figure("hours.minutes", "Frivillige timer",
                    i64::try_from(report.hours.minutes).unwrap_or(i64::MAX),
                    &format::hours(report.hours.minutes)))
                (count_figure("hours.matches", "Forløb med timer", report.hours.matches))
            }
            (chart::bars("chart-steps", "Match i perioden, efter trin", &steps))
        }
    }
}

fn retention(report: &MatchingReport) -> Markup {
    let r = &report.retention;
    let bars: Vec<Bar> = r
        .milestones
        .iter()
        .map(|milestone| Bar {
            label: format!("{} måneder", milestone.months),
            value: (milestone.share.unwrap_or(0.0) * 1000.0).round() as i64,
            shown: match milestone.share {
                Some(share) => format!(
                    "{} ({} af {})",
                    format::percent(share),
                    format::count(milestone.reached),
                    format::count(milestone.eligible)
                ),
                None => "ingen endnu".to_owned(),
            },
        })
        .collect();
    html! {
        section aria-labelledby="h-retention" {
            h2 id="h-retention" { "Fastholdelse" }
            p { "Af de forløb, der kunne have varet så længe den " (r.on.format("%d.%m.%Y")) ", hvor mange gjorde det." }
            (chart::bars("chart-retention", "Forløb, der varede 3, 6 og 12 måneder", &bars))
        }
    }
}
