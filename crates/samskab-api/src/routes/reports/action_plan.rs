//! `GET /reports/action-plan`: a budget year of the municipality's action plan (seed 004,
//! Rødovre's "handleplan"), per strategic goal and initiative (indsats): the pools that serve
//! it, their money as `GET /reports/grants` counts it, and the partnerships (grants from
//! partnership pools) it holds. From `reporting.grant_pool`, which keeps each pool's goal,
//! initiative and kind as its creation recorded them, and the grant report's own figures.
//!
//! Needs carry no initiative yet, so none is counted here.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use samskab_domain::TenantId;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use super::grants::{GrantFigures, GrantReportQuery, GrantReportRow, total_of, year_of};
use super::{csv_response, is_csv};
use crate::auth::Principal;
use crate::csv::{Field, write_row};
use crate::problem::ApiError;
use crate::read::{QueryParams, REPORTING, as_of_instant, wait_for};
use crate::state::AppState;

/// A pool of an initiative.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct ActionPlanPool {
    pub pool_id: uuid::Uuid,
    pub name: String,
    /// `rounds`, `rolling` or `partnership`.
    pub kind: String,
}

/// One initiative of the action plan, under its strategic goal.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct ActionPlanRow {
    /// The strategic goal the pools name; null: pools that name none.
    pub strategic_goal: Option<String>,
    /// The initiative (indsats) the pools name; null: pools that name none.
    pub initiative: Option<String>,
    pub pools: Vec<ActionPlanPool>,
    /// The pools' figures added up, as `GET /reports/grants` counts each.
    pub figures: GrantFigures,
    /// Grants from partnership pools among `figures.granted_cases`: the initiative's
    /// partnerships with associations.
    pub partnerships: u64,
    /// What those partnerships were granted for the year, in øre.
    pub partnership_granted: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionPlanReport {
    pub year: i32,
    /// The instant the figures stood at.
    pub as_of: DateTime<Utc>,
    /// By strategic goal, then initiative (those naming none last).
    pub initiatives: Vec<ActionPlanRow>,
}

/// The municipality's action plan for a budget year: per strategic goal and initiative, its
/// pools, what they granted, committed and paid, and its partnerships.
#[utoipa::path(get, path = "/reports/action-plan", tag = "reports", params(GrantReportQuery),
    responses((status = 200, content((ActionPlanReport = "application/json"), (String = "text/csv")))),
    security(("bearer" = [])))]
pub(super) async fn action_plan_report(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<GrantReportQuery>,
) -> Result<Response, ApiError> {
    let as_of = as_of_instant(query.as_of)?;
    let year = year_of(query.year, as_of)?;
    let csv = is_csv(query.format.as_deref())?;
    wait_for(&state, REPORTING, query.min_position).await?;
    let report = load(&state.pool, &principal.tenant, year, as_of).await?;
    Ok(if csv {
        action_plan_csv(&report)
    } else {
        axum::Json(report).into_response()
    })
}

/// The report of `tenant`'s action plan in budget year `year` as it stood at `as_of`: for this
/// route and for the dashboard.
pub async fn load(
    pool: &PgPool,
    tenant: &TenantId,
    year: i32,
    as_of: DateTime<Utc>,
) -> Result<ActionPlanReport, ApiError> {
    let grants = super::grants::load(pool, tenant, year, as_of).await?;
    let places: Vec<Place> = sqlx::query_as(PLACES)
        .bind(tenant.as_str())
        .fetch_all(pool)
        .await?;
    let mut groups: Vec<Group> = Vec::new();
    for row in grants.pools {
        let place = places.iter().find(|p| p.pool_id == row.pool_id);
        let key = (
            place.and_then(|p| p.strategic_goal.clone()),
            place.and_then(|p| p.initiative.clone()),
        );
        let kind = place.and_then(|p| p.kind.clone()).unwrap_or_default();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push((row, kind)),
            None => groups.push((key, vec![(row, kind)])),
        }
    }
    // Named goals and initiatives in order of their names, then those naming none.
    groups.sort_by(|(a, _), (b, _)| {
        let rank = |k: &GoalAndInitiative| (k.0.is_none(), k.0.clone(), k.1.is_none(), k.1.clone());
        rank(a).cmp(&rank(b))
    });
    let initiatives = groups
        .into_iter()
        .map(|((strategic_goal, initiative), rows)| {
            let partnership = |(_, kind): &&(GrantReportRow, String)| kind == "partnership";
            let partnerships = rows
                .iter()
                .filter(partnership)
                .map(|(r, _)| r.figures.granted_cases)
                .sum();
            let partnership_granted = rows
                .iter()
                .filter(partnership)
                .map(|(r, _)| r.figures.granted)
                .fold(0i64, i64::saturating_add);
            let pools: Vec<ActionPlanPool> = rows
                .iter()
                .map(|(r, kind)| ActionPlanPool {
                    pool_id: r.pool_id,
                    name: r.name.clone(),
                    kind: kind.clone(),
                })
                .collect();
            let figures = total_of(&rows.into_iter().map(|(r, _)| r).collect::<Vec<_>>());
            ActionPlanRow {
                strategic_goal,
                initiative,
                pools,
                figures,
                partnerships,
                partnership_granted,
            }
        })
        .collect();
    Ok(ActionPlanReport {
        year,
        as_of,
        initiatives,
    })
}

/// A pool's place in the action plan, as `reporting.grant_pool` keeps it.
#[derive(sqlx::FromRow)]
struct Place {
    pool_id: uuid::Uuid,
    kind: Option<String>,
    initiative: Option<String>,
    strategic_goal: Option<String>,
}

/// A strategic goal and an initiative, either of which a pool may leave unnamed.
type GoalAndInitiative = (Option<String>, Option<String>);
/// The pools of one goal and initiative, each with its kind.
type Group = (GoalAndInitiative, Vec<(GrantReportRow, String)>);

/// Each pool of municipality $1: its kind, initiative and strategic goal.
const PLACES: &str = "SELECT pool_id, kind, initiative, strategic_goal
    FROM reporting.grant_pool WHERE tenant = $1";

/// The report as CSV: one row per initiative.
fn action_plan_csv(report: &ActionPlanReport) -> Response {
    let mut out = String::new();
    let header = [
        "year",
        "strategic_goal",
        "initiative",
        "pools",
        "budget",
        "granted_cases",
        "granted",
        "committed",
        "paid",
        "partnerships",
        "partnership_granted",
    ];
    write_row(&mut out, &header.map(Field::Text));
    let year = report.year.to_string();
    for row in &report.initiatives {
        let pools = row
            .pools
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let f = &row.figures;
        // Amounts in øre, as whole numbers (they may be negative: a repayment).
        let amounts = [
            f.budget,
            f.granted,
            f.committed,
            f.paid,
            row.partnership_granted,
        ]
        .map(|a| a.to_string());
        write_row(
            &mut out,
            &[
                Field::Text(&year),
                Field::Text(row.strategic_goal.as_deref().unwrap_or("")),
                Field::Text(row.initiative.as_deref().unwrap_or("")),
                Field::Text(&pools),
                Field::Text(&amounts[0]),
                Field::Number(f.granted_cases),
                Field::Text(&amounts[1]),
                Field::Text(&amounts[2]),
                Field::Text(&amounts[3]),
                Field::Number(row.partnerships),
                Field::Text(&amounts[4]),
            ],
        );
    }
    csv_response(out, &format!("handleplan-{}.csv", report.year))
}

pub(super) fn read_sql() -> Vec<(&'static str, String)> {
    vec![("GET /reports/action-plan", PLACES.to_owned())]
}
