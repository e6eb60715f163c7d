//! `GET /reports/grants`: how a budget year of the municipality's §18 pools is used, pool by
//! pool, from `reporting.grant_pool`, `budget_version`, `grant_case_version` and
//! `grant_money`. What a committee asks (seed 003): what was applied for and decided, granted
//! and refused, what awaits a second approval or a new decision after a complaint, how much of
//! the budget is committed, what is paid out and paid back, and whose final report is overdue.
//!
//! A decision counts in the budget year it is made from; a partnership's grant counts in each
//! of its years with that year's amount. Payments and repayments count in the year of the day
//! they were made (the year the money moved). All as the log stood at `as_of`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Utc};
use samskab_domain::TenantId;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use super::{csv_response, is_csv};
use crate::auth::Principal;
use crate::csv::{Field, write_row};
use crate::problem::ApiError;
use crate::read::{QueryParams, REPORTING, as_of_instant, bad_query, wait_for};
use crate::routes::grant_pools::YEARS;
use crate::schema;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GrantReportQuery {
    /// The budget year (2000 to 2100); absent: the year (in Denmark) that `as_of` falls in.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// The figures as they stood at this instant (RFC 3339, in 2000 to 2100): what the log held
    /// then, and a final report overdue if its due day had passed in Denmark by then. Absent:
    /// now.
    pub as_of: Option<DateTime<Utc>>,
    /// `json` (the default) or `csv`.
    #[param(schema_with = schema::report_format_or_null)]
    pub format: Option<String>,
    /// Wait until the reporting read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// A budget year of one pool, or of all of them. Amounts in øre.
#[derive(Debug, Serialize, ToSchema, PartialEq, Default, Clone, Copy)]
pub struct GrantFigures {
    /// The year's budget.
    pub budget: i64,
    /// Applications decided from the year's budget (final or awaiting a second approval),
    /// granted or refused.
    pub decisions: u64,
    /// What those applications applied for.
    pub requested: i64,
    /// Applications granted from the year (final decisions; a partnership in each of its
    /// years).
    pub granted_cases: u64,
    /// What they were granted from the year.
    pub granted: i64,
    /// Applications refused (final decisions).
    pub refused_cases: u64,
    /// Grants decided above the pool's threshold that await a second approver.
    pub awaiting_approval_cases: u64,
    /// What those would grant from the year.
    pub awaiting_approval: i64,
    /// Decisions reopened by a complaint that await a new decision; nothing of theirs is
    /// committed.
    pub reopened_cases: u64,
    /// Granted and awaiting approval: what the budget is bound to.
    pub committed: i64,
    /// The budget less what is committed.
    pub available: i64,
    /// What is committed as a share of the budget (0.25 is a quarter); null with no budget.
    pub share_committed: Option<f64>,
    /// Paid out in the year (by the day of payment), to grants of any year.
    pub paid: i64,
    /// Paid back in the year (unspent grants, after their final report).
    pub repaid: i64,
    /// Grants of the year whose final report's due day had passed and which had not come in.
    pub reports_overdue: u64,
}

/// One pool's year.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct GrantReportRow {
    pub pool_id: uuid::Uuid,
    pub name: String,
    #[serde(flatten)]
    pub figures: GrantFigures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantReport {
    /// The budget year.
    pub year: i32,
    /// The instant the figures stood at.
    pub as_of: DateTime<Utc>,
    /// Every pool of the municipality together.
    pub total: GrantFigures,
    /// Every pool created by `as_of`, by name.
    pub pools: Vec<GrantReportRow>,
}

/// How a budget year of the municipality's grant pools is used: applied for, decided, granted,
/// refused, awaiting approval or a new decision, committed against the budget, paid out and
/// back, and final reports overdue, per pool and in total.
#[utoipa::path(get, path = "/reports/grants", tag = "reports", params(GrantReportQuery),
    responses((status = 200, content((GrantReport = "application/json"), (String = "text/csv")))),
    security(("bearer" = [])))]
pub(super) async fn grant_report(
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
        grants_csv(&report)
    } else {
        axum::Json(report).into_response()
    })
}

/// The budget year asked for (in [`YEARS`]); absent: the year in Denmark at `as_of`.
pub fn year_of(year: Option<i32>, as_of: DateTime<Utc>) -> Result<i32, ApiError> {
    let year = year.unwrap_or(samskab_domain::calendar::danish_date(as_of).year());
    if YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(bad_query("year", "must be 2000 to 2100"))
    }
}

