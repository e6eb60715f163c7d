//! Snapshots: an entity's decision state as of a log position, kept beside the log so that the
//! first command on a long-lived entity in a new process loads the snapshot and the few events
//! after it, not the whole history.
//!
//! - One JetStream stream (`SAMSKAB_SNAPSHOTS`), one message per entity (the newest replaces
//!   the older: at most one per subject), subject `<prefix>.<tenant>.<kind>.<id>`. Made by
//!   `samskab migrate` with the event stream; every other process only checks it.
//! - A snapshot is a cache, never a source of truth: the log is. It is only used when its
//!   state version is the reader's (`Decider::STATE_VERSION`), and it is only ever followed by
//!   the events after its position. One that is missing, of another version or unreadable
//!   means folding the whole history, as before snapshots.
//! - A state holds the person's decrypted personal data, so the whole snapshot is sealed with
//!   the entity's data key, bound to the entity, the version and the position. Forgetting the
//!   person erases that key, which makes every snapshot of theirs unreadable; the snapshot is
//!   also deleted then. A snapshot never makes a key: a state with personal data whose entity
//!   has none (forgotten meanwhile) is not saved, and one without personal data (a need, a
//!   match) is saved as it is.
//!
//! What a snapshot holds (the state, the keyed commands) is the caller's JSON; this module
//! only stores, seals and finds it.

use async_nats::jetstream::stream;
use serde_json::{Value, json};
use tracing::{debug, warn};

use samskab_privacy::{DataSubject, personal};

use crate::config::LogConfig;
use crate::error::{AppendError, LoadError};
use crate::{EntityRef, EventLog};

/// An entity's state as of a log position, as saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The log position the state is folded to: load the events after it.
    pub position: u64,
    /// The caller's JSON, opened.
    pub body: Value,
}

/// Room left in a message for the subject and the protocol's headers.
const SNAPSHOT_HEADROOM: usize = 4 * 1024;

fn subject(config: &LogConfig, entity: &EntityRef) -> String {
    format!(
        "{}.{}.{}.{}",
        config.snapshots_subject_prefix,
        entity.tenant(),
        entity.kind(),
        entity.id()
    )
}

/// What binds a sealed snapshot to its place: moved to another entity, version or position, it
/// does not open.
fn associated_data(subject: &DataSubject, version: u32, position: u64) -> Vec<u8> {
    format!("samskab.snapshot.v1|{subject}|{version}|{position}").into_bytes()
}

fn data_subject(entity: &EntityRef) -> Option<DataSubject> {
    DataSubject::new(entity.tenant(), entity.kind(), entity.id()).ok()
}

impl EventLog {
    /// Saves `body` as the entity's state at log `position` (of state `version`), replacing
    /// the one saved before. Sealed with the entity's data key (made if the entity has none).
    pub async fn save_snapshot(
        &self,
        entity: &EntityRef,
        version: u32,
        position: u64,
        body: Value,
    ) -> Result<(), AppendError> {
        let holds_personal_data = personal::holds_personal_data(&body);
        let mut stored = json!({ "version": version, "position": position, "personal": body });
        if let (Some(vault), Some(subject)) = (&self.vault, data_subject(entity)) {
            // The entity's key as it is; never a new one. A state read before a forgetting
            // may be saved after the key was erased: made now, a new key would let that
            // person's data be read again.
            let key = vault
                .fetch(&subject)
                .await
                .map_err(|e| AppendError::Unavailable(Box::new(e)))?;
            match key {
                Some(key) => personal::seal(
                    &mut stored,
                    &key,
                    &associated_data(&subject, version, position),
                ),
                None if holds_personal_data => {
                    debug!(entity = %entity, "no data key for a state with personal data; no snapshot");
                    return Ok(());
                }
                // Nothing personal (a need, a match, a forgotten volunteer): nothing to seal.
                None => {}
            }
        }
        let payload =
            serde_json::to_vec(&stored).map_err(|e| AppendError::Unavailable(e.into()))?;
        // The server closes a connection that publishes more than its `max_payload` (and
        // with it every request in flight on it), so a state that has grown beyond it is not
        // saved: the snapshot saved before stays, exact as of its own position, and a reader
        // folds the events after it.
        let limit = self.client.server_info().max_payload;
        if payload.len() + SNAPSHOT_HEADROOM > limit {
            warn!(
                entity = %entity,
                bytes = payload.len(),
                max_payload = limit,
                "the state is too large for a snapshot; the older one stays"
            );
            return Ok(());
        }
        self.js
            .publish(subject(&self.config, entity), payload.into())
            .await
            .map_err(|e| AppendError::Unavailable(Box::new(e)))?
            .await
            .map_err(|e| AppendError::Unavailable(Box::new(e)))?;
        Ok(())
    }

