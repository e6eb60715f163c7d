//! Reports: a municipality's figures for a period (a month, a quarter, a year of Danish days),
//! as they stood at an instant, as JSON or CSV. They read the reporting read model
//! (`samskab-reporting-worker`: a version per change, valid from one event to the next), so
//! "as of" a past instant is a `WHERE` over the versions, not a replay of the log.
//!
//! A report counts persons, never shows one: no id and no name, only counts. Inside its own
//! municipality the figures are whole; across municipalities (`national.rs`; the umbrella
//! organisations' views are still to come) every figure goes through
//! `samskab_domain::suppression`: none counts fewer than 5 persons or can be derived from those
//! shown.
//!
//! One module per report: `volunteers.rs`, `matching.rs`, `grants.rs`, `action_plan.rs`,
//! `national.rs`; what they share
//! (the period, the instant, the format) is here.

mod action_plan;
mod grants;
mod matching;
mod national;
mod umbrella;
mod volunteers;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use samskab_domain::calendar::Period;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::problem::ApiError;
use crate::read::bad_query;
use crate::state::AppState;

pub use action_plan::{ActionPlanPool, ActionPlanReport, ActionPlanRow};
pub use grants::{GrantFigures, GrantReport, GrantReportRow};
pub use matching::MatchingReport;
pub use national::NationalReport;
pub use umbrella::UmbrellaReport;
pub use volunteers::{VolunteerFigures, VolunteerReport, VolunteerReportRow};

/// The reports themselves, apart from their routes: what the dashboard (`samskab-dashboard`)
/// shows is what these routes answer, from the same queries.
pub mod load {
    pub use super::action_plan::load as action_plan;
    pub use super::grants::{load as grants, year_of as year};
    pub use super::matching::load as matching;
    pub use super::period_of as period;
    pub use super::umbrella::load as umbrella;
    pub use super::volunteers::{dimension_of as volunteer_dimension, load as volunteers};
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(volunteers::volunteer_report))
        .routes(routes!(matching::matching_report))
        .routes(routes!(grants::grant_report))
        .routes(routes!(action_plan::action_plan_report))
        .routes(routes!(national::national_volunteer_report))
        .routes(routes!(umbrella::umbrella_volunteer_report))
}

/// The period a report covers.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct PeriodView {
    /// As asked for: `2026`, `2026-Q4` or `2026-11`.
    pub label: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

/// The period asked for; absent, the year (in Denmark) that `as_of` falls in.
pub fn period_of(text: Option<&str>, as_of: DateTime<Utc>) -> Result<Period, ApiError> {
    match text {
        Some(text) => Period::parse(text).map_err(|reason| bad_query("period", reason)),
        None => Ok(Period::year_of(samskab_domain::calendar::danish_date(
            as_of,
        ))),
    }
}

/// "must be one of: a, b, c", for a query value outside `values`.
pub(super) fn one_of(field: &str, values: &[&str]) -> ApiError {
    bad_query(field, &format!("must be one of: {}", values.join(", ")))
}

pub(super) fn period_view(period: &Period) -> PeriodView {
    PeriodView {
        label: period.label(),
        first_day: period.first_day,
        last_day: period.last_day,
    }
}

/// What a report counts up to (exclusive): the period's end, or `as_of` when that comes first
/// (`as_of` itself included: timestamps are whole microseconds).
pub(super) fn cut_of(period: &Period, as_of: DateTime<Utc>) -> DateTime<Utc> {
    period.end().min(as_of + chrono::Duration::microseconds(1))
}

/// `format`: CSV, or JSON (the default).
pub(super) fn is_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(one_of("format", &["json", "csv"])),
    }
}

/// A CSV report to download as `name`.
pub(super) fn csv_response(text: String, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response()
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    [
        volunteers::read_sql(),
        matching::read_sql(),
        grants::read_sql(),
        action_plan::read_sql(),
        national::read_sql(),
        umbrella::read_sql(),
    ]
    .concat()
}
