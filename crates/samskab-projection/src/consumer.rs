//! The live worker: a durable pull consumer per projection, fed into transactional batches.
//!
//! The durable consumer is (re)created at the start of every session, positioned at the
//! PostgreSQL checkpoint + 1. The checkpoint is the truth, the consumer's ack floor only a
//! hint, and trusting the hint loses events: messages a dead process had delivered but not
//! acked come back only after `ack_wait`, while newer messages are delivered at once; applying
//! those first would raise the checkpoint past the redeliveries, which would then be skipped.
//! A restored or rebuilt read model has the same problem the other way round. Recreating the
//! consumer from the checkpoint costs a few milliseconds per start and removes both.
//!
//! The same holds within a session: for a projection over the whole stream each delivery must
//! be checkpoint + 1 (`sequence.rs`). A message further on means messages were lost in flight
//! (e.g. across a NATS restart), and acking it would ack them too (`AckPolicy::All`); so the
//! batch is applied up to the gap and the consumer is recreated at the checkpoint.

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::stream::ConsumerErrorKind;
use async_nats::jetstream::{self, ErrorCode};
use futures::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::batch::{self, Batch, BatchError, Target};
use crate::sequence::{Admit, Gap, Sequencer};
use crate::{Projection, Projector, checkpoint, leader};

/// How long an in-flight batch may still finish after shutdown was requested, before it is
/// abandoned (rolled back, left unacked).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A batch that has this many messages already is part of a backlog: worth filling up.
const LINGER_AFTER: usize = 32;
/// How long to wait for the next message of a backlog before applying what is there.
const LINGER: Duration = Duration::from_millis(2);

/// Backoff after a failure: 100 ms doubling to 10 s.
pub(crate) struct Backoff(Duration);

impl Backoff {
    pub fn new() -> Self {
        Self(Duration::from_millis(100))
    }
    pub fn reset(&mut self) {
        self.0 = Duration::from_millis(100);
    }
    pub fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(10));
        d
    }
}

/// Sleeps, or returns true at once when shutdown is requested.
pub(crate) async fn sleep_or_shutdown(d: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(d) => false,
    }
}

pub(crate) fn filter_config(filters: Vec<String>) -> (String, Vec<String>) {
    // The server refuses both fields set; one filter goes in the single field (older servers
    // and tools show it there).
    if filters.len() == 1 {
        (filters.into_iter().next().unwrap_or_default(), Vec::new())
    } else {
        (String::new(), filters)
    }
}

/// Where a consumer for a projection at `position` starts: at `position + 1`.
pub(crate) fn deliver_after(position: u64) -> DeliverPolicy {
    if position == 0 {
        DeliverPolicy::All
    } else {
        DeliverPolicy::ByStartSequence {
            start_sequence: position + 1,
        }
    }
}

/// Why [`Projector::consume`] returned.
enum Stopped {
    Shutdown,
    /// Messages were missing before the next delivery: the consumer must be re-positioned.
    Gap(Gap),
}

impl<P: Projection> Projector<P> {
    /// Deletes and recreates the durable consumer at `after + 1` (see the module docs), and
    /// returns it with the [`Sequencer`] that checks its deliveries for gaps.
    async fn align_durable(&self, after: u64) -> anyhow::Result<(PullConsumer, Sequencer)> {
        let name = self.projection.name();
        let stream = self
            .log
            .jetstream()
            .get_stream(&self.log.config().stream)
            .await?;
        match stream.delete_consumer(name).await {
            Ok(_) => {}
            Err(e)
                if matches!(e.kind(), ConsumerErrorKind::JetStream(ref j)
                    if j.error_code() == ErrorCode::CONSUMER_NOT_FOUND) => {}
            Err(e) => return Err(e.into()),
        }
        let filters = self
            .projection
            .filter_subjects(&self.log.config().subject_prefix);
        // Read before the consumer exists, so no message it delivers can be below it.
        let first_in_stream = stream.cached_info().state.first_sequence;
        let sequencer = Sequencer::for_filters(
            &filters,
            &self.log.config().subject_prefix,
            after,
            first_in_stream,
        );
        let (filter_subject, filter_subjects) = filter_config(filters);
        let consumer = stream
            .create_consumer(pull::Config {
                durable_name: Some(name.to_string()),
                description: Some(format!("samskab projection {name}")),
                deliver_policy: deliver_after(after),
                // Ack only the last message of a committed batch: it acks the batch.
                ack_policy: AckPolicy::All,
                ack_wait: self.config.ack_wait,
                // Room for the batch being applied and the one being prefetched.
                max_ack_pending: i64::try_from(self.config.batch_size * 4)
                    .unwrap_or(i64::MAX)
                    .max(1000),
                filter_subject,
                filter_subjects,
                ..Default::default()
            })
            .await?;
        Ok((consumer, sequencer))
    }

