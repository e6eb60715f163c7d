//! For the engineer on call: the notify outbox's deliveries (`samskab-delivery`, schema
//! `delivery`), those parked after their last attempt above all, trying a parked one again,
//! and the figures `/metrics` shows of them. Across municipalities, as the operator sees the
//! projections; a delivery names its recipient by id and holds no address.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::problem::ApiError;
use crate::read::{QueryParams, check_limit};
use crate::routes::EntityId;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Queued, or failed and due again at `next_attempt_at`.
    Pending,
    Delivered,
    /// Failed for good or for the last time: an operator's to look at.
    Parked,
    /// Nothing to send to (the message went with its forgotten recipient, no address is held,
    /// or consent was withdrawn).
    Dropped,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Parked => "parked",
            Self::Dropped => "dropped",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// Only deliveries with this status; absent: all.
    #[param(inline)]
    pub status: Option<DeliveryStatus>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor, with `after_channel`: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Cursor, with `after`: the `next_after_channel` of the previous page (a message has a
    /// delivery per channel, and a page may end between them). Without `after`: ignored.
    pub after_channel: Option<String>,
}

/// A page of deliveries. Its cursor is a delivery's message and channel: the next page begins
/// after it, with that message's other channels if it has more.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<Uuid>,
    /// Pass as `after_channel` for the next page; absent on the last.
    pub next_after_channel: Option<String>,
}

/// One delivery of a message by one channel.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeliveryView {
    /// The message's id (`GET /notifications`), also the mail's Message-ID and the webhook's
    /// `webhook-id`.
    pub message_id: Uuid,
    /// `email`, `digest` (mailed with the recipient's other messages of the day, at 07:00
    /// Danish time), or `webhook:<endpoint id>` (`GET /webhook-endpoints/{id}`).
    pub channel: String,
    pub tenant: String,
    /// `organisation:<id>` or `volunteer:<id>`.
    pub recipient: String,
    /// pending, delivered, parked or dropped.
    pub status: String,
    pub attempts: i32,
    pub failures: i32,
    pub queued_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed, or why it was dropped: a status code and a class.
    pub last_error: Option<String>,
}

const COLUMNS: &str = "message_id, channel, tenant, recipient, status, attempts, failures, \
    queued_at, next_attempt_at, finished_at, last_error";

/// The deliveries, newest message first and each message's by channel, with status $1 (NULL:
/// any), after the cursor ($2, $4: message and channel; NULL: from the start), at most $3.
fn list_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM delivery.delivery
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::uuid IS NULL OR message_id < $2
                OR (message_id = $2 AND channel > coalesce($4, '')))
         ORDER BY message_id DESC, channel LIMIT $3"
    )
}

/// Message $1's parked deliveries become due now, their attempts counted on.
fn retry_sql() -> String {
    format!(
        "UPDATE delivery.delivery
         SET status = 'pending', next_attempt_at = now(), finished_at = NULL
         WHERE message_id = $1 AND status = 'parked'
         RETURNING {COLUMNS}"
    )
}

fn exists_sql() -> String {
    "SELECT status FROM delivery.delivery WHERE message_id = $1".into()
}

/// The outbox not yet delivered: rows beyond the sender's cursor, and deliveries pending;
/// each status's count; and the failed attempts there have been.
fn figures_sql() -> String {
    format!(
        "SELECT (SELECT count(*) FROM {notify}.outbox o, delivery.cursor c
                 WHERE o.message_id > c.message_id)
              + count(*) FILTER (WHERE status = 'pending') AS backlog,
                count(*) FILTER (WHERE status = 'parked') AS parked,
                count(*) FILTER (WHERE status = 'delivered') AS delivered,
                count(*) FILTER (WHERE status = 'dropped') AS dropped,
                coalesce(sum(failures), 0)::bigint AS failures
         FROM delivery.delivery",
        notify = crate::read::NOTIFY.schema
    )
}

/// The deliveries of the notify outbox, newest message first.
#[utoipa::path(get, path = "/ops/deliveries", tag = "ops", params(DeliveryFilter),
    responses((status = 200, body = DeliveryPage)), security(("bearer" = [])))]
async fn list_deliveries(
    State(state): State<AppState>,
    QueryParams(filter): QueryParams<DeliveryFilter>,
) -> Result<axum::Json<DeliveryPage>, ApiError> {
    let limit = check_limit(filter.limit)?;
    let mut items: Vec<DeliveryView> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql()))
        .bind(filter.status.map(DeliveryStatus::as_str))
        .bind(filter.after)
        .bind(limit + 1)
        .bind(filter.after_channel)
        .fetch_all(&state.pool)
        .await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let last = items.last().filter(|_| more);
    Ok(axum::Json(DeliveryPage {
        next_after: last.map(|d| d.message_id),
        next_after_channel: last.map(|d| d.channel.clone()),
        items,
    }))
}

/// Try a parked delivery of message `id` again, now (after the cause was mended: the SMTP
/// server's, a full mailbox). 404 if the message has no delivery; 409 if none is parked.
#[utoipa::path(post, path = "/ops/deliveries/{id}/retry", tag = "ops",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<DeliveryView>, description = "Due again now."),
        (status = 409, description = "No delivery of the message is parked.")),
    security(("bearer" = [])))]
async fn retry_delivery(
    State(state): State<AppState>,
    EntityId(id): EntityId,
) -> Result<axum::Json<Vec<DeliveryView>>, ApiError> {
    let retried: Vec<DeliveryView> = sqlx::query_as(sqlx::AssertSqlSafe(retry_sql()))
        .bind(id)
        .fetch_all(&state.pool)
        .await?;
    if !retried.is_empty() {
        tracing::info!(message = %id, "parked delivery due again (operator)");
        return Ok(axum::Json(retried));
    }
    let known: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(exists_sql()))
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    match known {
        None => Err(ApiError::NotFound),
        Some(status) => Err(ApiError::Conflict(format!(
            "no delivery of this message is parked (it is {status})"
        ))),
    }
}

/// What `/metrics` shows of delivery.
pub(crate) struct DeliveryFigures {
    pub backlog: i64,
    pub parked: i64,
    pub delivered: i64,
    pub dropped: i64,
    pub failures: i64,
}

pub(crate) async fn figures(state: &AppState) -> Result<DeliveryFigures, sqlx::Error> {
    let (backlog, parked, delivered, dropped, failures): (i64, i64, i64, i64, i64) =
        sqlx::query_as(sqlx::AssertSqlSafe(figures_sql()))
            .fetch_one(&state.pool)
            .await?;
    Ok(DeliveryFigures {
        backlog,
        parked,
        delivered,
        dropped,
        failures,
    })
}

/// Every statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /ops/deliveries", list_sql()),
        ("POST /ops/deliveries/{id}/retry", retry_sql()),
        ("POST /ops/deliveries/{id}/retry", exists_sql()),
        ("GET /metrics", figures_sql()),
    ]
}
