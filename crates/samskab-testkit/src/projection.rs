//! What the tests of every read model (one worker crate each) share, behind feature
//! `projection`. A worker's tests name their projection and actor once,
//!
//! ```text
//! pub const DIRECTORY: ReadModelTest<DirectoryProjection> =
//!     ReadModelTest::new(DirectoryProjection, "user:sagsbehandler-1");
//! ```
//!
//! and then have:
//!
//! - [`migrated_database`]: a fresh database with every migration applied;
//! - [`ReadModelTest::recorded`]: a domain event as the runtime hands it to a projection;
//! - [`ReadModelTest::apply_all`] and [`ReadModelTest::apply_batch_all`]: events applied
//!   directly, in a transaction with the schema on the search path as the runtime sets it;
//! - [`ReadModelTest::start_projector`]: the real [`Projector`](samskab_projection::Projector)
//!   against a NATS server of its own, until the checkpoint reaches what was appended
//!   ([`ProjectorHarness`]);
//! - [`ReadModelTest::rows_follow_state`]: the property that a row after projecting any
//!   sequence of an entity's events, however delivered, is the row of the state the decider
//!   folds from them. The table, the strategies and the expected row stay with the worker.
//!
//! Rows are read as `to_jsonb` renders them ([`ReadModelTest::row`]); [`with_micros`] turns
//! their `*_at` columns into microseconds since the epoch ([`micros`]), so that they compare
//! with expected values whatever the session time zone.

pub mod grant_story;
mod harness;
mod rows_follow_state;

use chrono::{DateTime, Utc};
use samskab_domain::DomainEvent;
use samskab_eventlog::{EventEnvelope, NewEvent, RecordedEvent};
use samskab_projection::{ApplyError, MIGRATOR, Projection};
use serde_json::{Value, json};
use sqlx::{Connection, PgPool};
use uuid::Uuid;

pub use harness::ProjectorHarness;
pub use rows_follow_state::Key;

use crate::TestDatabase;

/// A fresh database with every migration applied (left behind for a post-mortem, see
/// [`TestDatabase`]).
pub async fn migrated_database() -> anyhow::Result<PgPool> {
    let database = TestDatabase::create().await?;
    let pool = database.pool().await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// The envelope time [`ReadModelTest::recorded`] gives an event at `position`: distinct and
/// increasing, so a stale write would show in the timestamps too.
pub fn time_at(position: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000 + i64::try_from(position).unwrap_or(0), 0)
        .expect("valid time")
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

/// A domain event as a command appends it.
pub fn new_event<E: DomainEvent>(event: &E) -> NewEvent {
    NewEvent {
        event_type: event.event_type().to_owned(),
        data: event.to_payload(),
    }
}

/// The projection a worker's tests are about, and the actor their events are recorded under.
#[derive(Debug, Clone, Copy)]
pub struct ReadModelTest<P> {
    pub projection: P,
    pub actor: &'static str,
}

impl<P> ReadModelTest<P> {
    pub const fn new(projection: P, actor: &'static str) -> Self {
        Self { projection, actor }
    }
}

impl<P: Projection + Clone> ReadModelTest<P> {
    /// A domain event as the runtime hands it to a projection, at `position`.
    pub fn recorded<E: DomainEvent>(
        &self,
        tenant: &str,
        entity_id: &str,
        position: u64,
        event: &E,
    ) -> RecordedEvent {
        self.recorded_raw(
            tenant,
            E::KIND.as_str(),
            entity_id,
            position,
            event.event_type(),
            event.to_payload(),
        )
    }

    /// Like [`recorded`](Self::recorded), for a payload that need not decode.
    pub fn recorded_raw(
        &self,
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
                actor: self.actor.into(),
                correlationid: Uuid::now_v7(),
                causationid: None,
                data,
            },
        }
    }

    /// Applies events one by one in one transaction, with the schema on the search path as the
    /// runtime sets it.
    pub async fn apply_all(
        &self,
        pool: &PgPool,
        events: &[&RecordedEvent],
    ) -> Result<(), ApplyError> {
        let mut conn = pool.acquire().await?;
        let mut tx = conn.begin().await?;
        self.set_search_path(&mut tx).await?;
        for event in events {
            self.projection.apply(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Like [`apply_all`](Self::apply_all), through the batch path the runtime uses
    /// ([`Projection::apply_batch`]).
    pub async fn apply_batch_all(
        &self,
        pool: &PgPool,
        events: &[RecordedEvent],
    ) -> Result<(), ApplyError> {
        let mut conn = pool.acquire().await?;
        let mut tx = conn.begin().await?;
        self.set_search_path(&mut tx).await?;
        self.projection.apply_batch(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_search_path(&self, conn: &mut sqlx::PgConnection) -> Result<(), ApplyError> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "SET LOCAL search_path TO {}",
            self.projection.schema()
        )))
        .execute(conn)
        .await?;
        Ok(())
    }

    /// The row of `table` (in the projection's schema) for `tenant` and `id` as `to_jsonb`
    /// renders it (every column), or `None` when there is none. `id` is `None` for a table
    /// keyed by the tenant alone.
    pub async fn row(
        &self,
        pool: &PgPool,
        table: &str,
        tenant: &str,
        id: impl Into<Option<Uuid>>,
    ) -> anyhow::Result<Option<Value>> {
        let id = id.into();
        let sql = format!(
            "SELECT to_jsonb(t) FROM {}.{table} t WHERE tenant = $1 {}",
            self.projection.schema(),
            if id.is_some() { "AND id = $2" } else { "" }
        );
        let mut query = sqlx::query_scalar::<_, Value>(sqlx::AssertSqlSafe(sql)).bind(tenant);
        if let Some(id) = id {
            query = query.bind(id);
        }
        Ok(query.fetch_optional(pool).await?)
    }

    /// Every row of `table` (in the projection's schema, keyed by tenant and id) as a JSON
    /// array, by tenant and id: what a test compares before and after a redelivery.
    pub async fn rows(&self, pool: &PgPool, table: &str) -> anyhow::Result<Value> {
        let sql = format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY tenant, id), '[]') FROM {}.{table} t",
            self.projection.schema()
        );
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await?)
    }

    /// Applies `events`, then redelivers them all again (a lost checkpoint) and one by one in
    /// reverse (stale redeliveries), and checks that neither changed `table`: nothing may roll
    /// a row back. The rows after the first delivery.
    pub async fn redelivery_changes_nothing(
        &self,
        pool: &PgPool,
        events: &[RecordedEvent],
        table: &str,
    ) -> anyhow::Result<Value> {
        let all: Vec<&RecordedEvent> = events.iter().collect();
        self.apply_all(pool, &all).await?;
        let rows = self.rows(pool, table).await?;
        self.apply_all(pool, &all).await?;
        anyhow::ensure!(
            self.rows(pool, table).await? == rows,
            "{table} changed when the events were delivered again"
        );
        for event in all.iter().rev() {
            self.apply_all(pool, &[event]).await?;
        }
        anyhow::ensure!(
            self.rows(pool, table).await? == rows,
            "{table} changed when the events were delivered again in reverse"
        );
        Ok(rows)
    }
}
