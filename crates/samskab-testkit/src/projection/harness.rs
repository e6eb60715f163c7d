//! The projection through the runtime: a NATS server of its own, a migrated database, and the
//! real projector running in a task until the test stops it.

use std::fmt::Display;
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{DateTime, Utc};
use samskab_domain::DomainEvent;
use samskab_eventlog::{CommandMeta, EntityRef, EventLog, LogConfig, NewEvent};
use samskab_projection::{CancellationToken, Projection, Projector, ProjectorConfig};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{ReadModelTest, migrated_database, new_event};
use crate::NatsServer;

/// A running projector (see [`ReadModelTest::start_projector`]): append to `log`, wait with
/// [`caught_up`](Self::caught_up), read the rows from `pool`.
pub struct ProjectorHarness {
    _nats: NatsServer,
    pub log: EventLog,
    pub pool: PgPool,
    shutdown: CancellationToken,
    projector: JoinHandle<()>,
    last_position: u64,
    actor: &'static str,
    name: &'static str,
    schema: &'static str,
}

impl<P: Projection + Clone> ReadModelTest<P> {
    /// Starts a NATS server and the projection's [`Projector`] on a fresh migrated database.
    pub async fn start_projector(&self) -> anyhow::Result<ProjectorHarness> {
        let nats = NatsServer::start()?;
        let log = EventLog::create_or_update(&nats.url(), LogConfig::default()).await?;
        let pool = migrated_database().await?;
        let shutdown = CancellationToken::new();
        let projector = Projector::new(
            self.projection.clone(),
            log.clone(),
            pool.clone(),
            ProjectorConfig::default(),
        );
        let token = shutdown.clone();
        let projector = tokio::spawn(async move {
            if let Err(error) = projector.run(token).await {
                panic!("projector failed: {error:?}");
            }
        });
        Ok(ProjectorHarness {
            _nats: nats,
            log,
            pool,
            shutdown,
            projector,
            last_position: 0,
            actor: self.actor,
            name: self.projection.name(),
            schema: self.projection.schema(),
        })
    }
}

impl ProjectorHarness {
    /// Appends one command's events to an entity, after whatever it already has.
    pub async fn append(
        &mut self,
        tenant: &str,
        kind: &str,
        id: &str,
        events: Vec<NewEvent>,
    ) -> anyhow::Result<u64> {
        let entity = EntityRef::new(tenant, kind, id)?;
        let expected = self.log.load(&entity).await?.last_position;
        let meta = CommandMeta {
            actor: self.actor.into(),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            idempotency_key: None,
            request_fingerprint: None,
        };
        let appended = self.log.append(&entity, expected, &meta, events).await?;
        self.last_position = appended.position;
        Ok(appended.position)
    }

    /// Appends one domain event to entity `id` of its kind.
    pub async fn append_domain<E: DomainEvent>(
        &mut self,
        tenant: &str,
        id: impl Display,
        event: &E,
    ) -> anyhow::Result<u64> {
        self.append(
            tenant,
            E::KIND.as_str(),
            &id.to_string(),
            vec![new_event(event)],
        )
        .await
    }

    /// The envelope times of an entity's events, in log order.
    pub async fn envelope_times(
        &self,
        tenant: &str,
        kind: &str,
        id: &str,
    ) -> anyhow::Result<Vec<DateTime<Utc>>> {
        let entity = EntityRef::new(tenant, kind, id)?;
        let history = self.log.load(&entity).await?;
        Ok(history.events.iter().map(|e| e.envelope.time).collect())
    }

    /// Waits until the projection's checkpoint has reached everything appended so far. The
    /// deadline is a hang guard only: CI is a busy two-core machine.
    pub async fn caught_up(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let sql = format!(
            "SELECT position FROM {}.checkpoint WHERE projection = $1",
            self.schema
        );
        loop {
            let position: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(self.name)
                .fetch_optional(&self.pool)
                .await?;
            if position.is_some_and(|p| p >= i64::try_from(self.last_position).unwrap_or(0)) {
                return Ok(());
            }
            if self.projector.is_finished() {
                bail!("the projector stopped before catching up");
            }
            if Instant::now() > deadline {
                bail!(
                    "checkpoint at {position:?}, still short of {}",
                    self.last_position
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the projector and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        // A hang guard: the batch in flight gets up to SHUTDOWN_GRACE (5 s) to finish.
        tokio::time::timeout(Duration::from_secs(30), self.projector).await??;
        Ok(())
    }
}
