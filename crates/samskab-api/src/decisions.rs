//! Decision states kept between commands, so a command on a long-lived entity costs what one on
//! a new entity costs: no history is loaded when the entity's state is known here.
//!
//! The cache holds, per entity, the folded state, the log position it was folded to and the
//! entity's commands sent with an idempotency key. It is never trusted blindly (another API
//! instance may have appended since):
//! - an append is made with the cached position as the expected one, so the log itself refuses
//!   it if anything came after; then the events after that position are loaded, folded in, and
//!   the command decided again;
//! - a decision that appends nothing (no change, or a refusal) is checked against the entity's
//!   last position in the log first (one direct get, whatever the history's length).
//!
//! Bounded: past [`CAPACITY`] entities the cache starts over. Kept in memory only, like every
//! decided state (it may hold decrypted personal data; nothing of it is written anywhere).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use samskab_domain::Decider;
use samskab_eventlog::{EntityRef, EventLog, History, StoredCommand};

use crate::commands::{fold_onto, load_error};
use crate::problem::ApiError;

/// How many entities' states a process keeps.
pub const CAPACITY: usize = 20_000;

/// An entity's decision state as last read.
pub struct Known<S> {
    pub state: S,
    /// The log position the state is folded to (the expected sequence of the next append).
    pub last_position: u64,
    /// The entity's commands that were sent with an idempotency key.
    pub keyed: Arc<Vec<StoredCommand>>,
    /// True when read from the log just now; false when taken from the cache.
    pub checked: bool,
}

impl<S> Known<S> {
    /// The entity's command sent with this tenant's `key`, if one landed.
    pub fn command_with_key(&self, tenant: &str, key: &str) -> Option<&StoredCommand> {
        samskab_eventlog::idempotency::find_keyed(&self.keyed, tenant, key)
    }
}

struct Entry {
    state: Box<dyn Any + Send + Sync>,
    last_position: u64,
    keyed: Arc<Vec<StoredCommand>>,
}

/// See the module docs. Cheap to clone; one per process.
#[derive(Clone, Default)]
pub struct DecisionCache {
    entries: Arc<Mutex<HashMap<EntityRef, Arc<Entry>>>>,
}

impl DecisionCache {
    fn cached<D: Decider>(&self, entity: &EntityRef) -> Option<Known<D::State>> {
        let entry = self.entries.lock().ok()?.get(entity).cloned()?;
        let state = entry.state.downcast_ref::<D::State>()?.clone();
        Some(Known {
            state,
            last_position: entry.last_position,
            keyed: entry.keyed.clone(),
            checked: false,
        })
    }

    /// The entity's state: the cached one (unchecked), or its whole history loaded and folded.
    pub async fn read<D: Decider>(
        &self,
        log: &EventLog,
        entity: &EntityRef,
    ) -> Result<Known<D::State>, ApiError> {
        if let Some(known) = self.cached::<D>(entity) {
            return Ok(known);
        }
        let history = log.load(entity).await.map_err(load_error)?;
        let known = Known {
            state: fold_onto::<D>(D::State::default(), &history)?,
            last_position: history.last_position,
            keyed: Arc::new(history.keyed),
            checked: true,
        };
        self.remember::<D>(entity, &known);
        Ok(known)
    }

    /// `known` brought up to the log: the events after its position folded in.
    pub async fn catch_up<D: Decider>(
        &self,
        log: &EventLog,
        entity: &EntityRef,
        known: Known<D::State>,
    ) -> Result<Known<D::State>, ApiError> {
        let newer: History = log
            .load_after(entity, known.last_position)
            .await
            .map_err(load_error)?;
        let mut keyed = known.keyed.as_ref().clone();
        keyed.extend(newer.keyed.iter().cloned());
        let caught_up = Known {
            state: fold_onto::<D>(known.state, &newer)?,
            last_position: newer.last_position,
            keyed: Arc::new(keyed),
            checked: true,
        };
        self.remember::<D>(entity, &caught_up);
        Ok(caught_up)
    }

    /// Keeps `known` for the next command, unless a newer state is kept already.
    pub fn remember<D: Decider>(&self, entity: &EntityRef, known: &Known<D::State>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries
            .get(entity)
            .is_some_and(|e| e.last_position > known.last_position)
        {
            return;
        }
        if entries.len() >= CAPACITY && !entries.contains_key(entity) {
            entries.clear();
        }
        entries.insert(
            entity.clone(),
            Arc::new(Entry {
                state: Box::new(known.state.clone()),
                last_position: known.last_position,
                keyed: known.keyed.clone(),
            }),
        );
    }

    /// Drops what is kept about the entity (its state could not be worked out here).
    pub fn forget(&self, entity: &EntityRef) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(entity);
        }
    }
}
