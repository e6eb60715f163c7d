//! Verification names the first problem of a chain: each kind of tampering done by SQL on the
//! table (a changed payload, a deleted record, a forged record inserted with a correct hash, two
//! records swapped, the last record deleted), in Rødovre's chain, while Hvidovre's stays intact.

use samskab_audit_worker::{GENESIS, Problem, Record, verify};
use samskab_testkit::projection::migrated_database;
use sqlx::PgPool;
use uuid::Uuid;

mod support;
use support::*;

/// A database with both municipalities' chains of the story (12 records each).
async fn chains() -> anyhow::Result<PgPool> {
    let pool = migrated_database().await?;
    let story = story()?;
    let mut events = story.recorded(RODOVRE, 1, 2);
    events.extend(story.recorded(HVIDOVRE, 2, 2));
    events.sort_by_key(|e| e.position);
    AUDIT.apply_batch_all(&pool, &events).await?;
    Ok(pool)
}

/// Rødovre's problem, after checking that Hvidovre's chain is intact and every record read.
async fn problem(pool: &PgPool) -> anyhow::Result<Option<Problem>> {
    let report = verify(pool, None).await?;
    let hvidovre = report.chain(HVIDOVRE).expect("Hvidovre's chain");
    assert_eq!(hvidovre.problem, None);
    assert_eq!(hvidovre.records, 12);
    Ok(report
        .chain(RODOVRE)
        .expect("Rødovre's chain")
        .problem
        .clone())
}

async fn sql(pool: &PgPool, statement: &'static str) -> anyhow::Result<()> {
    sqlx::query(statement).bind(RODOVRE).execute(pool).await?;
    Ok(())
}

#[tokio::test]
async fn an_untouched_chain_verifies() -> anyhow::Result<()> {
    let pool = chains().await?;
    let report = verify(&pool, None).await?;
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.records(), 24);
    assert_eq!(report.chains.len(), 2);
    let rodovre = verify(&pool, Some(RODOVRE)).await?;
    assert_eq!(rodovre.chains.len(), 1);
    assert_eq!(rodovre.chains[0].last_seq, Some(12));
    // A municipality without a chain has nothing to check.
    let none = verify(&pool, Some("ballerup")).await?;
    assert!(none.is_ok() && none.records() == 0);
    Ok(())
}

#[tokio::test]
async fn a_changed_payload_is_named() -> anyhow::Result<()> {
    let pool = chains().await?;
    // Record 9: the decision, 90.000 kr. made 190.000 kr.
    let event_id = event_id(&pool, RODOVRE, 9).await?;
    sql(
        &pool,
        "UPDATE audit.record SET payload = replace(payload, '\"amount\":9000000', \
         '\"amount\":19000000') WHERE tenant = $1 AND seq = 9",
    )
    .await?;
    assert_eq!(
        problem(&pool).await?,
        Some(Problem::Changed { seq: 9, event_id })
    );
    Ok(())
}

#[tokio::test]
async fn a_changed_actor_is_named() -> anyhow::Result<()> {
    let pool = chains().await?;
    let event_id = event_id(&pool, RODOVRE, 3).await?;
    sql(
        &pool,
        "UPDATE audit.record SET actor = 'user:someone-else' WHERE tenant = $1 AND seq = 3",
    )
    .await?;
    assert_eq!(
        problem(&pool).await?,
        Some(Problem::Changed { seq: 3, event_id })
    );
    Ok(())
}

