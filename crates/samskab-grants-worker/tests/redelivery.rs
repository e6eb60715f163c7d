//! Apply twice, same rows: a redelivery changes nothing, in any table of the schema. The
//! canonical story (`support::canonical_story`, every kind of event of a pool and of an
//! application) is delivered once, then all again (a lost checkpoint), then one event at a
//! time in reverse (stale redeliveries, each at its old position); and, on a fresh database,
//! each event twice in a row through the batch path. Neither may change a row: nothing rolls a
//! row back, nothing is kept twice.

use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_testkit::projection::migrated_database;

mod support;
use support::*;

/// Delivers `events` once, again, and one by one in reverse, and checks that every table is
/// as after the first delivery. The testkit's `redelivery_changes_nothing` for every table,
/// including those not keyed by `id` (`pool_year`, `decision`, ...).
async fn redelivery_changes_no_table(events: &[RecordedEvent]) -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let all: Vec<&RecordedEvent> = events.iter().collect();
    GRANTS.apply_all(&pool, &all).await?;
    let once = all_rows(&pool).await?;
    // A story that stops before a grant is paid has no payments; every other table is written.
    let paid = events
        .iter()
        .any(|e| e.envelope.event_type == GrantPoolEvent::PAYMENT_RECORDED_V1);
    for (table, rows) in &once {
        anyhow::ensure!(
            !rows.is_empty() || (*table == "payment" && !paid),
            "the story leaves {table} empty"
        );
    }

    GRANTS.apply_all(&pool, &all).await?;
    assert_eq!(all_rows(&pool).await?, once, "delivered again");

    for event in all.iter().rev() {
        GRANTS.apply_all(&pool, &[event]).await?;
        assert_eq!(
            all_rows(&pool).await?,
            once,
            "{} at {} delivered again after the rest",
            event.envelope.event_type,
            event.position
        );
    }

    // Each event twice in a row, through the batch path, on a fresh database: as once.
    let fresh = migrated_database().await?;
    let doubled: Vec<RecordedEvent> = events
        .iter()
        .flat_map(|event| [event.clone(), event.clone()])
        .collect();
    GRANTS.apply_batch_all(&fresh, &doubled).await?;
    assert_eq!(all_rows(&fresh).await?, once, "each event twice in a row");
    Ok(())
}

#[tokio::test]
async fn redelivering_the_canonical_story_changes_nothing() -> anyhow::Result<()> {
    let story = canonical_story()?;
    // Every kind of event is in it.
    for event_type in GrantPoolEvent::TYPES
        .iter()
        .chain(GrantApplicationEvent::TYPES)
    {
        assert!(
            story.log.iter().any(|l| l.event_type() == *event_type),
            "{event_type}"
        );
    }
    redelivery_changes_no_table(&story.recorded()).await
}

/// A new proposal after a complaint: the earlier approval and reopening, delivered again, must
/// find the new proposal and leave it awaiting its approver, not reopened.
#[tokio::test]
async fn redelivering_a_story_with_a_proposal_after_a_complaint_changes_nothing()
-> anyhow::Result<()> {
    let mut story = story_until_reopened()?;
    let proposed = story.pool(GrantPoolCommand::Decide {
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
        today: chrono::NaiveDate::from_ymd_opt(2026, 5, 10).expect("day"),
        overdue_elsewhere: None,
    })?;
    anyhow::ensure!(
        matches!(proposed, GrantPoolEvent::DecisionProposed(_)),
        "above the threshold, a proposal"
    );
    redelivery_changes_no_table(&story.recorded()).await
}

/// The testkit's own check, for the tables keyed by tenant and id.
#[tokio::test]
async fn the_testkits_redelivery_check_for_the_tables_keyed_by_id() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let events = canonical_story()?.recorded();
    for table in ["pool", "round", "application"] {
        GRANTS
            .redelivery_changes_nothing(&pool, &events, table)
            .await?;
    }
    Ok(())
}