/// The report of `tenant`'s grant pools in budget year `year` (in [`YEARS`]) as they stood at
/// `as_of`: for this route and for the dashboard.
pub async fn load(
    pool: &PgPool,
    tenant: &TenantId,
    year: i32,
    as_of: DateTime<Utc>,
) -> Result<GrantReport, ApiError> {
    let today = samskab_domain::calendar::danish_date(as_of);
    let rows: Vec<PoolYearRow> = sqlx::query_as(sqlx::AssertSqlSafe(pools_sql()))
        .bind(tenant.as_str())
        .bind(year)
        .bind(as_of + chrono::Duration::microseconds(1))
        .bind(today)
        .fetch_all(pool)
        .await?;
    let pools: Vec<GrantReportRow> = rows.into_iter().map(PoolYearRow::into_row).collect();
    Ok(GrantReport {
        year,
        as_of,
        total: total_of(&pools),
        pools,
    })
}

/// A pool's figures as the query counts them.
#[derive(Debug, sqlx::FromRow)]
struct PoolYearRow {
    pool_id: uuid::Uuid,
    name: String,
    budget: i64,
    decisions: i64,
    requested: i64,
    granted_cases: i64,
    granted: i64,
    refused_cases: i64,
    awaiting_approval_cases: i64,
    awaiting_approval: i64,
    reopened_cases: i64,
    paid: i64,
    repaid: i64,
    reports_overdue: i64,
}

impl PoolYearRow {
    fn into_row(self) -> GrantReportRow {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let figures = GrantFigures {
            budget: self.budget,
            decisions: count(self.decisions),
            requested: self.requested,
            granted_cases: count(self.granted_cases),
            granted: self.granted,
            refused_cases: count(self.refused_cases),
            awaiting_approval_cases: count(self.awaiting_approval_cases),
            awaiting_approval: self.awaiting_approval,
            reopened_cases: count(self.reopened_cases),
            paid: self.paid,
            repaid: self.repaid,
            reports_overdue: count(self.reports_overdue),
            ..GrantFigures::default()
        };
        GrantReportRow {
            pool_id: self.pool_id,
            name: self.name,
            figures: with_commitment(figures),
        }
    }
}

/// Fills in what is committed, what is left and the share, from the rest.
fn with_commitment(figures: GrantFigures) -> GrantFigures {
    let committed = figures.granted.saturating_add(figures.awaiting_approval);
    GrantFigures {
        committed,
        available: figures.budget.saturating_sub(committed),
        // Amounts are at most 10¹² øre, exact in an f64.
        share_committed: (figures.budget > 0).then(|| committed as f64 / figures.budget as f64),
        ..figures
    }
}

/// Every pool's figures added up.
pub(super) fn total_of(pools: &[GrantReportRow]) -> GrantFigures {
    let total = pools
        .iter()
        .map(|p| &p.figures)
        .fold(GrantFigures::default(), |sum, f| GrantFigures {
            budget: sum.budget.saturating_add(f.budget),
            decisions: sum.decisions + f.decisions,
            requested: sum.requested.saturating_add(f.requested),
            granted_cases: sum.granted_cases + f.granted_cases,
            granted: sum.granted.saturating_add(f.granted),
            refused_cases: sum.refused_cases + f.refused_cases,
            awaiting_approval_cases: sum.awaiting_approval_cases + f.awaiting_approval_cases,
            awaiting_approval: sum.awaiting_approval.saturating_add(f.awaiting_approval),
            reopened_cases: sum.reopened_cases + f.reopened_cases,
            paid: sum.paid.saturating_add(f.paid),
            repaid: sum.repaid.saturating_add(f.repaid),
            reports_overdue: sum.reports_overdue + f.reports_overdue,
            ..GrantFigures::default()
        });
    with_commitment(total)
}

