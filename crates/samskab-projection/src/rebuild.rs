//! Rebuild: replay the whole log into fresh tables while the old ones serve, then swap.
//!
//! 1. `<schema>_rebuild` is created with a clone of every table of the live schema
//!    (`CREATE TABLE .. (LIKE .. INCLUDING ALL)`), so `migrations/` stays the one place DDL is
//!    written. (Only tables are cloned: keep views and functions out of projection schemas, and
//!    use identity columns rather than `serial`, whose default would point at the old
//!    schema's sequence.)
//! 2. The log is replayed from sequence 1 by an ephemeral consumer (not the durable one: the
//!    live worker keeps its own) in batches of the same transactional shape, written to the
//!    rebuild schema, until it has reached the log's last position as of the rebuild's start.
//!    An empty fetch before that is no end (the replay waits for more, and fails after
//!    `REPLAY_STALL_LIMIT` without any, swapping nothing in); a projection with a subject
//!    filter skips sequences, so for it the consumer's pending count (0) says it is there.
//! 3. In one transaction: take the projection's advisory lock (the live worker pauses between
//!    batches), catch up into the rebuild schema to the log's last position as of holding the
//!    lock (so at or past the live checkpoint), rename the live schema to
//!    `<schema>_old_<unix time>` and the rebuild schema to `<schema>`, commit.
//! 4. Drop the old schema. The live worker resumes; its checkpoint now comes from the new
//!    schema, so what it receives at or below it is skipped.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use futures::StreamExt;
use tracing::{info, warn};

use crate::batch::{self, Batch, BatchError, Target};
use crate::consumer::{Backoff, filter_config};
use crate::sequence::covers_whole_stream;
use samskab_eventlog::EventLog;

use crate::{Projection, Projector, ident};

/// Call the progress callback at least this many log positions apart.
const PROGRESS_EVERY: u64 = 2_000;

/// How long one fetch waits at the server for more, when the replay is short of its target.
const REPLAY_WAIT: Duration = Duration::from_millis(250);
/// How long the replay may go without a message while short of its target before the rebuild
/// fails (rather than swap in tables that miss events).
const REPLAY_STALL_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    /// Events applied to the new tables (parked ones not counted).
    pub events: u64,
    /// The checkpoint of the swapped-in tables.
    pub position: u64,
    pub elapsed: Duration,
}

/// The replay consumer and how far the rebuild schema has got with it.
struct Replay {
    consumer: PullConsumer,
    /// The projection takes every subject, so its position must reach a log position; one with
    /// a subject filter skips sequences and is done when the consumer has nothing pending.
    whole_stream: bool,
    /// The rebuild schema's checkpoint.
    position: u64,
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

        // The log as of now: the rebuild is not swapped in before it has replayed this far.
        let total = self.log.last_position().await?;
        let whole_stream = covers_whole_stream(
            &self
                .projection
                .filter_subjects(&self.log.config().subject_prefix),
            &self.log.config().subject_prefix,
        );
        let consumer = self.replay_consumer().await?;
        let target = Target {
            name,
            schema: &fresh,
            lock: false,
            fence: None,
        };
        let mut replay = Replay {
            consumer,
            whole_stream,
            position: 0,
        };
        let mut events = 0;
        let mut reported = 0;
        while let Some(batch) = self.next_replay_batch(&mut replay, total).await? {
            let outcome = self.replay_with_retry(target, &batch).await?;
            events += outcome.events;
            replay.position = outcome.position;
            if replay.position - reported >= PROGRESS_EVERY {
                progress(replay.position, total.max(replay.position));
                reported = replay.position;
            }
        }
        info!(
            projection = name,
            events,
            position = replay.position,
            "replayed; swapping"
        );

        // The swap. The catch-up runs in this transaction, under the lock, so no event can
        // reach the live schema after it was last read here and before the rename. It goes to
        // the log's end as of holding the lock, which is at or past the live checkpoint (the
        // live worker commits under the same lock), so the swap never moves a reader back.
        let mut tx = self.pool.begin().await?;
        batch::begin_batch(
            &mut tx,
            Target {
                lock: true,
                ..target
            },
        )
        .await?;
        let log_end = self.log.last_position().await?;
        while let Some(batch) = self.next_replay_batch(&mut replay, log_end).await? {
            let outcome = batch::apply_messages(&mut tx, &self.projection, name, &batch).await?;
            events += outcome.events;
            replay.position = outcome.position;
        }
        let position = replay.position;
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
        self.delete_replay_consumer(&replay.consumer).await;
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

    /// The next batch to replay, or `None` once the replay has reached log position `until`
    /// and the consumer has nothing more at once. An empty fetch before `until` does not end
    /// the replay (a fetch may come back empty while the server still has messages for the
    /// consumer): it waits for more, and fails after [`REPLAY_STALL_LIMIT`] without any.
    async fn next_replay_batch(
        &self,
        replay: &mut Replay,
        until: u64,
    ) -> anyhow::Result<Option<Batch>> {
        let max = self.config.batch_size;
        let batch = fetch(&self.log, &replay.consumer, max, None).await?;
        if !batch.is_empty() {
            return Ok(Some(batch));
        }
        let stalled_at = Instant::now() + REPLAY_STALL_LIMIT;
        loop {
            let pending = replay.consumer.get_info().await?.num_pending;
            let reached = if replay.whole_stream {
                replay.position >= until
            } else {
                pending == 0
            };
            if reached {
                return Ok(None);
            }
            anyhow::ensure!(
                Instant::now() < stalled_at,
                "the replay of {} is stuck at log position {} of {until} ({pending} messages \
                 pending at the consumer, none delivered for {REPLAY_STALL_LIMIT:?}); nothing \
                 was swapped in, run the rebuild again",
                self.projection.name(),
                replay.position,
            );
            let batch = fetch(&self.log, &replay.consumer, max, Some(REPLAY_WAIT)).await?;
            if !batch.is_empty() {
                return Ok(Some(batch));
            }
        }
    }

    async fn replay_with_retry(
        &self,
        target: Target<'_>,
        batch: &Batch,
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

/// Up to `max` messages the consumer delivers within `wait` (`None`: only what it can deliver
/// at once); empty when there are none.
async fn fetch(
    log: &EventLog,
    consumer: &PullConsumer,
    max: usize,
    wait: Option<Duration>,
) -> anyhow::Result<Batch> {
    let messages = match wait {
        None => consumer.fetch().max_messages(max).messages().await,
        Some(wait) => {
            consumer
                .batch()
                .max_messages(max)
                .expires(wait)
                .messages()
                .await
        }
    };
    let mut messages = messages.map_err(|e| anyhow::anyhow!("fetch: {e}"))?;
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
