//! `reporting.grant_pool`, `budget_version`, `grant_case_version` and `grant_money` against a
//! real PostgreSQL: a pool's year as versions (a budget raised; a decision proposed, approved,
//! reopened by a complaint and decided again; a refusal; a partnership over two years, paid,
//! reported on and partly paid back), a redelivery that changes no row, and, for any sequence
//! of a pool's events, budgets, cases and money as `GrantPool::evolve` folds them.

use proptest::prelude::*;
use samskab_domain::fixtures::*;
use samskab_domain::grant_pool::{PoolFinalReport, PoolPayment, PoolRepayment};
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
// Payload times are not what the versions run by (the envelope's time is), so any will do.
use samskab_testkit::projection::{migrated_database, time_at};
use serde_json::{Value, json};
use uuid::Uuid;

mod support;
use support::{REPORTING, all_rows, read_model_follows_state, versions};

fn application(n: u128) -> GrantApplicationId {
    GrantApplicationId::from_uuid(Uuid::from_u128(
        0x0199_0000_0000_7000_8000_0000_0000_0a00 + n,
    ))
}

fn recorded(position: u64, event: &GrantPoolEvent) -> RecordedEvent {
    support::recorded(grant_pool_id().as_uuid(), position, event)
}

fn budget(year: i32, amount: Amount) -> GrantPoolEvent {
    GrantPoolEvent::BudgetChanged(grant_pool::PoolBudgetChanged {
        id: grant_pool_id(),
        year,
        amount,
        previous: Amount::ZERO,
        reason: Justification::parse("Vedtaget budget").expect("reason"),
        by: staff("puljeadministrator-1"),
        at: time_at(0),
    })
}

/// A decision on `application` from year 2026: `amount` of `requested`, and, for a
/// partnership, `years`.
fn decision(
    application: GrantApplicationId,
    outcome: GrantOutcome,
    amount: Amount,
    requested: Amount,
    years: Vec<YearlyAmount>,
) -> PoolDecision {
    PoolDecision {
        id: grant_pool_id(),
        application,
        version: 1,
        applicant: grant_pool::ApplicantRef::Application(application),
        outcome,
        amount,
        requested,
        year: 2026,
        justification: None,
        decided_by: staff("udvalg-1"),
        assessed_by: Vec::new(),
        report_due: (amount > Amount::ZERO).then(|| date(2027, 3, 31)),
        years,
        duties: None,
        at: time_at(0),
    }
}

/// Rødovre's pool in 2026: the budget set and raised; A proposed above the threshold,
/// approved, reopened by a complaint and decided again for less; B refused; C a partnership
/// over 2026 and 2027, paid, reported on and partly paid back; a payment to D, which the pool
/// never decided, counts nowhere.
fn pool_year() -> Vec<RecordedEvent> {
    let pool = grant_pool_id();
    let (a, b, c, d) = (
        application(1),
        application(2),
        application(3),
        application(4),
    );
    let by = || staff("sagsbehandler-1");
    let at = time_at(0);
    let partnership = vec![
        YearlyAmount {
            year: 2026,
            amount: kroner(100_000),
        },
        YearlyAmount {
            year: 2027,
            amount: kroner(100_000),
        },
    ];
    let events = [
        GrantPoolEvent::Created(grant_pool_details(pool)),
        budget(2026, kroner(500_000)),
        budget(2026, kroner(600_000)),
        GrantPoolEvent::DecisionProposed(decision(
            a,
            GrantOutcome::Full,
            kroner(150_000),
            kroner(150_000),
            Vec::new(),
        )),
        GrantPoolEvent::Decided(decision(
            b,
            GrantOutcome::Refused,
            Amount::ZERO,
            kroner(40_000),
            Vec::new(),
        )),
        GrantPoolEvent::Decided(decision(
            c,
            GrantOutcome::Partial,
            kroner(200_000),
            kroner(300_000),
            partnership,
        )),
        GrantPoolEvent::DecisionApproved(grant_pool::PoolDecisionApproved {
            id: pool,
            application: a,
            approved_by: staff("udvalg-2"),
            at,
        }),
        GrantPoolEvent::DecisionReopened(grant_pool::PoolDecisionReopened {
            id: pool,
            application: a,
            reason: Justification::parse("Klage over afgørelsen").expect("reason"),
            by: by(),
            at,
        }),
        GrantPoolEvent::Decided(decision(
            a,
            GrantOutcome::Partial,
            kroner(120_000),
            kroner(150_000),
            Vec::new(),
        )),
        GrantPoolEvent::PaymentRecorded(PoolPayment {
            id: pool,
            application: c,
            amount: kroner(50_000),
            paid_on: date(2026, 3, 1),
            reference: GrantTitle::parse("Bilag 1").expect("reference"),
            by: by(),
            at,
        }),
        GrantPoolEvent::FinalReportReceived(PoolFinalReport {
            id: pool,
            application: c,
            spent: kroner(45_000),
            narrative: GrantText::parse("Et godt år").expect("text"),
            audited: true,
            received_on: date(2026, 12, 1),
            by: by(),
            at,
        }),
        GrantPoolEvent::RepaymentRecorded(PoolRepayment {
            id: pool,
            application: c,
            amount: kroner(5_000),
            repaid_on: date(2027, 1, 10),
            reference: GrantTitle::parse("Bilag 2").expect("reference"),
            by: by(),
            at,
        }),
        GrantPoolEvent::PaymentRecorded(PoolPayment {
            id: pool,
            application: d,
            amount: kroner(1_000),
            paid_on: date(2026, 3, 1),
            reference: GrantTitle::parse("Bilag 3").expect("reference"),
            by: by(),
            at,
        }),
    ];
    events
        .iter()
        .enumerate()
        .map(|(i, e)| recorded(i as u64 + 1, e))
        .collect()
}

