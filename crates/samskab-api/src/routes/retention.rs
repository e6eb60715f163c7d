//! Retention: how many of the municipality's matches lasted 3, 6 and 12 months, as of a day.
//! It follows from the life of a match (`matching.match.started_on`, `ended_at`); the months
//! are counted by `samskab_domain::lasted_months_on`, as the domain counts them.
//!
//! For each milestone the report gives the matches that could have reached it (started at least
//! that many months before the day) beside those that did: of the matches begun a year ago,
//! how many still ran (or had run) a year later. A match begun last month is no failure to
//! last six.

use axum::extract::State;
use chrono::{Datelike, NaiveDate, Utc};
use samskab_domain::calendar::danish_date;
use samskab_domain::lasted_months_on;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Principal;
use crate::problem::ApiError;
use crate::read::{MATCHING, QueryParams, wait_for};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(match_retention))
}

/// The milestones a retention report counts, in whole months.
pub const MILESTONES: [u32; 3] = [3, 6, 12];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RetentionQuery {
    /// The day the matches are counted as they stood on (`YYYY-MM-DD`, from 1900 to ten years
    /// ahead); default today in Denmark.
    pub on: Option<NaiveDate>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// One milestone of a retention report.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct MilestoneView {
    pub months: u32,
    /// Matches started at least `months` whole months before the day: those that could have
    /// lasted this long.
    pub eligible: u64,
    /// Of those, the matches that lasted at least `months` (a pause counts as lasting).
    pub reached: u64,
    /// `reached` / `eligible`; null when none is eligible.
    pub share: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionView {
    pub on: NaiveDate,
    /// Matches that had started by the day (active, paused or ended since).
    pub started: u64,
    /// Of those, the ones not ended by the day.
    pub running: u64,
    pub milestones: Vec<MilestoneView>,
}

/// How long the municipality's matches lasted: of those that could have lasted 3, 6 and 12
/// months by the day, how many did.
#[utoipa::path(get, path = "/matches/retention", tag = "matches", params(RetentionQuery),
    responses((status = 200, body = RetentionView)), security(("bearer" = [])))]
async fn match_retention(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<RetentionQuery>,
) -> Result<axum::Json<RetentionView>, ApiError> {
    let today = danish_date(Utc::now());
    let on = query.on.unwrap_or(today);
    let latest = today.year() + samskab_domain::YEARS_AHEAD;
    if !(samskab_domain::EARLIEST_YEAR..=latest).contains(&on.year()) {
        return Err(ApiError::invalid(
            "on",
            format!(
                "must be a day from {} to {latest}",
                samskab_domain::EARLIEST_YEAR
            ),
        ));
    }
    wait_for(&state, MATCHING, query.min_position).await?;
    let rows: Vec<(NaiveDate, Option<NaiveDate>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(started_sql()))
            .bind(principal.tenant.as_str())
            .bind(on)
            .fetch_all(&state.pool)
            .await?;
    Ok(axum::Json(retention(on, &rows)))
}

/// The report of the matches `(started_on, ended_on)` as they stood on `on`.
pub fn retention(on: NaiveDate, matches: &[(NaiveDate, Option<NaiveDate>)]) -> RetentionView {
    // Per match that had started by `on`: the months since it started (what it could have
    // lasted) and the months it lasted.
    let started: Vec<(u32, u32)> = matches
        .iter()
        .filter_map(|(started, ended)| {
            let since = lasted_months_on(*started, None, on)?;
            Some((since, lasted_months_on(*started, *ended, on)?))
        })
        .collect();
    let running = matches
        .iter()
        .filter(|(started, ended)| *started <= on && ended.is_none_or(|e| e > on))
        .count();
    let milestones = MILESTONES
        .iter()
        .map(|&months| {
            let eligible = started.iter().filter(|(since, _)| *since >= months).count() as u64;
            let reached = started
                .iter()
                .filter(|(_, lasted)| *lasted >= months)
                .count() as u64;
            MilestoneView {
                months,
                eligible,
                reached,
                share: (eligible > 0).then(|| reached as f64 / eligible as f64),
            }
        })
        .collect();
    RetentionView {
        on,
        started: started.len() as u64,
        running: running as u64,
        milestones,
    }
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![("GET /matches/retention", started_sql())]
}

/// The matches of municipality $1 that had started by $2: the day they started, and the day
/// (in Denmark) they ended, if they have.
fn started_sql() -> String {
    format!(
        "SELECT started_on, (ended_at AT TIME ZONE 'Europe/Copenhagen')::date
     FROM {schema}.match WHERE tenant = $1 AND started_on IS NOT NULL AND started_on <= $2",
        schema = MATCHING.schema
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn each_milestone_counts_the_matches_that_could_have_reached_it_and_those_that_did() {
        let on = day(2026, 12, 1);
        let matches = [
            // Started 14 months before, still running: eligible for all three, reached all.
            (day(2025, 10, 1), None),
            // Started 13 months before, ended after 2: eligible for all, reached none.
            (day(2025, 11, 1), Some(day(2026, 1, 15))),
            // Started 7 months before, running: eligible for 3 and 6, reached both.
            (day(2026, 5, 1), None),
            // One day short of six months on the day: five, eligible for 3 only.
            (day(2026, 6, 2), None),
            // Ends after the day asked about: running then, four months.
            (day(2026, 8, 1), Some(day(2027, 1, 1))),
            // Starts after the day: no part of it.
            (day(2026, 12, 2), None),
        ];
        let report = retention(on, &matches);
        assert_eq!(report.started, 5);
        assert_eq!(report.running, 4);
        let counts: Vec<(u32, u64, u64)> = report
            .milestones
            .iter()
            .map(|m| (m.months, m.eligible, m.reached))
            .collect();
        assert_eq!(counts, vec![(3, 5, 4), (6, 3, 2), (12, 2, 1)]);
        assert_eq!(report.milestones[1].share, Some(2.0 / 3.0));
        assert_eq!(retention(on, &[]).milestones[0].share, None);
    }
}
