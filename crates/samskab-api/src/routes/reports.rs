//! Reports: a municipality's figures for a period (a month, a quarter, a year of Danish days),
//! as they stood at an instant, by a dimension, as JSON or CSV. They read the reporting read
//! model (`reporting.volunteer_version`: a version per change, valid from one event to the
//! next), so "as of" a past instant is a `WHERE` over the versions, not a replay of the log.
//!
//! A report counts persons, never shows one: no id and no name, only counts. Inside its own
//! municipality the figures are whole; across municipalities (`/reports/national/volunteers`;
//! the umbrella organisations' views are still to come) every figure goes through
//! `samskab_domain::suppression`: none counts fewer than 5 persons or can be derived from those
//! shown.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use samskab_domain::AgeBand;
use samskab_domain::calendar::Period;
use samskab_domain::suppression::{MIN_PERSONS, suppress};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Principal;
use crate::csv::{Field, write_row};
use crate::problem::ApiError;
use crate::read::{QueryParams, REPORTING, wait_for};
use crate::routes::audit::{bad_query, instant};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(volunteer_report))
        .routes(routes!(national_volunteer_report))
}

/// What a volunteer report can be broken down by: one column of the versions, or one item of
/// a list (a volunteer with two skills is counted under each, once).
pub const VOLUNTEER_DIMENSIONS: [&str; 4] = ["skill", "target_group", "age_band", "postcode"];

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

