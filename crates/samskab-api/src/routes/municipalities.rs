//! Municipalities (kommuner): the tenants of the shared installation.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use samskab_domain::{Kommunekode, Municipality, MunicipalityCommand, Name, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{Principal, Role};
use crate::body::{JsonBody, whole};
use crate::commands::{CommandAccepted, CommandRequest};
use crate::fields::FieldCheck;
use crate::problem::ApiError;
use crate::read::{Consistency, DIRECTORY, QueryParams, wait_for};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_municipality, list_municipalities))
        .routes(routes!(current_municipality))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityInput {
    #[schema(schema_with = schema::tenant_slug)]
    pub slug: String,
    /// Danmarks Statistik's municipality code.
    #[serde(deserialize_with = "whole::u16")]
    #[schema(value_type = u16, example = 175, minimum = 101, maximum = 860)]
    pub kommunekode: u16,
    #[schema(schema_with = schema::name)]
    pub name: String,
}

/// Register a municipality (a new tenant). Platform administrators only: this is the one
/// command whose tenant is named by the request, because it creates the tenant.
#[utoipa::path(post, path = "/municipalities", tag = "municipalities", request_body = MunicipalityInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn register_municipality(
    cmd: CommandRequest,
    body: JsonBody<MunicipalityInput>,
) -> Result<Response, ApiError> {
    let mut f = FieldCheck::default();
    let tenant = f.check("slug", TenantId::parse(&body.value.slug));
    let kommunekode = f.check("kommunekode", Kommunekode::parse(body.value.kommunekode));
    let name = f.check("name", Name::parse(&body.value.name));
    if tenant
        .as_ref()
        .is_some_and(|t| t.as_str() == crate::auth::PLATFORM_TENANT)
    {
        f.fail("slug", "is reserved for the platform's own administrators");
    }
    f.finish()?;
    let (Some(tenant), Some(kommunekode), Some(name)) = (tenant, kommunekode, name) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let command = MunicipalityCommand::Register {
        tenant: tenant.clone(),
        kommunekode,
        name,
    };
    cmd.create_tenant::<Municipality>(&tenant, &body.digest, command)
        .await
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct MunicipalityView {
    pub tenant: String,
    pub kommunekode: i32,
    pub name: String,
    pub registered_at: DateTime<Utc>,
    pub position: i64,
}

/// Every municipality (platform administrators), or the caller's own.
#[utoipa::path(get, path = "/municipalities", tag = "municipalities", params(Consistency),
    responses((status = 200, body = Vec<MunicipalityView>)), security(("bearer" = [])))]
async fn list_municipalities(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<Vec<MunicipalityView>>, ApiError> {
    wait_for(&state, DIRECTORY, consistency.min_position).await?;
    let all = principal.has(Role::PlatformAdmin);
    let sql = list_sql();
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(all)
        .bind(principal.tenant.as_str())
        .fetch_all(&state.pool)
        .await?;
    Ok(axum::Json(rows))
}

/// The caller's own municipality.
#[utoipa::path(get, path = "/municipalities/current", tag = "municipalities",
    responses((status = 200, body = MunicipalityView),
        (status = 404, description = "The caller's municipality is not registered (yet).")),
    security(("bearer" = [])))]
async fn current_municipality(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<axum::Json<MunicipalityView>, ApiError> {
    let sql = current_sql();
    let row: Option<MunicipalityView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .fetch_optional(&state.pool)
        .await?;
    row.map(axum::Json).ok_or(ApiError::NotFound)
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /municipalities", list_sql()),
        ("GET /municipalities/current", current_sql()),
    ]
}

fn list_sql() -> String {
    format!(
        "SELECT tenant, kommunekode, name, registered_at, position FROM {schema}.municipality
     WHERE $1 OR tenant = $2 ORDER BY kommunekode",
        schema = DIRECTORY.schema
    )
}

fn current_sql() -> String {
    format!(
        "SELECT tenant, kommunekode, name, registered_at, position FROM {schema}.municipality WHERE tenant = $1",
        schema = DIRECTORY.schema
    )
}
