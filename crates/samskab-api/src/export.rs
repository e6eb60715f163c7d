//! GDPR art. 15: everything held about a person, read from the log with their personal data
//! decrypted: the record as it stands (each route's own) and every event about them, with when
//! and by whom.

use chrono::{DateTime, Utc};
use samskab_domain::Decider;
use samskab_eventlog::{EntityRef, History, RecordedEvent};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Principal;
use crate::commands::load_history;
use crate::problem::ApiError;
use crate::state::AppState;

/// One event about the person, its personal data decrypted (null once forgotten).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedEvent {
    pub event_id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub time: DateTime<Utc>,
    /// Who caused it: `user:<id>` of the case worker.
    pub actor: String,
    /// Log position.
    pub position: u64,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Entity `id` of `D` in the caller's municipality: its whole history, decrypted.
pub(crate) async fn history_of<D: Decider>(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<History, ApiError> {
    let entity = EntityRef::new(principal.tenant.as_str(), D::KIND.as_str(), &id.to_string())
        .map_err(|e| ApiError::Internal(e.into()))?;
    load_history(state, &entity).await
}

/// The events as the export shows them.
pub(crate) fn exported(events: Vec<RecordedEvent>) -> Vec<ExportedEvent> {
    events
        .into_iter()
        .map(|e| ExportedEvent {
            event_id: e.envelope.id,
            event_type: e.envelope.event_type,
            time: e.envelope.time,
            actor: e.envelope.actor,
            position: e.position,
            data: e.envelope.data,
        })
        .collect()
}
