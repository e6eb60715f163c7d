//! `/dashboard`: the municipality at a glance for a period. Its volunteers (and their ages),
//! its needs and how matches go from a proposal to a running match, and how much of the year's
//! §18 money is committed, each as key figures and a chart.

use axum::extract::{Extension, Query, State};
use axum::response::Response;
use chrono::{Datelike, Utc};
use maud::{Markup, html};
use samskab_api::problem::ApiError;
use samskab_api::routes::reports::{GrantReport, MatchingReport, VolunteerReport, load};
use samskab_api::{AppState, Principal};
use samskab_domain::calendar::Period;
use serde::Deserialize;

use crate::DashboardConfig;
use crate::chart::{self, Bar};
use crate::format;
use crate::layout::{self, Page, count_figure, figure};

/// What a page is asked: the period (as `GET /reports/...` takes it), and `part=figures` for
/// the script's refresh.
#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    pub period: Option<String>,
    pub part: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(config): Extension<DashboardConfig>,
    viewer: Principal,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let as_of = Utc::now();
    let period = load::period(query.period.as_deref(), as_of)?;
    let tenant = &viewer.tenant;
    let volunteers =
        load::volunteers(&state.pool, tenant, &period, as_of, Some("age_band")).await?;
    let affiliation =
        load::volunteers(&state.pool, tenant, &period, as_of, Some("affiliation")).await?;
    let matching = load::matching(&state.pool, tenant, &period, as_of).await?;
    let grants = load::grants(&state.pool, tenant, period.first_day.year(), as_of).await?;
    let figures = html! {
        (as_of_line(&period, as_of))
        (volunteer_section(&volunteers, &affiliation))
        (matching_section(&matching))
        (grant_section(&grants))
    };
    Ok(Page {
        path: "/dashboard",
        title: "Overblik",
        viewer: &viewer,
        refresh: config.refresh,
        controls: period_form("/dashboard", &period),
        figures,
    }
    .render(layout::figures_only(query.part.as_deref())))
}

/// When the figures stood, and for which period.
pub fn as_of_line(period: &Period, as_of: chrono::DateTime<Utc>) -> Markup {
    html! {
        p.as-of {
            "Tal for " strong { (period.label()) } " ("
            (period.first_day.format("%d.%m.%Y")) "–" (period.last_day.format("%d.%m.%Y"))
            "), pr. " time datetime=(format::machine_time(as_of)) { (format::moment(as_of)) } "."
        }
    }
}

/// The form that picks a period: a year, a quarter or a month.
pub fn period_form(action: &str, period: &Period) -> Markup {
    html! {
        form.period method="get" action=(action) {
            label for="period" { "Periode" }
            input id="period" name="period" type="text" value=(period.label())
                aria-describedby="period-hint" inputmode="text" autocomplete="off";
            button type="submit" { "Vis" }
            p id="period-hint" .hint { "Et år (2026), et kvartal (2026-Q4) eller en måned (2026-11)." }
        }
    }
}

fn volunteer_section(report: &VolunteerReport, affiliation: &VolunteerReport) -> Markup {
    let t = &report.total;
    // "Ny frivillighed" (seed 004): of the period's new volunteers, those on their own.
    let own = affiliation
        .rows
        .iter()
        .find(|row| row.value == "own")
        .map_or(0, |row| row.figures.registered);
    let own_shown = match t.registered {
        0 => format::count(own),
        all => format!(
            "{} ({})",
            format::count(own),
            format::percent(own as f64 / all as f64)
        ),
    };
    let ages: Vec<Bar> = report
        .rows
        .iter()
        .map(|row| Bar {
            label: age_band_name(&row.value),
            value: i64::try_from(row.figures.active).unwrap_or(i64::MAX),
            shown: format::count(row.figures.active),
        })
        .collect();
    html! {
        section aria-labelledby="h-volunteers" {
            h2 id="h-volunteers" { "Frivillige" }
            dl.figures {
                (count_figure("volunteers.active", "Aktive ved periodens slutning", t.active))
                (count_figure("volunteers.registered", "Nye i perioden", t.registered))
                (figure("volunteers.registered_own", "Heraf ny frivillighed (uden for foreningerne)",
                    i64::try_from(own).unwrap_or(i64::MAX), &own_shown))
                (count_figure("volunteers.consent_withdrawn", "Trak samtykket tilbage", t.consent_withdrawn))
                (count_figure("volunteers.forgotten", "Glemt efter ønske (GDPR)", t.forgotten))
            }
            (chart::bars("chart-ages", "Aktive frivillige efter alder", &ages))
        }
    }
}

/// An age band as it reads: `30_49` → `30-49 år`.
pub fn age_band_name(band: &str) -> String {
    match band {
        "" => "Alder ikke oplyst".to_owned(),
        "under_18" => "Under 18 år".to_owned(),
        "67_plus" => "67 år og derover".to_owned(),
        other => format!("{} år", other.replace('_', "-")),
    }
}

fn matching_section(report: &MatchingReport) -> Markup {
    let m = &report.matches;
    let steps = [
        ("Foreslået", m.proposed),
        ("Aftalt af begge", m.agreed),
        ("Startet", m.started),
        ("I gang nu", m.running),
    ];
    let funnel: Vec<Bar> = steps
        .iter()
        .map(|(label, n)| Bar {
            label: (*label).to_owned(),
            value: i64::try_from(*n).unwrap_or(i64::MAX),
            shown: format::count(*n),
        })
        .collect();
    let minutes = i64::try_from(report.hours.minutes).unwrap_or(i64::MAX);
    html! {
        section aria-labelledby="h-matching" {
            h2 id="h-matching" { "Behov og match" }
            dl.figures {
                (count_figure("needs.open", "Åbne behov", report.needs.open))
                (count_figure("needs.published", "Nye behov i perioden", report.needs.published))
                (count_figure("matches.started", "Forløb startet", m.started))
                (count_figure("matches.running", "Forløb i gang", m.running))
                (figure("hours.minutes", "Frivillige timer", minutes, &format::hours(report.hours.minutes)))
            }
            (chart::bars("chart-funnel", "Match i perioden, fra forslag til forløb", &funnel))
            p { a href="/dashboard/matching" { "Alt om behov og match" } }
        }
    }
}

fn grant_section(report: &GrantReport) -> Markup {
    let t = &report.total;
    let shares: Vec<Bar> = report
        .pools
        .iter()
        .map(|pool| Bar {
            label: pool.name.clone(),
            value: (pool.figures.share_committed.unwrap_or(0.0) * 1000.0).round() as i64,
            shown: pool
                .figures
                .share_committed
                .map(format::percent)
                .unwrap_or_else(|| "intet budget".to_owned()),
        })
        .collect();
    html! {
        section aria-labelledby="h-grants" {
            h2 id="h-grants" { "§18-puljer " (report.year) }
            dl.figures {
                (figure("grants.budget", "Budget", t.budget, &format::kroner(t.budget)))
                (figure("grants.committed", "Disponeret", t.committed, &format::kroner(t.committed)))
                (figure("grants.paid", "Udbetalt", t.paid, &format::kroner(t.paid)))
                (count_figure("grants.reports_overdue", "Slutrapporter for sent", t.reports_overdue))
            }
            (chart::bars("chart-committed", "Andel af budgettet disponeret, efter pulje", &shares))
            p { a href="/dashboard/grants" { "Alt om puljerne" } }
        }
    }
}