/// Municipality $1's pools created before $3, with budget year $2's figures as they stood just
/// before $3, and final reports overdue on Danish day $4. A case's version standing then is
/// the one begun before $3 and not ended before it; `for_year` is what its decision commits
/// in year $2.
fn pools_sql() -> String {
    format!(
        "WITH cases AS (
            SELECT c.pool_id, c.status, c.outcome, c.requested, c.granted, c.decision_year,
                c.report_due, c.report_received_on,
                coalesce((SELECT sum(u.amount) FROM unnest(c.years, c.amounts) AS u(year, amount)
                          WHERE u.year = $2), 0)::bigint AS for_year
            FROM {schema}.grant_case_version c
            WHERE c.tenant = $1 AND c.valid_from < $3 AND (c.valid_to IS NULL OR c.valid_to >= $3)
         ), case_figures AS (
            SELECT pool_id,
                count(*) FILTER (WHERE decision_year = $2 AND status IN ('proposed', 'decided'))
                    AS decisions,
                coalesce(sum(requested) FILTER (
                    WHERE decision_year = $2 AND status IN ('proposed', 'decided')), 0)::bigint
                    AS requested,
                count(*) FILTER (WHERE status = 'decided' AND for_year > 0) AS granted_cases,
                coalesce(sum(for_year) FILTER (WHERE status = 'decided'), 0)::bigint AS granted,
                count(*) FILTER (
                    WHERE status = 'decided' AND outcome = 'refused' AND decision_year = $2)
                    AS refused_cases,
                count(*) FILTER (WHERE status = 'proposed' AND for_year > 0)
                    AS awaiting_approval_cases,
                coalesce(sum(for_year) FILTER (WHERE status = 'proposed'), 0)::bigint
                    AS awaiting_approval,
                count(*) FILTER (WHERE status = 'reopened' AND decision_year = $2)
                    AS reopened_cases,
                count(*) FILTER (
                    WHERE status = 'decided' AND granted > 0 AND decision_year = $2
                      AND report_due < $4 AND report_received_on IS NULL) AS reports_overdue
            FROM cases GROUP BY pool_id
         ), money AS (
            SELECT pool_id,
                coalesce(sum(amount) FILTER (WHERE kind = 'payment'), 0)::bigint AS paid,
                coalesce(sum(amount) FILTER (WHERE kind = 'repayment'), 0)::bigint AS repaid
            FROM {schema}.grant_money
            WHERE tenant = $1 AND recorded_at < $3
              AND paid_on >= make_date($2, 1, 1) AND paid_on < make_date($2 + 1, 1, 1)
            GROUP BY pool_id
         ), budget AS (
            SELECT pool_id, budget FROM {schema}.budget_version
            WHERE tenant = $1 AND year = $2 AND valid_from < $3
              AND (valid_to IS NULL OR valid_to >= $3)
         )
         SELECT p.pool_id, p.name,
            coalesce(b.budget, 0)::bigint AS budget,
            coalesce(c.decisions, 0)::bigint AS decisions,
            coalesce(c.requested, 0)::bigint AS requested,
            coalesce(c.granted_cases, 0)::bigint AS granted_cases,
            coalesce(c.granted, 0)::bigint AS granted,
            coalesce(c.refused_cases, 0)::bigint AS refused_cases,
            coalesce(c.awaiting_approval_cases, 0)::bigint AS awaiting_approval_cases,
            coalesce(c.awaiting_approval, 0)::bigint AS awaiting_approval,
            coalesce(c.reopened_cases, 0)::bigint AS reopened_cases,
            coalesce(m.paid, 0)::bigint AS paid,
            coalesce(m.repaid, 0)::bigint AS repaid,
            coalesce(c.reports_overdue, 0)::bigint AS reports_overdue
         FROM {schema}.grant_pool p
         LEFT JOIN budget b USING (pool_id)
         LEFT JOIN case_figures c USING (pool_id)
         LEFT JOIN money m USING (pool_id)
         WHERE p.tenant = $1 AND p.created_at < $3
         ORDER BY p.name, p.pool_id",
        schema = REPORTING.schema
    )
}

/// The report as CSV: one row per pool and one for all of them (`pool_id` empty).
fn grants_csv(report: &GrantReport) -> Response {
    let mut out = String::new();
    let header = [
        "year",
        "pool_id",
        "pool",
        "budget_ore",
        "decisions",
        "requested_ore",
        "granted_cases",
        "granted_ore",
        "refused_cases",
        "awaiting_approval_cases",
        "awaiting_approval_ore",
        "reopened_cases",
        "committed_ore",
        "available_ore",
        "share_committed",
        "paid_ore",
        "repaid_ore",
        "reports_overdue",
    ];
    write_row(&mut out, &header.map(Field::Text));
    let year = report.year.to_string();
    let rows = report
        .pools
        .iter()
        .map(|p| (p.pool_id.to_string(), p.name.as_str(), &p.figures))
        .chain([(String::new(), "I alt", &report.total)]);
    for (id, name, f) in rows {
        let values = [
            f.budget.to_string(),
            f.decisions.to_string(),
            f.requested.to_string(),
            f.granted_cases.to_string(),
            f.granted.to_string(),
            f.refused_cases.to_string(),
            f.awaiting_approval_cases.to_string(),
            f.awaiting_approval.to_string(),
            f.reopened_cases.to_string(),
            f.committed.to_string(),
            f.available.to_string(),
            f.share_committed
                .map(|s| format!("{s:.4}"))
                .unwrap_or_default(),
            f.paid.to_string(),
            f.repaid.to_string(),
            f.reports_overdue.to_string(),
        ];
        let mut fields = vec![Field::Text(&year), Field::Text(&id), Field::Text(name)];
        fields.extend(values.iter().map(|v| Field::Text(v)));
        write_row(&mut out, &fields);
    }
    csv_response(out, &format!("puljer-{}.csv", report.year))
}

pub(super) fn read_sql() -> Vec<(&'static str, String)> {
    vec![("GET /reports/grants", pools_sql())]
}
