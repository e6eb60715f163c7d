//! `GET /reports/volunteers`: the municipality's volunteers in a period, in total and by
//! skill, target group, age band or postcode, from `reporting.volunteer_version`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use samskab_domain::TenantId;
use samskab_domain::calendar::Period;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use super::{PeriodView, csv_response, cut_of, is_csv, one_of, period_of, period_view};
use crate::auth::Principal;
use crate::csv::{Field, write_row};
use crate::problem::ApiError;
use crate::read::{QueryParams, REPORTING, as_of_instant, wait_for};
use crate::schema;
use crate::state::AppState;

/// What a volunteer report can be broken down by: one column of the versions, or one item of
/// a list (a volunteer with two skills is counted under each, once).
/// `affiliation` tells volunteers in an organisation (`organisation`) from those on their own
/// (`own`): "ny frivillighed", the new volunteering outside the organised associations that
/// Rødovre's action plan follows (seed 004), is the `own` row's share of the total.
pub const VOLUNTEER_DIMENSIONS: [&str; 5] = [
    "skill",
    "target_group",
    "age_band",
    "postcode",
    "affiliation",
];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VolunteerReportQuery {
    /// A year (`2026`), a quarter (`2026-Q4`) or a month (`2026-11`), of days in Denmark;
    /// absent: this year.
    #[param(schema_with = schema::period_or_null)]
    pub period: Option<String>,
    /// Break the figures down by this; absent: the totals only.
    #[param(schema_with = volunteer_dimension_or_null)]
    pub by: Option<String>,
    /// The figures as they stood at this instant (RFC 3339, in 2000 to 2100): what the log held
    /// then. Absent: now. A period that ends later is counted up to this instant.
    pub as_of: Option<DateTime<Utc>>,
    /// `json` (the default) or `csv`.
    #[param(schema_with = schema::report_format_or_null)]
    pub format: Option<String>,
    /// Wait until the reporting read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

fn volunteer_dimension_or_null() -> utoipa::openapi::Schema {
    schema::enum_or_null(&VOLUNTEER_DIMENSIONS)
}

/// Volunteers counted for a period, each at most once per figure.
#[derive(Debug, Serialize, ToSchema, PartialEq, Default, Clone, Copy)]
pub struct VolunteerFigures {
    /// Registered in the period.
    pub registered: u64,
    /// Registered, and neither withdrawn nor forgotten, at the period's end (or at `as_of`, if
    /// that comes first).
    pub active: u64,
    /// Withdrew their consent in the period.
    pub consent_withdrawn: u64,
    /// Were forgotten (GDPR art. 17) in the period. They are counted still: the statistics
    /// stay when the person goes.
    pub forgotten: u64,
}

/// The figures of one value of the dimension: registrations, withdrawals and forgettings by
/// the profile the volunteer had then, the active by the profile at the period's end.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct VolunteerReportRow {
    /// The skill, target group, age band or postcode, or the affiliation: `organisation` (in
    /// one) or `own` (on their own: "ny frivillighed").
    pub value: String,
    #[serde(flatten)]
    pub figures: VolunteerFigures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolunteerReport {
    pub period: PeriodView,
    /// The instant the figures stood at.
    pub as_of: DateTime<Utc>,
    /// The dimension of `rows`; null: none (`rows` is empty).
    pub by: Option<String>,
    /// Every volunteer of the municipality once. With `by` a list (skills, target groups) the
    /// rows can add up to more, and a volunteer with none is in no row.
    pub total: VolunteerFigures,
    /// Values with any figure above 0, in order of the value.
    pub rows: Vec<VolunteerReportRow>,
}

/// The municipality's volunteers in a period: registered, active at its end, withdrawn and
/// forgotten, in total and by skill, target group, age band or postcode.
#[utoipa::path(get, path = "/reports/volunteers", tag = "reports", params(VolunteerReportQuery),
    responses((status = 200, content((VolunteerReport = "application/json"), (String = "text/csv")))),
    security(("bearer" = [])))]
pub(super) async fn volunteer_report(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<VolunteerReportQuery>,
) -> Result<Response, ApiError> {
    let as_of = as_of_instant(query.as_of)?;
    let period = period_of(query.period.as_deref(), as_of)?;
    let by = dimension_of(query.by.as_deref())?;
    let csv = is_csv(query.format.as_deref())?;
    wait_for(&state, REPORTING, query.min_position).await?;
    let report = load(&state.pool, &principal.tenant, &period, as_of, by).await?;
    Ok(if csv {
        volunteer_csv(&report).into_response()
    } else {
        axum::Json(report).into_response()
    })
}

