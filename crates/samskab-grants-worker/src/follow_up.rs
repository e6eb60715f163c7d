//! What follows a grant, on the application's row (`migrations/0018_grant_follow_up.sql`):
//! payments and repayments (each also a row of `payment`), the final report received and
//! approved. Mirrors `GrantPool::evolve`, which applies them to whatever case its ledger has.
//!
//! A payment adds to what is paid, so it cannot be written twice: its guard is
//! `position < $position` (strict), not `<=` as elsewhere. That is safe because a payment is
//! the only event of its command (one message, one position), so no earlier event of the same
//! message can have moved the row to this position; a redelivery finds it there and adds
//! nothing, and the `payment` row is keyed by its position.

use samskab_domain::{PoolFinalReport, PoolFinalReportApproved, PoolPayment, PoolRepayment};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;

/// `$6` names the column added to: `paid` or `repaid` (never user text: one of the two
/// constants below).
fn money_sql(kind: &str, column: &str) -> String {
    format!(
        "WITH recorded AS (
    INSERT INTO payment (tenant, application_id, position, kind, amount, paid_on, reference,
                         recorded_by, recorded_at)
    SELECT $1, $3, $4, '{kind}', $5, $6, $7, $8, $9
    WHERE EXISTS (SELECT 1 FROM application WHERE tenant = $1 AND id = $3 AND pool_id = $2)
    ON CONFLICT (tenant, application_id, position) DO NOTHING
)
UPDATE application SET
    {column} = {column} + $5,
    updated_at = $10,
    position = $4
WHERE tenant = $1 AND id = $3 AND pool_id = $2 AND position < $4"
    )
}

const REPORT: &str = "\
UPDATE application SET
    report_received_on = $5,
    report_spent = $6,
    report_audited = $7,
    report_narrative = $8,
    report_approved_at = NULL,
    updated_at = $9,
    position = $4
WHERE tenant = $1 AND id = $3 AND pool_id = $2 AND position <= $4";

/// Only a received report is approved (`evolve` approves the report it has).
const APPROVE_REPORT: &str = "\
UPDATE application SET
    report_approved_at = $5,
    repayment_due = $6,
    updated_at = $7,
    position = $4
WHERE tenant = $1 AND id = $3 AND pool_id = $2 AND report_received_on IS NOT NULL
  AND position <= $4";

pub(crate) async fn payment(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    e: &PoolPayment,
) -> Result<(), ApplyError> {
    money(
        conn,
        ctx,
        "payment",
        "paid",
        e.id,
        e.application,
        e.amount,
        e.paid_on,
        &e.reference,
        &e.by,
    )
    .await
}

pub(crate) async fn repayment(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    e: &PoolRepayment,
) -> Result<(), ApplyError> {
    money(
        conn,
        ctx,
        "repayment",
        "repaid",
        e.id,
        e.application,
        e.amount,
        e.repaid_on,
        &e.reference,
        &e.by,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn money(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    kind: &str,
    column: &str,
    pool: samskab_domain::GrantPoolId,
    application: samskab_domain::GrantApplicationId,
    amount: samskab_domain::Amount,
    on: chrono::NaiveDate,
    reference: &samskab_domain::GrantTitle,
    by: &samskab_domain::StaffMember,
) -> Result<(), ApplyError> {
    sqlx::query(sqlx::AssertSqlSafe(money_sql(kind, column)))
        .bind(ctx.tenant)
        .bind(pool.as_uuid())
        .bind(application.as_uuid())
        .bind(ctx.position)
        .bind(amount.ore())
        .bind(on)
        .bind(reference.as_str())
        .bind(by.as_str())
        .bind(ctx.time)
        .bind(ctx.time)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn report(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    e: &PoolFinalReport,
) -> Result<(), ApplyError> {
    sqlx::query(REPORT)
        .bind(ctx.tenant)
        .bind(e.id.as_uuid())
        .bind(e.application.as_uuid())
        .bind(ctx.position)
        .bind(e.received_on)
        .bind(e.spent.ore())
        .bind(e.audited)
        .bind(e.narrative.as_str())
        .bind(ctx.time)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn approve_report(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    e: &PoolFinalReportApproved,
) -> Result<(), ApplyError> {
    sqlx::query(APPROVE_REPORT)
        .bind(ctx.tenant)
        .bind(e.id.as_uuid())
        .bind(e.application.as_uuid())
        .bind(ctx.position)
        .bind(e.at)
        .bind(e.repayment_due.ore())
        .bind(ctx.time)
        .execute(conn)
        .await?;
    Ok(())
}
