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
//!    For a projection over the whole stream every delivery must be position + 1, as for the
//!    live worker (`sequence.rs`): messages lost in flight (a message further on, or a consumer
//!    that has delivered past the position while nothing more reaches the replay) never come
//!    again without acks, so the replay applies up to the gap, replaces its consumer by one
//!    starting at position + 1, and goes on; the catch-up in step 3 does the same.
//! 3. In one transaction: take the projection's advisory lock (the live worker pauses between
//!    batches), catch up into the rebuild schema to the log's last position as of holding the
//!    lock (so at or past the live checkpoint), rename the live schema to
//!    `<schema>_old_<unix time>` and the rebuild schema to `<schema>`, commit.
//! 4. Drop the old schema. The live worker resumes; its checkpoint now comes from the new
//!    schema, so what it receives at or below it is skipped.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, stream};
use futures::StreamExt;
use tracing::{info, warn};

use crate::batch::{self, Batch, BatchError, Target};
use crate::consumer::{Backoff, admit, deliver_after, filter_config};
use crate::sequence::{Gap, Sequencer};

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
    /// Checks the deliveries for gaps when the projection takes every subject; then its
    /// position must also reach a log position. One with a subject filter skips sequences and
    /// is done when the consumer has nothing pending.
    sequencer: Sequencer,
    /// The rebuild schema's checkpoint.
    position: u64,
    /// Messages missing after the batch last returned: once it is applied, the consumer is
    /// replaced by one starting at `position + 1`.
    gap: Option<Gap>,
}

impl Replay {
    /// After a commit: the rebuild schema's checkpoint is `position`.
    fn applied(&mut self, position: u64) {
        self.position = position;
        self.sequencer.applied(position);
    }
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
        // Read before the consumer exists, so no message it delivers can be below it.
        let first_in_stream = self.stream().await?.cached_info().state.first_sequence;
        let sequencer = Sequencer::for_filters(
            &self
                .projection
                .filter_subjects(&self.log.config().subject_prefix),
            &self.log.config().subject_prefix,
            0,
            first_in_stream,
        );
        let consumer = self.replay_consumer(0).await?;
        let target = Target {
            name,
            schema: &fresh,
            lock: false,
            fence: None,
        };
        let mut replay = Replay {
            consumer,
            sequencer,
            position: 0,
            gap: None,
        };
        let mut events = 0;
        let mut reported = 0;
        while let Some(batch) = self.next_replay_batch(&mut replay, total).await? {
            let outcome = self.replay_with_retry(target, &batch).await?;
            events += outcome.events;
            replay.applied(outcome.position);
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
            replay.applied(outcome.position);
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

    async fn stream(&self) -> anyhow::Result<stream::Stream> {
        Ok(self
            .log
            .jetstream()
            .get_stream(&self.log.config().stream)
            .await?)
    }

    /// An ephemeral consumer from log position `after` + 1 without acks: nothing to
    /// redeliver, and the server removes it on its own if the rebuild dies.
    async fn replay_consumer(&self, after: u64) -> anyhow::Result<PullConsumer> {
        let (filter_subject, filter_subjects) = filter_config(
            self.projection
                .filter_subjects(&self.log.config().subject_prefix),
        );
        Ok(self
            .stream()
            .await?
            .create_consumer(pull::Config {
                description: Some(format!("samskab rebuild of {}", self.projection.name())),
                deliver_policy: deliver_after(after),
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
            self.stream().await?.delete_consumer(&name).await?;
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
    ///
    /// Deliveries go through the replay's [`Sequencer`], as in the live worker: a batch is cut
    /// at a gap, and the next call, once the batch is applied, replaces the consumer by one
    /// starting at the position + 1. A consumer that has delivered past the position while an
    /// empty fetch says nothing more reaches the replay lost the messages in between: a gap.
    async fn next_replay_batch(
        &self,
        replay: &mut Replay,
        until: u64,
    ) -> anyhow::Result<Option<Batch>> {
        let max = self.config.batch_size;
        // Set once a fetch came back empty: from then on fetches wait at the server.
        let mut stalled_at = None;
        loop {
            if let Some(gap) = replay.gap.take() {
                self.replace_replay_consumer(replay, gap).await?;
            }
            let wait = stalled_at.map(|_| REPLAY_WAIT);
            let delivered = fetch(&replay.consumer, max, wait).await?;
            if !delivered.is_empty() {
                let admitted = admit(&mut replay.sequencer, &delivered)?;
                replay.gap = admitted.gap;
                if !admitted.raw.is_empty() {
                    return Ok(Some(
                        batch::decode(&self.log, admitted.raw, self.projection.personal_data_of())
                            .await?,
                    ));
                }
                // Only redeliveries, or a gap right after the position: nothing to apply.
                stalled_at = None;
                continue;
            }
            let info = replay.consumer.get_info().await?;
            let reached = if replay.sequencer.checks_gaps() {
                replay.position >= until
            } else {
                info.num_pending == 0
            };
            if reached {
                return Ok(None);
            }
            let stalled_at = *stalled_at.get_or_insert_with(|| Instant::now() + REPLAY_STALL_LIMIT);
            anyhow::ensure!(
                Instant::now() < stalled_at,
                "the replay of {} is stuck at log position {} of {until} ({} messages \
                 pending at the consumer, none delivered for {REPLAY_STALL_LIMIT:?}); nothing \
                 was swapped in, run the rebuild again",
                self.projection.name(),
                replay.position,
                info.num_pending,
            );
            // No fetch of the replay's is open: what the consumer has delivered past the
            // position went elsewhere.
            replay.gap = replay.sequencer.lost(info.delivered.stream_sequence);
        }
    }

    /// After a gap in the replay's deliveries: a new consumer from the position + 1 (which the
    /// batch up to the gap has reached), and the old one deleted.
    async fn replace_replay_consumer(&self, replay: &mut Replay, gap: Gap) -> anyhow::Result<()> {
        warn!(
            projection = self.projection.name(),
            missing_from = gap.missing_from,
            missing_to = gap.missing_to,
            position = replay.position,
            "messages missing from the replay (lost in flight?); applied up to them, \
             replaying again from the position + 1"
        );
        let consumer = self.replay_consumer(replay.position).await?;
        let old = std::mem::replace(&mut replay.consumer, consumer);
        self.delete_replay_consumer(&old).await;
        Ok(())
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
    consumer: &PullConsumer,
    max: usize,
    wait: Option<Duration>,
) -> anyhow::Result<Vec<jetstream::Message>> {
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
    let mut delivered = Vec::new();
    while let Some(message) = messages.next().await {
        delivered.push(message.map_err(|e| anyhow::anyhow!("fetch: {e}"))?);
    }
    Ok(delivered)
}

fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
