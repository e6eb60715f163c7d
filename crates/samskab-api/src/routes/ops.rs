//! For the engineer on call and the load balancer: liveness, readiness, projection lag.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::problem::ApiError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(projections))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "ops",
    responses((status = 200, body = Health, description = "The process answers.")))]
async fn health() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub nats: bool,
    pub postgres: bool,
}

/// Readiness: NATS and PostgreSQL both answer. 503 otherwise, so a load balancer stops sending.
#[utoipa::path(get, path = "/ready", tag = "ops",
    responses((status = 200, body = Readiness, description = "NATS and PostgreSQL answer."),
        (status = 503, body = Readiness, description = "NATS or PostgreSQL does not answer.")))]
async fn ready(State(state): State<AppState>) -> (StatusCode, axum::Json<Readiness>) {
    let nats = state.log.is_connected() && state.log.last_position().await.is_ok();
    let postgres = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    let status = if nats && postgres {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(Readiness { nats, postgres }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionLag {
    pub name: String,
    /// Log position the projection has applied.
    pub position: u64,
    /// The log's newest position.
    pub log_position: u64,
    /// Messages not yet applied.
    pub lag: u64,
    /// Events that failed to apply and wait in samskab_runtime.parked_event.
    pub parked: u64,
}

/// Each projection's position, lag behind the log, and parked events.
#[utoipa::path(get, path = "/ops/projections", tag = "ops",
    responses((status = 200, body = Vec<ProjectionLag>, description = "One entry per projection."),
        (status = 503, description = "The status could not be read.")),
    security(("bearer" = [])))]
async fn projections(
    State(state): State<AppState>,
) -> Result<axum::Json<Vec<ProjectionLag>>, ApiError> {
    let mut out = Vec::new();
    for read_model in state.read_models.iter() {
        let s =
            samskab_projection::status(&state.pool, &state.log, read_model.name, read_model.schema)
                .await
                .map_err(|error| {
                    // The details are for the log, not for the answer.
                    tracing::error!(projection = read_model.name, error = %error, "cannot read projection status");
                    ApiError::Unavailable("cannot read the projections' status".into())
                })?;
        out.push(ProjectionLag {
            name: s.name,
            position: s.position,
            log_position: s.log_position,
            lag: s.lag,
            parked: s.parked,
        });
    }
    Ok(axum::Json(out))
}
