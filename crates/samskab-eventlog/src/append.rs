use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tracing::{debug, instrument};
use uuid::Uuid;

use crate::envelope::{CONTENT_TYPE, EventEnvelope};
use crate::error::{AppendError, unavailable};
use crate::idempotency::{self, Pending};
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
    /// With an idempotency key, a retry returns the first attempt's result and appends nothing,
    /// also after the server's duplicate window (see `idempotency.rs`).
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
        let envelopes = envelopes(entity, meta, events);
        let event_ids: Vec<Uuid> = envelopes.iter().map(|e| e.id).collect();

        let key = match &meta.idempotency_key {
            Some(key) => {
                let key = idempotency::bucket_key(entity.tenant(), key);
                let pending = Pending {
                    subject: subject.clone(),
                    expected,
                    first_event_id: event_ids[0],
                    fingerprint: meta.request_fingerprint.clone(),
                };
                if let Some(done) = self.begin_idempotent(&key, &pending).await? {
                    return Ok(done);
                }
                Some(key)
            }
            None => None,
        };

        let body = serde_json::to_vec(&envelopes).map_err(unavailable)?;
        // Without a client key the first event id serves as message id: a publish the client
        // library retries after a lost ack is then still stored once.
        let msg_id = key.clone().unwrap_or_else(|| event_ids[0].to_string());
        let message = PublishMessage::build()
            .payload(Bytes::from(body))
            .header(NATS_MSG_ID, msg_id.as_str())
            .header(
                EXPECTED_LAST_SUBJECT_SEQUENCE,
                expected.to_string().as_str(),
            )
            .header("Content-Type", CONTENT_TYPE);
        let ack = self
            .js
            .send_publish(subject.clone(), message)
            .await
            .map_err(unavailable)?
            .await
            .map_err(|e| match e.kind() {
                PublishErrorKind::WrongLastSequence => AppendError::Conflict { expected },
                _ => unavailable(e),
            })?;

        let mut appended = Appended {
            tenant: entity.tenant().into(),
            kind: entity.kind().into(),
            entity_id: entity.id().into(),
            position: ack.sequence,
            event_ids,
            replayed: false,
        };
        if ack.duplicate {
            // Another attempt with the same key landed first, inside the duplicate window:
            // its stored events are the result.
            debug!(
                position = ack.sequence,
                "duplicate publish; answering with the stored events"
            );
            appended.event_ids = self.appended_at(ack.sequence).await?.event_ids;
            appended.replayed = true;
        }
        if let Some(key) = key {
            self.finish_idempotent(&key, &appended, meta.request_fingerprint.clone())
                .await?;
        }
        Ok(appended)
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
