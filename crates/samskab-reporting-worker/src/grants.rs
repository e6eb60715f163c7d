//! `reporting.grant_pool`, `budget_version`, `grant_case_version` and `grant_money`: a §18
//! pool's money as versions, mirroring `GrantPool::evolve`, from the pool's events only (the
//! pool is where money is decided; the application's events, with the applicant's personal
//! data, are never read here).
//!
//! - A budget change begins the pool-year's next budget version.
//! - A decision (proposed or final) begins the case's next version with its outcome, amounts
//!   and years, whatever stood before (a new decision after a complaint); a final report
//!   already received stays with it, as `evolve` keeps the follow-up.
//! - An approval moves a proposed decision to decided; a complaint reopens any case; a
//!   withdrawal replaces the case with nothing committed; a final report received is recorded
//!   on the case as it stands ([`MOVE`]).
//! - A payment or repayment is a row of its own, if the case was known before it.
//!
//! Nothing before the pool's creation (in the log) counts, as `evolve` ignores it; the key of
//! each row is the event's position and index, so a redelivery writes nothing.

use samskab_domain::{GrantOutcome, GrantPoolEvent, PoolDecision};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;

/// The pool, with its kind and its place in the action plan, unless it was created before (a
/// second creation keeps the first).
const CREATE: &str = "\
INSERT INTO grant_pool (tenant, pool_id, name, created_at, from_position, from_index, kind,
    initiative, strategic_goal)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING";

/// "The pool ($1, $2) was created before the event at ($3, $4)", for the statements below (a
/// macro, so that they are literals joined at compile time, not formatted on every event).
macro_rules! created_before {
    () => {
        "EXISTS (SELECT 1 FROM grant_pool
            WHERE tenant = $1 AND pool_id = $2 AND (from_position, from_index) < ($3, $4))"
    };
}

/// Year $5's budget becomes $6 at $7.
const CHANGE_BUDGET: &str = concat!(
    "WITH closed AS (
            UPDATE budget_version SET valid_to = $7
            WHERE tenant = $1 AND pool_id = $2 AND year = $5 AND valid_to IS NULL
              AND (from_position, from_index) < ($3, $4)
            RETURNING 1
         )
         INSERT INTO budget_version (tenant, pool_id, year, from_position, from_index, valid_from,
             budget)
         SELECT $1, $2, $5, $3, $4, $7, $6
         -- Read first, so the standing version is closed before the next one is written (the
         -- parts of a statement run in no set order otherwise).
         FROM (SELECT 1) AS one LEFT JOIN closed ON true
         WHERE ",
    created_before!(),
    "
           AND NOT EXISTS (SELECT 1 FROM budget_version
               WHERE tenant = $1 AND pool_id = $2 AND year = $5
                 AND (from_position, from_index) >= ($3, $4))"
);

/// Case $6 of pool $2 begins a version with status $7 that replaces whatever stood (a
/// decision, `proposed` or `decided`, or a withdrawal), at $5; with $14 the final report
/// received before stays (a decision), without it it goes (a withdrawal).
const REPLACE_CASE: &str = concat!(
    "WITH closed AS (
            UPDATE grant_case_version SET valid_to = $5
            WHERE tenant = $1 AND application_id = $6 AND valid_to IS NULL
              AND (from_position, from_index) < ($3, $4)
            RETURNING report_received_on
         )
         INSERT INTO grant_case_version (tenant, application_id, pool_id, from_position,
             from_index, started_by, valid_from, status, outcome, requested, granted,
             decision_year, years, amounts, report_due, report_received_on)
         SELECT $1, $6, $2, $3, $4, $7, $5, $7, $8, $9, $10, $11, $12, $13, $15,
             CASE WHEN $14 THEN closed.report_received_on END
         -- Read first, so the standing version is closed before the next one is written (the
         -- parts of a statement run in no set order otherwise).
         FROM (SELECT 1) AS one LEFT JOIN closed ON true
         WHERE ",
    created_before!(),
    "
           AND NOT EXISTS (SELECT 1 FROM grant_case_version
               WHERE tenant = $1 AND application_id = $6
                 AND (from_position, from_index) >= ($3, $4))"
);

