//! Decision states kept between commands, so a command on a long-lived entity costs what one on
//! a new entity costs: no history is loaded when the entity's state is known here, and only
//! the events after its snapshot when it is not.
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
//! decided state (it may hold decrypted personal data).
//!
//! **Snapshots.** Once [`SNAPSHOT_EVERY`] of an entity's events have been folded here since its
//! last snapshot, the state (with its keyed commands) is saved as a snapshot beside the log,
//! sealed with the entity's data key (`samskab_eventlog::Snapshot`). A process that does not
//! know the entity starts from the snapshot of its `Decider::STATE_VERSION` and folds only the
//! events after it. A snapshot is exact as of its position (a state is only kept here when
//! nothing can have come between), and a missing or unreadable one means folding the whole
//! history. Saving happens after the answer, in the background; a failed save is logged and
//! costs the next process a longer load, nothing else.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use samskab_domain::Decider;
use samskab_eventlog::{EntityRef, EventLog, History, StoredCommand};
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use crate::commands::{fold_onto, load_error};
use crate::problem::ApiError;

/// How many entities' states a process keeps.
pub const CAPACITY: usize = 20_000;

/// Save an entity's snapshot once this many of its events were folded since the last one: a
/// process that starts without the state then loads at most about this many.
pub const SNAPSHOT_EVERY: usize = 100;

/// An entity's decision state as last read.
pub struct Known<S> {
    pub state: S,
    /// The log position the state is folded to (the expected sequence of the next append).
    pub last_position: u64,
    /// The entity's commands that were sent with an idempotency key.
    pub keyed: Arc<Vec<StoredCommand>>,
    /// True when read from the log just now; false when taken from the cache.
    pub checked: bool,
    /// Events folded into `state` since its last snapshot was saved (or since the first).
    pub unsaved: usize,
}

impl<S: Default> Known<S> {
    /// The state before the entity's first event.
    pub fn new_entity() -> Self {
        Self {
            state: S::default(),
            last_position: 0,
            keyed: Default::default(),
            checked: true,
            unsaved: 0,
        }
    }
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
    unsaved: usize,
}

/// What a snapshot holds: the state and the keyed commands up to its position. (Written from
/// references, read into owned values.)
#[derive(Serialize, Deserialize)]
struct SnapshotBody<S, K = Vec<StoredCommand>> {
    state: S,
    keyed: K,
}

/// See the module docs. Cheap to clone; one per process.
#[derive(Clone, Default)]
pub struct DecisionCache {
    entries: Arc<Mutex<HashMap<EntityRef, Arc<Entry>>>>,
    turns: Turns,
    /// Events this process has folded from the log, in all (what snapshots save).
    events_loaded: Arc<AtomicU64>,
}

/// Commands on one entity take turns within this process: each decides on the state the one
/// before it left and appends before the next decides. Without this, N concurrent commands on
/// one subject (decisions racing for a pool's budget) would all decide on the same state and
/// all but one lose the append, again and again, until they ran out of retries: the log's
/// expected-sequence check stays the guard (across processes it is the only one), but within a
/// process nobody loses a race they could simply have waited for. Striped (a fixed set of
/// locks, an entity's chosen by its subject's hash), so it is bounded however many entities
/// there are; two entities that share a stripe merely take turns too.
#[derive(Clone)]
struct Turns(Arc<[tokio::sync::Mutex<()>]>);

/// Enough that unrelated entities rarely share a turn.
const TURN_STRIPES: usize = 1024;

impl Default for Turns {
    fn default() -> Self {
        Turns(
            (0..TURN_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        )
    }
}

impl DecisionCache {
    /// Waits for the entity's turn (see [`Turns`]); the turn lasts as long as the guard.
    pub async fn turn(&self, entity: &EntityRef) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        entity.hash(&mut hasher);
        let stripe = (hasher.finish() as usize) % self.turns.0.len();
        self.turns.0[stripe].lock().await
    }

    fn cached<D: Decider>(&self, entity: &EntityRef) -> Option<Known<D::State>> {
        let entry = self.entries.lock().ok()?.get(entity).cloned()?;
        let state = entry.state.downcast_ref::<D::State>()?.clone();
        Some(Known {
            state,
            last_position: entry.last_position,
            keyed: entry.keyed.clone(),
            checked: false,
            unsaved: entry.unsaved,
        })
    }

    /// How many events this process has loaded from the log to work out decision states.
    pub fn events_loaded(&self) -> u64 {
        self.events_loaded.load(Ordering::Relaxed)
    }

