//! The HTTP API (axum on tokio).
//!
//! - Commands: authenticate → parse the body into domain values (field errors: 400/422) →
//!   `commands::execute` (load history, decide, append with optimistic concurrency and the
//!   idempotency key) → 201/202 with the entity id and the log position.
//! - Queries read the PostgreSQL read models only, never the log; `min_position` waits
//!   (bounded) until the projection has reached a command's position.
//! - Every error is an RFC 9457 problem (`problem.rs`); the OpenAPI 3.1 document is generated
//!   from the handlers (`/openapi.json`).
//!
//! **Invariant:** the tenant of every read and write is the authenticated principal's.

pub mod access;
pub mod auth;
pub mod body;
pub mod commands;
pub mod csv;
pub mod decisions;
pub mod export;
pub mod fields;
pub mod metrics;
pub mod municipalities;
pub mod openapi;
pub mod ownership;
pub mod problem;
pub mod read;
pub mod routes;
pub mod schema;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use auth::{Party, Principal, Role, TokenKeys};
pub use state::{ApiConfig, AppState};

/// The routes and the OpenAPI document (`openapi.rs`), from one source: the handlers.
pub fn api() -> (Router<AppState>, serde_json::Value) {
    let (routes, generated) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(routes::volunteers::router())
        .merge(routes::certificates::router())
        .merge(routes::organisations::router())
        .merge(routes::persons::router())
        .merge(routes::needs::router())
        .merge(routes::matching::router())
        .merge(routes::matches::router())
        .merge(routes::retention::router())
        .merge(routes::reports::router())
        .merge(routes::notifications::router())
        .merge(routes::grant_pools::router())
        .merge(routes::grant_applications::router())
        .merge(routes::grant_applicants::router())
        .merge(routes::audit::router())
        .merge(routes::municipalities::router())
        .merge(routes::ops::router())
        .merge(routes::deliveries::router())
        .merge(routes::umbrellas::router())
        .merge(routes::webhook_endpoints::router())
        .merge(routes::notification_preferences::router())
        .split_for_parts();
    (routes, openapi::document(generated))
}

/// Every SQL statement the queries run on the read models, by route: checked against the
/// migrated schema by `tests/api/read_models.rs`, so a renamed column fails a test, not a
/// request.
pub fn read_model_sql() -> Vec<(&'static str, String)> {
    [
        routes::volunteers::read_sql(),
        routes::organisations::read_sql(),
        routes::persons::read_sql(),
        routes::needs::read_sql(),
        routes::matching::read_sql(),
        routes::matches::read_sql(),
        routes::retention::read_sql(),
        routes::reports::read_sql(),
        routes::notifications::read_sql(),
        routes::deliveries::read_sql(),
        routes::umbrellas::read_sql(),
        routes::webhook_endpoints::read_sql(),
        routes::notification_preferences::read_sql(),
        routes::grant_pools::read_sql(),
        routes::grant_applications::read_sql(),
        routes::municipalities::read_sql(),
    ]
    .concat()
}

/// The OpenAPI document alone (`samskab openapi`).
pub fn openapi_document() -> serde_json::Value {
    api().1
}

/// Every route of `routes`, and only those, passes the access table first (`access::enforce`),
/// and is timed and counted (`/metrics`), refusals too. The API's routes and the dashboards'
/// (`samskab-dashboard`) both go through here.
pub fn guard(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::enforce,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
}

/// The API. The binary merges the dashboards' pages beside it.
pub fn router(state: AppState) -> Router {
    let (routes, openapi) = api();
    let openapi_json = axum::Json(openapi);
    let body_limit = state.config.body_limit;
    let routes = routes.route(
        "/openapi.json",
        axum::routing::get(move || async move { openapi_json }),
    );
    guard(routes, &state)
        .fallback(|| async { problem::ApiError::NotFound })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