    /// The entity's snapshot of state `version`, opened; `None` when there is none of that
    /// version, or it cannot be opened (the person was forgotten), or it is not as saved.
    pub async fn load_snapshot(
        &self,
        entity: &EntityRef,
        version: u32,
    ) -> Result<Option<Snapshot>, LoadError> {
        let stream = self
            .js
            .get_stream_no_info(&self.config.snapshots_stream)
            .await
            .map_err(|e| LoadError::Unavailable(Box::new(e)))?;
        let message = match stream
            .direct_get_last_for_subject(subject(&self.config, entity))
            .await
        {
            Ok(message) => message,
            Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LoadError::Unavailable(Box::new(e))),
        };
        let Ok(mut stored) = serde_json::from_slice::<Value>(&message.payload) else {
            debug!(entity = %entity, "snapshot is not JSON; folding the history");
            return Ok(None);
        };
        let (Some(saved_version), Some(position)) =
            (stored["version"].as_u64(), stored["position"].as_u64())
        else {
            return Ok(None);
        };
        if saved_version != u64::from(version) {
            debug!(entity = %entity, saved_version, version, "snapshot of another state version");
            return Ok(None);
        }
        if let Some(vault) = &self.vault
            && personal::has_sealed_personal_data(&stored)
        {
            let Some(subject) = data_subject(entity) else {
                return Ok(None);
            };
            let key = vault
                .fetch(&subject)
                .await
                .map_err(|e| LoadError::Unavailable(Box::new(e)))?;
            let aad = associated_data(&subject, version, position);
            if personal::open(&mut stored, key.as_ref(), &aad).is_err() {
                debug!(entity = %entity, "snapshot does not open; folding the history");
                return Ok(None);
            }
        }
        match stored.get_mut(personal::PERSONAL).map(Value::take) {
            Some(Value::Null) | None => Ok(None),
            Some(body) => Ok(Some(Snapshot { position, body })),
        }
    }

    /// Deletes the entity's snapshot (a forgotten person's: sealed with the erased key, it
    /// could not be read anyway, but nothing of theirs should be kept that need not be).
    pub(crate) async fn delete_snapshot(&self, entity: &EntityRef) -> Result<(), AppendError> {
        self.js
            .get_stream_no_info(&self.config.snapshots_stream)
            .await
            .map_err(|e| AppendError::Unavailable(Box::new(e)))?
            .purge()
            .filter(subject(&self.config, entity))
            .await
            .map_err(|e| AppendError::Unavailable(Box::new(e)))?;
        Ok(())
    }
}

/// The snapshot stream: one message per entity, replaced by the next; purge allowed (a
/// forgotten person's snapshot is removed).
pub(crate) fn stream_config(config: &LogConfig) -> stream::Config {
    stream::Config {
        name: config.snapshots_stream.clone(),
        description: Some(
            "samskab: the newest decision state of long-lived entities (a cache)".into(),
        ),
        subjects: vec![format!("{}.>", config.snapshots_subject_prefix)],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::Old,
        max_messages_per_subject: 1,
        num_replicas: config.replicas,
        allow_direct: true,
        max_message_size: 1024 * 1024,
        // Snapshots carry no message id, so the window does nothing; it is the server's
        // default, stated so that a process's check of the stream compares like with like.
        duplicate_window: std::time::Duration::from_secs(120),
        ..Default::default()
    }
}
