//! `GET /reports/matching`: the municipality's needs and matches in a period, from
//! `reporting.need_version`, `match_version` and `match_hours`. What a coordinator follows
//! (seed 001): needs published, closed and open; matches proposed, agreed, declined, started,
//! ended and running; how long a need waited for its first match; the hours given; and how
//! many matches lasted 3, 6 and 12 months, as the log stood then (counted as
//! `routes/retention.rs` counts them).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use samskab_domain::TenantId;
use samskab_domain::calendar::{Period, danish_date};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use super::{PeriodView, csv_response, cut_of, is_csv, period_of, period_view};
use crate::auth::Principal;
use crate::csv::{Field, write_row};
use crate::problem::ApiError;
use crate::read::{QueryParams, REPORTING, as_of_instant, wait_for};
use crate::routes::retention::{RetentionView, retention};
use crate::schema;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MatchingReportQuery {
    /// A year (`2026`), a quarter (`2026-Q4`) or a month (`2026-11`), of days in Denmark;
    /// absent: this year.
    #[param(schema_with = schema::period_or_null)]
    pub period: Option<String>,
    /// The figures as they stood at this instant (RFC 3339, in 2000 to 2100): what the log held
    /// then. Absent: now.
    pub as_of: Option<DateTime<Utc>>,
    /// `json` (the default) or `csv`.
    #[param(schema_with = schema::report_format_or_null)]
    pub format: Option<String>,
    /// Wait until the reporting read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// Needs, each at most once per figure.
#[derive(Debug, Serialize, ToSchema, PartialEq, Default)]
pub struct NeedFigures {
    /// Published in the period.
    pub published: u64,
    /// Closed in the period.
    pub closed: u64,
    /// Open at the period's end (or at `as_of`, if that comes first).
    pub open: u64,
}

/// Matches, each at most once per figure.
#[derive(Debug, Serialize, ToSchema, PartialEq, Default)]
pub struct MatchFigures {
    /// Proposed in the period.
    pub proposed: u64,
    /// Accepted by both sides in the period.
    pub agreed: u64,
    /// Declined by a side in the period.
    pub declined: u64,
    /// Whose start was recorded in the period.
    pub started: u64,
    /// Ended in the period (started or not).
    pub ended: u64,
    /// Running (started, not ended; a pause counts) at the period's end or `as_of`.
    pub running: u64,
}

/// How long needs waited for their first match.
#[derive(Debug, Serialize, ToSchema, PartialEq, Default)]
pub struct FirstMatchFigures {
    /// Needs whose first match was agreed in the period.
    pub needs: u64,
    /// Of those, the median of the days from publication to that agreement; null when none.
    pub median_days: Option<f64>,
}

/// Hours given, as logged per month.
#[derive(Debug, Serialize, ToSchema, PartialEq, Default)]
pub struct HoursFigures {
    /// Minutes logged for the period's months (each month's latest figure as of `as_of`, so a
    /// month logged after the period ended counts).
    pub minutes: u64,
    /// Matches with any minutes in those months.
    pub matches: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchingReport {
    pub period: PeriodView,
    /// The instant the figures stood at.
    pub as_of: DateTime<Utc>,
    pub needs: NeedFigures,
    pub matches: MatchFigures,
    pub first_match: FirstMatchFigures,
    pub hours: HoursFigures,
    /// How long matches lasted, on the period's last day (or `as_of`'s, if that comes first),
    /// as the log stood at that instant: of those that could have lasted 3, 6 and 12 months,
    /// how many did.
    pub retention: RetentionView,
}

/// The municipality's needs and matches in a period: needs published, closed and open;
/// matches proposed, agreed, declined, started, ended and running; the median wait for a
/// need's first match; the hours given.
#[utoipa::path(get, path = "/reports/matching", tag = "reports", params(MatchingReportQuery),
    responses((status = 200, content((MatchingReport = "application/json"), (String = "text/csv")))),
    security(("bearer" = [])))]
pub(super) async fn matching_report(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<MatchingReportQuery>,
) -> Result<Response, ApiError> {
    let as_of = as_of_instant(query.as_of)?;
    let period = period_of(query.period.as_deref(), as_of)?;
    let csv = is_csv(query.format.as_deref())?;
    wait_for(&state, REPORTING, query.min_position).await?;
    let report = load(&state.pool, &principal.tenant, &period, as_of).await?;
    Ok(if csv {
        matching_csv(&report).into_response()
    } else {
        axum::Json(report).into_response()
    })
}

