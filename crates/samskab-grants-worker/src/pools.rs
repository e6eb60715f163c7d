//! A pool's events: `pool`, `pool_year`, `budget_change`, `round`, `conflict` and `decision`,
//! and the pool's side of the `application` row (its decision, approval, reopening or
//! withdrawal), mirroring `GrantPool::evolve`.
//!
//! `evolve` ignores every event of a pool that was never created, so every statement but the
//! creation's asks for the pool's row (`EXISTS`); a pool is never deleted, so the answer does
//! not change between a delivery and a redelivery. Guards are `position <= $position`, as in
//! the other workers: a command's events share its position. The tables keyed by position
//! (`budget_change`, `decision`) take an event once (`DO NOTHING`), so a redelivery finds its
//! own row; the rows that stand for "as it is now" (`pool_year`, `application`) are guarded by
//! position, so a stale redelivery changes nothing.

use samskab_domain::{ApplicantRef, GrantPoolEvent, PoolDecision, PoolDetails, PoolRound};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;
use sqlx::types::Json;

/// A second creation keeps the first (`evolve` keeps the state it has).
const CREATE: &str = "\
INSERT INTO pool (tenant, id, name, legal_basis, purpose, kind, applicants, criteria,
                  second_approval_above, audited_accounts_above, initiative, strategic_goal,
                  created_at, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (tenant, id) DO NOTHING";

/// The change is kept once, keyed by its position; the year's budget is the latest change's
/// (`evolve` inserts the amount), which the position guard keeps a stale redelivery from
/// rolling back. One statement: a data-modifying CTE runs whether or not it is read.
const CHANGE_BUDGET: &str = "\
WITH change AS (
    INSERT INTO budget_change (tenant, pool_id, position, year, amount, previous, reason,
                               changed_by, changed_at)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
    WHERE EXISTS (SELECT 1 FROM pool WHERE tenant = $1 AND id = $2)
    ON CONFLICT (tenant, pool_id, position) DO NOTHING
)
INSERT INTO pool_year (tenant, pool_id, year, budget, updated_at, position)
SELECT $1, $2, $4, $5, $10, $3
WHERE EXISTS (SELECT 1 FROM pool WHERE tenant = $1 AND id = $2)
ON CONFLICT (tenant, pool_id, year) DO UPDATE SET
    budget = EXCLUDED.budget,
    updated_at = EXCLUDED.updated_at,
    position = EXCLUDED.position
WHERE pool_year.position <= EXCLUDED.position";

/// A round opened again keeps the first (`evolve` pushes a round only if it has none of that
/// id).
const OPEN_ROUND: &str = "\
INSERT INTO round (tenant, id, pool_id, title, opens_at, deadline, decision_expected, position)
SELECT $1, $2, $3, $4, $5, $6, $7, $8
WHERE EXISTS (SELECT 1 FROM pool WHERE tenant = $1 AND id = $3)
ON CONFLICT (tenant, id) DO NOTHING";

/// A conflict is a member and an applicant (`evolve` keeps a set of the pairs): a second
/// declaration keeps the first's reason and time.
const DECLARE_CONFLICT: &str = "\
INSERT INTO conflict (tenant, pool_id, member, applicant_kind, applicant_id, reason, declared_at,
                      position)
SELECT $1, $2, $3, $4, $5, $6, $7, $8
WHERE EXISTS (SELECT 1 FROM pool WHERE tenant = $1 AND id = $2)
ON CONFLICT (tenant, pool_id, member, applicant_id) DO NOTHING";

/// A decision, proposed ($6 true: above the pool's threshold, awaiting a second approver) or
/// final: a row of its own (never edited; keyed by its position, so a redelivery finds it),
/// and the application's standing decision. `evolve` replaces the case's ledger entry whatever
/// it was, so the row takes the decision whatever its status, and blanks what the earlier
/// decision's approval, reopening or the case's withdrawal had set. The application must be the
/// pool's ($2).
const DECIDE: &str = "\
WITH decided AS (
    INSERT INTO decision (tenant, application_id, position, pool_id, awaits_approval, version,
                          outcome, amount, requested, year, justification, decided_by,
                          assessed_by, decided_at, years, duties, approved_by, approved_at,
                          reopened_by, reopened_reason, reopened_at)
    SELECT $1, $3, $4, $2, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $18, $19, NULL, NULL,
           NULL, NULL, NULL
    WHERE EXISTS (SELECT 1 FROM pool WHERE tenant = $1 AND id = $2)
    ON CONFLICT (tenant, application_id, position) DO NOTHING
)
UPDATE application SET
    status = $5,
    outcome = $8,
    granted = $9,
    decision_year = $11,
    decision_years = $18,
    decided_version = $7,
    justification = $12,
    decided_by = $13,
    decided_at = $15,
    approved_by = NULL,
    approved_at = NULL,
    reopened_reason = NULL,
    reopened_at = NULL,
    withdrawn_at = NULL,
    report_due = $17,
    updated_at = $16,
    position = $4
