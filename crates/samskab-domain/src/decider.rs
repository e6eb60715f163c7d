//! The two traits the rest of the system codes against: [`Decider`] (what an entity decides) and
//! [`DomainEvent`] (how its events are stored without the event log knowing the entity).

use crate::{DomainError, EntityKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Every event enum implements this, so the event log can store and read it without knowing the
/// entity.
pub trait DomainEvent: Sized + Clone + std::fmt::Debug + Send + Sync + 'static {
    const KIND: EntityKind;
    /// Versioned type name, CloudEvents style, e.g. "dk.samskab.volunteer.registered.v1".
    fn event_type(&self) -> &'static str;
    /// The payload as JSON. The entity id is inside it too, so a payload read on its own still
    /// says what it is about.
    fn to_payload(&self) -> serde_json::Value;
    /// Unknown type -> [`EventDecodeError::UnknownType`] (never panic); bad JSON for a known type
    /// -> [`EventDecodeError::Malformed`]. Value types re-validate while decoding, so a payload
    /// that was edited by hand cannot smuggle an invalid value into a decision.
    /// Reads from a borrowed payload: the callers (the command path, the projectors) keep the
    /// envelope, and a copy of every payload would be a large share of a projector's time.
    fn from_payload(
        event_type: &str,
        payload: &serde_json::Value,
    ) -> Result<Self, EventDecodeError>;
}

/// Why a stored event could not be turned back into a domain event. A projector parks such an
/// event; it never drops it in silence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("malformed payload for {event_type}: {reason}")]
    Malformed { event_type: String, reason: String },
}

/// One entity's rules as two pure functions: `decide` (may this command happen, and what
/// happened if so) and `evolve` (what the state is after an event). No I/O: the caller loads
/// the events, and appends what `decide` returns.
pub trait Decider {
    const KIND: EntityKind;
    /// `Default` is "not yet registered", the state before the first event. Serialisable, so
    /// a decision state can be kept as a snapshot beside the log (the API's `decisions.rs`).
    type State: Default
        + Clone
        + std::fmt::Debug
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static;
    /// The version of `State`'s shape and meaning. A snapshot of another version is not used
    /// (the history is folded instead), so bump it whenever `State` or `evolve` changes what a
    /// state holds; the pinned snapshot shapes in the domain's tests fail until you do.
    const STATE_VERSION: u32;
    type Command: std::fmt::Debug + Send + Sync;
    type Event: DomainEvent;

    /// An empty `Vec` means "accepted, nothing changed" (e.g. an update to the same values), so
    /// the API can answer without appending.
    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError>;

    /// Must never panic: an event that does not fit the state leaves the state as reasonable.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// Fold past events into the current state.
    fn replay<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), |state, event| {
                Self::evolve(state, event)
            })
    }
}

/// Serialise an event payload struct.
///
/// The payload structs hold only strings, numbers, booleans, dates, UUIDs, options, vectors and
/// nested structs, all with derived or infallible `Serialize` impls and no maps, so
/// `serde_json::to_value` cannot fail for them; the `expect` documents that invariant rather
/// than handling an error that cannot occur. Every event type is covered by a round-trip test.
pub(crate) fn payload_of<T: Serialize>(value: &T) -> serde_json::Value {
    #[allow(clippy::expect_used)]
    serde_json::to_value(value).expect("event payload structs always serialise to JSON")
}

/// Deserialise an event payload struct, naming the event type in the error.
pub(crate) fn decode_payload<T: serde::de::DeserializeOwned>(
    event_type: &str,
    payload: &serde_json::Value,
) -> Result<T, EventDecodeError> {
    T::deserialize(payload).map_err(|error| EventDecodeError::Malformed {
        event_type: event_type.to_owned(),
        reason: error.to_string(),
    })
}