/// The report of `tenant`'s needs and matches in `period` as they stood at `as_of`: for this
/// route and for the dashboard.
pub async fn load(
    pool: &PgPool,
    tenant: &TenantId,
    period: &Period,
    as_of: DateTime<Utc>,
) -> Result<MatchingReport, ApiError> {
    let tenant = tenant.as_str();
    let (start, cut) = (period.start(), cut_of(period, as_of));
    let count = |n: i64| u64::try_from(n).unwrap_or(0);

    let (published, closed, open): (i64, i64, i64) =
        sqlx::query_as(sqlx::AssertSqlSafe(needs_sql()))
            .bind(tenant)
            .bind(start)
            .bind(cut)
            .fetch_one(pool)
            .await?;
    let m: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(matches_sql()))
        .bind(tenant)
        .bind(start)
        .bind(cut)
        .fetch_one(pool)
        .await?;
    let (needs_matched, median_days): (i64, Option<f64>) =
        sqlx::query_as(sqlx::AssertSqlSafe(first_match_sql()))
            .bind(tenant)
            .bind(start)
            .bind(cut)
            .fetch_one(pool)
            .await?;
    let months = (
        period.first_day.format("%Y-%m").to_string(),
        period.last_day.format("%Y-%m").to_string(),
    );
    let (minutes, matches_with_hours): (i64, i64) =
        sqlx::query_as(sqlx::AssertSqlSafe(hours_sql()))
            .bind(tenant)
            .bind(&months.0)
            .bind(&months.1)
            .bind(as_of + chrono::Duration::microseconds(1))
            .fetch_one(pool)
            .await?;
    let lives: Vec<(NaiveDate, Option<NaiveDate>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(retention_sql()))
            .bind(tenant)
            .bind(cut)
            .fetch_all(pool)
            .await?;
    let on = period.last_day.min(danish_date(as_of));
    Ok(MatchingReport {
        period: period_view(period),
        as_of,
        needs: NeedFigures {
            published: count(published),
            closed: count(closed),
            open: count(open),
        },
        matches: MatchFigures {
            proposed: count(m.0),
            agreed: count(m.1),
            declined: count(m.2),
            started: count(m.3),
            ended: count(m.4),
            running: count(m.5),
        },
        first_match: FirstMatchFigures {
            needs: count(needs_matched),
            median_days,
        },
        hours: HoursFigures {
            minutes: count(minutes),
            matches: count(matches_with_hours),
        },
        retention: retention(on, &lives),
    })
}

/// Needs of municipality $1 published and closed from $2, and open, up to $3 (exclusive).
fn needs_sql() -> String {
    format!(
        "SELECT
            count(DISTINCT need_id) FILTER (WHERE started_by = 'published' AND valid_from >= $2),
            count(DISTINCT need_id) FILTER (WHERE started_by = 'closed' AND valid_from >= $2),
            count(DISTINCT need_id) FILTER (
                WHERE status = 'open' AND (valid_to IS NULL OR valid_to >= $3))
         FROM {schema}.need_version
         WHERE tenant = $1 AND valid_from < $3",
        schema = REPORTING.schema
    )
}

/// Matches of municipality $1 by what happened to them from $2 up to $3 (exclusive), and
/// those running at $3.
fn matches_sql() -> String {
    format!(
        "SELECT
            count(DISTINCT match_id) FILTER (WHERE started_by = 'proposed' AND valid_from >= $2),
            count(DISTINCT match_id) FILTER (WHERE stage = 'agreed' AND valid_from >= $2),
            count(DISTINCT match_id) FILTER (WHERE stage = 'declined' AND valid_from >= $2),
            count(DISTINCT match_id) FILTER (WHERE started_by = 'started' AND valid_from >= $2),
            count(DISTINCT match_id) FILTER (WHERE stage = 'ended' AND valid_from >= $2),
            count(DISTINCT match_id) FILTER (
                WHERE stage IN ('active', 'paused') AND (valid_to IS NULL OR valid_to >= $3))
         FROM {schema}.match_version
         WHERE tenant = $1 AND valid_from < $3",
        schema = REPORTING.schema
    )
}

