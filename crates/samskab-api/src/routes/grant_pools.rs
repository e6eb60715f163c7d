//! Grant pools (puljer): created and budgeted by a pool administrator, with application rounds
//! for a pool that decides in rounds, and the conflicts of interest (inhabilitet) that case
//! workers and committee members declare in it. Every command here is one of the pool's own
//! subject, which is also where its decisions are (see `samskab_domain::grant_pool`).

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use samskab_domain::calendar::hours_ahead_of_utc;
use samskab_domain::grant_pool::ApplicantRef;
use samskab_domain::{
    Amount, ApplicantKind, Criterion, CriterionKey, GrantApplicationId, GrantPool,
    GrantPoolCommand, GrantPoolId, GrantRoundId, GrantText, GrantTitle, Justification, LegalBasis,
    OrganisationId, PoolDetails, PoolKind, StaffMember,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::Principal;
use crate::body::{JsonBody, whole};
use crate::commands::CommandAccepted;
use crate::commands::CommandRequest;
use crate::fields::FieldCheck;
use crate::problem::ApiError;
use crate::read::{Consistency, GRANTS, Page, QueryParams, check_limit, page, wait_for};
use crate::routes::EntityId;
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_pool, list_pools))
        .routes(routes!(get_pool))
        .routes(routes!(change_budget))
        .routes(routes!(open_round))
        .routes(routes!(declare_conflict))
}

/// The years a budget, a round or a decision may be of.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The staff member a token speaks for, as grant events record them.
pub(crate) fn staff_member(principal: &Principal) -> Result<StaffMember, ApiError> {
    StaffMember::parse(&principal.actor).map_err(|e| ApiError::Internal(anyhow::anyhow!(e.0)))
}

/// One criterion an application is scored on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionInput {
    /// What scores name it by; unique within the pool.
    #[schema(schema_with = schema::criterion_key)]
    pub key: String,
    #[schema(schema_with = schema::grant_title)]
    pub title: String,
    /// Its weight in the total; the weights of a pool add up to 100.
    #[serde(deserialize_with = "whole::u8")]
    #[schema(value_type = u8, minimum = 1, maximum = 100)]
    pub weight: u8,
}

/// A new pool.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolInput {
    #[schema(schema_with = schema::grant_title)]
    pub name: String,
    #[schema(schema_with = schema::legal_basis)]
    pub legal_basis: String,
    #[schema(schema_with = schema::grant_text)]
    pub purpose: String,
    /// `rounds` (application rounds with a deadline, at most two a year), `rolling` (decided as
    /// applications arrive) or `partnership` (multi-year agreements).
    #[schema(schema_with = schema::pool_kind)]
    pub kind: String,
    /// Who may apply.
    #[schema(schema_with = schema::applicant_kinds)]
    pub applicants: Vec<String>,
    /// 1 to 12 criteria with distinct keys, whose weights add up to 100.
    #[schema(min_items = 1, max_items = 12)]
    pub criteria: Vec<CriterionInput>,
    /// A decision granting more than this (øre) needs a second approver.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000_000i64)]
    pub second_approval_above: i64,
    /// A final report of a grant above this (øre) needs audited accounts.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000_000i64)]
    pub audited_accounts_above: i64,
    /// The initiative (indsats) of the action plan it serves; blank or null for none.
    #[serde(default)]
    #[schema(schema_with = schema::grant_title_or_null)]
    pub initiative: Option<String>,
    /// The strategic goal it serves; blank or null for none.
    #[serde(default)]
    #[schema(schema_with = schema::grant_title_or_null)]
    pub strategic_goal: Option<String>,
}