    /// One session: leadership, consumer, batches until shutdown (`Ok`) or a failure (`Err`,
    /// the caller backs off and starts a new session).
    pub(crate) async fn session(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let name = self.projection.name();
        let Some(leadership) = leader::acquire(&self.pool, name, shutdown).await? else {
            return Ok(());
        };
        let result = self.lead(shutdown, leadership.epoch()).await;
        leadership.release().await;
        result
    }

    /// Consumes from the checkpoint; after a gap, re-positions the consumer at the checkpoint
    /// and goes on, so the missing messages are delivered (again) before anything after them.
    async fn lead(&self, shutdown: &CancellationToken, epoch: i64) -> anyhow::Result<()> {
        let name = self.projection.name();
        let schema = self.projection.schema();
        let target = Target {
            name,
            schema,
            lock: true,
            fence: Some(epoch),
        };
        loop {
            let from = checkpoint::of(&self.pool, schema, name).await?;
            let (consumer, sequencer) = self.align_durable(from).await?;
            info!(projection = name, from, "consuming");
            match self.consume(shutdown, target, &consumer, sequencer).await? {
                Stopped::Shutdown => return Ok(()),
                Stopped::Gap(gap) => warn!(
                    projection = name,
                    missing_from = gap.missing_from,
                    missing_to = gap.missing_to,
                    "messages missing from the delivery (lost in flight?); applied up to them, \
                     re-positioning the consumer at the checkpoint"
                ),
            }
        }
    }

    /// Applies batches from `consumer` until shutdown or a gap in its deliveries.
    async fn consume(
        &self,
        shutdown: &CancellationToken,
        target: Target<'_>,
        consumer: &PullConsumer,
        mut sequencer: Sequencer,
    ) -> anyhow::Result<Stopped> {
        let name = target.name;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(self.config.batch_size)
            .expires(self.config.fetch_wait)
            .heartbeat(self.config.fetch_wait / 2)
            .messages()
            .await?;
        loop {
            let first = tokio::select! {
                biased;
                _ = shutdown.cancelled() => return Ok(Stopped::Shutdown),
                next = messages.next() => next,
            };
            let first = match first {
                Some(Ok(m)) => m,
                Some(Err(e)) => return Err(e.into()),
                None => anyhow::bail!("the consumer's message stream ended"),
            };
            // Take what has already arrived, up to a batch: under load the prefetch buffer is
            // full and batches are large; when idle a single event goes through at once, which
            // is what read-your-writes wants.
            let mut delivered = vec![first];
            let mut stream_error = None;
            while delivered.len() < self.config.batch_size {
                match messages.next().now_or_never() {
                    Some(Some(Ok(m))) => delivered.push(m),
                    Some(Some(Err(e))) => {
                        stream_error = Some(e);
                        break;
                    }
                    Some(None) | None => {
                        // A backlog (more than a handful already here) arrives in socket-sized
                        // chunks; waiting a moment for the rest of a full batch halves the
                        // per-batch cost. A lone event (idle, read-your-writes) never waits.
                        if delivered.len() < LINGER_AFTER {
                            break;
                        }
                        match tokio::time::timeout(LINGER, messages.next()).await {
                            Ok(Some(Ok(m))) => delivered.push(m),
                            Ok(Some(Err(e))) => {
                                stream_error = Some(e);
                                break;
                            }
                            Ok(None) | Err(_) => break,
                        }
                    }
                }
            }
            let admitted = admit(&mut sequencer, &delivered)?;
            if !admitted.raw.is_empty() {
                // A key store that cannot be reached ends the session (started over with
                // backoff), with the batch unacked: nothing is parked for it.
                let batch =
                    batch::decode(&self.log, admitted.raw, self.projection.personal_data_of())
                        .await?;
                let started = Instant::now();
                let Some(outcome) = self.apply_with_retry(shutdown, target, &batch).await? else {
                    // Shutdown before the batch committed: left unacked, applied by the next run.
                    return Ok(Stopped::Shutdown);
                };
                sequencer.applied(outcome.position);
                // debug, not info: under load this is dozens of lines a second; lag and parked
                // events are in `status()` (GET /ops/projections).
                debug!(
                    projection = name,
                    events = outcome.events,
                    messages = batch.len(),
                    skipped = outcome.skipped,
                    parked = outcome.parked,
                    position = outcome.position,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "batch applied"
                );
            }
            // After the commit, never before. A lost ack only means a redelivery, which the
            // checkpoint turns into a skip. With a gap, only up to the last message applied:
            // an ack past the gap would ack the missing messages too.
            let settled = match admitted.gap {
                Some(_) => admitted.last_applied,
                None => delivered.last(),
            };
            if let Some(last) = settled
                && let Err(e) = last.ack().await
            {
                warn!(projection = name, error = %e, "ack failed; the batch will be redelivered and skipped");
            }
            if let Some(gap) = admitted.gap {
                return Ok(Stopped::Gap(gap));
            }
            if let Some(e) = stream_error {
                return Err(e.into());
            }
        }
    }

