//! Personal data in the log: sealed on append, opened on every read.
//!
//! An event payload's member `personal` is its data subject's personal data; the subject is the
//! entity (`<tenant>.<kind>.<id>`). Before a message is published, every such member is sealed
//! with the subject's data key (created with the subject's first personal data), bound to the
//! event's id; nothing personal reaches the stream in plain text. A reader gets it back opened,
//! or as `null` once the subject was forgotten (its key erased). See `samskab-privacy`.

use std::collections::HashMap;

use samskab_privacy::{DataKey, DataSubject, PendingKey, Vault, personal};

use crate::envelope::{EventEnvelope, RecordedEvent};
use crate::error::{AppendError, LoadError};
use crate::{EntityRef, EventLog};

fn subject_of(tenant: &str, kind: &str, id: &str) -> Option<DataSubject> {
    DataSubject::new(tenant, kind, id).ok()
}

fn subject_of_entity(entity: &EntityRef) -> Result<DataSubject, AppendError> {
    DataSubject::new(entity.tenant(), entity.kind(), entity.id())
        .map_err(|e| AppendError::Unavailable(Box::new(e)))
}

fn subject_of_envelope(envelope: &EventEnvelope) -> Option<DataSubject> {
    subject_of(&envelope.tenant, &envelope.entitykind, &envelope.entityid)
}

impl EventLog {
    /// The key store, unless this log stores personal data in plain text (the benchmark's
    /// baseline).
    pub fn vault(&self) -> Option<&Vault> {
        self.vault.as_ref()
    }

    /// Seals the personal data of a command's events before they are published. `is_new`: the
    /// entity has no events yet, so its key is created without looking first.
    pub(crate) async fn seal(
        &self,
        entity: &EntityRef,
        is_new: bool,
        envelopes: &mut [EventEnvelope],
    ) -> Result<(), AppendError> {
        let Some(vault) = &self.vault else {
            return Ok(());
        };
        if !envelopes
            .iter()
            .any(|e| personal::has_plain_personal_data(&e.data))
        {
            return Ok(());
        }
        let subject = subject_of_entity(entity)?;
        let key = vault
            .key_for_sealing(&subject, is_new)
            .await
            .map_err(|e| AppendError::Unavailable(Box::new(e)))?;
        for envelope in envelopes {
            let aad = personal::associated_data(&subject, &envelope.id.to_string());
            personal::seal(&mut envelope.data, &key, &aad);
        }
        Ok(())
    }

    /// As [`EventLog::seal`], but a new entity's new data key is only sent, not awaited: the
    /// caller publishes the events at the same time and then [`EventLog::settle_key`]s, so a
    /// registration costs one round trip, not two.
    pub(crate) async fn seal_sending_key(
        &self,
        entity: &EntityRef,
        is_new: bool,
        envelopes: &mut [EventEnvelope],
    ) -> Result<Option<PendingKey>, AppendError> {
        let Some(vault) = &self.vault else {
            return Ok(None);
        };
        if !is_new
            || !envelopes
                .iter()
                .any(|e| personal::has_plain_personal_data(&e.data))
        {
            self.seal(entity, is_new, envelopes).await?;
            return Ok(None);
        }
        let subject = subject_of_entity(entity)?;
        let pending = vault
            .start_new_key(&subject)
            .await
            .map_err(|e| AppendError::Unavailable(Box::new(e)))?;
        for envelope in envelopes {
            let aad = personal::associated_data(&subject, &envelope.id.to_string());
            personal::seal(&mut envelope.data, pending.key(), &aad);
        }
        Ok(Some(pending))
    }

    /// Settles the key [`EventLog::seal_sending_key`] sent, once the events' fate is known:
    /// `events_stored` (or maybe stored: a lost ack) means the key must be in the store before
    /// the command is answered.
    pub(crate) async fn settle_key(
        &self,
        pending: Option<PendingKey>,
        events_stored: bool,
    ) -> Result<(), AppendError> {
        match (&self.vault, pending) {
            (Some(vault), Some(pending)) => vault
                .confirm(pending, events_stored)
                .await
                .map_err(|e| AppendError::Unavailable(Box::new(e))),
            _ => Ok(()),
        }
    }

    /// The data keys of `subjects` (see [`sealed_subjects`]): one request for all of them (a
    /// projector's whole batch). A forgotten subject has none.
    pub async fn opening_keys(&self, subjects: Vec<DataSubject>) -> Result<OpeningKeys, LoadError> {
        let Some(vault) = &self.vault else {
            return Ok(OpeningKeys::default());
        };
        if subjects.is_empty() {
            return Ok(OpeningKeys::default());
        }
        let keys = vault
            .fetch_many(&subjects)
            .await
            .map_err(|e| LoadError::Unavailable(Box::new(e)))?;
        Ok(OpeningKeys(keys))
    }

    /// Opens the personal data of `events` in place (see [`OpeningKeys::open`]).
    pub async fn open(&self, events: &mut [RecordedEvent]) -> Result<(), LoadError> {
        let keys = self.opening_keys(sealed_subjects(events.iter())).await?;
        keys.open(events)
    }

    /// Forgets the entity's data subject: erases its data key, so no event's personal data
    /// about it can be opened again, here or in any rebuild, and deletes its snapshot. True
    /// when there was a key.
    pub async fn forget(&self, entity: &EntityRef) -> Result<bool, AppendError> {
        let Some(vault) = &self.vault else {
            return Ok(false);
        };
        let had_key = vault
            .forget(&subject_of_entity(entity)?)
            .await
            .map_err(|e| AppendError::Unavailable(Box::new(e)))?;
        self.delete_snapshot(entity).await?;
        Ok(had_key)
    }
}

/// The data subjects whose sealed personal data `events` hold, each once.
pub fn sealed_subjects<'a>(
    events: impl IntoIterator<Item = &'a RecordedEvent>,
) -> Vec<DataSubject> {
    let mut subjects: Vec<DataSubject> = events
        .into_iter()
        .filter(|e| personal::has_sealed_personal_data(&e.envelope.data))
        .filter_map(|e| subject_of_envelope(&e.envelope))
        .collect();
    subjects.sort();
    subjects.dedup();
    subjects
}

/// Sets the event's sealed personal data to `null` without opening it, for a reader that keeps
/// none of its subject's (a projection whose read model shows no such person).
pub fn withhold_personal_data(event: &mut RecordedEvent) {
    personal::withhold(&mut event.envelope.data);
}

/// Data keys fetched for a set of events.
#[derive(Default)]
pub struct OpeningKeys(HashMap<DataSubject, DataKey>);

impl OpeningKeys {
    /// Opens each event's sealed personal data, or sets it to `null` where the subject has no
    /// key any more. An event whose ciphertext does not open with its own subject's key and
    /// id (changed, or copied from another event) is [`LoadError::Unsealable`].
    pub fn open(&self, events: &mut [RecordedEvent]) -> Result<(), LoadError> {
        for event in events {
            if !personal::has_sealed_personal_data(&event.envelope.data) {
                continue;
            }
            let subject = subject_of_envelope(&event.envelope);
            let key = subject.as_ref().and_then(|s| self.0.get(s));
            let aad = subject
                .map(|s| personal::associated_data(&s, &event.envelope.id.to_string()))
                .unwrap_or_default();
            personal::open(&mut event.envelope.data, key, &aad).map_err(|_| {
                LoadError::Unsealable {
                    position: event.position,
                    index: event.index,
                }
            })?;
        }
        Ok(())
    }
}
