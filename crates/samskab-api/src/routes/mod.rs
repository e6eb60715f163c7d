//! HTTP routes, one module per room. Each module owns its `router()` and its request and view
//! types; `lib.rs` assembles them with the OpenAPI document.
//!
//! A command route is a few lines: `CommandRequest` (principal, `Idempotency-Key`, request
//! identity) and `JsonBody<Input>` in, parse the input into a domain command (`FieldCheck`),
//! then `cmd.create::<D>` or `cmd.change::<D>`. A query route:
//! `Principal`, `EntityId` and/or `QueryParams<Filter>` in, `wait_for(read model)`, one SQL
//! statement on the read model it names. Who may call a route is not the handler's business:
//! a new route gets its row in `access::ACCESS`, or everyone is refused.

pub mod audit;
pub mod certificates;
pub mod deliveries;
pub mod grant_applicants;
pub mod grant_applications;
pub mod grant_pools;
pub mod matches;
pub mod matching;
pub mod municipalities;
pub mod needs;
pub mod notification_preferences;
pub mod notifications;
pub mod ops;
pub mod organisations;
pub mod persons;
pub mod reports;
pub mod retention;
pub mod umbrellas;
pub mod volunteers;
pub mod webhook_endpoints;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use uuid::Uuid;

use crate::auth::Principal;
use crate::problem::ApiError;
use crate::state::AppState;

/// The `{id}` of a path. An id that is not a UUID names nothing: 404, like an unknown one.
pub struct EntityId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for EntityId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        Uuid::try_parse(&id)
            .map(EntityId)
            .map_err(|_| ApiError::NotFound)
    }
}

/// Entity `id` of `D` in the caller's municipality, as the log has it now (through the
/// decision cache, which the command that follows then finds warm): for a decision about
/// another entity (who posted a need, whether a volunteer may be matched).
pub(crate) async fn current<D: samskab_domain::Decider>(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<D::State, ApiError> {
    current_in::<D>(state, principal.tenant.as_str(), &id).await
}

/// As [`current`], for entity `id` of `D` in municipality `tenant`: another than the caller's
/// only where a rule spans two (a volunteer who opted in to the caller's municipality; a
/// municipality a volunteer names).
pub(crate) async fn current_in<D: samskab_domain::Decider>(
    state: &AppState,
    tenant: &str,
    id: &impl std::fmt::Display,
) -> Result<D::State, ApiError> {
    let entity = entity_ref_in::<D>(tenant, id)?;
    state.decisions.current::<D>(&state.log, &entity).await
}

/// The subject of entity `id` of `D` in municipality `tenant` (see [`current_in`]).
pub(crate) fn entity_ref_in<D: samskab_domain::Decider>(
    tenant: &str,
    id: &impl std::fmt::Display,
) -> Result<samskab_eventlog::EntityRef, ApiError> {
    samskab_eventlog::EntityRef::new(tenant, D::KIND.as_str(), &id.to_string())
        .map_err(|e| ApiError::Internal(e.into()))
}

/// The municipality (`organisation` absent), or an organisation registered and active in the
/// caller's municipality, asked of the log (not a read model that may lag behind a
/// registration a moment ago): who posts a need, who requests a børneattest. A deactivated one
/// is refused with `deactivated` as the reason (what it may no longer do).
pub(crate) async fn municipality_or_organisation(
    state: &AppState,
    principal: &Principal,
    organisation: Option<Uuid>,
    deactivated: &str,
) -> Result<samskab_domain::PostedBy, ApiError> {
    use samskab_domain::{Organisation, OrganisationId, OrganisationState, PostedBy};
    let Some(id) = organisation else {
        return Ok(PostedBy::Municipality);
    };
    match current::<Organisation>(state, principal, id).await? {
        OrganisationState::Active(_) => Ok(PostedBy::Organisation(OrganisationId::from(id))),
        OrganisationState::Deactivated(_) => Err(ApiError::invalid("organisation_id", deactivated)),
        OrganisationState::NotRegistered => Err(ApiError::invalid(
            "organisation_id",
            "no organisation with this id in your municipality",
        )),
    }
}