WHERE tenant = $1 AND id = $3 AND pool_id = $2 AND position <= $4
  AND EXISTS (SELECT 1 FROM pool WHERE tenant = $1 AND id = $2)";

/// The second approval makes a proposed decision final (`evolve`: only a proposed case). The
/// decision approved is the application's latest as of the approval ($4): a stale redelivery
/// must not approve a later proposal. A decision already approved does not await approval, so
/// a redelivery changes nothing there either.
const APPROVE: &str = "\
WITH approved AS (
    UPDATE decision SET
        awaits_approval = false,
        approved_by = $5,
        approved_at = $6
    WHERE tenant = $1 AND application_id = $3 AND pool_id = $2 AND awaits_approval
      AND position = (SELECT max(position) FROM decision
                      WHERE tenant = $1 AND application_id = $3 AND position <= $4)
)
UPDATE application SET
    status = 'decided',
    approved_by = $5,
    approved_at = $6,
    updated_at = $7,
    position = $4
WHERE tenant = $1 AND id = $3 AND pool_id = $2 AND status = 'proposed' AND position <= $4
  AND EXISTS (SELECT 1 FROM pool WHERE tenant = $1 AND id = $2)";

/// A complaint reopens the standing decision: the application's latest as of the reopening
/// ($4), if it is not reopened already; the decision row keeps everything else. The case
/// awaits a new decision. `evolve` reopens whatever case the ledger has; the decider only a
/// final one. The row follows a proposed or a final decision (both commit money, which the
/// reopening releases); a case already reopened stays as it was (its first reason stands),
/// and a withdrawn one has no decision left to reopen.
const REOPEN: &str = "\
WITH reopened AS (
    UPDATE decision SET
        reopened_by = $5,
        reopened_reason = $6,
        reopened_at = $7
    WHERE tenant = $1 AND application_id = $3 AND pool_id = $2 AND reopened_at IS NULL
      AND position = (SELECT max(position) FROM decision
                      WHERE tenant = $1 AND application_id = $3 AND position <= $4)
)
UPDATE application SET
    status = 'reopened',
    reopened_reason = $6,
    reopened_at = $7,
    updated_at = $8,
    position = $4
WHERE tenant = $1 AND id = $3 AND pool_id = $2 AND status IN ('proposed', 'decided')
  AND position <= $4
  AND EXISTS (SELECT 1 FROM pool WHERE tenant = $1 AND id = $2)";

/// A withdrawal: `evolve` replaces the case's ledger entry with a withdrawn one without a
/// decision or follow-up, so the row blanks the standing (reopened) decision and what followed
/// it; the decision rows keep the history.
const WITHDRAW: &str = "\
UPDATE application SET
    status = 'withdrawn',
    withdrawn_at = $4,
    outcome = NULL,
    granted = NULL,
    decision_year = NULL,
    decision_years = NULL,
    decided_version = NULL,
    justification = NULL,
    decided_by = NULL,
    decided_at = NULL,
    approved_by = NULL,
    approved_at = NULL,
    reopened_reason = NULL,
    reopened_at = NULL,
    paid = 0,
    report_due = NULL,
    report_received_on = NULL,
    report_spent = NULL,
    report_audited = NULL,
    report_narrative = NULL,
    report_approved_at = NULL,
    repayment_due = NULL,
    repaid = 0,
    updated_at = $5,
    position = $6
