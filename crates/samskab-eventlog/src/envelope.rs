use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::LoadError;

/// The message body is a CloudEvents JSON batch: an array of structured-mode events, so tools
/// that speak CloudEvents can read the log without our code.
pub const CONTENT_TYPE: &str = "application/cloudevents-batch+json";

/// One event as stored. Attribute names follow CloudEvents 1.0; the extension attributes
/// (`tenant`, `entitykind`, `entityid`, `actor`, `correlationid`, `causationid`) are lowercase
/// alphanumerics as the spec requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub specversion: String,
    /// UUID v7: unique, and sortable by time.
    pub id: Uuid,
    /// `/samskab/<tenant>`.
    pub source: String,
    /// Versioned type, e.g. `dk.samskab.volunteer.registered.v1`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `<kind>/<id>`: the entity the event belongs to.
    pub subject: String,
    pub time: DateTime<Utc>,
    pub datacontenttype: String,
    pub tenant: String,
    pub entitykind: String,
    pub entityid: String,
    /// Who caused the event: the authenticated principal, e.g. `user:<id>`.
    pub actor: String,
    pub correlationid: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causationid: Option<Uuid>,
    pub data: serde_json::Value,
}

/// An event read back from the log, with its place in it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// The stream sequence of the message that holds the event (the command's log position).
    pub position: u64,
    /// The event's index within its message (a command may append several events at once).
    pub index: usize,
    pub envelope: EventEnvelope,
}

/// Decodes one stored message into its events. A message that is not a CloudEvents batch is
/// reported, never a panic: the caller parks it or refuses the command.
pub fn decode_message(position: u64, payload: &[u8]) -> Result<Vec<RecordedEvent>, LoadError> {
    let envelopes: Vec<EventEnvelope> =
        serde_json::from_slice(payload).map_err(|e| LoadError::Malformed {
            position,
            reason: e.to_string(),
        })?;
    Ok(envelopes
        .into_iter()
        .enumerate()
        .map(|(index, envelope)| RecordedEvent {
            position,
            index,
            envelope,
        })
        .collect())
}
