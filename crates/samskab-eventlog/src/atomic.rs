//! The rare command that must change several entities at once: one atomic batch (NATS 2.12,
//! ADR-50), all messages stored or none.
//!
//! Measured on this kind of machine it is ~30x slower than a single-message append, so the
//! command path uses [`EventLog::append`] wherever one entity is enough; this is for a decision
//! that spans subjects (e.g. a grant that must also reserve budget on its pool).
//! Atomic batches refuse `Nats-Msg-Id`, so idempotency here rests on the key-value record
//! alone (see `idempotency.rs`); the record's "did it land?" check looks at the first part.

use async_nats::header::HeaderMap;
use async_nats::jetstream::message::OutboundMessage;
use bytes::Bytes;
use jetstream_extra::batch_publish::BatchPublishExt;
use tracing::instrument;
use uuid::Uuid;

use crate::append::{Appended, CommandMeta, EXPECTED_LAST_SUBJECT_SEQUENCE, NewEvent, envelopes};
use crate::envelope::CONTENT_TYPE;
use crate::error::{AppendError, unavailable};
use crate::idempotency::{self, Pending};
use crate::{EntityRef, EventLog};

/// One entity's share of an atomic command.
#[derive(Debug, Clone)]
pub struct AtomicPart {
    pub entity: EntityRef,
    /// The entity's last subject sequence as read (0 for a new entity).
    pub expected: u64,
    pub events: Vec<NewEvent>,
}

impl EventLog {
    /// Appends one message per part in one atomic batch: every part's expectation must hold
    /// and all are stored, or none is ([`AppendError::Conflict`] if an expectation failed).
    /// Returns one [`Appended`] per part, in order.
    #[instrument(skip_all, fields(parts = parts.len()))]
    pub async fn append_atomic(
        &self,
        parts: Vec<AtomicPart>,
        meta: &CommandMeta,
    ) -> Result<Vec<Appended>, AppendError> {
        if parts.is_empty() || parts.iter().any(|p| p.events.is_empty()) {
            return Err(AppendError::Empty);
        }
        let prepared: Vec<(AtomicPart, String, Vec<Uuid>, Bytes)> = parts
            .into_iter()
            .map(|part| {
                let subject = part.entity.subject(&self.config.subject_prefix);
                let envelopes = envelopes(&part.entity, meta, part.events.clone());
                let ids = envelopes.iter().map(|e| e.id).collect();
                let body = serde_json::to_vec(&envelopes).map_err(unavailable)?;
                Ok((part, subject, ids, Bytes::from(body)))
            })
            .collect::<Result<_, AppendError>>()?;

        let key = match &meta.idempotency_key {
            Some(key) => {
                let (first, subject, ids, _) = &prepared[0];
                let key = idempotency::bucket_key(first.entity.tenant(), key);
                let pending = Pending {
                    subject: subject.clone(),
                    expected: first.expected,
                    first_event_id: ids[0],
                    fingerprint: meta.request_fingerprint.clone(),
                };
                if let Some(first) = self.begin_idempotent(&key, &pending).await? {
                    // The record remembers the first part; the batch's messages are consecutive
                    // in the stream, so the others are read back from the log after it.
                    let mut results = vec![first.clone()];
                    for i in 1..prepared.len() as u64 {
                        results.push(self.appended_at(first.position + i).await?);
                    }
                    return Ok(results);
                }
                Some(key)
            }
            None => None,
        };

        let message = |(part, subject, _, body): &(AtomicPart, String, Vec<Uuid>, Bytes)| {
            let mut headers = HeaderMap::new();
            headers.insert(
                EXPECTED_LAST_SUBJECT_SEQUENCE,
                part.expected.to_string().as_str(),
            );
            headers.insert("Content-Type", CONTENT_TYPE);
            OutboundMessage::new(subject.clone().into(), body.clone(), Some(headers))
        };
        let mut batch = self.js.batch_publish().build();
        let (last, rest) = prepared.split_last().ok_or(AppendError::Empty)?;
        for part in rest {
            batch
                .add_message(message(part))
                .await
                .map_err(|e| batch_error(e, part.0.expected))?;
        }
        let ack = batch
            .commit_message(message(last))
            .await
            .map_err(|e| batch_error(e, last.0.expected))?;
        // The batch's messages are consecutive in the stream, ending at the ack's sequence.
        let first_position = ack.sequence + 1 - prepared.len() as u64;
        let results: Vec<Appended> = prepared
            .into_iter()
            .enumerate()
            .map(|(i, (part, _, ids, _))| Appended {
                tenant: part.entity.tenant().into(),
                kind: part.entity.kind().into(),
                entity_id: part.entity.id().into(),
                position: first_position + i as u64,
                event_ids: ids,
                replayed: false,
            })
            .collect();
        if let Some(key) = key {
            self.finish_idempotent(&key, &results[0], meta.request_fingerprint.clone())
                .await?;
        }
        Ok(results)
    }
}

fn batch_error(e: jetstream_extra::batch_publish::BatchPublishError, expected: u64) -> AppendError {
    // The server's "wrong last sequence" (10071) has no kind of its own in jetstream-extra.
    if e.to_string().contains("wrong last sequence") {
        AppendError::Conflict { expected }
    } else {
        unavailable(e)
    }
}
