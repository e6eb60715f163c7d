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
        .routes(routes!(metrics))
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

/// A projection figure of `/metrics`: its name, its help text, and where it comes from.
type Gauge = (
    &'static str,
    &'static str,
    fn(&samskab_projection::ProjectionStatus) -> u64,
);

/// The Prometheus text format's media type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Figures for Prometheus (text format 0.0.4): per projection, whether its status could be
/// read, the log messages it has applied (its position: it projects the whole stream, so that
/// is the count), its lag and its parked events; the log's position; and per route template
/// and method, a latency histogram and the answers by status class (`metrics.rs`). A
/// projection whose status cannot be read shows `samskab_projection_up 0` and nothing else,
/// so the HTTP figures still come when PostgreSQL is away.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, content_type = "text/plain", body = String,
        description = "The figures, in the Prometheus text format.")),
    security(("bearer" = [])))]
async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    use std::fmt::Write;
    let mut out = String::new();
    let mut statuses = Vec::new();
    for read_model in state.read_models.iter() {
        let status =
            samskab_projection::status(&state.pool, &state.log, read_model.name, read_model.schema)
                .await;
        if let Err(error) = &status {
            tracing::warn!(projection = read_model.name, error = %error, "no projection figures for /metrics");
        }
        statuses.push((read_model.name, status.ok()));
    }
    let gauges: [Gauge; 3] = [
        (
            "samskab_projection_position",
            "Log messages the projection has applied (its checkpoint: the stream sequence of the last).",
            |s| s.position,
        ),
        (
            "samskab_projection_lag_messages",
            "Log messages the projection has not applied yet.",
            |s| s.lag,
        ),
        (
            "samskab_projection_parked_events",
            "Events that failed to apply and wait in samskab_runtime.parked_event.",
            |s| s.parked,
        ),
    ];
    let _ = writeln!(
        out,
        "# HELP samskab_projection_up 1 when the projection's status could be read.\n\
         # TYPE samskab_projection_up gauge"
    );
    for (name, status) in &statuses {
        let _ = writeln!(
            out,
            "samskab_projection_up{{projection=\"{name}\"}} {}",
            u8::from(status.is_some())
        );
    }
    for (metric, help, value) in gauges {
        let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} gauge");
        for (name, status) in &statuses {
            if let Some(status) = status {
                let _ = writeln!(out, "{metric}{{projection=\"{name}\"}} {}", value(status));
            }
        }
    }
    // The log's position as the statuses read it; asked again only when none could be read.
    let read = statuses
        .iter()
        .find_map(|(_, s)| s.as_ref().map(|s| s.log_position));
    let position = match read {
        Some(position) => Some(position),
        None => state.log.last_position().await.ok(),
    };
    if let Some(position) = position {
        let _ = writeln!(
            out,
            "# HELP samskab_log_position The log's newest position (stream sequence).\n\
             # TYPE samskab_log_position gauge\n\
             samskab_log_position {position}"
        );
    }
    match crate::routes::deliveries::figures(&state).await {
        Ok(d) => {
            let figures = [
                (
                    "samskab_outbox_backlog",
                    "gauge",
                    "Outbox rows not yet delivered: not yet queued by the sender, or pending.",
                    d.backlog,
                ),
                (
                    "samskab_deliveries_parked",
                    "gauge",
                    "Deliveries parked after their last attempt (GET /ops/deliveries?status=parked).",
                    d.parked,
                ),
                (
                    "samskab_deliveries_delivered",
                    "gauge",
                    "Deliveries made.",
                    d.delivered,
                ),
                (
                    "samskab_deliveries_dropped",
                    "gauge",
                    "Deliveries with nothing to send to (recipient forgotten, no address, no consent).",
                    d.dropped,
                ),
                (
                    "samskab_delivery_failures_total",
                    "counter",
                    "Delivery attempts that failed.",
                    d.failures,
                ),
            ];
            for (metric, kind, help, value) in figures {
                let _ = writeln!(
                    out,
                    "# HELP {metric} {help}\n# TYPE {metric} {kind}\n{metric} {value}"
                );
            }
        }
        Err(error) => tracing::warn!(%error, "no delivery figures for /metrics"),
    }
    state.metrics.write(&mut out);
    ([(axum::http::header::CONTENT_TYPE, PROMETHEUS_TEXT)], out)
}