fn parse_pool(id: GrantPoolId, input: &PoolInput) -> Result<PoolDetails, ApiError> {
    let mut f = FieldCheck::default();
    let name = f.check("name", GrantTitle::parse(&input.name));
    let legal_basis = f.check("legal_basis", LegalBasis::parse(&input.legal_basis));
    let purpose = f.check("purpose", GrantText::parse(&input.purpose));
    let kind = f.check("kind", PoolKind::parse(&input.kind));
    let applicants = f.list("applicants", &input.applicants, |a| ApplicantKind::parse(a));
    if let Some(kinds) = &applicants
        && (1..kinds.len()).any(|i| kinds[..i].contains(&kinds[i]))
    {
        f.fail("applicants", "name each kind of applicant once");
    }
    let mut criteria = Vec::new();
    for (i, c) in input.criteria.iter().enumerate() {
        let key = f.check(&format!("criteria[{i}].key"), CriterionKey::parse(&c.key));
        let title = f.check(&format!("criteria[{i}].title"), GrantTitle::parse(&c.title));
        if !(1..=100).contains(&c.weight) {
            f.fail(&format!("criteria[{i}].weight"), "must be 1 to 100");
        }
        if let (Some(key), Some(title)) = (key, title) {
            criteria.push(Criterion {
                key,
                title,
                weight: c.weight,
            });
        }
    }
    let second_approval_above = f.check(
        "second_approval_above",
        Amount::from_ore(input.second_approval_above),
    );
    let audited_accounts_above = f.check(
        "audited_accounts_above",
        Amount::from_ore(input.audited_accounts_above),
    );
    let initiative = f.check(
        "initiative",
        GrantTitle::parse_optional(input.initiative.as_deref()),
    );
    let strategic_goal = f.check(
        "strategic_goal",
        GrantTitle::parse_optional(input.strategic_goal.as_deref()),
    );
    f.finish()?;
    match (
        name,
        legal_basis,
        purpose,
        kind,
        applicants,
        second_approval_above,
        audited_accounts_above,
        initiative,
        strategic_goal,
    ) {
        (
            Some(name),
            Some(legal_basis),
            Some(purpose),
            Some(kind),
            Some(applicants),
            Some(second_approval_above),
            Some(audited_accounts_above),
            Some(initiative),
            Some(strategic_goal),
        ) => Ok(PoolDetails {
            id,
            name,
            legal_basis,
            purpose,
            kind,
            applicants,
            criteria,
            second_approval_above,
            audited_accounts_above,
            initiative,
            strategic_goal,
        }),
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        ))),
    }
}

/// Create a grant pool in the caller's municipality. Its budget is set per year afterwards
/// (`POST /grant-pools/{id}/budget`).
#[utoipa::path(post, path = "/grant-pools", tag = "grants", request_body = PoolInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn create_pool(cmd: CommandRequest, body: JsonBody<PoolInput>) -> Result<Response, ApiError> {
    let id = GrantPoolId::from(cmd.new_id::<GrantPool>());
    let details = parse_pool(id, &body.value)?;
    cmd.create::<GrantPool>(id, &body.digest, GrantPoolCommand::Create(details))
        .await
}

/// A year's budget, as it is to stand, and why it changed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetInput {
    #[serde(deserialize_with = "whole::u16")]
    #[schema(value_type = u16, minimum = 2000, maximum = 2100)]
    pub year: u16,
    /// The year's whole budget in øre; not less than is already granted from it.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000_000i64)]
    pub amount: i64,
    #[schema(schema_with = schema::justification)]
    pub reason: String,
}

/// Set the budget of one year of the pool. A change is an event with its reason; the budget
/// never goes below what is already granted from that year (409).
#[utoipa::path(post, path = "/grant-pools/{id}/budget", tag = "grants", request_body = BudgetInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn change_budget(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<BudgetInput>,
) -> Result<Response, ApiError> {
    let mut f = FieldCheck::default();
    let year = i32::from(body.value.year);
    if !YEARS.contains(&year) {
        f.fail("year", "must be 2000 to 2100");
    }
    let amount = f.check("amount", Amount::from_ore(body.value.amount));
    let reason = f.check("reason", Justification::parse(&body.value.reason));
    f.finish()?;
    let (Some(amount), Some(reason)) = (amount, reason) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let command = GrantPoolCommand::ChangeBudget {
        year,
        amount,
        reason,
        by: staff_member(&cmd.principal)?,
        at: Utc::now(),
    };
    cmd.change::<GrantPool>(GrantPoolId::from(id), &body.digest, command)
        .await
}

/// An application round.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundInput {
    #[schema(schema_with = schema::grant_title)]
    pub title: String,
    /// When applications are first taken (RFC 3339 with its offset, e.g. Danish time
    /// `2026-01-05T08:00:00+01:00`); in 2000 to 2100.
    pub opens_at: DateTime<Utc>,
    /// The deadline: an application submitted after it is refused. After `opens_at`; in 2000
    /// to 2100.
    pub deadline: DateTime<Utc>,
    /// When the applicants can expect a decision: on or after the deadline's day (in
    /// Denmark), in 2000 to 2100.
    pub decision_expected: NaiveDate,
}

