//! Reads a recorded event back as the domain's event, for a projection's `apply`.
//!
//! Every worker dispatches on the envelope's entity kind and then decodes with the domain's
//! own decoder ([`DomainEvent::from_payload`]), so a read model refuses exactly what the
//! domain would not read. What it cannot read becomes the runtime's [`ApplyError`], which
//! parks the event: an unknown type (a newer producer, or a hand-written event) or a payload
//! that fails the domain's validation.

use samskab_domain::{DomainEvent, EventDecodeError};
use samskab_projection::{ApplyError, RecordedEvent};

/// Decodes `event` as `E`, from the envelope's payload in place (no copy: decoding is a large
/// share of a projector's time).
pub fn decode<E: DomainEvent>(event: &RecordedEvent) -> Result<E, ApplyError> {
    let envelope = &event.envelope;
    E::from_payload(&envelope.event_type, &envelope.data).map_err(apply_error)
}

fn apply_error(error: EventDecodeError) -> ApplyError {
    match error {
        EventDecodeError::UnknownType(event_type) => ApplyError::UnknownEventType(event_type),
        malformed @ EventDecodeError::Malformed { .. } => {
            ApplyError::Malformed(malformed.to_string())
        }
    }
}
