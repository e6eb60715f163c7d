//! The grants read model against real servers: a fresh PostgreSQL database per test, and for
//! the first test a NATS server of its own with the real projector (see samskab-testkit).
//!
//! The canonical story (`support::canonical_story`: a pool, its budget changed twice, a round,
//! a conflict; an application drafted, submitted, amended, assessed twice, proposed, approved,
//! reopened and decided again; another one drafted, submitted and withdrawn) as its rows
//! show it; the application's status after each of the pool's events; a stale approval that
//! must not approve a later proposal; events of a pool never created; a payload naming another
//! entity. Redeliveries are `redelivery.rs`'s.

#![recursion_limit = "256"]

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use anyhow::Context;
use chrono::{DateTime, Utc};
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_projection::ApplyError;
use samskab_testkit::projection::{micros, migrated_database, time_at};
use serde_json::{Value, json};
use sqlx::PgPool;

mod support;
use support::*;

/// The content column of `amount` kroner applied for, as the domain serialises it.
fn content_of(amount: i64) -> Value {
    json!(application_content(kroner(amount)))
}

// ---------------------------------------------------------------------------------------------
// Through the runtime
// ---------------------------------------------------------------------------------------------

/// The canonical story through the real projector on a real NATS server.
#[tokio::test]
async fn the_canonical_story_through_the_projector() -> anyhow::Result<()> {
    let story = canonical_story()?;
    let mut h = GRANTS.start_projector().await?;
    let mut positions = Vec::new();
    for logged in &story.log {
        positions.push(logged.append_in(&mut h, TENANT).await?);
    }
    h.caught_up().await?;
    // The envelope time of each of the story's events, from each entity's history in order.
    let mut histories = BTreeMap::new();
    let mut times = Vec::new();
    for logged in &story.log {
        let (kind, id) = logged.entity();
        if let Entry::Vacant(slot) = histories.entry((kind, id.clone())) {
            slot.insert(h.envelope_times(TENANT, kind, &id).await?.into_iter());
        }
        let history = histories.get_mut(&(kind, id)).context("loaded")?;
        times.push(history.next().context("as many events as appended")?);
    }
    assert_canonical_rows(&h.pool, &story, &positions, &times).await?;
    h.stop().await
}

/// The canonical story applied as the runtime applies a batch, at positions 1, 2, ...
#[tokio::test]
async fn the_canonical_story_applied_as_one_batch() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let story = canonical_story()?;
    let recorded = story.recorded();
    GRANTS.apply_batch_all(&pool, &recorded).await?;
    let positions: Vec<u64> = recorded.iter().map(|e| e.position).collect();
    let times: Vec<_> = positions.iter().map(|p| time_at(*p)).collect();
    assert_canonical_rows(&pool, &story, &positions, &times).await
}