    /// The entity's state: the cached one (unchecked), or its snapshot with the events after
    /// it, or its whole history, folded.
    pub async fn read<D: Decider>(
        &self,
        log: &EventLog,
        entity: &EntityRef,
    ) -> Result<Known<D::State>, ApiError> {
        if let Some(known) = self.cached::<D>(entity) {
            return Ok(known);
        }
        let start = self
            .snapshot::<D>(log, entity)
            .await
            .unwrap_or_else(Known::new_entity);
        self.catch_up::<D>(log, entity, start).await
    }

    /// The entity's state as the log has it now, for a decision about another entity (who
    /// posted a need, whether an organisation is active): the kept state, snapshot or history,
    /// brought up to the log's last position. A kept state costs one round trip, and what is
    /// read here is kept for the entity's own next command.
    pub async fn current<D: Decider>(
        &self,
        log: &EventLog,
        entity: &EntityRef,
    ) -> Result<D::State, ApiError> {
        Ok(self.checked::<D>(log, entity).await?.state)
    }

    /// As [`current`](Self::current), with what else is known of the entity (its position and
    /// the commands sent with an idempotency key).
    pub async fn checked<D: Decider>(
        &self,
        log: &EventLog,
        entity: &EntityRef,
    ) -> Result<Known<D::State>, ApiError> {
        let known = self.read::<D>(log, entity).await?;
        if known.checked {
            Ok(known)
        } else {
            self.catch_up::<D>(log, entity, known).await
        }
    }

    /// The entity's snapshot of this state version, if there is a readable one.
    async fn snapshot<D: Decider>(
        &self,
        log: &EventLog,
        entity: &EntityRef,
    ) -> Option<Known<D::State>> {
        let snapshot = match log.load_snapshot(entity, D::STATE_VERSION).await {
            Ok(snapshot) => snapshot?,
            Err(e) => {
                warn!(entity = %entity, error = %e, "cannot read the snapshot; folding the whole history");
                return None;
            }
        };
        match serde_json::from_value::<SnapshotBody<D::State>>(snapshot.body) {
            Ok(body) => Some(Known {
                state: body.state,
                last_position: snapshot.position,
                keyed: Arc::new(body.keyed),
                checked: false,
                unsaved: 0,
            }),
            Err(e) => {
                warn!(entity = %entity, error = %e, "snapshot does not fit the state (bump STATE_VERSION?); folding the whole history");
                None
            }
        }
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
        self.events_loaded
            .fetch_add(newer.events.len() as u64, Ordering::Relaxed);
        let state = fold_onto::<D>(known.state, &newer)?;
        let unsaved = known.unsaved + newer.events.len();
        let mut keyed = known.keyed;
        if !newer.keyed.is_empty() {
            Arc::make_mut(&mut keyed).extend(newer.keyed);
        }
        let mut caught_up = Known {
            state,
            last_position: newer.last_position,
            keyed,
            checked: true,
            unsaved,
        };
        self.remember::<D>(log, entity, &mut caught_up);
        Ok(caught_up)
    }

    /// Keeps `known` for the next command, unless a newer state is kept already; and saves it
    /// as the entity's snapshot when [`SNAPSHOT_EVERY`] events have been folded since the last
    /// (then `known.unsaved` starts again from 0).
    pub fn remember<D: Decider>(
        &self,
        log: &EventLog,
        entity: &EntityRef,
        known: &mut Known<D::State>,
    ) {
        if known.unsaved >= SNAPSHOT_EVERY {
            save_snapshot::<D>(log, entity, known);
            known.unsaved = 0;
        }
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
                unsaved: known.unsaved,
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

/// Saves `known` as the entity's snapshot, in the background: the command's answer (and the
/// next command on the entity, which waits for its turn) does not wait for it. A copy of the
/// state is cheap (states that grow with their entity, as a pool's ledger of cases does, are
/// persistent maps), so the copy is serialised off the turn, on a blocking thread, and saved.
fn save_snapshot<D: Decider>(log: &EventLog, entity: &EntityRef, known: &Known<D::State>) {
    let (state, keyed) = (known.state.clone(), known.keyed.clone());
    let (log, entity, position) = (log.clone(), entity.clone(), known.last_position);
    tokio::spawn(async move {
        let serialised = tokio::task::spawn_blocking(move || {
            serde_json::to_value(SnapshotBody {
                state: &state,
                keyed: keyed.as_ref(),
            })
        })
        .await;
        let body = match serialised {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => {
                warn!(entity = %entity, error = %e, "cannot serialise the state for a snapshot");
                return;
            }
            Err(e) => {
                warn!(entity = %entity, error = %e, "the snapshot's serialisation did not finish");
                return;
            }
        };
        match log
            .save_snapshot(&entity, D::STATE_VERSION, position, body)
            .await
        {
            Ok(()) => debug!(entity = %entity, position, "snapshot saved"),
            Err(e) => warn!(entity = %entity, error = %e, "cannot save a snapshot"),
        }
    });
}
