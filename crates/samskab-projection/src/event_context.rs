//! What every row takes from the envelope rather than the payload, for every worker's
//! statements.

use crate::ApplyError;
use chrono::{DateTime, Utc};
use samskab_eventlog::RecordedEvent;
use uuid::Uuid;

/// The envelope attributes the rows are written with.
#[derive(Clone, Copy)]
pub struct EventContext<'a> {
    /// The row key's first half. From the envelope: it is the tenant of the subject the event
    /// was appended to, which the API took from the authenticated principal.
    pub tenant: &'a str,
    /// The envelope's entity id, to check against the id in the payload.
    pub entity_id: &'a str,
    /// Stream sequence, stored as `position` so a query can wait for read-your-writes.
    pub position: i64,
    pub time: DateTime<Utc>,
    pub actor: &'a str,
}

impl<'a> EventContext<'a> {
    pub fn of(event: &'a RecordedEvent) -> Result<Self, ApplyError> {
        let envelope = &event.envelope;
        // A stream sequence above i64::MAX cannot happen in practice; if it ever did, parking the
        // event beats wrapping into a negative position that breaks read-your-writes.
        let position = i64::try_from(event.position).map_err(|_| {
            ApplyError::Malformed(format!("position {} exceeds bigint", event.position))
        })?;
        Ok(Self {
            tenant: &envelope.tenant,
            entity_id: &envelope.entityid,
            position,
            time: envelope.time,
            actor: &envelope.actor,
        })
    }

    /// The payload names the entity too. If it disagrees with the subject, writing would put one
    /// entity's data into another's row, so the event is parked instead.
    pub fn check_entity(&self, payload_id: Uuid) -> Result<(), ApplyError> {
        match Uuid::try_parse(self.entity_id) {
            Ok(subject_id) if subject_id == payload_id => Ok(()),
            _ => Err(ApplyError::Malformed(format!(
                "payload id {payload_id} does not match the subject's entity id {:?}",
                self.entity_id
            ))),
        }
    }
}
