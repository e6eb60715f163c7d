//! The in-app inbox: the messages the notification rules made for the caller
//! (`samskab-notify-worker`, schema `notify`), newest first, with how many are unread; and
//! marking one read, which is the recipient's own event (`Notification` decider), so a rebuild
//! of the read model keeps it.
//!
//! The rules write to organisations and to volunteers who consent to notifications; staff's
//! inbox comes with their preferences (issue 10).

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use samskab_domain::{Notification, NotificationCommand, NotificationId};
use samskab_projection::Recipient;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{Party, Principal};
use crate::commands::{CommandAccepted, CommandRequest, NO_BODY};
use crate::problem::ApiError;
use crate::read::{NOTIFY, Page, QueryParams, check_limit, page, wait_for};
use crate::routes::EntityId;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(read_notification))
}

/// Whose inbox a principal's is, as `notify.message.recipient` names it.
pub(crate) fn recipient_of(principal: &Principal) -> String {
    let recipient = match principal.party {
        Some(Party::Organisation(id)) => Recipient::Organisation(id),
        Some(Party::Volunteer(id)) => Recipient::Volunteer(id),
        // No inbox of its own (the access table gives it no notification route): a person
        // at the umbrella, like staff.
        Some(Party::Umbrella(_)) | None => Recipient::Staff(principal.actor.clone()),
    };
    recipient.to_string()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationFilter {
    /// Only the unread (`true`) or only the read (`false`); absent: all.
    pub unread: Option<bool>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// One message.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct NotificationView {
    pub id: Uuid,
    /// What made it: `match_proposed`, `match_accepted`, `match_declined`, `grant_decided`,
    /// `grant_approved`, `payment_recorded`.
    pub rule: String,
    pub subject: String,
    pub body: String,
    /// The API path of what it is about.
    pub link: String,
    pub created_at: DateTime<Utc>,
    /// When the recipient read it; null: unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// The caller's inbox: a page of messages, newest first, and the count of the unread.
#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// Unread messages in the whole inbox (not only this page).
    pub unread: u64,
    #[serde(flatten)]
    pub page: Page<NotificationView>,
}

/// The caller's messages, newest first, with how many are unread.
#[utoipa::path(get, path = "/notifications", tag = "notifications", params(NotificationFilter),
    responses((status = 200, body = Inbox)), security(("bearer" = [])))]
async fn list_notifications(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<NotificationFilter>,
) -> Result<axum::Json<Inbox>, ApiError> {
    let limit = check_limit(filter.limit)?;
    wait_for(&state, NOTIFY, filter.min_position).await?;
    let tenant = principal.tenant.as_str();
    let recipient = recipient_of(&principal);
    // One statement, so the count and the page are read from one snapshot and agree.
    let rows: Vec<InboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql()))
        .bind(tenant)
        .bind(&recipient)
        .bind(filter.unread)
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    let unread = rows.first().map_or(0, |row| row.unread);
    let messages = rows.into_iter().filter_map(InboxRow::message).collect();
    Ok(axum::Json(Inbox {
        unread: u64::try_from(unread).unwrap_or(0),
        // Newest first: ids are in log order, so the cursor runs downwards.
        page: page(messages, limit, |n| n.id),
    }))
}

/// A row of [`list_sql`]: the unread count, and a message unless the page is empty.
#[derive(sqlx::FromRow)]
struct InboxRow {
    unread: i64,
    id: Option<Uuid>,
    rule: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    link: Option<String>,
    created_at: Option<DateTime<Utc>>,
    read_at: Option<DateTime<Utc>>,
}

impl InboxRow {
    fn message(self) -> Option<NotificationView> {
        Some(NotificationView {
            id: self.id?,
            rule: self.rule?,
            subject: self.subject?,
            body: self.body?,
            link: self.link?,
            created_at: self.created_at?,
            read_at: self.read_at,
        })
    }
}

/// Mark one of the caller's messages read. Again: nothing changes, the first time stays.
#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn read_notification(
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    let command = NotificationCommand::Read {
        id: NotificationId::from_uuid(id),
        at: Utc::now(),
    };
    cmd.change::<Notification>(NotificationId::from_uuid(id), NO_BODY, command)
        .await
}

/// Every message in volunteer `id`'s inbox, oldest first: what a data export holds of them
/// beside the log (the read model keeps no other copy: forgetting them deletes these).
pub(crate) async fn volunteers_inbox(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<Vec<NotificationView>, ApiError> {
    let messages = sqlx::query_as(sqlx::AssertSqlSafe(all_of_sql()))
        .bind(principal.tenant.as_str())
        .bind(Recipient::Volunteer(id).to_string())
        .fetch_all(&state.pool)
        .await?;
    Ok(messages)
}

/// Whether message `id` is in `principal`'s inbox: `Some(true)` if so, `Some(false)` if it is
/// another's, `None` if there is none (the access check's `ownership.rs` asks).
pub(crate) async fn is_recipient(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<Option<bool>, ApiError> {
    let recipient: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(recipient_sql()))
        .bind(principal.tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    Ok(recipient.map(|r| r == recipient_of(principal)))
}

/// The count of recipient $2's unread messages in municipality $1, beside each of their
/// messages, newest first: unread or read by $3 (NULL: all), below cursor $4, at most $5. One
/// row with no message if the page is empty.
fn list_sql() -> String {
    format!(
        "SELECT unread.n AS unread, m.id, m.rule, m.subject, m.body, m.link, m.created_at,
                m.read_at
         FROM (SELECT count(*) AS n FROM {schema}.message
               WHERE tenant = $1 AND recipient = $2 AND read_at IS NULL) AS unread
         LEFT JOIN LATERAL (
             SELECT id, rule, subject, body, link, created_at, read_at FROM {schema}.message
             WHERE tenant = $1 AND recipient = $2
               AND ($3::boolean IS NULL OR (read_at IS NULL) = $3)
               AND ($4::uuid IS NULL OR id < $4)
             ORDER BY id DESC LIMIT $5
         ) AS m ON true
         ORDER BY m.id DESC",
        schema = NOTIFY.schema
    )
}

/// Every message of recipient $2 in municipality $1, oldest first (for an export).
fn all_of_sql() -> String {
    format!(
        "SELECT id, rule, subject, body, link, created_at, read_at FROM {schema}.message
         WHERE tenant = $1 AND recipient = $2 ORDER BY id",
        schema = NOTIFY.schema
    )
}

fn recipient_sql() -> String {
    format!(
        "SELECT recipient FROM {schema}.message WHERE tenant = $1 AND id = $2",
        schema = NOTIFY.schema
    )
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /notifications", list_sql()),
        ("POST /notifications/{id}/read", recipient_sql()),
        ("GET /volunteers/{id}/export", all_of_sql()),
    ]
}