/// Every row of the canonical story, `positions` and `times` being its events' positions and
/// envelope times.
async fn assert_canonical_rows(
    pool: &PgPool,
    story: &Story,
    positions: &[u64],
    times: &[DateTime<Utc>],
) -> anyhow::Result<()> {
    let pool_id = grant_pool_id().to_string();
    // The position of the story's `n`th event (0-based) and of its last event of a type.
    let at_step = |n: usize| positions[n];
    let last_of = |event_type: &str| {
        story
            .log
            .iter()
            .zip(positions)
            .filter(|(logged, _)| logged.event_type() == event_type)
            .map(|(_, position)| *position)
            .next_back()
            .context(event_type.to_owned())
    };
    let step_of = |position: u64| {
        positions
            .iter()
            .position(|p| *p == position)
            .context("a position of the story")
    };
    // The pool, every column.
    assert_eq!(
        rows(pool, "pool").await?,
        vec![json!({
            "tenant": TENANT,
            "id": pool_id,
            "name": "§18-puljen",
            "legal_basis": "serviceloven-18",
            "purpose": "Støtte til frivilligt socialt arbejde i Rødovre",
            "kind": "rounds",
            "applicants": ["association", "informal_group"],
            "criteria": [
                {"key": "reach", "title": "reach", "weight": 60},
                {"key": "volunteers", "title": "volunteers", "weight": 40},
            ],
            "second_approval_above": 10_000_000,
            "audited_accounts_above": 2_000_000,
            "initiative": null,
            "strategic_goal": null,
            "created_at": micros(times[0]),
            "position": at_step(0),
        })]
    );

    // The budget as it stands (the second change), and both changes with their reasons.
    assert_eq!(
        rows(pool, "pool_year").await?,
        vec![json!({
            "tenant": TENANT,
            "pool_id": pool_id,
            "year": 2026,
            "budget": 40_000_000,
            "updated_at": micros(times[2]),
            "position": at_step(2),
        })]
    );
    assert_eq!(
        rows(pool, "budget_change").await?,
        vec![
            json!({
                "tenant": TENANT,
                "pool_id": pool_id,
                "position": at_step(1),
                "year": 2026,
                "amount": 30_000_000,
                "previous": 0,
                "reason": "Budget 2026",
                "changed_by": "user:admin",
                "changed_at": micros(at(2026, 1, 5)),
            }),
            json!({
                "tenant": TENANT,
                "pool_id": pool_id,
                "position": at_step(2),
                "year": 2026,
                "amount": 40_000_000,
                "previous": 30_000_000,
                "reason": "Tillægsbevilling",
                "changed_by": "user:admin",
                "changed_at": micros(at(2026, 2, 2)),
            }),
        ]
    );
    assert_eq!(
        rows(pool, "round").await?,
        vec![json!({
            "tenant": TENANT,
            "id": grant_round_id().to_string(),
            "pool_id": pool_id,
            "title": "Forårsrunden 2026",
            "opens_at": micros(at(2026, 2, 1)),
            "deadline": "2026-03-15T10:00:00+00:00",
            "decision_expected": "2026-04-15",
            "position": at_step(3),
        })]
    );
    assert_eq!(
        rows(pool, "conflict").await?,
        vec![json!({
            "tenant": TENANT,
            "pool_id": pool_id,
            "member": "user:deputy",
            "applicant_kind": "organisation",
            "applicant_id": org_id().to_string(),
            "reason": "Bestyrelsesmedlem i Æblehaven",
            "declared_at": micros(at(2026, 2, 3)),
            "position": at_step(4),
        })]
    );

    // The knitting club's case, every column: decided again in part after the complaint, on
    // its second version; the approval and the reopening belong to the earlier decision.
    let last = *positions.last().context("events")?;
    let group_row = application_row(pool, group()).await?;
    let decided_again = last_of(GrantPoolEvent::DECIDED_V1)?;
    let repaid = last_of(GrantPoolEvent::REPAYMENT_RECORDED_V1)?;
    let forgotten = last_of(GrantApplicationEvent::FORGOTTEN_V1)?;
    assert_eq!(
        group_row,
        json!({
            "tenant": TENANT,
            "id": group().to_string(),
            "pool_id": pool_id,
            "round_id": grant_round_id().to_string(),
            "applicant_kind": "informal_group",
            "organisation_id": null,
            "group_name": "Strikkeklubben i Islev",
            // The contact person forgotten, five years after the case closed.
            "applicant_name": null,
            "applicant_email": null,
            "applicant_phone": null,
            "title": "Lektiecafé",
            "amount_requested": 15_000_000,
            "co_funding": 0,
            "period_from": "2026-08-01",
            "period_to": "2027-06-30",
            "content": content_of(150_000),
            "status": "decided",
            "version": 2,
            "submitted_at": micros(at(2026, 2, 10)),
            "last_submitted_at": micros(at(2026, 3, 1)),
            "assessors": ["user:assessor", "user:assessor-2"],
            "assessment_total": 100,
            "recommended": 14_000_000,
            "second_assessment_requested": true,
            "outcome": "partial",
            "granted": 9_000_000,
            "decision_year": 2026,
            "decision_years": [{"year": 2026, "amount": 9_000_000}],
            "decided_version": 2,
            "justification": "Puljen er begrænset",
            "decided_by": "user:chair",
            "decided_at": micros(at(2026, 5, 10)),
            "approved_by": null,
            "approved_at": null,
            "reopened_reason": null,
            "reopened_at": null,
            "withdrawn_at": null,
            "forgotten_at": micros(at(2033, 1, 5)),
            "paid": 9_000_000,
            "report_due": "2027-09-30",
            "report_received_on": "2027-08-01",
            "report_spent": 8_000_000,
            "report_audited": true,
            "report_narrative": "40 lektiecaféer",
            "report_approved_at": micros(at(2027, 8, 2)),
            "repayment_due": 1_000_000,
            "repaid": 1_000_000,
            "drafted_at": micros(times[5]),
            "updated_at": micros(times[step_of(forgotten)?]),
            "position": forgotten,
        })
    );
    assert!(repaid < forgotten, "forgotten after the case closed");
    assert!(
        decided_again < repaid,
        "what follows the grant comes after it"
    );
    assert!(repaid < last, "the withdrawal comes after");
    let paid = last_of(GrantPoolEvent::PAYMENT_RECORDED_V1)?;
    assert_eq!(
        rows(pool, "payment").await?,
        vec![
            json!({
                "tenant": TENANT, "application_id": group().to_string(), "position": paid,
                "kind": "payment", "amount": 9_000_000, "paid_on": "2026-06-01",
                "reference": "Bilag 4711", "recorded_by": "user:finance",
                "recorded_at": micros(times[step_of(paid)?]),
            }),
            json!({
                "tenant": TENANT, "application_id": group().to_string(), "position": repaid,
                "kind": "repayment", "amount": 1_000_000, "paid_on": "2027-09-01",
                "reference": "Bilag 4711", "recorded_by": "user:finance",
                "recorded_at": micros(times[step_of(repaid)?]),
            }),
        ]
    );

    // Both decisions: the proposal, approved and then reopened; the new one, final at once.
    let proposed_at = last_of(GrantPoolEvent::DECISION_PROPOSED_V1)?;
    assert_eq!(
        rows(pool, "decision").await?,
        vec![
            json!({
                "tenant": TENANT,
                "application_id": group().to_string(),
                "position": proposed_at,
                "pool_id": pool_id,
                "awaits_approval": false,
                "version": 2,
                "outcome": "full",
                "amount": 15_000_000,
                "requested": 15_000_000,
                "year": 2026,
                "justification": null,
                "decided_by": "user:chair",
                "assessed_by": ["user:assessor", "user:assessor-2"],
                "decided_at": micros(at(2026, 4, 1)),
                "years": [{"year": 2026, "amount": 15_000_000}],
                "duties": null,
                "approved_by": "user:head",
                "approved_at": micros(at(2026, 4, 2)),
                "reopened_by": "user:chair",
                "reopened_reason": "Klage over sagsbehandlingen",
                "reopened_at": micros(at(2026, 5, 1)),
            }),
            json!({
                "tenant": TENANT,
                "application_id": group().to_string(),
                "position": decided_again,
                "pool_id": pool_id,
                "awaits_approval": false,
                "version": 2,
                "outcome": "partial",
                "amount": 9_000_000,
                "requested": 15_000_000,
                "year": 2026,
                "justification": "Puljen er begrænset",
                "decided_by": "user:chair",
                "assessed_by": ["user:assessor", "user:assessor-2"],
                "decided_at": micros(at(2026, 5, 10)),
                "years": [{"year": 2026, "amount": 9_000_000}],
                "duties": null,
                "approved_by": null,
                "approved_at": null,
                "reopened_by": null,
                "reopened_reason": null,
                "reopened_at": null,
            }),
        ]
    );

    // Every version as submitted (no personal data), the association's one too.
    let versions = rows(pool, "application_version").await?;
    let submitted_at = last_of(GrantApplicationEvent::SUBMITTED_V1)?;
    let group_versions: Vec<_> = versions
        .iter()
        .filter(|v| v["application_id"] == json!(group().to_string()))
        .cloned()
        .collect();
    assert_eq!(
        group_versions,
        vec![
            json!({
                "tenant": TENANT,
                "application_id": group().to_string(),
                "version": 1,
                "submitted_at": micros(at(2026, 2, 10)),
                "group_name": "Strikkeklubben i Islev",
                "content": content_of(120_000),
                "position": at_step(6),
            }),
            json!({
                "tenant": TENANT,
                "application_id": group().to_string(),
                "version": 2,
                "submitted_at": micros(at(2026, 3, 1)),
                "group_name": "Strikkeklubben i Islev",
                "content": content_of(150_000),
                "position": at_step(7),
            }),
        ]
    );
    assert_eq!(versions.len(), 3);
    let association_version = versions
        .iter()
        .find(|v| v["application_id"] == json!(association().to_string()))
        .context("the association's version")?;
    assert_eq!(association_version["version"], 1);
    assert_eq!(association_version["content"], content_of(50_000));
    assert_eq!(association_version["position"], submitted_at);

    // Both assessments, each as made.
    let assessments = rows(pool, "assessment").await?;
    assert_eq!(
        assessments,
        vec![
            json!({
                "tenant": TENANT,
                "application_id": group().to_string(),
                "position": at_step(8),
                "assessor": "user:assessor",
                "version": 2,
                "scores": [
                    {"criterion": "reach", "score": 4, "note": null},
                    {"criterion": "volunteers", "score": 3, "note": null},
                ],
                "total": 72,
                "recommended": 15_000_000,
                "note": null,
                "assessed_at": micros(at(2026, 3, 20)),
            }),
            json!({
                "tenant": TENANT,
                "application_id": group().to_string(),
                "position": at_step(10),
                "assessor": "user:assessor-2",
                "version": 2,
                "scores": [
                    {"criterion": "reach", "score": 5, "note": null},
                    {"criterion": "volunteers", "score": 5, "note": null},
                ],
                "total": 100,
                "recommended": 14_000_000,
                "note": "Velbeskrevet",
                "assessed_at": micros(at(2026, 3, 25)),
            }),
        ]
    );

    // Æblehaven's application: as raised in the draft, submitted, withdrawn; no personal data.
    let withdrawn = application_row(pool, association()).await?;
    let expected = json!({
        "applicant_kind": "association",
        "organisation_id": org_id().to_string(),
        "group_name": null,
        "applicant_name": null,
        "applicant_email": null,
        "applicant_phone": null,
        "amount_requested": 5_000_000,
        "content": content_of(50_000),
        "status": "withdrawn",
        "version": 1,
        "submitted_at": micros(at(2026, 2, 20)),
        "assessors": [],
        "second_assessment_requested": false,
        "outcome": null,
        "granted": null,
        "withdrawn_at": micros(at(2026, 3, 1)),
        "position": last,
    });
    assert_eq!(pick(&withdrawn, &expected), expected);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Direct: one rule at a time
// ---------------------------------------------------------------------------------------------

/// The knitting club's row after each event of the canonical story: its status, version and
/// standing decision follow the application's events and the pool's.
#[tokio::test]
async fn the_status_follows_the_application_and_the_pool() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let story = canonical_story()?;
    let mut seen = Vec::new();
    for (logged, position) in story.log.iter().zip(1u64..) {
        GRANTS
            .apply_all(&pool, &[&logged.recorded(position)])
            .await?;
        let Some(row) = GRANTS
            .row(&pool, "application", TENANT, group().as_uuid())
            .await?
        else {
            continue;
        };
        let now = json!([
            logged.event_type(),
            row["status"],
            row["version"],
            row["granted"],
            row["approved_by"],
            row["reopened_reason"],
        ]);
        if seen.last() != Some(&now) {
            seen.push(now);
        }
    }
    // Only what changed the row's summary is listed: the association's events and the pool's
    // round and budget never touch it.
    assert_eq!(
        seen,
        vec![
            json!([
                GrantApplicationEvent::DRAFTED_V1,
                "draft",
                0,
                null,
                null,
                null
            ]),
            json!([
                GrantApplicationEvent::SUBMITTED_V1,
                "submitted",
                1,
                null,
                null,
                null
            ]),
            json!([
                GrantApplicationEvent::AMENDED_V1,
                "submitted",
                2,
                null,
                null,
                null
            ]),
            json!([
                GrantApplicationEvent::ASSESSED_V1,
                "submitted",
                2,
                null,
                null,
                null
            ]),
            json!([
                GrantApplicationEvent::SECOND_ASSESSMENT_REQUESTED_V1,
                "submitted",
                2,
                null,
                null,
                null
            ]),
            json!([
                GrantApplicationEvent::ASSESSED_V1,
                "submitted",
                2,
                null,
                null,
                null
            ]),
            json!([
                GrantPoolEvent::DECISION_PROPOSED_V1,
                "proposed",
                2,
                15_000_000,
                null,
                null
            ]),
            json!([
                GrantPoolEvent::DECISION_APPROVED_V1,
                "decided",
                2,
                15_000_000,
                "user:head",
                null
            ]),
            json!([
                GrantPoolEvent::DECISION_REOPENED_V1,
                "reopened",
                2,
                15_000_000,
                "user:head",
                "Klage over sagsbehandlingen"
            ]),
            json!([
                GrantPoolEvent::DECIDED_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
            json!([
                GrantPoolEvent::PAYMENT_RECORDED_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
            json!([
                GrantPoolEvent::FINAL_REPORT_RECEIVED_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
            json!([
                GrantPoolEvent::FINAL_REPORT_APPROVED_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
            json!([
                GrantPoolEvent::REPAYMENT_RECORDED_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
            json!([
                GrantApplicationEvent::FORGOTTEN_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
            // The association's events leave the row as it was.
            json!([
                GrantApplicationEvent::DRAFTED_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
            json!([
                GrantApplicationEvent::DRAFT_UPDATED_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
            json!([
                GrantApplicationEvent::SUBMITTED_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
            json!([
                GrantPoolEvent::APPLICATION_WITHDRAWN_V1,
                "decided",
                2,
                9_000_000,
                null,
                null
            ]),
        ]
    );
    Ok(())
}

/// After a proposal, its approval, a complaint and a new proposal, the approval delivered again
/// (at its old position) approves nothing: the new proposal still awaits its second approver.
#[tokio::test]
async fn a_stale_approval_does_not_approve_a_later_proposal() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let mut story = story_until_reopened()?;
    story.pool(GrantPoolCommand::Decide {
        case: story.facts(group())?,
        terms: DecisionTerms {
            outcome: GrantOutcome::Full,
            amount: kroner(150_000),
            year: 2026,
            years: vec![],
            justification: None,
            duties: None,
        },
        by: staff("chair"),
        at: at(2026, 5, 10),
        today: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("day"),
        overdue_elsewhere: None,
    })?;
    let recorded = story.recorded();
    GRANTS
        .apply_all(&pool, &recorded.iter().collect::<Vec<_>>())
        .await?;
    let before = all_rows(&pool).await?;
    let approval = recorded
        .iter()
        .find(|e| e.envelope.event_type == GrantPoolEvent::DECISION_APPROVED_V1)
        .context("an approval")?;
    let reopening = recorded
        .iter()
        .find(|e| e.envelope.event_type == GrantPoolEvent::DECISION_REOPENED_V1)
        .context("a reopening")?;
    GRANTS.apply_all(&pool, &[approval, reopening]).await?;
    assert_eq!(all_rows(&pool).await?, before);

    let row = application_row(&pool, group()).await?;
    assert_eq!(row["status"], "proposed");
    assert_eq!(row["approved_by"], Value::Null);
    let decisions = rows(&pool, "decision").await?;
    let awaiting: Vec<_> = decisions.iter().map(|d| &d["awaits_approval"]).collect();
    assert_eq!(awaiting, [&json!(false), &json!(true)]);
    assert_eq!(decisions[1]["reopened_at"], Value::Null);
    Ok(())
}

/// `evolve` ignores every event of a pool that was never created: so does the read model.
#[tokio::test]
async fn a_pool_never_created_has_no_rows() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let story = canonical_story()?;
    // Every event but the pool's creation.
    let recorded: Vec<_> = story.recorded().into_iter().skip(1).collect();
    GRANTS
        .apply_all(&pool, &recorded.iter().collect::<Vec<_>>())
        .await?;
    for table in [
        "pool",
        "pool_year",
        "budget_change",
        "round",
        "conflict",
        "decision",
    ] {
        assert_eq!(rows(&pool, table).await?, Vec::<Value>::new(), "{table}");
    }
    // The applications are their own entities: they are there, as their own events left
    // them, with no decision and no withdrawal.
    let group_row = application_row(&pool, group()).await?;
    assert_eq!(group_row["status"], "submitted");
    assert_eq!(group_row["granted"], Value::Null);
    let association_row = application_row(&pool, association()).await?;
    assert_eq!(association_row["status"], "submitted");
    assert_eq!(association_row["withdrawn_at"], Value::Null);
    Ok(())
}

/// A payload naming another entity than the subject is parked, not written: each kind.
#[tokio::test]
async fn a_payload_naming_another_entity_is_refused() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let story = canonical_story()?;
    let other = uuid::Uuid::from_u128(42).to_string();
    for logged in [&story.log[0], &story.log[5]] {
        let mut recorded = logged.recorded(1);
        recorded.envelope.entityid = other.clone();
        let result = GRANTS.apply_all(&pool, &[&recorded]).await;
        assert!(
            matches!(result, Err(ApplyError::Malformed(_))),
            "{}: {result:?}",
            logged.event_type()
        );
    }
    for (table, _) in TABLES {
        assert_eq!(rows(&pool, table).await?, Vec::<Value>::new(), "{table}");
    }
    Ok(())
}
