//! `GET /reports/umbrella/volunteers`: an umbrella organisation's view (seed 000's club →
//! district → national): the volunteers of its member organisations, and of its districts'
//! members, per municipality that shares its figures with it (or with an umbrella above it),
//! by age band, suppressed as the national report is. The umbrella is the token's
//! (`acts_for`); nothing in the request names it.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::cut_of;
use super::national::{
    Asked, NationalReport, NationalReportQuery, asked_of, counted, national_csv, publish,
};
use crate::auth::{PLATFORM_TENANT, Principal};
use crate::problem::ApiError;
use crate::read::{QueryParams, REPORTING, wait_for};
use crate::routes::current_in;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use samskab_domain::calendar::Period;
use samskab_domain::{Umbrella, UmbrellaState};

/// An umbrella's members' volunteers, per sharing municipality and age band.
#[derive(Debug, Serialize, ToSchema)]
pub struct UmbrellaReport {
    /// The umbrella (its id and name).
    pub umbrella: uuid::Uuid,
    pub umbrella_name: String,
    /// Only municipalities that share their figures with the umbrella (or one above it) at
    /// the instant, and only volunteers of organisations that were members then.
    #[serde(flatten)]
    pub figures: NationalReport,
}

/// The volunteers of the caller's umbrella organisation's members (its districts' members
/// too), per municipality that shares its figures with it, by age band: every figure that
/// counts fewer than 5 persons, or can be derived from those shown, suppressed (null).
#[utoipa::path(get, path = "/reports/umbrella/volunteers", tag = "reports",
    params(NationalReportQuery),
    responses((status = 200, content((UmbrellaReport = "application/json"), (String = "text/csv")))),
    security(("bearer" = [])))]
pub(super) async fn umbrella_volunteer_report(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<NationalReportQuery>,
) -> Result<Response, ApiError> {
    let asked = asked_of(&query)?;
    wait_for(&state, REPORTING, query.min_position).await?;
    let report = load(&state, &principal, &asked.period, asked.as_of, asked.figure).await?;
    Ok(if asked.csv {
        national_csv(&report.figures, "frivillige-paraply").into_response()
    } else {
        axum::Json(report).into_response()
    })
}

/// The report of the umbrella `viewer`'s token speaks for, of `period` as it stood at `as_of`,
/// counting `figure` (`active` or `registered`): for this route and for the dashboard.
pub async fn load(
    state: &AppState,
    viewer: &Principal,
    period: &Period,
    as_of: DateTime<Utc>,
    figure: &'static str,
) -> Result<UmbrellaReport, ApiError> {
    let umbrella = viewer.umbrella().ok_or(ApiError::Forbidden(
        "only an umbrella organisation's token reads its report",
    ))?;
    let UmbrellaState::Registered(details) =
        current_in::<Umbrella>(state, PLATFORM_TENANT, &umbrella).await?
    else {
        // The token speaks for an umbrella the installation does not have.
        return Err(ApiError::NotFound);
    };
    let cut = cut_of(period, as_of);
    let counts: Vec<(String, String, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(umbrella_sql(figure)))
            .bind(cut)
            .bind(period.start())
            .bind(umbrella)
            .fetch_all(&state.pool)
            .await?;
    let asked = Asked {
        period: *period,
        as_of,
        figure,
        csv: false,
    };
    Ok(UmbrellaReport {
        umbrella,
        umbrella_name: details.name.as_str().to_owned(),
        figures: publish(&asked, &counts),
    })
}

/// Persons per municipality and age band, up to $1 (exclusive), counted as in the national
/// report (from $2), of umbrella $3: the volunteers whose version names an organisation that
/// was then a member of $3 or of a district below it, in municipalities that then shared with
/// $3 or an umbrella above it.
fn umbrella_sql(figure: &str) -> String {
    format!(
        "WITH RECURSIVE below(id) AS (
             SELECT $3::uuid
             UNION SELECT u.id FROM {schema}.umbrella u JOIN below b ON u.parent_id = b.id
         ), above(id) AS (
             SELECT $3::uuid
             UNION SELECT u.parent_id FROM {schema}.umbrella u JOIN above a ON u.id = a.id
             WHERE u.parent_id IS NOT NULL
         ), sharing AS (
             SELECT tenant FROM {schema}.umbrella_share_version
             WHERE valid_from < $1 AND (valid_to IS NULL OR valid_to >= $1)
               AND umbrellas && ARRAY(SELECT id FROM above)
         ), members AS (
             SELECT tenant, organisation_id FROM {schema}.organisation_umbrella_version
             WHERE valid_from < $1 AND (valid_to IS NULL OR valid_to >= $1) AND active
               AND umbrella_id IN (SELECT id FROM below)
         )
         SELECT v.tenant, v.age_band, count(DISTINCT v.volunteer_id)
         FROM {schema}.volunteer_version v
         JOIN members m ON m.tenant = v.tenant AND m.organisation_id = v.organisation_id
         WHERE v.tenant IN (SELECT tenant FROM sharing) AND v.valid_from < $1 AND {counted}
         GROUP BY 1, 2 ORDER BY 1, 2",
        schema = REPORTING.schema,
        counted = counted(figure),
    )
}

pub(super) fn read_sql() -> Vec<(&'static str, String)> {
    super::national::NATIONAL_FIGURES
        .map(|f| ("GET /reports/umbrella/volunteers", umbrella_sql(f)))
        .to_vec()
}
