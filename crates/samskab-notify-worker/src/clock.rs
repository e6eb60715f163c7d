//! The clock: begins each municipality's day in the log, so that the time-based rules
//! (`reminders.rs`) run as the notifications projection meets the day's event, and a rebuild
//! meets the same days at the same places and makes the same reminders, once.
//!
//! Early each morning in Copenhagen (`ClockConfig::begins_at_hour`), for each municipality the
//! directory holds, the day's [`Day`] entity gets its one `began` event. Several clocks (every
//! `samskab all`, every notify worker) may race: the day's entity is new, so the log takes the
//! first append and refuses the others (`AppendError::Conflict`), which is no failure. A clock
//! that was down begins only today on its return (a reminder rule catches up on what it
//! missed: it tells what it has not told yet, not only what falls due today).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use samskab_domain::calendar::{danish_date, hours_ahead_of_utc};
use samskab_domain::{Day, DayCommand, DayId, Decider, DomainEvent};
use samskab_eventlog::{AppendError, CommandMeta, EntityRef, EventLog, NewEvent};
use samskab_projection::read_model::DIRECTORY;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// When the clock begins a day, and how often it looks.
#[derive(Debug, Clone)]
pub struct ClockConfig {
    /// The hour (Copenhagen time) from which a day is begun: early, so reminders are there
    /// when people start work, and before the 07:00 digests.
    pub begins_at_hour: u32,
    pub poll: Duration,
}

impl Default for ClockConfig {
    fn default() -> Self {
        Self {
            begins_at_hour: 6,
            poll: Duration::from_secs(60),
        }
    }
}

/// The actor the clock's events are recorded under.
pub const CLOCK_ACTOR: &str = "system:clock";

pub struct Clock {
    log: EventLog,
    pool: PgPool,
    config: ClockConfig,
    /// The day each tenant was last seen begun, so a poll appends nothing it need not.
    begun: Mutex<HashMap<String, NaiveDate>>,
}

impl Clock {
    pub fn new(log: EventLog, pool: PgPool, config: ClockConfig) -> Self {
        Self {
            log,
            pool,
            config,
            begun: Mutex::new(HashMap::new()),
        }
    }

    /// Begins each day in time until `shutdown`; a failure is logged and tried again at the
    /// next poll, never the end of the clock.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        info!(
            begins_at_hour = self.config.begins_at_hour,
            "the clock begins each day"
        );
        while !shutdown.is_cancelled() {
            if let Err(error) = self.tick(Utc::now()).await {
                warn!(
                    error = format!("{error:#}"),
                    "the clock could not begin the day; trying again"
                );
            }
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
        Ok(())
    }

    /// At `now`: if the morning has come in Copenhagen, begins today for every municipality
    /// not yet begun. The municipalities whose day this call began.
    pub async fn tick(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
        let local_hour = (i64::from(now.hour()) + hours_ahead_of_utc(now)).rem_euclid(24);
        if local_hour < i64::from(self.config.begins_at_hour) {
            return Ok(Vec::new());
        }
        let today = danish_date(now);
        let tenants: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT tenant FROM {}.municipality ORDER BY tenant",
            DIRECTORY.schema
        )))
        .fetch_all(&self.pool)
        .await?;
        let mut began = Vec::new();
        for tenant in tenants {
            if self.seen_begun(&tenant, today) {
                continue;
            }
            if self.begin(&tenant, today, now).await? {
                info!(%tenant, %today, "day begun");
                began.push(tenant.clone());
            }
            self.begun
                .lock()
                .map_err(|_| anyhow::anyhow!("the clock's memory is poisoned"))?
                .insert(tenant, today);
        }
        Ok(began)
    }

    fn seen_begun(&self, tenant: &str, today: NaiveDate) -> bool {
        self.begun
            .lock()
            .map(|begun| begun.get(tenant).is_some_and(|day| *day >= today))
            .unwrap_or(false)
    }

    /// Appends day `date`'s `began` in `tenant`: `false` if it had begun already.
    async fn begin(
        &self,
        tenant: &str,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let id = DayId::of(date);
        let entity = EntityRef::new(tenant, Day::KIND.as_str(), &id.to_string())?;
        let command = DayCommand::Begin { date, at: now };
        let events: Vec<NewEvent> = Day::decide(&Default::default(), &command)?
            .iter()
            .map(|e| NewEvent {
                event_type: e.event_type().to_string(),
                data: e.to_payload(),
            })
            .collect();
        match self
            .log
            .append(&entity, 0, &CommandMeta::by(CLOCK_ACTOR), events)
            .await
        {
            Ok(_) => Ok(true),
            Err(AppendError::Conflict { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}
