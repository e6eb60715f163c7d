use futures::StreamExt;
use jetstream_extra::batch_fetch::BatchFetchExt;
use tracing::instrument;

use crate::envelope::{RecordedEvent, decode_message};
use crate::error::LoadError;
use crate::idempotency::{self, KEY_HEADER, StoredCommand};
use crate::{EntityRef, EventLog};

/// Messages per direct-get request. An entity's history is short (tens of commands); a long
/// one takes several round trips.
const BATCH: usize = 256;

/// An entity's history and the subject sequence to expect when appending after it.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub events: Vec<RecordedEvent>,
    /// Stream sequence of the entity's last message; 0 when it has none.
    pub last_position: u64,
    /// The entity's commands that were sent with an `Idempotency-Key`, oldest first.
    pub keyed: Vec<StoredCommand>,
}

impl History {
    /// The entity's command sent with this tenant's `key`, if one landed: a retried change
    /// answers with it instead of deciding again (see `idempotency.rs`).
    pub fn command_with_key(&self, tenant: &str, key: &str) -> Option<&StoredCommand> {
        idempotency::find_keyed(&self.keyed, tenant, key)
    }
}

impl EventLog {
    /// True when the entity has at least one event (e.g. is this tenant a registered
    /// municipality?).
    pub async fn has_events(&self, entity: &EntityRef) -> Result<bool, LoadError> {
        Ok(self.entity_position(entity).await? > 0)
    }

    /// The log position of the entity's last message, 0 when it has none: one direct get of
    /// its subject's last message, whatever the length of its history.
    pub async fn entity_position(&self, entity: &EntityRef) -> Result<u64, LoadError> {
        let stream = self
            .js
            .get_stream_no_info(&self.config.stream)
            .await
            .map_err(|e| LoadError::Unavailable(Box::new(e)))?;
        match stream
            .direct_get_last_for_subject(entity.subject(&self.config.subject_prefix))
            .await
        {
            Ok(message) => Ok(message.sequence),
            Err(e) if e.kind() == async_nats::jetstream::stream::DirectGetErrorKind::NotFound => {
                Ok(0)
            }
            Err(e) => Err(LoadError::Unavailable(Box::new(e))),
        }
    }

    /// Loads every event of one entity with batch direct get (ADR-31): one request returns up to
    /// [`BATCH`] messages of the subject, without creating a consumer. See the benchmark for
    /// how this compares with an ordered consumer.
    #[instrument(level = "debug", skip(self), fields(entity = %entity))]
    pub async fn load(&self, entity: &EntityRef) -> Result<History, LoadError> {
        self.load_after(entity, 0).await
    }

    /// The entity's events after log position `after` (what a cached decision state has not
    /// seen yet). `last_position` is `after` when there are none.
    #[instrument(level = "debug", skip(self), fields(entity = %entity))]
    pub async fn load_after(&self, entity: &EntityRef, after: u64) -> Result<History, LoadError> {
        let subject = entity.subject(&self.config.subject_prefix);
        let mut history = History {
            last_position: after,
            ..History::default()
        };
        let mut from = after + 1;
        loop {
            let mut batch = self
                .js
                .get_batch(&self.config.stream, BATCH)
                .subject(subject.clone())
                .sequence(from)
                .send()
                .await
                .map_err(|e| LoadError::Unavailable(Box::new(e)))?;
            let mut received = 0;
            while let Some(message) = batch.next().await {
                let message = match message {
                    Ok(message) => message,
                    // "No messages" is how the server answers for an empty subject.
                    Err(e)
                        if e.kind()
                            == jetstream_extra::batch_fetch::BatchFetchErrorKind::NoMessages =>
                    {
                        break;
                    }
                    Err(e) => return Err(LoadError::Unavailable(Box::new(e))),
                };
                received += 1;
                history.last_position = message.sequence;
                let events = decode_message(message.sequence, &message.payload)?;
                if message.headers.get(KEY_HEADER).is_some()
                    && let Some(command) =
                        StoredCommand::from_events(message.sequence, &message.headers, &events)
                {
                    history.keyed.push(command);
                }
                history.events.extend(events);
            }
            if received < BATCH {
                self.open(&mut history.events).await?;
                return Ok(history);
            }
            from = history.last_position + 1;
        }
    }
}