/// From the standing version of case $2, if its status is one of $6, the next version begins
/// at $5 by event $7, with status $8 (NULL: as it was) and the final report received on $9
/// (NULL: as it was), everything else copied.
const MOVE: &str = "\
WITH closed AS (
    UPDATE grant_case_version SET valid_to = $5
    WHERE tenant = $1 AND application_id = $2 AND valid_to IS NULL AND status = ANY($6)
      AND (from_position, from_index) < ($3, $4)
    RETURNING *
)
INSERT INTO grant_case_version (tenant, application_id, pool_id, from_position, from_index,
    started_by, valid_from, status, outcome, requested, granted, decision_year, years, amounts,
    report_due, report_received_on)
SELECT tenant, application_id, pool_id, $3, $4, $7, $5, coalesce($8, status), outcome,
    requested, granted, decision_year, years, amounts, report_due,
    coalesce($9, report_received_on)
FROM closed";

/// A payment or repayment ($7) of case $2, if the case was known before it.
const MONEY: &str = "\
INSERT INTO grant_money (tenant, application_id, pool_id, from_position, from_index, kind,
    amount, paid_on, recorded_at)
SELECT $1, $2, $5, $3, $4, $6, $7, $8, $9
WHERE EXISTS (SELECT 1 FROM grant_case_version
    WHERE tenant = $1 AND application_id = $2 AND (from_position, from_index) < ($3, $4))
ON CONFLICT DO NOTHING";

const EVERY_STATUS: [&str; 4] = ["proposed", "decided", "reopened", "withdrawn"];

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    index: i32,
    event: &GrantPoolEvent,
) -> Result<(), ApplyError> {
    let pool = event.id().as_uuid();
    ctx.check_entity(pool)?;
    let at = Place { ctx, index, pool };
    use GrantPoolEvent as E;
    match event {
        E::Created(details) => {
            sqlx::query(CREATE)
                .bind(ctx.tenant)
                .bind(pool)
                .bind(details.name.as_str())
                .bind(ctx.time)
                .bind(ctx.position)
                .bind(index)
                .bind(details.kind.as_str())
                .bind(details.initiative.as_ref().map(|t| t.as_str()))
                .bind(details.strategic_goal.as_ref().map(|t| t.as_str()))
                .execute(conn)
                .await?;
        }
        E::BudgetChanged(e) => {
            sqlx::query(CHANGE_BUDGET)
                .bind(ctx.tenant)
                .bind(pool)
                .bind(ctx.position)
                .bind(index)
                .bind(e.year)
                .bind(e.amount.ore())
                .bind(ctx.time)
                .execute(conn)
                .await?;
        }
        // Neither changes a figure.
        E::RoundOpened(_) | E::ConflictDeclared(_) | E::FinalReportApproved(_) => {}
        E::DecisionProposed(decision) => at.decide(conn, "proposed", decision).await?,
        E::Decided(decision) => at.decide(conn, "decided", decision).await?,
        E::DecisionApproved(e) => {
            let id = e.application.as_uuid();
            at.move_case(conn, id, &["proposed"], "approved", Some("decided"), None)
                .await?;
        }
        E::DecisionReopened(e) => {
            let id = e.application.as_uuid();
            at.move_case(conn, id, &EVERY_STATUS, "reopened", Some("reopened"), None)
                .await?;
        }
        E::FinalReportReceived(e) => {
            let id = e.application.as_uuid();
            let on = Some(e.received_on);
            at.move_case(conn, id, &EVERY_STATUS, "report_received", None, on)
                .await?;
        }
        E::ApplicationWithdrawn(e) => at.withdraw(conn, e.application.as_uuid()).await?,
        E::PaymentRecorded(e) => {
            let id = e.application.as_uuid();
            at.money(conn, id, "payment", e.amount.ore(), e.paid_on)
                .await?;
        }
        E::RepaymentRecorded(e) => {
            let id = e.application.as_uuid();
            at.money(conn, id, "repayment", e.amount.ore(), e.repaid_on)
                .await?;
        }
    }
    Ok(())
}

