//! The rare command that must change several entities at once: one atomic batch (NATS 2.12,
//! ADR-50), all messages stored or none.
//!
//! Measured on this kind of machine it is ~30x slower than a single-message append, so the
//! command path uses [`EventLog::append`] wherever one entity is enough; this is for a decision
//! that spans subjects (e.g. a grant that must also reserve budget on its pool).
//! Atomic batches refuse `Nats-Msg-Id`, so a retry is found by its key header alone: on a
//! conflict, the first part's subject is searched for the command (see `idempotency.rs`); the
//! batch's messages are consecutive, so the other parts follow it.

use async_nats::header::HeaderMap;
use async_nats::jetstream::message::OutboundMessage;
use bytes::Bytes;
use jetstream_extra::batch_publish::BatchPublishExt;
use tracing::instrument;
use uuid::Uuid;

use crate::append::{Appended, CommandMeta, EXPECTED_LAST_SUBJECT_SEQUENCE, NewEvent, envelopes};
use crate::envelope::CONTENT_TYPE;
use crate::error::{AppendError, unavailable};
use crate::idempotency;
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
        let mut prepared: Vec<(AtomicPart, String, Vec<Uuid>, Bytes)> =
            Vec::with_capacity(parts.len());
        for part in parts {
            let subject = part.entity.subject(&self.config.subject_prefix);
            let mut envelopes = envelopes(&part.entity, meta, part.events.clone());
            self.seal(&part.entity, part.expected == 0, &mut envelopes)
                .await?;
            let ids = envelopes.iter().map(|e| e.id).collect();
            let body = serde_json::to_vec(&envelopes).map_err(unavailable)?;
            prepared.push((part, subject, ids, Bytes::from(body)));
        }

        let key_hash = meta
            .idempotency_key
            .as_deref()
            .map(|key| idempotency::key_hash(prepared[0].0.entity.tenant(), key));
        let fingerprint = meta.request_fingerprint.as_deref();

        let message = |(part, subject, _, body): &(AtomicPart, String, Vec<Uuid>, Bytes)| {
            let mut headers = HeaderMap::new();
            headers.insert(
                EXPECTED_LAST_SUBJECT_SEQUENCE,
                part.expected.to_string().as_str(),
            );
            headers.insert("Content-Type", CONTENT_TYPE);
            if let Some(hash) = &key_hash {
                headers.insert(idempotency::KEY_HEADER, hash.as_str());
                if let Some(fingerprint) = fingerprint {
                    headers.insert(idempotency::FINGERPRINT_HEADER, fingerprint);
                }
            }
            OutboundMessage::new(subject.clone().into(), body.clone(), Some(headers))
        };
        let mut batch = self.js.batch_publish().build();
        let (last, rest) = prepared.split_last().ok_or(AppendError::Empty)?;
        let mut published = Ok(());
        for part in rest {
            published = batch
                .add_message(message(part))
                .await
                .map_err(|e| batch_error(e, part.0.expected));
            if published.is_err() {
                break;
            }
        }
        let acked = match published {
            Ok(()) => batch
                .commit_message(message(last))
                .await
                .map_err(|e| batch_error(e, last.0.expected)),
            Err(e) => Err(e),
        };
        let ack = match acked {
            Ok(ack) => ack,
            Err(AppendError::Conflict { expected }) => {
                // A retry of a batch that landed meets its first part's message.
                let (first, subject, _, _) = &prepared[0];
                if let Some(hash) = &key_hash
                    && let Some(stored) = self.keyed_after(subject, first.expected, hash).await?
                {
                    let head = stored.replay(fingerprint)?;
                    let mut results = vec![head.clone()];
                    for i in 1..prepared.len() as u64 {
                        results.push(
                            self.stored_at(head.position + i)
                                .await?
                                .replay(fingerprint)?,
                        );
                    }
                    return Ok(results);
                }
                return Err(AppendError::Conflict { expected });
            }
            Err(e) => return Err(e),
        };
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