/// Open an application round (a pool in rounds only; at most two with a deadline in one year).
#[utoipa::path(post, path = "/grant-pools/{id}/rounds", tag = "grants", request_body = RoundInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn open_round(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<RoundInput>,
) -> Result<Response, ApiError> {
    let input = &body.value;
    let mut f = FieldCheck::default();
    let title = f.check("title", GrantTitle::parse(&input.title));
    for (field, year) in [
        ("opens_at", input.opens_at.year()),
        ("deadline", input.deadline.year()),
        ("decision_expected", input.decision_expected.year()),
    ] {
        if !YEARS.contains(&year) {
            f.fail(field, "must be in 2000 to 2100");
        }
    }
    f.finish()?;
    let Some(title) = title else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let round = GrantRoundId::from(match cmd.idempotency_key() {
        Some(_) => cmd.new_id::<GrantPool>(),
        None => Uuid::now_v7(),
    });
    let command = GrantPoolCommand::OpenRound {
        round,
        title,
        opens_at: input.opens_at,
        deadline: input.deadline,
        decision_expected: input.decision_expected,
    };
    cmd.change::<GrantPool>(GrantPoolId::from(id), &body.digest, command)
        .await
}

/// The applicant a conflict of interest is with: an organisation, or (an informal group, a
/// person) their application. One of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictInput {
    pub organisation_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
    /// Why (optional; blank or null for none).
    #[serde(default)]
    #[schema(schema_with = schema::justification_or_null)]
    pub reason: Option<String>,
}

/// Declare your own conflict of interest (inhabilitet) with an applicant: you then can neither
/// assess nor decide nor approve its applications in this pool. Declaring it again changes
/// nothing.
#[utoipa::path(post, path = "/grant-pools/{id}/conflicts", tag = "grants", request_body = ConflictInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn declare_conflict(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<ConflictInput>,
) -> Result<Response, ApiError> {
    let input = &body.value;
    let applicant = match (input.organisation_id, input.application_id) {
        (Some(o), None) => ApplicantRef::Organisation(OrganisationId::from(o)),
        (None, Some(a)) => ApplicantRef::Application(GrantApplicationId::from(a)),
        _ => {
            return Err(ApiError::invalid(
                "organisation_id",
                "name the organisation or the application, one of the two",
            ));
        }
    };
    let reason = Justification::parse_optional(input.reason.as_deref())
        .map_err(|e| ApiError::invalid("reason", e.0))?;
    let command = GrantPoolCommand::DeclareConflict {
        member: staff_member(&cmd.principal)?,
        applicant,
        reason,
        at: Utc::now(),
    };
    cmd.change::<GrantPool>(GrantPoolId::from(id), &body.digest, command)
        .await
}

/// A year of a pool: its budget, what is committed (decisions final or awaiting a second
/// approver) and what is left, in øre.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct PoolYearView {
    pub year: i32,
    pub budget: i64,
    pub committed: i64,
    pub available: i64,
}

/// An application round; times in UTC and as Danish local time.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundView {
    pub id: Uuid,
    pub title: String,
    pub opens_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// The deadline in Europe/Copenhagen, with its offset.
    pub deadline_local: String,
    pub decision_expected: NaiveDate,
}

#[derive(Debug, sqlx::FromRow)]
struct RoundRow {
    id: Uuid,
    title: String,
    opens_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    decision_expected: NaiveDate,
}

/// A change of a year's budget, with its reason.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct BudgetChangeView {
    pub year: i32,
    pub amount: i64,
    pub previous: i64,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// A pool as the read model holds it.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct PoolView {
    pub id: Uuid,
    pub name: String,
    pub legal_basis: String,
    pub purpose: String,
    pub kind: String,
    pub applicants: Vec<String>,
    /// `[{"key", "title", "weight"}]`
    #[schema(value_type = Vec<Object>)]
    pub criteria: sqlx::types::Json<serde_json::Value>,
    pub second_approval_above: i64,
    pub audited_accounts_above: i64,
    pub initiative: Option<String>,
    pub strategic_goal: Option<String>,
    pub created_at: DateTime<Utc>,
    pub position: i64,
    #[sqlx(skip)]
    pub years: Vec<PoolYearView>,
    #[sqlx(skip)]
    pub rounds: Vec<RoundView>,
    #[sqlx(skip)]
    pub budget_changes: Vec<BudgetChangeView>,
}

const POOL_COLUMNS: &str = "id, name, legal_basis, purpose, kind, applicants, criteria, \
    second_approval_above, audited_accounts_above, initiative, strategic_goal, created_at, position";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PoolFilter {
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// The municipality's grant pools, by id (without their years, rounds and budget changes:
/// `GET /grant-pools/{id}` has them).
#[utoipa::path(get, path = "/grant-pools", tag = "grants", params(PoolFilter),
    responses((status = 200, body = Page<PoolView>)), security(("bearer" = [])))]
async fn list_pools(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<PoolFilter>,
) -> Result<axum::Json<Page<PoolView>>, ApiError> {
    let limit = check_limit(filter.limit)?;
    wait_for(&state, GRANTS, filter.min_position).await?;
    let rows: Vec<PoolView> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql()))
        .bind(principal.tenant.as_str())
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    Ok(axum::Json(page(rows, limit, |p| p.id)))
}