/// The report of `tenant`'s volunteers in `period` as they stood at `as_of`, broken down `by`
/// a dimension from [`dimension_of`] (or not): for this route and for the dashboard.
pub async fn load(
    pool: &PgPool,
    tenant: &TenantId,
    period: &Period,
    as_of: DateTime<Utc>,
    by: Option<&'static str>,
) -> Result<VolunteerReport, ApiError> {
    let cut = cut_of(period, as_of);
    let figures = |key: &'static str| {
        sqlx::query_as::<_, FiguresRow>(sqlx::AssertSqlSafe(figures_sql(key)))
            .bind(tenant.as_str())
            .bind(period.start())
            .bind(cut)
            .fetch_all(pool)
    };
    let total = figures(TOTAL)
        .await?
        .first()
        .map(figures_of)
        .unwrap_or_default();
    let rows = match by {
        None => Vec::new(),
        Some(key) => figures(key)
            .await?
            .iter()
            .map(|row| VolunteerReportRow {
                value: row.0.clone().unwrap_or_default(),
                figures: figures_of(row),
            })
            .collect(),
    };
    Ok(VolunteerReport {
        period: period_view(period),
        as_of,
        by: by.map(str::to_owned),
        total,
        rows,
    })
}

/// A row of [`figures_sql`]: the value, then registered, active, withdrawn, forgotten.
type FiguresRow = (Option<String>, i64, i64, i64, i64);

fn figures_of(
    &(_, registered, active, consent_withdrawn, forgotten): &FiguresRow,
) -> VolunteerFigures {
    // Counts are never negative; 0 rather than a panic if a driver ever said otherwise.
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    VolunteerFigures {
        registered: count(registered),
        active: count(active),
        consent_withdrawn: count(consent_withdrawn),
        forgotten: count(forgotten),
    }
}

/// The dimension `by` names, if any: one of [`VOLUNTEER_DIMENSIONS`], or a 422 on `by`.
pub fn dimension_of(by: Option<&str>) -> Result<Option<&'static str>, ApiError> {
    by.map(|by| dimension_sql(by).ok_or_else(|| one_of("by", &VOLUNTEER_DIMENSIONS)))
        .transpose()
}

/// The key of a dimension, which is also its name in the report.
fn dimension_sql(by: &str) -> Option<&'static str> {
    match by {
        "skill" => Some(SKILL),
        "target_group" => Some(TARGET_GROUP),
        "age_band" => Some("age_band"),
        "postcode" => Some("postcode"),
        "affiliation" => Some(AFFILIATION),
        _ => None,
    }
}

const TOTAL: &str = "NULL::text";
const SKILL: &str = "skill";
const TARGET_GROUP: &str = "target_group";
const AFFILIATION: &str = "affiliation";

/// The figures of municipality $1 for the period from $2 up to $3 (exclusive), grouped by
/// `key`: a column of the versions, `skill` or `target_group` (an item of the list), or
/// `NULL::text` for the totals. Each volunteer once per figure and value.
fn figures_sql(key: &str) -> String {
    let unnest = match key {
        SKILL => "CROSS JOIN LATERAL unnest(v.skills) AS skill",
        TARGET_GROUP => "CROSS JOIN LATERAL unnest(v.target_groups) AS target_group",
        AFFILIATION => {
            "CROSS JOIN LATERAL (SELECT CASE WHEN v.organisation_id IS NULL
                 THEN 'own' ELSE 'organisation' END) AS a(affiliation)"
        }
        _ => "",
    };
    format!(
        "SELECT {key} AS value,
            count(DISTINCT volunteer_id) FILTER (
                WHERE started_by = 'registered' AND valid_from >= $2),
            count(DISTINCT volunteer_id) FILTER (
                WHERE status = 'active' AND (valid_to IS NULL OR valid_to >= $3)),
            count(DISTINCT volunteer_id) FILTER (
                WHERE started_by = 'consent_withdrawn' AND valid_from >= $2),
            count(DISTINCT volunteer_id) FILTER (
                WHERE started_by = 'forgotten' AND valid_from >= $2)
         FROM {schema}.volunteer_version v {unnest}
         WHERE tenant = $1 AND valid_from < $3
         GROUP BY 1
         HAVING count(*) FILTER (
             WHERE (valid_from >= $2 AND started_by <> 'profile_updated')
                OR (status = 'active' AND (valid_to IS NULL OR valid_to >= $3))) > 0
         ORDER BY 1",
        schema = REPORTING.schema
    )
}

/// The report as CSV: one row per value, then the totals (`dimension` `all`).
fn volunteer_csv(report: &VolunteerReport) -> Response {
    let mut out = String::new();
    let header = [
        "period",
        "dimension",
        "value",
        "registered",
        "active",
        "consent_withdrawn",
        "forgotten",
    ];
    write_row(&mut out, &header.map(Field::Text));
    let by = report.by.as_deref().unwrap_or("all");
    let rows = report
        .rows
        .iter()
        .map(|row| (by, row.value.as_str(), &row.figures))
        .chain([("all", "", &report.total)]);
    for (dimension, value, f) in rows {
        write_row(
            &mut out,
            &[
                Field::Text(&report.period.label),
                Field::Text(dimension),
                Field::Text(value),
                Field::Number(f.registered),
                Field::Number(f.active),
                Field::Number(f.consent_withdrawn),
                Field::Number(f.forgotten),
            ],
        );
    }
    csv_response(out, &format!("frivillige-{}.csv", report.period.label))
}

pub(super) fn read_sql() -> Vec<(&'static str, String)> {
    [
        TOTAL,
        SKILL,
        TARGET_GROUP,
        "age_band",
        "postcode",
        AFFILIATION,
    ]
    .into_iter()
    .map(|key| ("GET /reports/volunteers", figures_sql(key)))
    .collect()
}
