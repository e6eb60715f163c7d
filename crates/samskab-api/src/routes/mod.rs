//! HTTP routes, one module per room. Each module owns its `router()` and its request and view
//! types; `lib.rs` assembles them with the OpenAPI document.
//!
//! A command route is a few lines: `CommandRequest` (principal, `Idempotency-Key`, request
//! identity) and `JsonBody<Input>` in, parse the input into a domain command (`FieldCheck`),
//! then `cmd.create::<D>` or `cmd.change::<D>`. A query route:
//! `Principal`, `EntityId` and/or `QueryParams<Filter>` in, `wait_for(read model)`, one SQL
//! statement on the read model it names. Who may call a route is not the handler's business:
//! a new route gets its row in `access::ACCESS`, or everyone is refused.

pub mod matching;
pub mod municipalities;
pub mod needs;
pub mod ops;
pub mod organisations;
pub mod volunteers;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use uuid::Uuid;

use crate::problem::ApiError;

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