/// The period a report covers.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct PeriodView {
    /// As asked for: `2026`, `2026-Q4` or `2026-11`.
    pub label: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
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
    /// The skill, target group, age band or postcode.
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
async fn volunteer_report(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<VolunteerReportQuery>,
) -> Result<Response, ApiError> {
    let as_of = instant(query.as_of)?;
    let period = period_of(query.period.as_deref(), as_of)?;
    let dimension = match query.by.as_deref() {
        None => None,
        Some(by) => Some(dimension_sql(by).ok_or_else(|| {
            bad_query(
                "by",
                "must be one of: skill, target_group, age_band, postcode",
            )
        })?),
    };
    let csv = is_csv(query.format.as_deref())?;
    wait_for(&state, REPORTING, query.min_position).await?;
    let cut = cut_of(&period, as_of);
    let tenant = principal.tenant.as_str();
    let figures = |key: &'static str| {
        sqlx::query_as::<_, FiguresRow>(sqlx::AssertSqlSafe(figures_sql(key)))
            .bind(tenant)
            .bind(period.start())
            .bind(cut)
            .fetch_all(&state.pool)
    };
    let total = figures(TOTAL)
        .await?
        .first()
        .map(figures_of)
        .unwrap_or_default();
    let rows = match dimension {
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
    let report = VolunteerReport {
        period: period_view(&period),
        as_of,
        by: query.by,
        total,
        rows,
    };
    Ok(if csv {
        volunteer_csv(&report).into_response()
    } else {
        axum::Json(report).into_response()
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

/// The period asked for; absent, the year (in Denmark) that `as_of` falls in.
fn period_of(text: Option<&str>, as_of: DateTime<Utc>) -> Result<Period, ApiError> {
    let this_year;
    let text = match text {
        Some(text) => text,
        None => {
            let year = chrono::Datelike::year(&samskab_domain::calendar::danish_date(as_of));
            this_year = format!("{year:04}");
            &this_year
        }
    };
    Period::parse(text).map_err(|reason| bad_query("period", reason))
}

fn period_view(period: &Period) -> PeriodView {
    PeriodView {
        label: period.label(),
        first_day: period.first_day,
        last_day: period.last_day,
    }
}

/// What a report counts up to (exclusive): the period's end, or `as_of` when that comes first
/// (`as_of` itself included: timestamps are whole microseconds).
fn cut_of(period: &Period, as_of: DateTime<Utc>) -> DateTime<Utc> {
    period.end().min(as_of + chrono::Duration::microseconds(1))
}

/// `format`: CSV, or JSON (the default).
fn is_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(bad_query("format", "must be one of: json, csv")),
    }
}

/// A CSV report to download as `name`.
fn csv_response(text: String, name: &str) -> Response {
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

/// The FROM clause's addition and the key of a dimension.
fn dimension_sql(by: &str) -> Option<&'static str> {
    match by {
        "skill" => Some(SKILL),
        "target_group" => Some(TARGET_GROUP),
        "age_band" => Some("age_band"),
        "postcode" => Some("postcode"),
        _ => None,
    }
}

const TOTAL: &str = "NULL::text";
const SKILL: &str = "skill";
const TARGET_GROUP: &str = "target_group";

/// The figures of municipality $1 for the period from $2 up to $3 (exclusive), grouped by
/// `key`: a column of the versions, `skill` or `target_group` (an item of the list), or
/// `NULL::text` for the totals. Each volunteer once per figure and value.
fn figures_sql(key: &str) -> String {
    let unnest = match key {
        SKILL => "CROSS JOIN LATERAL unnest(v.skills) AS skill",
        TARGET_GROUP => "CROSS JOIN LATERAL unnest(v.target_groups) AS target_group",
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

/// What a national report counts, per municipality and age band: persons, so that the figures
/// can be suppressed as counts of persons.
pub const NATIONAL_FIGURES: [&str; 2] = ["active", "registered"];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NationalReportQuery {
    /// A year (`2026`), a quarter (`2026-Q4`) or a month (`2026-11`), of days in Denmark;
    /// absent: this year.
    #[param(schema_with = schema::period_or_null)]
    pub period: Option<String>,
    /// `active` (the default: active at the period's end) or `registered` (in the period).
    #[param(schema_with = national_figure_or_null)]
    pub figure: Option<String>,
    /// As of this instant (RFC 3339, in 2000 to 2100); absent: now.
    pub as_of: Option<DateTime<Utc>>,
    /// `json` (the default) or `csv`.
    #[param(schema_with = schema::report_format_or_null)]
    pub format: Option<String>,
    /// Wait until the reporting read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

fn national_figure_or_null() -> utoipa::openapi::Schema {
    schema::enum_or_null(&NATIONAL_FIGURES)
}

/// One municipality's row of a national report.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct NationalRow {
    /// The municipality (its tenant id).
    pub municipality: String,
    /// One figure per age band, in the order of `age_bands`; null: suppressed.
    pub cells: Vec<Option<u64>>,
    /// The municipality's total; null: suppressed.
    pub total: Option<u64>,
}

/// Every municipality's volunteers by age band, with every figure that could single out fewer
/// than 5 persons suppressed (null), directly or by subtraction (`samskab_domain::suppression`).
#[derive(Debug, Serialize, ToSchema)]
pub struct NationalReport {
    pub period: PeriodView,
    pub as_of: DateTime<Utc>,
    /// `active` or `registered`.
    pub figure: String,
    /// The columns: every age band, youngest first.
    pub age_bands: Vec<String>,
    /// The municipalities with any volunteer counted, by id.
    pub municipalities: Vec<NationalRow>,
    /// Per age band, across the municipalities; null: suppressed.
    pub age_band_totals: Vec<Option<u64>>,
    /// Null: suppressed.
    pub total: Option<u64>,
    /// The fewest persons a figure shown counts.
    pub min_persons: u64,
}

/// Every municipality's volunteers by age band, for a period, suppressed so that no figure
/// counts fewer than 5 persons or can be derived from those shown. The one report that crosses
/// municipalities: any municipality's staff may read it, and it shows no municipality more
/// than a published statistic would.
#[utoipa::path(get, path = "/reports/national/volunteers", tag = "reports",
    params(NationalReportQuery),
    responses((status = 200, content((NationalReport = "application/json"), (String = "text/csv")))),
    security(("bearer" = [])))]
async fn national_volunteer_report(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<NationalReportQuery>,
) -> Result<Response, ApiError> {
    let as_of = instant(query.as_of)?;
    let period = period_of(query.period.as_deref(), as_of)?;
    let figure = match query.figure.as_deref() {
        None | Some("active") => "active",
        Some("registered") => "registered",
        Some(_) => return Err(bad_query("figure", "must be one of: active, registered")),
    };
    let csv = is_csv(query.format.as_deref())?;
    wait_for(&state, REPORTING, query.min_position).await?;
    let cut = cut_of(&period, as_of);
    let query = sqlx::query_as(sqlx::AssertSqlSafe(national_sql(figure))).bind(cut);
    let query = match figure {
        "registered" => query.bind(period.start()),
        _ => query,
    };
    let counts: Vec<(String, String, i64)> = query.fetch_all(&state.pool).await?;
    let bands: Vec<&str> = AgeBand::ALL.iter().map(AgeBand::as_str).collect();
    let mut municipalities: Vec<String> = counts.iter().map(|(m, _, _)| m.clone()).collect();
    municipalities.dedup();
    let mut cells = vec![vec![0u64; bands.len()]; municipalities.len()];
    for (municipality, band, n) in &counts {
        let row = municipalities.iter().position(|m| m == municipality);
        let column = bands.iter().position(|b| b == band);
        if let (Some(i), Some(j)) = (row, column) {
            cells[i][j] = u64::try_from(*n).unwrap_or(0);
        }
    }
    let published = suppress(&cells);
    let report = NationalReport {
        period: period_view(&period),
        as_of,
        figure: figure.to_string(),
        age_bands: bands.iter().map(|b| b.to_string()).collect(),
        municipalities: municipalities
            .into_iter()
            .zip(published.cells.iter().zip(&published.row_totals))
            .map(|(municipality, (row, total))| NationalRow {
                municipality,
                cells: row.iter().map(|f| f.shown()).collect(),
                total: total.shown(),
            })
            .collect(),
        age_band_totals: published.column_totals.iter().map(|f| f.shown()).collect(),
        total: published.total.shown(),
        min_persons: MIN_PERSONS,
    };
    Ok(if csv {
        national_csv(&report).into_response()
    } else {
        axum::Json(report).into_response()
    })
}

/// Persons per municipality and age band, of every municipality, up to $1 (exclusive): active
/// then, or registered from $2 on (by the age band they registered with).
fn national_sql(figure: &str) -> String {
    let counted = if figure == "registered" {
        "started_by = 'registered' AND valid_from >= $2"
    } else {
        "status = 'active' AND (valid_to IS NULL OR valid_to >= $1)"
    };
    format!(
        "SELECT tenant, age_band, count(DISTINCT volunteer_id)
         FROM {schema}.volunteer_version
         WHERE valid_from < $1 AND {counted}
         GROUP BY 1, 2 ORDER BY 1, 2",
        schema = REPORTING.schema
    )
}

/// The national report as CSV: a row per municipality and age band, suppressed figures empty,
/// then each age band's total (`municipality` `all`) and the grand total.
fn national_csv(report: &NationalReport) -> Response {
    let mut out = String::new();
    write_row(
        &mut out,
        &["period", "figure", "municipality", "age_band", "persons"].map(Field::Text),
    );
    let mut line = |municipality: &str, band: &str, figure: Option<u64>| {
        let persons = figure.map(|n| n.to_string()).unwrap_or_default();
        write_row(
            &mut out,
            &[
                Field::Text(&report.period.label),
                Field::Text(&report.figure),
                Field::Text(municipality),
                Field::Text(band),
                Field::Text(&persons),
            ],
        );
    };
    for row in &report.municipalities {
        for (band, figure) in report.age_bands.iter().zip(&row.cells) {
            line(&row.municipality, band, *figure);
        }
        line(&row.municipality, "all", row.total);
    }
    for (band, figure) in report.age_bands.iter().zip(&report.age_band_totals) {
        line("all", band, *figure);
    }
    line("all", "all", report.total);
    csv_response(
        out,
        &format!("frivillige-landet-{}.csv", report.period.label),
    )
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    [TOTAL, SKILL, TARGET_GROUP, "age_band", "postcode"]
        .into_iter()
        .map(|key| ("GET /reports/volunteers", figures_sql(key)))
        .chain(NATIONAL_FIGURES.map(|f| ("GET /reports/national/volunteers", national_sql(f))))
        .collect()
}
