//! Sends what the notifications read model's outbox holds (`notify.outbox`, written in the
//! projection's checkpoint transaction), at least once: by e-mail over SMTP (`mail.rs`), and
//! to organisations' webhook endpoints, signed per Standard Webhooks (`webhook.rs`,
//! `signing.rs`).
//!
//! Two steps, each a transaction of its own:
//!
//! 1. **Queue** (`queue.rs`): the outbox rows beyond the cursor become deliveries in
//!    `delivery.delivery`, due now (a daily digest's: at the next 07:00 in Copenhagen), and
//!    the cursor moves past them. The cursor lives in schema
//!    `delivery`, which a rebuild of `notify` never touches: a rebuild writes the outbox again
//!    with the same message ids, all at or below the cursor, so nothing is sent twice.
//! 2. **Deliver** (`deliver.rs`): due deliveries are claimed (`FOR UPDATE SKIP LOCKED`, so
//!    copies of the sender share the work), sent, and their outcome recorded: delivered;
//!    failed, to be tried again after a backoff that doubles; parked after the last attempt or
//!    on a permanent refusal; dropped when there is nothing to send to (the message is gone
//!    with its forgotten recipient, or no address is held, or consent was withdrawn).
//!
//! A crash between sending and committing sends the delivery again: at least once. Each mail
//! carries its delivery's id as its Message-ID, each webhook as its `webhook-id` (the
//! message's id, derived from the log), so the second copy is recognisably the same. The address is looked up when sending, from the
//! directory read model, and never stored here; failures are recorded as a status code and a
//! class, never the server's text, which may name the address.

mod deliver;
mod mail;
mod queue;
mod signing;
mod webhook;

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use deliver::{Outcome, Round};
pub use mail::Mailer;
pub use signing::{WebhookKey, WebhookSecret};
pub use webhook::WebhookSender;

/// Why a delivery did not go.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Refused for good (an SMTP 5xx, an HTTP 4xx): trying again by itself would not help.
    Permanent(String),
    /// Anything else: an SMTP 4xx, an HTTP 5xx, no connection, a timeout. Tried again later.
    Transient(String),
    /// The address held is not one a mail can be sent to.
    BadAddress,
}

/// How the sender paces itself.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// How often it looks for new outbox rows and due deliveries when there was nothing to do.
    pub poll: Duration,
    /// Most deliveries claimed in one round.
    pub batch: i64,
    /// Mails of a round sent at the same time (each over a connection of lettre's pool).
    pub parallel: usize,
    /// Attempts before a delivery that keeps failing is parked.
    pub max_attempts: i32,
    /// The wait after the first failure; it doubles with each further one, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// The hour (0 to 23, Copenhagen time) each recipient's daily digest is mailed.
    pub digest_hour: u8,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(500),
            batch: 50,
            parallel: 8,
            // 30 s, 1, 2, 4 ... minutes: the eighth attempt is about an hour after the first.
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(30 * 60),
            digest_hour: 7,
        }
    }
}

/// The sender: queues the outbox and delivers it, until cancelled. Each channel goes only
/// if its transport is given (`with_mail`, `with_webhooks`); the other channel's deliveries
/// wait, queued, until a sender with it runs.
pub struct Sender {
    pool: PgPool,
    pub(crate) mailer: Option<Mailer>,
    pub(crate) webhooks: Option<WebhookSender>,
    config: DeliveryConfig,
}

impl Sender {
    pub fn new(pool: PgPool, config: DeliveryConfig) -> Self {
        Self {
            pool,
            mailer: None,
            webhooks: None,
            config,
        }
    }

    /// Mails the `email` channel.
    pub fn with_mail(self, mailer: Mailer) -> Self {
        Self {
            mailer: Some(mailer),
            ..self
        }
    }

    /// Posts the `webhook:<endpoint>` channels.
    pub fn with_webhooks(self, webhooks: WebhookSender) -> Self {
        Self {
            webhooks: Some(webhooks),
            ..self
        }
    }

    /// Queues and delivers until `shutdown`; a database failure is logged and retried after a
    /// poll interval, never the end of the sender.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        info!(
            mail_from = self.mailer.as_ref().map(|m| m.from().to_string()),
            webhooks = self.webhooks.is_some(),
            "delivering the notify outbox"
        );
        while !shutdown.is_cancelled() {
            let busy = match self.step().await {
                Ok(busy) => busy,
                Err(error) => {
                    warn!(%error, "delivery step failed; trying again");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(self.config.poll) => {}
                }
            }
        }
        Ok(())
    }

    /// One queueing and one delivery round; `true` if either found work (so the next step
    /// follows at once).
    pub async fn step(&self) -> Result<bool, sqlx::Error> {
        let queued = self.queue().await?;
        let round = self.deliver_due().await?;
        Ok(queued > 0 || !round.outcomes.is_empty())
    }

    /// Steps until a step finds nothing to do; every outcome on the way, as one round.
    /// `progress` hears the count of outcomes so far after each step (a long drain says how
    /// far it is).
    pub async fn drain(&self, mut progress: impl FnMut(usize)) -> Result<Round, sqlx::Error> {
        let mut all = Round::default();
        loop {
            let queued = self.queue().await?;
            let round = self.deliver_due().await?;
            if queued == 0 && round.outcomes.is_empty() {
                return Ok(all);
            }
            all.outcomes.extend(round.outcomes);
            progress(all.outcomes.len());
        }
    }

    /// Moves the outbox rows beyond the cursor into the queue; how many.
    pub async fn queue(&self) -> Result<u64, sqlx::Error> {
        let hour = i32::from(self.config.digest_hour.min(23));
        queue::queue(&self.pool, self.config.batch * 10, hour).await
    }

    /// Claims the due deliveries, sends them and records their outcomes, in one transaction.
    pub async fn deliver_due(&self) -> Result<Round, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let round = self.attempt(&mut tx).await?;
        tx.commit().await?;
        Ok(round)
    }

    /// [`Sender::deliver_due`] inside the caller's transaction: what is recorded holds only
    /// once the caller commits. (A test rolls it back to be the crash after sending.)
    pub async fn attempt(&self, conn: &mut sqlx::PgConnection) -> Result<Round, sqlx::Error> {
        deliver::round(conn, self, &self.config).await
    }
}