/// The event a write is made by: where it is in the log, and its pool.
struct Place<'a> {
    ctx: &'a EventContext<'a>,
    index: i32,
    pool: uuid::Uuid,
}

impl Place<'_> {
    async fn decide(
        &self,
        conn: &mut PgConnection,
        status: &str,
        decision: &PoolDecision,
    ) -> Result<(), sqlx::Error> {
        let (years, amounts): (Vec<i32>, Vec<i64>) = decision
            .by_year()
            .iter()
            .map(|y| (y.year, y.amount.ore()))
            .unzip();
        let outcome = match decision.outcome {
            GrantOutcome::Full => "full",
            GrantOutcome::Partial => "partial",
            GrantOutcome::Refused => "refused",
        };
        let case = Case {
            id: decision.application.as_uuid(),
            status,
            outcome: Some(outcome),
            requested: decision.requested.ore(),
            granted: decision.amount.ore(),
            decision_year: Some(decision.year),
            years,
            amounts,
            report_due: decision.report_due,
            keeps_report: true,
        };
        self.replace(conn, &case).await
    }

    async fn withdraw(&self, conn: &mut PgConnection, id: uuid::Uuid) -> Result<(), sqlx::Error> {
        let case = Case {
            id,
            status: "withdrawn",
            outcome: None,
            requested: 0,
            granted: 0,
            decision_year: None,
            years: Vec::new(),
            amounts: Vec::new(),
            report_due: None,
            keeps_report: false,
        };
        self.replace(conn, &case).await
    }

    /// Runs [`REPLACE_CASE`]: the version is begun by its status (`proposed`, `decided`,
    /// `withdrawn`).
    async fn replace(&self, conn: &mut PgConnection, case: &Case<'_>) -> Result<(), sqlx::Error> {
        sqlx::query(REPLACE_CASE)
            .bind(self.ctx.tenant)
            .bind(self.pool)
            .bind(self.ctx.position)
            .bind(self.index)
            .bind(self.ctx.time)
            .bind(case.id)
            .bind(case.status)
            .bind(case.outcome)
            .bind(case.requested)
            .bind(case.granted)
            .bind(case.decision_year)
            .bind(&case.years)
            .bind(&case.amounts)
            .bind(case.keeps_report)
            .bind(case.report_due)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Runs [`MOVE`].
    async fn move_case(
        &self,
        conn: &mut PgConnection,
        id: uuid::Uuid,
        from: &[&str],
        started_by: &str,
        status: Option<&str>,
        report_received_on: Option<chrono::NaiveDate>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(MOVE)
            .bind(self.ctx.tenant)
            .bind(id)
            .bind(self.ctx.position)
            .bind(self.index)
            .bind(self.ctx.time)
            .bind(from)
            .bind(started_by)
            .bind(status)
            .bind(report_received_on)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Runs [`MONEY`].
    async fn money(
        &self,
        conn: &mut PgConnection,
        id: uuid::Uuid,
        kind: &str,
        amount: i64,
        on: chrono::NaiveDate,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(MONEY)
            .bind(self.ctx.tenant)
            .bind(id)
            .bind(self.ctx.position)
            .bind(self.index)
            .bind(self.pool)
            .bind(kind)
            .bind(amount)
            .bind(on)
            .bind(self.ctx.time)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// A case's version as a decision or a withdrawal makes it.
struct Case<'a> {
    id: uuid::Uuid,
    status: &'a str,
    outcome: Option<&'a str>,
    requested: i64,
    granted: i64,
    decision_year: Option<i32>,
    years: Vec<i32>,
    amounts: Vec<i64>,
    report_due: Option<chrono::NaiveDate>,
    keeps_report: bool,
}