WHERE tenant = $1 AND id = $3 AND pool_id = $2 AND position <= $6
  AND EXISTS (SELECT 1 FROM pool WHERE tenant = $1 AND id = $2)";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &GrantPoolEvent,
) -> Result<(), ApplyError> {
    ctx.check_entity(event.id().as_uuid())?;
    match event {
        GrantPoolEvent::Created(details) => create(conn, ctx, details).await?,
        GrantPoolEvent::BudgetChanged(e) => {
            sqlx::query(CHANGE_BUDGET)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(ctx.position)
                .bind(e.year)
                .bind(e.amount.ore())
                .bind(e.previous.ore())
                .bind(e.reason.as_str())
                .bind(e.by.as_str())
                .bind(e.at)
                .bind(ctx.time)
                .execute(conn)
                .await?;
        }
        GrantPoolEvent::RoundOpened(round) => open_round(conn, ctx, round).await?,
        GrantPoolEvent::ConflictDeclared(e) => {
            let (applicant_kind, applicant_id) = applicant(e.applicant);
            sqlx::query(DECLARE_CONFLICT)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.member.as_str())
                .bind(applicant_kind)
                .bind(applicant_id)
                .bind(e.reason.as_ref().map(|r| r.as_str()))
                .bind(e.at)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        GrantPoolEvent::DecisionProposed(decision) => {
            decide(conn, ctx, decision, "proposed").await?;
        }
        GrantPoolEvent::Decided(decision) => decide(conn, ctx, decision, "decided").await?,
        GrantPoolEvent::DecisionApproved(e) => {
            sqlx::query(APPROVE)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.application.as_uuid())
                .bind(ctx.position)
                .bind(e.approved_by.as_str())
                .bind(e.at)
                .bind(ctx.time)
                .execute(conn)
                .await?;
        }
        GrantPoolEvent::DecisionReopened(e) => {
            sqlx::query(REOPEN)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.application.as_uuid())
                .bind(ctx.position)
                .bind(e.by.as_str())
                .bind(e.reason.as_str())
                .bind(e.at)
                .bind(ctx.time)
                .execute(conn)
                .await?;
        }
        GrantPoolEvent::PaymentRecorded(e) => crate::follow_up::payment(conn, ctx, e).await?,
        GrantPoolEvent::RepaymentRecorded(e) => crate::follow_up::repayment(conn, ctx, e).await?,
        GrantPoolEvent::FinalReportReceived(e) => crate::follow_up::report(conn, ctx, e).await?,
        GrantPoolEvent::FinalReportApproved(e) => {
            crate::follow_up::approve_report(conn, ctx, e).await?
        }
        GrantPoolEvent::ApplicationWithdrawn(e) => {
            sqlx::query(WITHDRAW)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.application.as_uuid())
                .bind(e.at)
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// `conflict.applicant_kind` and `applicant_id`.
fn applicant(applicant: ApplicantRef) -> (&'static str, uuid::Uuid) {
    match applicant {
        ApplicantRef::Organisation(id) => ("organisation", id.as_uuid()),
        ApplicantRef::Application(id) => ("application", id.as_uuid()),
    }
}

async fn create(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    details: &PoolDetails,
) -> Result<(), ApplyError> {
    sqlx::query(CREATE)
        .bind(ctx.tenant)
        .bind(details.id.as_uuid())
        .bind(details.name.as_str())
        .bind(details.legal_basis.as_str())
        .bind(details.purpose.as_str())
        .bind(details.kind.as_str())
        // Wire names as text[], so "pools an association may apply to" is a query.
        .bind(
            details
                .applicants
                .iter()
                .map(|kind| kind.as_str())
                .collect::<Vec<_>>(),
        )
        // The domain's own serialisation: [{"key", "title", "weight"}].
        .bind(Json(&details.criteria))
        .bind(details.second_approval_above.ore())
        .bind(details.audited_accounts_above.ore())
        .bind(details.initiative.as_ref().map(|t| t.as_str()))
        .bind(details.strategic_goal.as_ref().map(|t| t.as_str()))
        .bind(ctx.time)
        .bind(ctx.position)
        .execute(conn)
        .await?;
    Ok(())
}

async fn open_round(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    round: &PoolRound,
) -> Result<(), ApplyError> {
    sqlx::query(OPEN_ROUND)
        .bind(ctx.tenant)
        .bind(round.round.as_uuid())
        .bind(round.id.as_uuid())
        .bind(round.title.as_str())
        .bind(round.opens_at)
        .bind(round.deadline)
        .bind(round.decision_expected)
        .bind(ctx.position)
        .execute(conn)
        .await?;
    Ok(())
}

/// [`DECIDE`] for a proposed or a final decision (`status`).
async fn decide(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    decision: &PoolDecision,
    status: &'static str,
) -> Result<(), ApplyError> {
    sqlx::query(DECIDE)
        .bind(ctx.tenant)
        .bind(decision.id.as_uuid())
        .bind(decision.application.as_uuid())
        .bind(ctx.position)
        .bind(status)
        .bind(status == "proposed")
        .bind(crate::version(decision.version)?)
        .bind(decision.outcome.as_str())
        .bind(decision.amount.ore())
        .bind(decision.requested.ore())
        .bind(decision.year)
        .bind(decision.justification.as_ref().map(|j| j.as_str()))
        .bind(decision.decided_by.as_str())
        .bind(
            decision
                .assessed_by
                .iter()
                .map(|member| member.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(decision.at)
        .bind(ctx.time)
        .bind(decision.report_due)
        .bind(Json(decision.by_year()))
        .bind(decision.duties.as_ref().map(|d| d.as_str()))
        .execute(conn)
        .await?;
    Ok(())
}
