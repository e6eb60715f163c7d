//! Idempotency, answered by the log itself.
//!
//! A command sent with an `Idempotency-Key` carries two headers on its message:
//! [`KEY_HEADER`] (a hash of tenant and key, also its `Nats-Msg-Id`) and [`FINGERPRINT_HEADER`]
//! (a digest of the request). Whether a command landed, and what it answered, is then read from
//! the entity's own subject; nothing is written beside the log:
//!
//! - **inside the server's duplicate window** the server stores a message with the same
//!   `Nats-Msg-Id` once, and a duplicate's ack names the stored message;
//! - **a create** gets an entity id derived from the key (the API's `CommandRequest::new_id`),
//!   so a retry addresses the same subject and meets expected-sequence 0: the conflict leads to
//!   the stored message (`EventLog::append`);
//! - **a change** loads the entity's history before deciding; the key is looked up in it first
//!   ([`History::command_with_key`](crate::History::command_with_key)).
//!
//! So the answer to a retry is the first attempt's answer (position, event ids, entity), also
//! after the duplicate window and after a crash between the publish and the answer, and a
//! retry costs no more round trips than its first attempt. A key reused for a different request
//! (another fingerprint) is refused with [`AppendError::KeyReused`].

use async_nats::HeaderMap;
use sha2::{Digest, Sha256};

use crate::EventLog;
use crate::append::Appended;
use crate::envelope::{RecordedEvent, decode_message};
use crate::error::{AppendError, unavailable};

/// The hash of tenant and key, on every message of a command sent with a key.
pub const KEY_HEADER: &str = "Samskab-Idempotency-Key";
/// The request's digest, so a key reused for a different request is told apart.
pub const FINGERPRINT_HEADER: &str = "Samskab-Request-Fingerprint";

/// Keys are the client's text: hash them with the tenant, so any key is a valid header value
/// and tenants cannot collide.
pub fn key_hash(tenant: &str, key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(tenant.as_bytes());
    hasher.update([0]);
    hasher.update(key.as_bytes());
    format!("{:x}", hasher.finalize())
}

/// The command among `keyed` (an entity's commands sent with a key) that was sent with this
/// tenant's `key`, if one landed.
pub fn find_keyed<'a>(
    keyed: &'a [StoredCommand],
    tenant: &str,
    key: &str,
) -> Option<&'a StoredCommand> {
    let hash = key_hash(tenant, key);
    keyed
        .iter()
        .find(|c| c.key_hash.as_deref() == Some(hash.as_str()))
}

/// A command as its message in the log records it: enough to answer a retry. Serialisable, as
/// part of a decision state's snapshot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredCommand {
    pub key_hash: Option<String>,
    pub fingerprint: Option<String>,
    pub appended: Appended,
}

impl StoredCommand {
    /// Reads a message's idempotency headers and events.
    pub(crate) fn from_message(
        position: u64,
        headers: &HeaderMap,
        payload: &[u8],
    ) -> Result<Self, AppendError> {
        let events = decode_message(position, payload).map_err(unavailable)?;
        Self::from_events(position, headers, &events).ok_or(AppendError::Empty)
    }

    /// The same from a message's events already decoded (`load` decodes every message anyway);
    /// `None` for a message without events.
    pub(crate) fn from_events(
        position: u64,
        headers: &HeaderMap,
        events: &[RecordedEvent],
    ) -> Option<Self> {
        let header = |name: &str| headers.get(name).map(|v| v.as_str().to_string());
        let first = events.first()?;
        Some(Self {
            key_hash: header(KEY_HEADER),
            fingerprint: header(FINGERPRINT_HEADER),
            appended: Appended {
                tenant: first.envelope.tenant.clone(),
                kind: first.envelope.entitykind.clone(),
                entity_id: first.envelope.entityid.clone(),
                position,
                event_ids: events.iter().map(|e| e.envelope.id).collect(),
                replayed: true,
            },
        })
    }

    /// The answer to a retry of this command: its first answer, or [`AppendError::KeyReused`]
    /// when the retry is a different request.
    pub fn replay(&self, fingerprint: Option<&str>) -> Result<Appended, AppendError> {
        match (self.fingerprint.as_deref(), fingerprint) {
            (Some(stored), Some(given)) if stored != given => Err(AppendError::KeyReused),
            _ => Ok(Appended {
                replayed: true,
                ..self.appended.clone()
            }),
        }
    }
}

impl EventLog {
    /// The command stored at `position`.
    pub(crate) async fn stored_at(&self, position: u64) -> Result<StoredCommand, AppendError> {
        let stream = self
            .js
            .get_stream_no_info(&self.config.stream)
            .await
            .map_err(unavailable)?;
        let message = stream.direct_get(position).await.map_err(unavailable)?;
        StoredCommand::from_message(position, &message.headers, &message.payload)
    }

    /// The command with `key_hash` on `subject` after position `after`, if one is there: what
    /// a conflicting append looks for before it reports the conflict. Usually the first message
    /// it reads is the one (a retried create meets its own first message).
    pub(crate) async fn keyed_after(
        &self,
        subject: &str,
        after: u64,
        key_hash: &str,
    ) -> Result<Option<StoredCommand>, AppendError> {
        let stream = self
            .js
            .get_stream_no_info(&self.config.stream)
            .await
            .map_err(unavailable)?;
        let mut from = after + 1;
        loop {
            let message = match stream
                .direct_get_next_for_subject(subject, Some(from))
                .await
            {
                Ok(message) => message,
                Err(e)
                    if e.kind() == async_nats::jetstream::stream::DirectGetErrorKind::NotFound =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(unavailable(e)),
            };
            if message
                .headers
                .get(KEY_HEADER)
                .is_some_and(|v| v.as_str() == key_hash)
            {
                return StoredCommand::from_message(
                    message.sequence,
                    &message.headers,
                    &message.payload,
                )
                .map(Some);
            }
            from = message.sequence + 1;
        }
    }
}