#[tokio::test]
async fn a_deleted_record_is_named() -> anyhow::Result<()> {
    let pool = chains().await?;
    let next = event_id(&pool, RODOVRE, 6).await?;
    sql(
        &pool,
        "DELETE FROM audit.record WHERE tenant = $1 AND seq = 5",
    )
    .await?;
    assert_eq!(
        problem(&pool).await?,
        Some(Problem::Missing {
            after_seq: 4,
            seq: 6,
            event_id: next
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_deleted_record_with_the_rest_renumbered_is_named() -> anyhow::Result<()> {
    let pool = chains().await?;
    let next = event_id(&pool, RODOVRE, 6).await?;
    sql(
        &pool,
        "DELETE FROM audit.record WHERE tenant = $1 AND seq = 5",
    )
    .await?;
    sql(
        &pool,
        "UPDATE audit.record SET seq = seq + 1000000 WHERE tenant = $1 AND seq > 5",
    )
    .await?;
    sql(
        &pool,
        "UPDATE audit.record SET seq = seq - 1000001 WHERE tenant = $1 AND seq > 1000000",
    )
    .await?;
    assert_eq!(
        problem(&pool).await?,
        Some(Problem::BrokenLink {
            seq: 5,
            event_id: next
        })
    );
    Ok(())
}

#[tokio::test]
async fn the_last_record_deleted_shows_at_the_head() -> anyhow::Result<()> {
    let pool = chains().await?;
    sql(
        &pool,
        "DELETE FROM audit.record WHERE tenant = $1 AND seq = 12",
    )
    .await?;
    assert_eq!(
        problem(&pool).await?,
        Some(Problem::Head {
            head_seq: Some(12),
            last_seq: Some(11)
        })
    );
    Ok(())
}

/// A forger who knows the hash rule: records 5.. are moved up one, and a record at 5 linked
/// to record 4 with its hash computed correctly. The record after it still links to 4.
#[tokio::test]
async fn an_inserted_record_is_named() -> anyhow::Result<()> {
    let pool = chains().await?;
    let (seq4_hash,): (String,) =
        sqlx::query_as("SELECT hash FROM audit.record WHERE tenant = $1 AND seq = 4")
            .bind(RODOVRE)
            .fetch_one(&pool)
            .await?;
    sql(
        &pool,
        "UPDATE audit.record SET seq = seq + 1000000 WHERE tenant = $1 AND seq >= 5",
    )
    .await?;
    sql(
        &pool,
        "UPDATE audit.record SET seq = seq - 999999 WHERE tenant = $1 AND seq > 1000000",
    )
    .await?;
    let mut forged = Record {
        tenant: RODOVRE.into(),
        seq: 5,
        position: 8,
        event_id: Uuid::now_v7(),
        event_type: "dk.samskab.grant_pool.budget_changed.v1".into(),
        entity_kind: "grant-pool".into(),
        entity_id: samskab_domain::fixtures::grant_pool_id().to_string(),
        pool_id: samskab_domain::fixtures::grant_pool_id().as_uuid(),
        application_id: None,
        occurred_at: chrono::Utc::now(),
        actor: "user:admin".into(),
        had_personal: false,
        payload: serde_json::json!({"year": 2026, "amount": 900_000_000}),
        prev_hash: seq4_hash,
        hash: String::new(),
    };
    forged.occurred_at = samskab_audit_worker::record::to_micros(forged.occurred_at);
    forged.hash = forged.compute_hash()?;
    sqlx::query(
        "INSERT INTO audit.record (tenant, seq, position, event_id, event_type, entity_kind, \
         entity_id, pool_id, application_id, occurred_at, actor, had_personal, payload, \
         prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&forged.tenant)
    .bind(forged.seq)
    .bind(forged.position)
    .bind(forged.event_id)
    .bind(&forged.event_type)
    .bind(&forged.entity_kind)
    .bind(&forged.entity_id)
    .bind(forged.pool_id)
    .bind(forged.application_id)
    .bind(forged.occurred_at)
    .bind(&forged.actor)
    .bind(forged.had_personal)
    .bind(forged.payload.to_string())
    .bind(&forged.prev_hash)
    .bind(&forged.hash)
    .execute(&pool)
    .await?;
    assert_eq!(
        problem(&pool).await?,
        Some(Problem::Inserted {
            seq: 5,
            event_id: forged.event_id
        })
    );
    Ok(())
}

/// Two records' numbers swapped: the record now at 7 was appended after the one now at 8.
#[tokio::test]
async fn a_reordered_pair_is_named() -> anyhow::Result<()> {
    let pool = chains().await?;
    let seventh = event_id(&pool, RODOVRE, 7).await?;
    let eighth = event_id(&pool, RODOVRE, 8).await?;
    sql(
        &pool,
        "UPDATE audit.record SET seq = 1000007 WHERE tenant = $1 AND seq = 7",
    )
    .await?;
    sql(
        &pool,
        "UPDATE audit.record SET seq = 7 WHERE tenant = $1 AND seq = 8",
    )
    .await?;
    sql(
        &pool,
        "UPDATE audit.record SET seq = 8 WHERE tenant = $1 AND seq = 1000007",
    )
    .await?;
    assert_eq!(
        problem(&pool).await?,
        Some(Problem::Reordered {
            seq: 7,
            event_id: eighth,
            follows_seq: 8,
            follows_event_id: seventh,
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_first_record_not_linked_to_genesis_is_named() -> anyhow::Result<()> {
    let pool = chains().await?;
    let first = event_id(&pool, RODOVRE, 1).await?;
    sql(
        &pool,
        "UPDATE audit.record SET prev_hash = repeat('1', 64) WHERE tenant = $1 AND seq = 1",
    )
    .await?;
    assert_eq!(
        problem(&pool).await?,
        Some(Problem::BrokenLink {
            seq: 1,
            event_id: first
        })
    );
    assert_eq!(GENESIS.len(), 64);
    Ok(())
}