/// Needs of municipality $1 whose first match was agreed from $2 up to $3 (exclusive), and the
/// median days they waited from publication. `agreed_at` is carried on every later version,
/// so the earliest one known by $3 is the first agreement then.
fn first_match_sql() -> String {
    format!(
        "WITH first AS (
            SELECT need_id, min(agreed_at) AS agreed_at
            FROM {schema}.match_version
            WHERE tenant = $1 AND need_id IS NOT NULL AND agreed_at IS NOT NULL
              AND valid_from < $3
            GROUP BY need_id
         )
         SELECT count(*),
            percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM first.agreed_at - need.published_at) / 86400)
         FROM first
         JOIN {schema}.need_version need
           ON need.tenant = $1 AND need.need_id = first.need_id AND need.valid_to IS NULL
         WHERE first.agreed_at >= $2 AND first.agreed_at < $3",
        schema = REPORTING.schema
    )
}

/// Minutes of municipality $1's matches for the months $2 to $3 (`YYYY-MM`): each month's
/// latest figure logged before $4.
fn hours_sql() -> String {
    format!(
        "SELECT coalesce(sum(minutes), 0)::bigint, count(DISTINCT match_id) FILTER (WHERE minutes > 0)
         FROM (
            SELECT DISTINCT ON (match_id, month) match_id, minutes
            FROM {schema}.match_hours
            WHERE tenant = $1 AND month >= $2 AND month <= $3 AND logged_at < $4
            ORDER BY match_id, month, from_position DESC, from_index DESC
         ) latest",
        schema = REPORTING.schema
    )
}

/// The matches of municipality $1 that had started, as they stood just before $2: the day each
/// started, and the day it ended, if it had.
fn retention_sql() -> String {
    format!(
        "SELECT started_on, ended_on FROM {schema}.match_version
         WHERE tenant = $1 AND started_on IS NOT NULL
           AND valid_from < $2 AND (valid_to IS NULL OR valid_to >= $2)",
        schema = REPORTING.schema
    )
}

/// The report as CSV: one row per figure.
fn matching_csv(report: &MatchingReport) -> Response {
    let mut out = String::new();
    write_row(&mut out, &["period", "figure", "value"].map(Field::Text));
    let (n, m) = (&report.needs, &report.matches);
    let median = report
        .first_match
        .median_days
        .map(|d| format!("{d:.1}"))
        .unwrap_or_default();
    let figures = [
        ("needs_published", n.published.to_string()),
        ("needs_closed", n.closed.to_string()),
        ("needs_open", n.open.to_string()),
        ("matches_proposed", m.proposed.to_string()),
        ("matches_agreed", m.agreed.to_string()),
        ("matches_declined", m.declined.to_string()),
        ("matches_started", m.started.to_string()),
        ("matches_ended", m.ended.to_string()),
        ("matches_running", m.running.to_string()),
        ("needs_first_matched", report.first_match.needs.to_string()),
        ("median_days_to_first_match", median),
        ("minutes_logged", report.hours.minutes.to_string()),
        ("matches_with_hours", report.hours.matches.to_string()),
    ];
    let mut figures: Vec<(String, String)> = figures
        .into_iter()
        .map(|(figure, value)| (figure.to_string(), value))
        .collect();
    let retention = &report.retention;
    figures.push(("retention_started".into(), retention.started.to_string()));
    figures.push(("retention_running".into(), retention.running.to_string()));
    for m in &retention.milestones {
        let months = m.months;
        figures.push((
            format!("retention_could_last_{months}_months"),
            m.eligible.to_string(),
        ));
        figures.push((
            format!("retention_lasted_{months}_months"),
            m.reached.to_string(),
        ));
    }
    for (figure, value) in &figures {
        write_row(
            &mut out,
            &[
                Field::Text(&report.period.label),
                Field::Text(figure),
                Field::Text(value),
            ],
        );
    }
    csv_response(out, &format!("matchning-{}.csv", report.period.label))
}

pub(super) fn read_sql() -> Vec<(&'static str, String)> {
    [
        needs_sql(),
        matches_sql(),
        first_match_sql(),
        hours_sql(),
        retention_sql(),
    ]
    .into_iter()
    .map(|sql| ("GET /reports/matching", sql))
    .collect()
}
