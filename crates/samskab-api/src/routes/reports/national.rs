//! `GET /reports/national/volunteers`: every municipality's volunteers by age band, each
//! figure suppressed by `samskab_domain::suppression`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{PeriodView, csv_response, cut_of, is_csv, one_of, period_of, period_view};
use crate::csv::{Field, write_row};
use crate::problem::ApiError;
use crate::read::{QueryParams, REPORTING, as_of_instant, wait_for};
use crate::schema;
use crate::state::AppState;
use samskab_domain::AgeBand;
use samskab_domain::suppression::{MIN_PERSONS, suppress};

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
pub(super) async fn national_volunteer_report(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<NationalReportQuery>,
) -> Result<Response, ApiError> {
    let asked = asked_of(&query)?;
    wait_for(&state, REPORTING, query.min_position).await?;
    let cut = cut_of(&asked.period, asked.as_of);
    let counts: Vec<(String, String, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(national_sql(asked.figure)))
            .bind(cut)
            .bind(asked.period.start())
            .fetch_all(&state.pool)
            .await?;
    let report = publish(&asked, &counts);
    Ok(if asked.csv {
        national_csv(&report, "frivillige-landet").into_response()
    } else {
        axum::Json(report).into_response()
    })
}

/// What a report across municipalities is asked: its period, instant, figure and format.
pub(super) struct Asked {
    pub period: samskab_domain::calendar::Period,
    pub as_of: DateTime<Utc>,
    pub figure: &'static str,
    pub csv: bool,
}

pub(super) fn asked_of(query: &NationalReportQuery) -> Result<Asked, ApiError> {
    let as_of = as_of_instant(query.as_of)?;
    let period = period_of(query.period.as_deref(), as_of)?;
    let figure = match query.figure.as_deref() {
        None | Some("active") => "active",
        Some("registered") => "registered",
        Some(_) => return Err(one_of("figure", &NATIONAL_FIGURES)),
    };
    let csv = is_csv(query.format.as_deref())?;
    Ok(Asked {
        period,
        as_of,
        figure,
        csv,
    })
}

/// Counts of persons per municipality and age band, published: every figure suppressed that
/// counts fewer than 5 persons or can be derived from those shown.
pub(super) fn publish(asked: &Asked, counts: &[(String, String, i64)]) -> NationalReport {
    let (period, as_of, figure) = (&asked.period, asked.as_of, asked.figure);
    let bands: Vec<&str> = AgeBand::ALL.iter().map(AgeBand::as_str).collect();
    let mut municipalities: Vec<String> = counts.iter().map(|(m, _, _)| m.clone()).collect();
    municipalities.sort();
    municipalities.dedup();
    let mut cells = vec![vec![0u64; bands.len()]; municipalities.len()];
    for (municipality, band, n) in counts {
        let row = municipalities.iter().position(|m| m == municipality);
        let column = bands.iter().position(|b| b == band);
        if let (Some(i), Some(j)) = (row, column) {
            cells[i][j] = u64::try_from(*n).unwrap_or(0);
        }
    }
    let published = suppress(&cells);
    NationalReport {
        period: period_view(period),
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
    }
}

/// Persons per municipality and age band, of every municipality, up to $1 (exclusive): active
/// then, or registered from $2 on (by the age band they registered with).
fn national_sql(figure: &str) -> String {
    format!(
        "SELECT tenant, age_band, count(DISTINCT volunteer_id)
         FROM {schema}.volunteer_version
         WHERE valid_from < $1 AND {counted}
         GROUP BY 1, 2 ORDER BY 1, 2",
        schema = REPORTING.schema,
        counted = counted(figure),
    )
}

/// Which versions count, up to $1 (exclusive): active then, or registered from $2 on.
pub(super) fn counted(figure: &str) -> &'static str {
    if figure == "registered" {
        "started_by = 'registered' AND valid_from >= $2"
    } else {
        // $2 unused but typed, so that both figures bind the same parameters.
        "status = 'active' AND (valid_to IS NULL OR valid_to >= $1) AND $2::timestamptz IS NOT NULL"
    }
}

/// The national report as CSV: a row per municipality and age band, suppressed figures empty,
/// then each age band's total (`municipality` `all`) and the grand total.
pub(super) fn national_csv(report: &NationalReport, file: &str) -> Response {
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
    csv_response(out, &format!("{file}-{}.csv", report.period.label))
}

pub(super) fn read_sql() -> Vec<(&'static str, String)> {
    NATIONAL_FIGURES
        .map(|f| ("GET /reports/national/volunteers", national_sql(f)))
        .to_vec()
}