/// One pool, with each year's budget, committed and available amounts, its rounds and every
/// change of its budget.
#[utoipa::path(get, path = "/grant-pools/{id}", tag = "grants", params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = PoolView)), security(("bearer" = [])))]
async fn get_pool(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<PoolView>, ApiError> {
    wait_for(&state, GRANTS, consistency.min_position).await?;
    let tenant = principal.tenant.as_str();
    let Some(mut pool): Option<PoolView> = sqlx::query_as(sqlx::AssertSqlSafe(get_sql()))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&state.pool)
        .await?
    else {
        return Err(ApiError::NotFound);
    };
    let (years, rounds, changes) = tokio::try_join!(
        sqlx::query_as::<_, PoolYearView>(sqlx::AssertSqlSafe(years_sql()))
            .bind(tenant)
            .bind(id)
            .fetch_all(&state.pool),
        sqlx::query_as::<_, RoundRow>(sqlx::AssertSqlSafe(rounds_sql()))
            .bind(tenant)
            .bind(id)
            .fetch_all(&state.pool),
        sqlx::query_as::<_, BudgetChangeView>(sqlx::AssertSqlSafe(budget_changes_sql()))
            .bind(tenant)
            .bind(id)
            .fetch_all(&state.pool),
    )?;
    pool.years = years;
    pool.rounds = rounds
        .into_iter()
        .map(|r| RoundView {
            id: r.id,
            title: r.title,
            opens_at: r.opens_at,
            deadline_local: danish_local(r.deadline),
            deadline: r.deadline,
            decision_expected: r.decision_expected,
        })
        .collect();
    pool.budget_changes = changes;
    Ok(axum::Json(pool))
}

/// `at` as Danish local time with its offset ("2026-03-01T12:00:00+01:00").
pub(crate) fn danish_local(at: DateTime<Utc>) -> String {
    let hours = hours_ahead_of_utc(at);
    let local = at + chrono::Duration::hours(hours);
    format!("{}+{hours:02}:00", local.format("%Y-%m-%dT%H:%M:%S"))
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /grant-pools", list_sql()),
        ("GET /grant-pools/{id}", get_sql()),
        ("GET /grant-pools/{id} years", years_sql()),
        ("GET /grant-pools/{id} rounds", rounds_sql()),
        ("GET /grant-pools/{id} budget changes", budget_changes_sql()),
    ]
}

fn list_sql() -> String {
    format!(
        "SELECT {POOL_COLUMNS} FROM {schema}.pool
     WHERE tenant = $1 AND ($2::uuid IS NULL OR id > $2)
     ORDER BY id LIMIT $3",
        schema = GRANTS.schema
    )
}

fn get_sql() -> String {
    format!(
        "SELECT {POOL_COLUMNS} FROM {schema}.pool WHERE tenant = $1 AND id = $2",
        schema = GRANTS.schema
    )
}

/// What a year has committed is summed from the applications' standing decisions (proposed or
/// final), year by year (a partnership's decision commits several), as the pool's ledger
/// counts it.
fn years_sql() -> String {
    format!(
        "SELECT y.year, y.budget, c.committed, y.budget - c.committed AS available
     FROM {schema}.pool_year y
     CROSS JOIN LATERAL (
         SELECT COALESCE(SUM((e ->> 'amount')::bigint), 0)::bigint AS committed
         FROM {schema}.application a
         CROSS JOIN LATERAL jsonb_array_elements(a.decision_years) e
         WHERE a.tenant = y.tenant AND a.pool_id = y.pool_id
           AND a.status IN ('proposed', 'decided') AND (e ->> 'year')::int = y.year
     ) c
     WHERE y.tenant = $1 AND y.pool_id = $2
     ORDER BY y.year",
        schema = GRANTS.schema
    )
}

fn rounds_sql() -> String {
    format!(
        "SELECT id, title, opens_at, deadline, decision_expected FROM {schema}.round
     WHERE tenant = $1 AND pool_id = $2 ORDER BY deadline",
        schema = GRANTS.schema
    )
}

fn budget_changes_sql() -> String {
    format!(
        "SELECT year, amount, previous, reason, changed_by, changed_at FROM {schema}.budget_change
     WHERE tenant = $1 AND pool_id = $2 ORDER BY position",
        schema = GRANTS.schema
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_reads_in_danish_time_winter_and_summer() {
        let winter = DateTime::parse_from_rfc3339("2026-03-01T11:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(danish_local(winter), "2026-03-01T12:00:00+01:00");
        let summer = DateTime::parse_from_rfc3339("2026-09-01T10:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(danish_local(summer), "2026-09-01T12:00:00+02:00");
    }
}
