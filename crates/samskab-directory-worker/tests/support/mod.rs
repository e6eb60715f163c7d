//! What both test files of the directory worker share: events as the runtime hands them over,
//! applied directly inside a transaction as the runtime does, and a migrated database.

#![allow(dead_code)] // each test file uses its own part

use chrono::DateTime;
use samskab_directory_worker::DirectoryProjection;
use samskab_domain::DomainEvent;
use samskab_eventlog::{EventEnvelope, RecordedEvent};
use samskab_projection::{ApplyError, MIGRATOR, Projection};
use samskab_testkit::TestDatabase;
use serde_json::Value;
use sqlx::{Connection, PgPool};
use uuid::Uuid;

pub const ACTOR: &str = "user:sagsbehandler-1";

/// A fresh database with every migration applied (left behind for a post-mortem, see
/// `TestDatabase`).
pub async fn migrated_database() -> anyhow::Result<PgPool> {
    let database = TestDatabase::create().await?;
    let pool = database.pool().await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// A domain event as the runtime hands it to a projection, at `position`.
pub fn recorded<E: DomainEvent>(
    tenant: &str,
    entity_id: &str,
    position: u64,
    event: &E,
) -> RecordedEvent {
    recorded_raw(
        tenant,
        E::KIND.as_str(),
        entity_id,
        position,
        event.event_type(),
        event.to_payload(),
    )
}

/// Like [`recorded`], for a payload that need not decode.
pub fn recorded_raw(
    tenant: &str,
    kind: &str,
    entity_id: &str,
    position: u64,
    event_type: &str,
    data: Value,
) -> RecordedEvent {
    RecordedEvent {
        position,
        index: 0,
        envelope: EventEnvelope {
            specversion: "1.0".into(),
            id: Uuid::now_v7(),
            source: format!("/samskab/{tenant}"),
            event_type: event_type.into(),
            subject: format!("{kind}/{entity_id}"),
            // Distinct, increasing times, so a stale write would show in the timestamps too.
            time: DateTime::from_timestamp(1_750_000_000 + i64::try_from(position).unwrap_or(0), 0)
                .expect("valid time"),
            datacontenttype: "application/json".into(),
            tenant: tenant.into(),
            entitykind: kind.into(),
            entityid: entity_id.into(),
            actor: ACTOR.into(),
            correlationid: Uuid::now_v7(),
            causationid: None,
            data,
        },
    }
}

/// Applies events one transaction each, with the schema on the search path as the runtime sets
/// it.
pub async fn apply_all(pool: &PgPool, events: &[&RecordedEvent]) -> Result<(), ApplyError> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL search_path TO directory")
        .execute(&mut *tx)
        .await?;
    for event in events {
        DirectoryProjection.apply(&mut tx, event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Like [`apply_all`], through the batch path the runtime uses ([`Projection::apply_batch`]).
pub async fn apply_batch_all(pool: &PgPool, events: &[RecordedEvent]) -> Result<(), ApplyError> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL search_path TO directory")
        .execute(&mut *tx)
        .await?;
    DirectoryProjection.apply_batch(&mut tx, events).await?;
    tx.commit().await?;
    Ok(())
}
