//! Organisations' webhook endpoints: where their notifications are posted, signed per
//! Standard Webhooks (`samskab-delivery`), beside the mail and the in-app inbox. An
//! organisation registers its own (or a caseworker does it for one), reads the signing secret
//! to configure its receiver, points it elsewhere, and disables or enables it.
//!
//! The secret is derived from the installation's webhook key (`SAMSKAB_WEBHOOK_KEY`) and the
//! endpoint's id, so it is stored nowhere; without the key, `GET .../secret` answers 503 and
//! nothing is posted.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use samskab_domain::{
    PostedBy, WebhookEndpoint, WebhookEndpointCommand, WebhookEndpointId, WebhookEndpointState,
    WebhookUrl,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::Principal;
use crate::body::JsonBody;
use crate::commands::{CommandAccepted, CommandRequest, NO_BODY};
use crate::fields::FieldCheck;
use crate::ownership;
use crate::problem::ApiError;
use crate::read::{Consistency, NOTIFY, Page, QueryParams, check_limit, page, wait_for};
use crate::routes::{EntityId, current, municipality_or_organisation};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_endpoint, list_endpoints))
        .routes(routes!(get_endpoint, change_endpoint))
        .routes(routes!(endpoint_secret))
        .routes(routes!(disable_endpoint))
        .routes(routes!(enable_endpoint))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointInput {
    /// The organisation whose messages are posted there (an organisation's token: its own).
    pub organisation_id: Uuid,
    #[schema(schema_with = schema::webhook_url)]
    pub url: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUrlInput {
    #[schema(schema_with = schema::webhook_url)]
    pub url: String,
}

fn parse_url(url: &str) -> Result<WebhookUrl, ApiError> {
    let mut f = FieldCheck::default();
    let url = f.check("url", WebhookUrl::parse(url));
    f.finish()?;
    url.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a field failed without a reason")))
}

/// Register a webhook endpoint for an organisation: from the next message on, each of the
/// organisation's messages is posted to it, signed with its secret (`GET .../secret`).
#[utoipa::path(post, path = "/webhook-endpoints", tag = "notifications",
    request_body = WebhookEndpointInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn register_endpoint(
    State(state): State<AppState>,
    cmd: CommandRequest,
    body: JsonBody<WebhookEndpointInput>,
) -> Result<Response, ApiError> {
    let url = parse_url(&body.value.url)?;
    let organisation = body.value.organisation_id;
    ownership::check_own_name(
        &cmd.principal,
        Some(organisation),
        "an organisation's token registers endpoints for itself only",
    )?;
    let PostedBy::Organisation(organisation) = municipality_or_organisation(
        &state,
        &cmd.principal,
        Some(organisation),
        "the organisation is deactivated and cannot register endpoints",
    )
    .await?
    else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "an organisation's id resolved to the municipality"
        )));
    };
    let id = WebhookEndpointId::from_uuid(cmd.new_id::<WebhookEndpoint>());
    let command = WebhookEndpointCommand::Register {
        id,
        organisation,
        url,
    };
    cmd.create::<WebhookEndpoint>(id, &body.digest, command)
        .await
}

/// Point an endpoint at another URL (its secret stays).
#[utoipa::path(put, path = "/webhook-endpoints/{id}", tag = "notifications",
    request_body = WebhookUrlInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn change_endpoint(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<WebhookUrlInput>,
) -> Result<Response, ApiError> {
    let url = parse_url(&body.value.url)?;
    let command = WebhookEndpointCommand::ChangeUrl { url };
    cmd.change::<WebhookEndpoint>(WebhookEndpointId::from_uuid(id), &body.digest, command)
        .await
}

/// Stop posting to an endpoint: what is queued for it is dropped. Again: nothing changes.
#[utoipa::path(post, path = "/webhook-endpoints/{id}/disable", tag = "notifications",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn disable_endpoint(
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    let command = WebhookEndpointCommand::Disable;
    cmd.change::<WebhookEndpoint>(WebhookEndpointId::from_uuid(id), NO_BODY, command)
        .await
}

