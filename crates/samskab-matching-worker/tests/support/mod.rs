//! What both test files of the matching worker share: events as the runtime hands them over,
//! applied directly inside a transaction as the runtime does, a migrated database, and the
//! columns a need's details imply. Adapted from the directory worker's tests/support.

#![allow(dead_code)] // each test file uses its own part

use chrono::{DateTime, Utc};
use samskab_domain::{DomainEvent, NeedDetails, NeedPlace, NeedSchedule, PostedBy};
use samskab_eventlog::{EventEnvelope, RecordedEvent};
use samskab_matching_worker::MatchingProjection;
use samskab_projection::{ApplyError, MIGRATOR, Projection};
use samskab_testkit::TestDatabase;
use serde_json::{Value, json};
use sqlx::{Connection, PgPool};
use uuid::Uuid;

pub const ACTOR: &str = "user:koordinator-1";

/// A fresh database with every migration applied (left behind for a post-mortem, see
/// `TestDatabase`).
pub async fn migrated_database() -> anyhow::Result<PgPool> {
    let database = TestDatabase::create().await?;
    let pool = database.pool().await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// The envelope time [`recorded`] gives an event at `position`: distinct and increasing, so a
/// stale write would show in the timestamps too.
pub fn time_at(position: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000 + i64::try_from(position).unwrap_or(0), 0)
        .expect("valid time")
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
            time: time_at(position),
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

/// Applies events in one transaction, with the schema on the search path as the runtime sets
/// it.
pub async fn apply_all(pool: &PgPool, events: &[&RecordedEvent]) -> Result<(), ApplyError> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL search_path TO matching")
        .execute(&mut *tx)
        .await?;
    for event in events {
        MatchingProjection.apply(&mut tx, event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Like [`apply_all`], through the batch path the runtime uses ([`Projection::apply_batch`]).
pub async fn apply_batch_all(pool: &PgPool, events: &[RecordedEvent]) -> Result<(), ApplyError> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL search_path TO matching")
        .execute(&mut *tx)
        .await?;
    MatchingProjection.apply_batch(&mut tx, events).await?;
    tx.commit().await?;
    Ok(())
}

/// The columns of `matching.need` that a need's details determine, as `to_jsonb` shows them.
/// Written from the domain types, independently of the worker's binding code; `matching.rs`
/// pins it to literal values once.
pub fn details_columns(details: &NeedDetails) -> Value {
    let (posted_by, organisation_id) = match details.posted_by {
        PostedBy::Municipality => ("municipality", None),
        PostedBy::Organisation(id) => ("organisation", Some(id.as_uuid())),
    };
    let (postcode, remote) = match &details.place {
        NeedPlace::AtPostcode(postcode) => (Some(postcode.as_str()), false),
        NeedPlace::Remote => (None, true),
    };
    let (schedule_kind, schedule_date, slots, hours_per_week) = match &details.schedule {
        NeedSchedule::OnDate { date } => ("on_date", Some(*date), Value::Null, None),
        NeedSchedule::Weekly(availability) => (
            "weekly",
            None,
            json!(availability.slots()),
            Some(availability.hours_per_week()),
        ),
    };
    json!({
        "posted_by": posted_by,
        "organisation_id": organisation_id,
        "title": details.title.as_str(),
        "description": details.description.as_str(),
        "target_groups": details.target_groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "skills_required": details.skills_required.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "skills_nice_to_have":
            details.skills_nice_to_have.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "languages": details.languages.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "postcode": postcode,
        "remote": remote,
        "schedule_kind": schedule_kind,
        "schedule_date": schedule_date,
        "slots": slots,
        "hours_per_week": hours_per_week,
        "volunteers_wanted": details.volunteers_wanted.get(),
        "starts_on": details.starts_on,
        "ends_on": details.ends_on,
        "children_under_15": details.children_under_15,
    })
}

/// A timestamp as microseconds since the epoch (what PostgreSQL keeps), so that a row compares
/// with an expected value whatever the session time zone.
pub fn micros(time: DateTime<Utc>) -> Value {
    json!(time.timestamp_micros())
}

/// `to_jsonb`'s rendering of a row, with every `*_at` column as [`micros`].
pub fn with_micros(row: Value) -> anyhow::Result<Value> {
    let Value::Object(columns) = row else {
        anyhow::bail!("a row is an object: {row}");
    };
    let mut converted = serde_json::Map::new();
    for (column, value) in columns {
        let value = match (column.ends_with("_at"), &value) {
            (true, Value::String(text)) => {
                json!(DateTime::parse_from_rfc3339(text)?.timestamp_micros())
            }
            _ => value,
        };
        converted.insert(column, value);
    }
    Ok(Value::Object(converted))
}

/// The need's row as JSON (every column, times as microseconds), or `None` when there is none.
pub async fn need_row(pool: &PgPool, tenant: &str, id: Uuid) -> anyhow::Result<Option<Value>> {
    let row: Option<Value> =
        sqlx::query_scalar("SELECT to_jsonb(t) FROM matching.need t WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(pool)
            .await?;
    row.map(with_micros).transpose()
}
