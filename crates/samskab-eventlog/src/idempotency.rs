//! Idempotency beyond the server's duplicate window.
//!
//! JetStream drops a second message with the same `Nats-Msg-Id` only inside its duplicate
//! window (minutes). A client may retry later (a phone back online the next day), so each key
//! also gets a record in a key-value bucket:
//!
//! 1. `Pending { subject, expected, first_event_id }` is written *before* the publish
//!    (create, or compare-and-set over a stale pending record);
//! 2. `Done { appended }` is written after the ack.
//!
//! A crash between 1 and 2 leaves `Pending`. The next attempt looks in the log for the first
//! message on the subject after `expected`: if it carries `first_event_id`, the command did
//! land and its result is recovered from the log; otherwise it did not, and the command runs
//! again. So the record can lag the log, but never contradict it.

use async_nats::jetstream::kv;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::EventLog;
use crate::append::Appended;
use crate::envelope::decode_message;
use crate::error::{AppendError, unavailable};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub subject: String,
    pub expected: u64,
    pub first_event_id: Uuid,
    pub fingerprint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Record {
    Pending(Pending),
    Done {
        appended: Appended,
        fingerprint: Option<String>,
    },
}

/// Keys are the client's text: hash them, so any key is a valid bucket key and tenants can't
/// collide.
pub(crate) fn bucket_key(tenant: &str, key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(tenant.as_bytes());
    hasher.update([0]);
    hasher.update(key.as_bytes());
    format!("{:x}", hasher.finalize())
}

enum Resolved {
    Absent,
    Done(Appended),
    /// A pending record whose command did not land; carries the record's revision for CAS.
    NotLanded(u64),
}

impl EventLog {
    /// The stored result of a command with this key, if it completed. The API calls this before
    /// deciding, so a retried "register" returns the first entity instead of creating a second.
    pub async fn idempotent_result(
        &self,
        tenant: &str,
        key: &str,
        fingerprint: Option<&str>,
    ) -> Result<Option<Appended>, AppendError> {
        match self.resolve(&bucket_key(tenant, key), fingerprint).await? {
            Resolved::Done(appended) => Ok(Some(appended)),
            Resolved::Absent | Resolved::NotLanded(_) => Ok(None),
        }
    }

    /// Step 1. Returns the earlier result if the command already ran. Tries to create the
    /// record first: a first attempt (by far the most common) then costs one round trip, and
    /// only a key that exists is looked at.
    pub(crate) async fn begin_idempotent(
        &self,
        key: &str,
        pending: &Pending,
    ) -> Result<Option<Appended>, AppendError> {
        let value = encode(&Record::Pending(pending.clone()))?;
        match self.idempotency.create(key, value.clone()).await {
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => return Err(unavailable(e)),
        }
        match self.resolve(key, pending.fingerprint.as_deref()).await? {
            Resolved::Done(appended) => Ok(Some(appended)),
            // Created by someone else a moment ago and gone again: let the client retry.
            Resolved::Absent => Err(AppendError::InProgress),
            Resolved::NotLanded(revision) => {
                match self.idempotency.update(key, value, revision).await {
                    Ok(_) => Ok(None),
                    Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                        Err(AppendError::InProgress)
                    }
                    Err(e) => Err(unavailable(e)),
                }
            }
        }
    }

    /// Step 2.
    pub(crate) async fn finish_idempotent(
        &self,
        key: &str,
        appended: &Appended,
        fingerprint: Option<String>,
    ) -> Result<(), AppendError> {
        let value = encode(&Record::Done {
            appended: appended.clone(),
            fingerprint,
        })?;
        self.idempotency
            .put(key, value)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn resolve(&self, key: &str, fingerprint: Option<&str>) -> Result<Resolved, AppendError> {
        let Some(entry) = self.idempotency.entry(key).await.map_err(unavailable)? else {
            return Ok(Resolved::Absent);
        };
        if entry.operation != kv::Operation::Put {
            return Ok(Resolved::Absent);
        }
        let record: Record = serde_json::from_slice(&entry.value).map_err(unavailable)?;
        let stored_fingerprint = match &record {
            Record::Pending(p) => p.fingerprint.as_deref(),
            Record::Done { fingerprint, .. } => fingerprint.as_deref(),
        };
        if let (Some(stored), Some(given)) = (stored_fingerprint, fingerprint)
            && stored != given
        {
            return Err(AppendError::KeyReused);
        }
        match record {
            Record::Done { mut appended, .. } => {
                appended.replayed = true;
                Ok(Resolved::Done(appended))
            }
            Record::Pending(pending) => match self.landed(&pending).await? {
                Some(mut appended) => {
                    self.finish_idempotent(key, &appended, pending.fingerprint.clone())
                        .await?;
                    appended.replayed = true;
                    Ok(Resolved::Done(appended))
                }
                None => Ok(Resolved::NotLanded(entry.revision)),
            },
        }
    }

    /// Did the pending command land? Its message would be the first on its subject after
    /// `expected` (the server refused any later attempt with the same expectation).
    async fn landed(&self, pending: &Pending) -> Result<Option<Appended>, AppendError> {
        let stream = self
            .js
            .get_stream_no_info(&self.config.stream)
            .await
            .map_err(unavailable)?;
        let message = match stream
            .direct_get_next_for_subject(&pending.subject, Some(pending.expected + 1))
            .await
        {
            Ok(message) => message,
            Err(e) if e.kind() == async_nats::jetstream::stream::DirectGetErrorKind::NotFound => {
                return Ok(None);
            }
            Err(e) => return Err(unavailable(e)),
        };
        let events = decode_message(message.sequence, &message.payload).map_err(unavailable)?;
        let Some(first) = events.first() else {
            return Ok(None);
        };
        if first.envelope.id != pending.first_event_id {
            return Ok(None);
        }
        Ok(Some(Appended {
            tenant: first.envelope.tenant.clone(),
            kind: first.envelope.entitykind.clone(),
            entity_id: first.envelope.entityid.clone(),
            position: message.sequence,
            event_ids: events.iter().map(|e| e.envelope.id).collect(),
            replayed: true,
        }))
    }

    /// The result of the command whose message is at `position`, read back from the log.
    pub(crate) async fn appended_at(&self, position: u64) -> Result<Appended, AppendError> {
        let stream = self
            .js
            .get_stream_no_info(&self.config.stream)
            .await
            .map_err(unavailable)?;
        let message = stream.direct_get(position).await.map_err(unavailable)?;
        let events = decode_message(position, &message.payload).map_err(unavailable)?;
        let first = events.first().ok_or(AppendError::Empty)?;
        Ok(Appended {
            tenant: first.envelope.tenant.clone(),
            kind: first.envelope.entitykind.clone(),
            entity_id: first.envelope.entityid.clone(),
            position,
            event_ids: events.iter().map(|e| e.envelope.id).collect(),
            replayed: true,
        })
    }
}

fn encode(record: &Record) -> Result<Bytes, AppendError> {
    Ok(Bytes::from(
        serde_json::to_vec(record).map_err(unavailable)?,
    ))
}