/// Each version's span (as positions), what began it and what it counts.
fn case_figures(versions: &[Value]) -> Vec<Value> {
    versions
        .iter()
        .map(|v| {
            json!({
                "from": v["from"], "to": v["to"], "started_by": v["started_by"],
                "status": v["status"], "outcome": v["outcome"], "granted": v["granted"],
                "years": v["years"], "amounts": v["amounts"],
                "report_received_on": v["report_received_on"],
            })
        })
        .collect()
}

#[tokio::test]
async fn a_pools_year_is_its_versions() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let events = pool_year();
    let all: Vec<&RecordedEvent> = events.iter().collect();
    REPORTING.apply_all(&pool, &all).await?;

    let budgets = versions(
        &pool,
        "budget_version",
        "pool_id",
        grant_pool_id().as_uuid(),
    )
    .await?;
    let budgets: Vec<Value> = budgets
        .iter()
        .map(|v| json!([v["year"], v["budget"], v["from"], v["to"]]))
        .collect();
    assert_eq!(
        budgets,
        [
            json!([2026, 50_000_000, 2, 3]),
            json!([2026, 60_000_000, 3, null])
        ]
    );

    let a = versions(
        &pool,
        "grant_case_version",
        "application_id",
        application(1).as_uuid(),
    );
    let kr = |n: i64| n * 100;
    assert_eq!(
        case_figures(&a.await?),
        [
            json!({"from": 4, "to": 7, "started_by": "proposed", "status": "proposed",
                   "outcome": "full", "granted": kr(150_000), "years": [2026],
                   "amounts": [kr(150_000)], "report_received_on": null}),
            json!({"from": 7, "to": 8, "started_by": "approved", "status": "decided",
                   "outcome": "full", "granted": kr(150_000), "years": [2026],
                   "amounts": [kr(150_000)], "report_received_on": null}),
            json!({"from": 8, "to": 9, "started_by": "reopened", "status": "reopened",
                   "outcome": "full", "granted": kr(150_000), "years": [2026],
                   "amounts": [kr(150_000)], "report_received_on": null}),
            json!({"from": 9, "to": null, "started_by": "decided", "status": "decided",
                   "outcome": "partial", "granted": kr(120_000), "years": [2026],
                   "amounts": [kr(120_000)], "report_received_on": null}),
        ]
    );
    let c = versions(
        &pool,
        "grant_case_version",
        "application_id",
        application(3).as_uuid(),
    );
    assert_eq!(
        case_figures(&c.await?),
        [
            json!({"from": 6, "to": 11, "started_by": "decided", "status": "decided",
                   "outcome": "partial", "granted": kr(200_000), "years": [2026, 2027],
                   "amounts": [kr(100_000), kr(100_000)], "report_received_on": null}),
            json!({"from": 11, "to": null, "started_by": "report_received", "status": "decided",
                   "outcome": "partial", "granted": kr(200_000), "years": [2026, 2027],
                   "amounts": [kr(100_000), kr(100_000)], "report_received_on": "2026-12-01"}),
        ]
    );
    let money: Vec<(Uuid, String, i64, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT application_id, kind, amount, paid_on FROM reporting.grant_money
         ORDER BY from_position",
    )
    .fetch_all(&pool)
    .await?;
    let c = application(3).as_uuid();
    assert_eq!(
        money,
        [
            (c, "payment".into(), kr(50_000), date(2026, 3, 1)),
            (c, "repayment".into(), kr(5_000), date(2027, 1, 10)),
        ],
        "D was never decided: its payment counts nowhere"
    );
    Ok(())
}

#[tokio::test]
async fn a_redelivered_pool_event_changes_no_row() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let events = pool_year();
    let all: Vec<&RecordedEvent> = events.iter().collect();
    let tables = [
        "grant_pool",
        "budget_version",
        "grant_case_version",
        "grant_money",
    ];
    REPORTING.apply_all(&pool, &all).await?;
    let mut once = Vec::new();
    for table in tables {
        once.push(all_rows(&pool, table).await?);
    }
    REPORTING.apply_all(&pool, &all).await?;
    for event in all.iter().rev() {
        REPORTING.apply_all(&pool, &[event]).await?;
    }
    for (table, before) in tables.iter().zip(&once) {
        assert_eq!(&all_rows(&pool, table).await?, before, "{table}");
    }
    Ok(())
}

