//! Umbrella organisations and their districts (Rotary Danmark → Distrikt 1470): of the
//! installation, registered by a platform administrator. A municipality's organisation becomes
//! a member (`PUT /organisations/{id}/umbrella`), a municipality shares its figures with
//! umbrellas (`PUT /municipalities/current/umbrellas`), and an umbrella's token reads its
//! members' figures, suppressed (`GET /reports/umbrella/volunteers`).

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use samskab_domain::{Name, Umbrella, UmbrellaCommand, UmbrellaId, UmbrellaState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::PLATFORM_TENANT;
use crate::body::JsonBody;
use crate::commands::{CommandAccepted, CommandRequest};
use crate::fields::FieldCheck;
use crate::problem::ApiError;
use crate::read::{Consistency, DIRECTORY, Page, QueryParams, check_limit, page, wait_for};
use crate::routes::{EntityId, current_in};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_umbrella, list_umbrellas))
        .routes(routes!(get_umbrella, rename_umbrella))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UmbrellaInput {
    #[schema(schema_with = schema::name)]
    pub name: String,
    /// The umbrella this is a district of (registered before it); absent or null: a national
    /// umbrella.
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UmbrellaNameInput {
    #[schema(schema_with = schema::name)]
    pub name: String,
}

fn parse_name(name: &str) -> Result<Name, ApiError> {
    let mut f = FieldCheck::default();
    let name = f.check("name", Name::parse(name));
    f.finish()?;
    name.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a field failed without a reason")))
}

/// Whether umbrella `id` is registered, asked of the log (not a read model that may lag
/// behind a registration a moment ago); a 422 on `field` if it is not.
pub(crate) async fn registered_umbrella(
    state: &AppState,
    id: Uuid,
    field: &str,
) -> Result<UmbrellaId, ApiError> {
    match current_in::<Umbrella>(state, PLATFORM_TENANT, &id).await? {
        UmbrellaState::Registered(_) => Ok(UmbrellaId::from_uuid(id)),
        UmbrellaState::NotRegistered => Err(ApiError::invalid(
            field,
            "no umbrella organisation with this id is registered",
        )),
    }
}

/// Register an umbrella organisation, or a district of one (`parent_id`).
#[utoipa::path(post, path = "/umbrellas", tag = "umbrellas", request_body = UmbrellaInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn register_umbrella(
    State(state): State<AppState>,
    cmd: CommandRequest,
    body: JsonBody<UmbrellaInput>,
) -> Result<Response, ApiError> {
    let name = parse_name(&body.value.name)?;
    let parent = match body.value.parent_id {
        Some(parent) => Some(registered_umbrella(&state, parent, "parent_id").await?),
        None => None,
    };
    let id = UmbrellaId::from_uuid(cmd.new_id::<Umbrella>());
    let command = UmbrellaCommand::Register { id, name, parent };
    cmd.create::<Umbrella>(id, &body.digest, command).await
}

/// Give an umbrella a new name; the same name again changes nothing.
#[utoipa::path(put, path = "/umbrellas/{id}", tag = "umbrellas", request_body = UmbrellaNameInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn rename_umbrella(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<UmbrellaNameInput>,
) -> Result<Response, ApiError> {
    let name = parse_name(&body.value.name)?;
    cmd.change::<Umbrella>(
        UmbrellaId::from_uuid(id),
        &body.digest,
        UmbrellaCommand::Rename { name },
    )
    .await
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct UmbrellaView {
    pub id: Uuid,
    pub name: String,
    /// The umbrella it is a district of; null: a national one.
    pub parent_id: Option<Uuid>,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Log position of the last change.
    pub position: i64,
}

const COLUMNS: &str = "id, name, parent_id, registered_at, updated_at, position";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UmbrellaFilter {
    /// The districts of this umbrella.
    pub parent_id: Option<Uuid>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// The installation's umbrella organisations and districts: what a municipality may share its
/// figures with and its organisations may be members of.
#[utoipa::path(get, path = "/umbrellas", tag = "umbrellas", params(UmbrellaFilter),
    responses((status = 200, body = Page<UmbrellaView>)), security(("bearer" = [])))]
async fn list_umbrellas(
    State(state): State<AppState>,
    QueryParams(filter): QueryParams<UmbrellaFilter>,
) -> Result<axum::Json<Page<UmbrellaView>>, ApiError> {
    let limit = check_limit(filter.limit)?;
    wait_for(&state, DIRECTORY, filter.min_position).await?;
    let rows: Vec<UmbrellaView> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql()))
        .bind(PLATFORM_TENANT)
        .bind(filter.parent_id)
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    Ok(axum::Json(page(rows, limit, |u| u.id)))
}

/// One umbrella organisation or district.
#[utoipa::path(get, path = "/umbrellas/{id}", tag = "umbrellas",
    params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = UmbrellaView)), security(("bearer" = [])))]
async fn get_umbrella(
    State(state): State<AppState>,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<UmbrellaView>, ApiError> {
    wait_for(&state, DIRECTORY, consistency.min_position).await?;
    let row: Option<UmbrellaView> = sqlx::query_as(sqlx::AssertSqlSafe(get_sql()))
        .bind(PLATFORM_TENANT)
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(axum::Json).ok_or(ApiError::NotFound)
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /umbrellas", list_sql()),
        ("GET /umbrellas/{id}", get_sql()),
    ]
}

fn list_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM {schema}.umbrella
         WHERE tenant = $1 AND ($2::uuid IS NULL OR parent_id = $2)
           AND ($3::uuid IS NULL OR id > $3)
         ORDER BY id LIMIT $4",
        schema = DIRECTORY.schema
    )
}

fn get_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM {schema}.umbrella WHERE tenant = $1 AND id = $2",
        schema = DIRECTORY.schema
    )
}
