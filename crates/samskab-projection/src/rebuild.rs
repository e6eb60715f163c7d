//! Rebuild: replay the whole log into fresh tables while the old ones serve, then swap.
//!
//! 1. `<schema>_rebuild` is created with a clone of every table of the live schema
//!    (`CREATE TABLE .. (LIKE .. INCLUDING ALL)`), so `migrations/` stays the one place DDL is
//!    written. (Only tables are cloned: keep views and functions out of projection schemas, and
//!    use identity columns rather than `serial`, whose default would point at the old
//!    schema's sequence.)
//! 2. The log is replayed from sequence 1 by an ephemeral consumer (not the durable one: the
//!    live worker keeps its own) in batches of the same transactional shape, written to the
//!    rebuild schema, until the consumer has nothing more to deliver.
//! 3. In one transaction: take the projection's advisory lock (the live worker pauses between
//!    batches), catch up to the log's end into the rebuild schema, rename the live schema to
//!    `<schema>_old_<unix time>` and the rebuild schema to `<schema>`, commit.
//! 4. Drop the old schema. The live worker resumes; its checkpoint now comes from the new
//!    schema, so what it receives at or below it is skipped.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use futures::StreamExt;
use tracing::{info, warn};

use crate::batch::{self, BatchError, LogMessage, Target};
use crate::consumer::{Backoff, filter_config};
use samskab_eventlog::EventLog;

use crate::{Projection, Projector, ident};

/// Call the progress callback at least this many log positions apart.
const PROGRESS_EVERY: u64 = 2_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// Events applied to the new tables (parked ones not counted).
    pub events: u64,
    /// The checkpoint of the swapped-in tables.
    pub position: u64,
    pub elapsed: Duration,
}

impl<P: Projection> Projector<P> {
    pub(crate) async fn rebuild_inner(
        &self,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> anyhow::Result<RebuildReport> {
        let started = Instant::now();
        let name = self.projection.name();
        let live = self.projection.schema();
        ident::validate("schema", live)?;
        let fresh = format!("{live}_rebuild");
        self.clone_schema(live, &fresh).await?;

        let total = self.log.last_position().await?;
        let consumer = self.replay_consumer().await?;
        let target = Target {
            name,
            schema: &fresh,
            lock: false,
            fence: None,
        };
        let mut events = 0;
        let mut position = 0;
        let mut reported = 0;
        loop {
            let batch = fetch(&self.log, &consumer, self.config.batch_size).await?;
            if batch.is_empty() {
                break;
            }
            let outcome = self.replay_with_retry(target, &batch).await?;
            events += outcome.events;
            position = outcome.position;
            if position - reported >= PROGRESS_EVERY {
                progress(position, total.max(position));
                reported = position;
            }
        }
        info!(projection = name, events, position, "replayed; swapping");

        // The swap. The catch-up runs in this transaction, under the lock, so no event can
        // reach the live schema after it was last read here and before the rename.
        let mut tx = self.pool.begin().await?;
        batch::begin_batch(
            &mut tx,
            Target {
                lock: true,
                ..target
            },
        )
        .await?;
        loop {
            let batch = fetch(&self.log, &consumer, self.config.batch_size).await?;
            if batch.is_empty() {
                break;
            }
            let outcome = batch::apply_messages(&mut tx, &self.projection, name, &batch).await?;
            events += outcome.events;
            position = outcome.position;
        }
        let old = format!("{live}_old_{}", unix_time());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER SCHEMA {live} RENAME TO {old}; ALTER SCHEMA {fresh} RENAME TO {live};"
        )))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        progress(position, position.max(total));
        info!(projection = name, events, position, old = %old, "swapped in");

        // Readers still on the old tables hold locks; DROP waits for them.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {old} CASCADE")))
            .execute(&self.pool)
            .await?;
        self.delete_replay_consumer(&consumer).await;
        Ok(RebuildReport {
            events,
            position,
            elapsed: started.elapsed(),
        })
    }

    async fn clone_schema(&self, live: &str, fresh: &str) -> anyhow::Result<()> {
        // A leftover of a rebuild that crashed is incomplete: start over.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {fresh} CASCADE; CREATE SCHEMA {fresh};"
        )))
        .execute(&self.pool)
        .await?;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
        )
        .bind(live)
        .fetch_all(&self.pool)
        .await?;
        if !tables.iter().any(|t| t == "checkpoint") {
            anyhow::bail!("schema {live} has no checkpoint table (see migrations/README.md)");
        }
        for table in &tables {
            let t = ident::quote(table);
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE {fresh}.{t} (LIKE {live}.{t} INCLUDING ALL)"
            )))
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// An ephemeral consumer from sequence 1 without acks: nothing to redeliver, and the
    /// server removes it on its own if the rebuild dies.
    async fn replay_consumer(&self) -> anyhow::Result<PullConsumer> {
        let stream = self
            .log
            .jetstream()
            .get_stream(&self.log.config().stream)
            .await?;
        let (filter_subject, filter_subjects) = filter_config(
            self.projection
                .filter_subjects(&self.log.config().subject_prefix),
        );
        Ok(stream
            .create_consumer(pull::Config {
                description: Some(format!("samskab rebuild of {}", self.projection.name())),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::None,
                filter_subject,
                filter_subjects,
                inactive_threshold: Duration::from_secs(300),
                memory_storage: true,
                ..Default::default()
            })
            .await?)
    }

    async fn delete_replay_consumer(&self, consumer: &PullConsumer) {
        let name = consumer.cached_info().name.clone();
        let result = async {
            self.log
                .jetstream()
                .get_stream(&self.log.config().stream)
                .await?
                .delete_consumer(&name)
                .await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            warn!(consumer = %name, error = %e, "could not delete the replay consumer; the server expires it");
        }
    }

    async fn replay_with_retry(
        &self,
        target: Target<'_>,
        batch: &[LogMessage],
    ) -> anyhow::Result<batch::Outcome> {
        let mut backoff = Backoff::new();
        let mut attempts = 0;
        loop {
            match batch::apply_batch(&self.pool, &self.projection, target, batch).await {
                Ok(outcome) => return Ok(outcome),
                Err(BatchError::Database(e))
                    if attempts < 8 && batch::is_not_the_events_fault(&e) =>
                {
                    attempts += 1;
                    let wait = backoff.next();
                    warn!(projection = target.name, error = %e, "rebuild batch failed; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// What the consumer can deliver now, up to `max` messages; empty at the end of the log.
async fn fetch(
    log: &EventLog,
    consumer: &PullConsumer,
    max: usize,
) -> anyhow::Result<Vec<LogMessage>> {
    let mut messages = consumer
        .fetch()
        .max_messages(max)
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("fetch: {e}"))?;
    let mut raw = Vec::new();
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| anyhow::anyhow!("fetch: {e}"))?;
        let info = message
            .info()
            .map_err(|e| anyhow::anyhow!("message without JetStream metadata: {e}"))?;
        raw.push((
            info.stream_sequence,
            message.subject.to_string(),
            message.payload.clone(),
        ));
    }
    Ok(batch::decode(log, raw).await?)
}

fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