/// The standing budgets by year, and each case's standing status, grant, final report and
/// money (paid and repaid since its last withdrawal, which `evolve` starts the follow-up
/// afresh at).
const FOLDED: &str = "
SELECT jsonb_build_object(
    'budgets', (SELECT coalesce(jsonb_object_agg(year::text, budget), '{}'::jsonb)
                FROM reporting.budget_version
                WHERE tenant = $1 AND pool_id = $2 AND valid_to IS NULL),
    'cases', (SELECT coalesce(jsonb_object_agg(c.application_id::text, jsonb_build_object(
                  'status', c.status, 'granted', c.granted,
                  'report_received_on', c.report_received_on,
                  'paid', (SELECT coalesce(sum(m.amount), 0)::bigint FROM reporting.grant_money m
                           WHERE m.tenant = c.tenant AND m.application_id = c.application_id
                             AND m.kind = 'payment' AND NOT EXISTS (
                                 SELECT 1 FROM reporting.grant_case_version w
                                 WHERE w.tenant = c.tenant
                                   AND w.application_id = c.application_id
                                   AND w.started_by = 'withdrawn'
                                   AND (w.from_position, w.from_index)
                                       > (m.from_position, m.from_index))),
                  'repaid', (SELECT coalesce(sum(m.amount), 0)::bigint FROM reporting.grant_money m
                           WHERE m.tenant = c.tenant AND m.application_id = c.application_id
                             AND m.kind = 'repayment' AND NOT EXISTS (
                                 SELECT 1 FROM reporting.grant_case_version w
                                 WHERE w.tenant = c.tenant
                                   AND w.application_id = c.application_id
                                   AND w.started_by = 'withdrawn'
                                   AND (w.from_position, w.from_index)
                                       > (m.from_position, m.from_index))))),
              '{}'::jsonb)
              FROM reporting.grant_case_version c
              WHERE c.tenant = $1 AND c.pool_id = $2 AND c.valid_to IS NULL))";

/// What [`FOLDED`] should find for a folded pool.
fn ledger_of(state: &GrantPoolState) -> Value {
    let Some(ledger) = state.ledger() else {
        return json!({ "budgets": {}, "cases": {} });
    };
    let budgets: serde_json::Map<String, Value> = ledger
        .budgets
        .iter()
        .map(|(year, amount)| (year.to_string(), json!(amount.ore())))
        .collect();
    let cases: serde_json::Map<String, Value> = ledger
        .cases
        .iter()
        .map(|(id, case)| {
            let follow_up = &case.follow_up;
            let figures = json!({
                "status": case.status,
                "granted": case.decision.as_ref().map(|d| d.amount.ore()).unwrap_or(0),
                "report_received_on": follow_up.report.as_ref().map(|r| r.received_on),
                "paid": follow_up.paid.ore(),
                "repaid": follow_up.repaid.ore(),
            });
            (id.as_uuid().to_string(), figures)
        })
        .collect();
    json!({ "budgets": budgets, "cases": cases })
}

#[test]
fn a_pools_budgets_cases_and_money_are_its_folded_ledger() -> anyhow::Result<()> {
    read_model_follows_state::<GrantPool>(
        FOLDED,
        |id| {
            let pool = GrantPoolId::from_uuid(id);
            let event = move || arb_grant_pool_event(pool, [application(1), application(2)]);
            prop_oneof![
                1 => proptest::collection::vec(event(), 1..12),
                3 => proptest::collection::vec(event(), 0..14).prop_map(move |later| {
                    let mut events = vec![GrantPoolEvent::Created(grant_pool_details(pool))];
                    events.extend(later);
                    events
                }),
            ]
            .boxed()
        },
        ledger_of,
    )
}

#[tokio::test]
async fn a_pool_keeps_its_kind_and_its_place_in_the_action_plan() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let mut details = grant_pool_details(grant_pool_id());
    details.kind = PoolKind::Partnership;
    details.initiative = Some(GrantTitle::parse("Flere unge frivillige")?);
    details.strategic_goal = Some(GrantTitle::parse("Et stærkt civilsamfund")?);
    let created = recorded(1, &GrantPoolEvent::Created(details));
    REPORTING.apply_all(&pool, &[&created]).await?;
    let row: (Option<String>, Option<String>, Option<String>) =
        sqlx::query_as("SELECT kind, initiative, strategic_goal FROM reporting.grant_pool")
            .fetch_one(&pool)
            .await?;
    assert_eq!(
        row,
        (
            Some("partnership".into()),
            Some("Flere unge frivillige".into()),
            Some("Et stærkt civilsamfund".into())
        )
    );
    Ok(())
}
