//! The projection runtime every worker uses.
//!
//! A worker implements [`Projection`] (a name, a schema, `apply()` for one event) and runs a
//! [`Projector`]:
//!
//! - a durable pull consumer per projection (durable name = projection name), recreated at start
//!   from the PostgreSQL checkpoint, which is the truth (`consumer.rs`);
//! - batches applied in one transaction together with the checkpoint, acked after the commit;
//!   redelivered messages at or below the checkpoint are skipped, so each event has its effect
//!   once (`batch.rs`, `checkpoint.rs`);
//! - an event that cannot be applied is parked in `samskab_runtime.parked_event` and the batch
//!   goes on; a database failure is retried, never parked (`park.rs`, `batch.rs`);
//! - one applier per projection at a time, elected with a PostgreSQL advisory lock; other copies
//!   stand by (`leader.rs`);
//! - [`Projector::rebuild`] replays the log into fresh tables and swaps them in (`rebuild.rs`);
//! - [`status`] reports lag and parked events, [`wait_for_position`] gives read-your-writes.
//!
//! Every projection schema must have a table
//! `checkpoint (projection text primary key, position bigint not null)`, and every table the
//! projection writes must live in that schema (see `migrations/README.md`).

mod batch;
mod checkpoint;
mod consumer;
mod erased;
mod event_context;
mod ident;
mod leader;
mod park;
pub mod read_model;
mod rebuild;
mod recipient;
mod sequence;
mod status;

use std::time::Duration;

use samskab_eventlog::EventLog;
use sqlx::PgPool;
pub use tokio_util::sync::CancellationToken;
use tracing::warn;

pub use checkpoint::{checkpoint, wait_for_position};
pub use erased::RunProjection;
pub use event_context::EventContext;
pub use read_model::ReadModel;
pub use rebuild::RebuildReport;
pub use recipient::Recipient;
pub use samskab_eventlog::RecordedEvent;
pub use status::{ProjectionStatus, status};

/// All of `migrations/` (the runtime's own `0001_projection_runtime.sql` and every
/// projection's schema), applied by `samskab migrate`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// One read model. Implemented by each worker crate.
pub trait Projection: Send + Sync + 'static {
    /// Durable consumer name and checkpoint key, `[a-z_]+`, e.g. `"directory"`.
    fn name(&self) -> &'static str;

    /// The PostgreSQL schema holding the projection's tables (created by `migrations/`),
    /// including its `checkpoint` table. The runtime sets `SET LOCAL search_path TO <schema>`
    /// in each batch transaction, so `apply()` uses unqualified table names - which is what
    /// lets `rebuild()` write into a fresh schema.
    fn schema(&self) -> &'static str;

    /// Subject filters; default: every event (`<prefix>.>`).
    fn filter_subjects(&self, subject_prefix: &str) -> Vec<String> {
        vec![format!("{subject_prefix}.>")]
    }

    /// The entity kinds (`"volunteer"`, ...) whose personal data this read model keeps. The
    /// runtime opens the sealed `personal` member of those kinds' events and of no others: any
    /// other event reaches `apply` with `personal` as `null`, as a forgotten person's does.
    /// Default: none, so a read model that shows no person never decrypts anyone's data (and
    /// spends no CPU on it: each projector opens every event it is given).
    fn personal_data_of(&self) -> &'static [&'static str] {
        &[]
    }

    /// Applies one event inside the batch transaction. Must be deterministic given the read
    /// model (the runtime guarantees each event is applied once per read model). An `Err` parks
    /// the event's command (all its events are rolled back together) unless it is a failure of
    /// the database itself, which is retried.
    fn apply<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        event: &'a RecordedEvent,
    ) -> impl std::future::Future<Output = Result<(), ApplyError>> + Send + 'a;

    /// Applies the events of a batch (in log order, all above the checkpoint) inside the batch
    /// transaction. The default calls [`Projection::apply`] for each. A projection may override
    /// it to write many events with one statement (a round trip per event is what bounds a
    /// projector), as long as the effect equals applying them one by one in order. If it fails,
    /// the runtime rolls the batch back and applies it again message by message with `apply`,
    /// so the failing message is found and parked alone.
    fn apply_batch<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        events: &'a [RecordedEvent],
    ) -> impl std::future::Future<Output = Result<(), ApplyError>> + Send + 'a {
        async move {
            for event in events {
                self.apply(&mut *conn, event).await?;
            }
            Ok(())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("unknown event type {0}")]
    UnknownEventType(String),
    #[error("malformed event: {0}")]
    Malformed(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Clone)]
pub struct ProjectorConfig {
    /// Most messages per batch transaction. 500 rows per transaction reached ~45,000 rows/s
    /// in the design's measurement; one per transaction ~1,600/s.
    pub batch_size: usize,
    /// How long one pull request waits at the server for new messages before the client
    /// renews it (heartbeats are sent at half of it, which is how a dead server is noticed).
    /// Not a latency: messages are handed on as they arrive, and a batch is whatever has
    /// arrived when the previous one committed.
    pub fetch_wait: Duration,
    /// How long the server waits for an ack before redelivering. Longer than the slowest batch;
    /// a redelivery is harmless (skipped) but wasted work.
    pub ack_wait: Duration,
}

impl Default for ProjectorConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            fetch_wait: Duration::from_secs(5),
            ack_wait: Duration::from_secs(30),
        }
    }
}

/// Runs one [`Projection`] against the log.
pub struct Projector<P: Projection> {
    pub(crate) projection: P,
    pub(crate) log: EventLog,
    pub(crate) pool: PgPool,
    pub(crate) config: ProjectorConfig,
}

impl<P: Projection> Projector<P> {
    pub fn new(projection: P, log: EventLog, pool: PgPool, mut config: ProjectorConfig) -> Self {
        config.batch_size = config.batch_size.max(1);
        // The client requires the heartbeat (fetch_wait / 2) to be well above zero.
        config.fetch_wait = config.fetch_wait.max(Duration::from_millis(200));
        Self {
            projection,
            log,
            pool,
            config,
        }
    }

    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// Runs until `shutdown` is cancelled. The in-flight batch is committed and acked, or left
    /// unacked and rolled back - never half-applied. Failures (NATS or PostgreSQL away, lost
    /// leadership) are logged and the worker starts over with backoff; it returns an error only
    /// for a projection that cannot run at all (an invalid name or schema).
    #[tracing::instrument(skip_all, fields(projection = self.projection.name()))]
    pub async fn run(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        ident::validate("projection name", self.projection.name())?;
        ident::validate("schema", self.projection.schema())?;
        let mut backoff = consumer::Backoff::new();
        while !shutdown.is_cancelled() {
            let started = std::time::Instant::now();
            match self.session(&shutdown).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    if started.elapsed() > Duration::from_secs(60) {
                        backoff.reset();
                    }
                    let wait = backoff.next();
                    warn!(
                        error = format!("{e:#}"),
                        retry_in_ms = wait.as_millis() as u64,
                        "projector stopped; starting over"
                    );
                    if consumer::sleep_or_shutdown(wait, &shutdown).await {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// Replays the whole log into fresh tables, then swaps them in (see `rebuild.rs`).
    /// `progress(done, total)` is called every few thousand log positions, in log positions
    /// (`total` is the log's last position when the rebuild started).
    #[tracing::instrument(skip_all, fields(projection = self.projection.name()))]
    pub async fn rebuild(
        &self,
        progress: impl Fn(u64, u64) + Send + Sync,
    ) -> anyhow::Result<RebuildReport> {
        ident::validate("projection name", self.projection.name())?;
        self.rebuild_inner(&progress).await
    }
}
