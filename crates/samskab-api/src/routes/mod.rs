//! HTTP routes, one module per room. Each module owns its `router()` and its request and view
//! types; this module assembles them with the OpenAPI document.

pub mod municipalities;
pub mod ops;
pub mod organisations;
pub mod volunteers;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samskab_domain::EntityKind;
use samskab_eventlog::EntityRef;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use axum::http::HeaderMap;
use samskab_domain::Decider;

use crate::auth::Principal;
use crate::commands::{CommandContext, Creates, Outcome, execute, idempotency_key};
use crate::problem::ApiError;
use crate::state::AppState;

/// The answer to a command.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandAccepted {
    /// The entity the command addressed.
    pub id: String,
    /// Log position of the command's events. Pass it as `min_position` to a query to read your
    /// own write.
    pub position: u64,
    /// Ids of the appended events; empty when the command changed nothing.
    pub event_ids: Vec<Uuid>,
    /// True when this answers a retry with the same `Idempotency-Key`.
    pub replayed: bool,
}

pub fn accepted(
    status: StatusCode,
    collection: &str,
    entity: &EntityRef,
    outcome: Outcome,
) -> Response {
    // A replayed answer names the entity of the first attempt, not the id this attempt drew.
    let (id, event_ids, replayed) = match outcome.appended {
        Some(a) => (a.entity_id, a.event_ids, a.replayed),
        None => (entity.id().to_string(), vec![], false),
    };
    let location = format!("{collection}/{id}");
    let body = CommandAccepted {
        id,
        position: outcome.position,
        event_ids,
        replayed,
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The entity's subject in the log, in the principal's own tenant: the only tenant a request
/// can address.
pub fn entity_ref(
    principal: &Principal,
    kind: EntityKind,
    id: &str,
) -> Result<EntityRef, ApiError> {
    EntityRef::new(principal.tenant.as_str(), kind.as_str(), id)
        .map_err(|e| ApiError::Internal(e.into()))
}

/// What a command route hands on once it has parsed the request into a command.
pub struct CommandRequest<'a> {
    pub state: &'a AppState,
    pub principal: &'a Principal,
    pub headers: &'a HeaderMap,
    /// Digest of the request, for idempotency (see `body.rs`).
    pub fingerprint: String,
}

/// Runs a parsed command against its entity and answers 201 (a new entity) or 202.
pub async fn run<D: Decider>(
    request: CommandRequest<'_>,
    entity: EntityRef,
    creates: Creates,
    command: D::Command,
    collection: &str,
) -> Result<Response, ApiError> {
    let ctx = CommandContext {
        state: request.state,
        principal: request.principal,
        idempotency_key: idempotency_key(request.headers)?,
        fingerprint: request.fingerprint,
    };
    let outcome = execute::<D>(ctx, &entity, creates, command).await?;
    let status = match creates {
        Creates::New => StatusCode::CREATED,
        Creates::Existing => StatusCode::ACCEPTED,
    };
    Ok(accepted(status, collection, &entity, outcome))
}