    /// Applies one batch, retrying failures of the database with backoff (they are not the
    /// events' fault, so nothing is parked). `Ok(None)` when shutdown came first.
    async fn apply_with_retry(
        &self,
        shutdown: &CancellationToken,
        target: Target<'_>,
        batch: &Batch,
    ) -> anyhow::Result<Option<batch::Outcome>> {
        let mut backoff = Backoff::new();
        loop {
            let attempt = batch::apply_batch(&self.pool, &self.projection, target, batch);
            tokio::pin!(attempt);
            let result = tokio::select! {
                result = &mut attempt => result,
                _ = shutdown.cancelled() => {
                    // Let the batch finish if it can (fewer redeliveries); if not, dropping the
                    // future drops the transaction, which rolls it back.
                    match tokio::time::timeout(SHUTDOWN_GRACE, &mut attempt).await {
                        Ok(Ok(outcome)) => return Ok(Some(outcome)),
                        _ => return Ok(None),
                    }
                }
            };
            match result {
                Ok(outcome) => return Ok(Some(outcome)),
                Err(BatchError::Fenced) => anyhow::bail!("lost the leader lock"),
                Err(BatchError::Database(e)) => {
                    let wait = backoff.next();
                    if batch::is_projection_fault(&e) {
                        error!(projection = target.name, error = %e, retry_in_ms = wait.as_millis() as u64,
                            "the projection's SQL does not fit the database (a missing migration or a bug); nothing is parked, retrying until it is fixed");
                    } else {
                        warn!(projection = target.name, error = %e, retry_in_ms = wait.as_millis() as u64,
                            "batch failed; retrying");
                    }
                    if sleep_or_shutdown(wait, shutdown).await {
                        return Ok(None);
                    }
                }
            }
        }
    }
}

/// The part of a delivered batch to apply (see [`Sequencer`]).
pub(crate) struct Admitted<'a> {
    /// Stream sequence, subject and payload of each message to apply, in log order (what
    /// [`batch::decode`] takes).
    pub raw: Vec<(u64, String, bytes::Bytes)>,
    /// The last message to apply: what the ack covers when a gap cut the batch short.
    pub last_applied: Option<&'a jetstream::Message>,
    /// Messages missing before the rest of the batch, which is not applied.
    pub gap: Option<Gap>,
}

/// Runs delivered messages through `sequencer`: the contiguous prefix to apply, cut at a gap.
/// Used by the live worker and by the rebuild's replay.
pub(crate) fn admit<'a>(
    sequencer: &mut Sequencer,
    delivered: &'a [jetstream::Message],
) -> anyhow::Result<Admitted<'a>> {
    let mut admitted = Admitted {
        raw: Vec::with_capacity(delivered.len()),
        last_applied: None,
        gap: None,
    };
    for m in delivered {
        let info = m
            .info()
            .map_err(|e| anyhow::anyhow!("message without JetStream metadata: {e}"))?;
        match sequencer.admit(info.stream_sequence) {
            Admit::Next => {
                admitted.raw.push((
                    info.stream_sequence,
                    m.subject.to_string(),
                    m.payload.clone(),
                ));
                admitted.last_applied = Some(m);
            }
            Admit::Seen => {}
            Admit::Gap(gap) => {
                admitted.gap = Some(gap);
                break;
            }
        }
    }
    Ok(admitted)
}
