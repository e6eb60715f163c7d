use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tracing::{debug, instrument};
use uuid::Uuid;

use crate::envelope::{CONTENT_TYPE, EventEnvelope};
use crate::error::{AppendError, unavailable};
use crate::idempotency;
use crate::{EntityRef, EventLog};

/// One event a command decided, before it gets its envelope.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    pub data: serde_json::Value,
}

/// Who and what caused a command: recorded on every event it appends.
#[derive(Debug, Clone)]
pub struct CommandMeta {
    pub actor: String,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// The client's `Idempotency-Key`, if it sent one. Scoped to the tenant.
    pub idempotency_key: Option<String>,
    /// A digest of the request, so a key reused for a different request is refused.
    pub request_fingerprint: Option<String>,
}

impl CommandMeta {
    /// A command by `actor` that starts its own correlation, without an idempotency key (what
    /// the seeding, the tests and the benchmark append).
    pub fn by(actor: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            idempotency_key: None,
            request_fingerprint: None,
        }
    }
}

/// The outcome of an append: where the command's events are in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    pub tenant: String,
    pub kind: String,
    pub entity_id: String,
    /// Stream sequence of the message holding the command's events.
    pub position: u64,
    pub event_ids: Vec<Uuid>,
    /// True when this is the stored result of an earlier attempt with the same idempotency key.
    #[serde(skip)]
    pub replayed: bool,
}

/// NATS header names, as constants so a typo cannot silently drop a guarantee.
pub(crate) const NATS_MSG_ID: &str = "Nats-Msg-Id";
pub(crate) const EXPECTED_LAST_SUBJECT_SEQUENCE: &str = "Nats-Expected-Last-Subject-Sequence";

impl EventLog {
    /// Appends the events of one command to one entity, all or nothing: they travel in **one**
    /// message, so a reader sees all of them or none. `expected` is the entity's last subject
    /// sequence as read (0 for a new entity); if another command appended since, the server
    /// refuses and this returns [`AppendError::Conflict`].
    ///
    /// With an idempotency key, a retry that meets its first attempt's message (a duplicate
    /// inside the server's window, or on a conflict) returns the first attempt's result and
    /// appends nothing (see `idempotency.rs`).
    #[instrument(level = "debug", skip_all, fields(entity = %entity, expected))]
    pub async fn append(
        &self,
        entity: &EntityRef,
        expected: u64,
        meta: &CommandMeta,
        events: Vec<NewEvent>,
    ) -> Result<Appended, AppendError> {
        if events.is_empty() {
            return Err(AppendError::Empty);
        }
        let subject = entity.subject(&self.config.subject_prefix);
        let mut envelopes = envelopes(entity, meta, events);
        let pending_key = self
            .seal_sending_key(entity, expected == 0, &mut envelopes)
            .await?;
        let event_ids: Vec<Uuid> = envelopes.iter().map(|e| e.id).collect();

        let key_hash = meta
            .idempotency_key
            .as_deref()
            .map(|key| idempotency::key_hash(entity.tenant(), key));
        let fingerprint = meta.request_fingerprint.as_deref();

        let body = serde_json::to_vec(&envelopes).map_err(unavailable)?;
        // With a client key its hash is the message id (the server stores a retry inside its
        // duplicate window once); without one the first event id serves, so a publish the
        // client library retries after a lost ack is still stored once.
        let msg_id = key_hash.clone().unwrap_or_else(|| event_ids[0].to_string());
        let mut message = PublishMessage::build()
            .payload(Bytes::from(body))
            .header(NATS_MSG_ID, msg_id.as_str())
            .header(
                EXPECTED_LAST_SUBJECT_SEQUENCE,
                expected.to_string().as_str(),
            )
            .header("Content-Type", CONTENT_TYPE);
        if let Some(hash) = &key_hash {
            message = message.header(idempotency::KEY_HEADER, hash.as_str());
            if let Some(fingerprint) = fingerprint {
                message = message.header(idempotency::FINGERPRINT_HEADER, fingerprint);
            }
        }
        let sent = self.js.send_publish(subject.clone(), message).await;
        let published = match sent {
            Ok(ack) => ack.await,
            Err(e) => {
                self.settle_key(pending_key, false).await?;
                return Err(unavailable(e));
            }
        };
        // Stored: acked and new. A refusal or a duplicate stored nothing of this attempt; any
        // other failure (a lost ack) may have stored it, so its key must be kept too.
        let events_stored = match &published {
            Ok(ack) => !ack.duplicate,
            Err(e) => e.kind() != PublishErrorKind::WrongLastSequence,
        };
        self.settle_key(pending_key, events_stored).await?;
        let ack = match published {
            Ok(ack) => ack,
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                // A retry of a command that landed meets its own message on the subject (a
                // create's derived id makes it the first one): answer as the first time.
                if let Some(hash) = &key_hash
                    && let Some(stored) = self.keyed_after(&subject, expected, hash).await?
                {
                    debug!(
                        position = stored.appended.position,
                        "retried command found in the log"
                    );
                    return stored.replay(fingerprint);
                }
                return Err(AppendError::Conflict { expected });
            }
            Err(e) => return Err(unavailable(e)),
        };
        if ack.duplicate {
            // Another attempt with the same key landed first, inside the duplicate window:
            // its stored message is the answer (or the key was reused for another request).
            debug!(
                position = ack.sequence,
                "duplicate publish; answering with the stored message"
            );
            return self.stored_at(ack.sequence).await?.replay(fingerprint);
        }
        Ok(Appended {
            tenant: entity.tenant().into(),
            kind: entity.kind().into(),
            entity_id: entity.id().into(),
            position: ack.sequence,
            event_ids,
            replayed: false,
        })
    }
}

pub(crate) fn envelopes(
    entity: &EntityRef,
    meta: &CommandMeta,
    events: Vec<NewEvent>,
) -> Vec<EventEnvelope> {
    let time = Utc::now();
    events
        .into_iter()
        .map(|event| EventEnvelope {
            specversion: "1.0".into(),
            id: Uuid::now_v7(),
            source: format!("/samskab/{}", entity.tenant()),
            event_type: event.event_type,
            subject: format!("{}/{}", entity.kind(), entity.id()),
            time,
            datacontenttype: "application/json".into(),
            tenant: entity.tenant().into(),
            entitykind: entity.kind().into(),
            entityid: entity.id().into(),
            actor: meta.actor.clone(),
            correlationid: meta.correlation_id,
            causationid: meta.causation_id,
            data: event.data,
        })
        .collect()
}