/// Post to an endpoint again, from the next message on. Again: nothing changes.
#[utoipa::path(post, path = "/webhook-endpoints/{id}/enable", tag = "notifications",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn enable_endpoint(
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    let command = WebhookEndpointCommand::Enable;
    cmd.change::<WebhookEndpoint>(WebhookEndpointId::from_uuid(id), NO_BODY, command)
        .await
}

/// An endpoint's signing secret, for its receiver: `whsec_` and base64, as Standard
/// Webhooks' libraries take it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecretView {
    pub id: Uuid,
    /// `whsec_<base64>`. The receiver checks `webhook-signature` (`v1,` and the base64 of
    /// HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>`) with it.
    pub secret: String,
}

/// The endpoint's signing secret. Never cached (`Cache-Control: no-store`).
#[utoipa::path(get, path = "/webhook-endpoints/{id}/secret", tag = "notifications",
    params(("id" = Uuid, Path)), responses((status = 200, body = WebhookSecretView)),
    security(("bearer" = [])))]
async fn endpoint_secret(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    let key = state.webhook_key.as_deref().ok_or_else(|| {
        ApiError::Unavailable("no webhook key is configured (SAMSKAB_WEBHOOK_KEY)".into())
    })?;
    if let WebhookEndpointState::NotRegistered =
        current::<WebhookEndpoint>(&state, &principal, id).await?
    {
        return Err(ApiError::NotFound);
    }
    let secret = key.secret_for(principal.tenant.as_str(), id).to_whsec();
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(WebhookSecretView { id, secret }),
    )
        .into_response())
}

/// A webhook endpoint as the notifications read model holds it.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct WebhookEndpointView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub url: String,
    pub enabled: bool,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub position: i64,
}

const COLUMNS: &str = "id, organisation_id, url, enabled, registered_at, updated_at, position";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookEndpointFilter {
    /// One organisation's endpoints (an organisation's token sees its own only).
    pub organisation_id: Option<Uuid>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// The municipality's webhook endpoints (an organisation: its own).
#[utoipa::path(get, path = "/webhook-endpoints", tag = "notifications",
    params(WebhookEndpointFilter),
    responses((status = 200, body = Page<WebhookEndpointView>)), security(("bearer" = [])))]
async fn list_endpoints(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<WebhookEndpointFilter>,
) -> Result<axum::Json<Page<WebhookEndpointView>>, ApiError> {
    let limit = check_limit(filter.limit)?;
    // An organisation's token lists its own endpoints (asking for another's is refused);
    // staff list all of the municipality's, or one organisation's.
    let organisation = match (principal.organisation(), filter.organisation_id) {
        (Some(me), Some(asked)) if asked != me => {
            return Err(ApiError::Forbidden(
                "an organisation's token lists its own endpoints only",
            ));
        }
        (Some(me), _) => Some(me),
        (None, asked) => asked,
    };
    wait_for(&state, NOTIFY, filter.min_position).await?;
    let rows: Vec<WebhookEndpointView> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql()))
        .bind(principal.tenant.as_str())
        .bind(organisation)
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    Ok(axum::Json(page(rows, limit, |e| e.id)))
}

/// One webhook endpoint.
#[utoipa::path(get, path = "/webhook-endpoints/{id}", tag = "notifications",
    params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = WebhookEndpointView)), security(("bearer" = [])))]
async fn get_endpoint(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<WebhookEndpointView>, ApiError> {
    wait_for(&state, NOTIFY, consistency.min_position).await?;
    let row: Option<WebhookEndpointView> = sqlx::query_as(sqlx::AssertSqlSafe(get_sql()))
        .bind(principal.tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(axum::Json).ok_or(ApiError::NotFound)
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /webhook-endpoints", list_sql()),
        ("GET /webhook-endpoints/{id}", get_sql()),
    ]
}

fn list_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM {schema}.webhook_endpoint
         WHERE tenant = $1 AND ($2::uuid IS NULL OR organisation_id = $2)
           AND ($3::uuid IS NULL OR id > $3)
         ORDER BY id LIMIT $4",
        schema = NOTIFY.schema
    )
}

fn get_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM {schema}.webhook_endpoint WHERE tenant = $1 AND id = $2",
        schema = NOTIFY.schema
    )
}
