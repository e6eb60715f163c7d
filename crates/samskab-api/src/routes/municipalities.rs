//! Municipalities (kommuner): the tenants of the shared installation.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use samskab_domain::ranking::Weights;
use samskab_domain::{Kommunekode, Municipality, MunicipalityCommand, Name, TenantId};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

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
        .routes(routes!(set_matching_weights))
        .routes(routes!(share_with_umbrellas))
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
    /// The points per criterion its candidates and suggestions are ranked by.
    #[schema(value_type = crate::routes::matching::WeightsView)]
    pub matching_weights: Json<Weights>,
    /// The umbrella organisations it shares its figures with (and so their districts).
    pub shared_with: Vec<Uuid>,
    pub position: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedUmbrellasInput {
    /// Every umbrella organisation (`GET /umbrellas`) the municipality shares its figures with
    /// from now on: their members' volunteers, as suppressed counts (no figure of fewer than 5
    /// persons, nor one derivable from those shown). Empty: none.
    #[schema(max_items = 50)]
    pub umbrella_ids: Vec<Uuid>,
}

/// Share the caller's municipality's figures with these umbrella organisations (and their
/// districts), all of them: each sees its members' volunteers here, suppressed. The same set
/// again changes nothing; an empty one stops sharing.
#[utoipa::path(put, path = "/municipalities/current/umbrellas", tag = "municipalities",
    request_body = SharedUmbrellasInput, responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn share_with_umbrellas(
    State(state): State<AppState>,
    cmd: CommandRequest,
    body: JsonBody<SharedUmbrellasInput>,
) -> Result<Response, ApiError> {
    if body.value.umbrella_ids.len() > 50 {
        return Err(ApiError::invalid("umbrella_ids", "at most 50 umbrellas"));
    }
    let mut umbrellas = Vec::with_capacity(body.value.umbrella_ids.len());
    for id in &body.value.umbrella_ids {
        umbrellas.push(
            crate::routes::umbrellas::registered_umbrella(&state, *id, "umbrella_ids").await?,
        );
    }
    let command = MunicipalityCommand::ShareWithUmbrellas {
        umbrellas,
        at: Utc::now(),
    };
    let tenant = cmd.principal.tenant.clone();
    cmd.change::<Municipality>(tenant, &body.digest, command)
        .await
}

/// Points per matching criterion, each 0 to 100; at least one above 0. A candidate's score is
/// the share of the total it earns, so it stays out of 100 whatever the total.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightsInput {
    #[serde(deserialize_with = "whole::u8")]
    #[schema(value_type = u8, minimum = 0, maximum = 100)]
    pub skills_required: u8,
    #[serde(deserialize_with = "whole::u8")]
    #[schema(value_type = u8, minimum = 0, maximum = 100)]
    pub skills_nice_to_have: u8,
    #[serde(deserialize_with = "whole::u8")]
    #[schema(value_type = u8, minimum = 0, maximum = 100)]
    pub languages: u8,
    #[serde(deserialize_with = "whole::u8")]
    #[schema(value_type = u8, minimum = 0, maximum = 100)]
    pub distance: u8,
    #[serde(deserialize_with = "whole::u8")]
    #[schema(value_type = u8, minimum = 0, maximum = 100)]
    pub availability: u8,
    #[serde(deserialize_with = "whole::u8")]
    #[schema(value_type = u8, minimum = 0, maximum = 100)]
    pub interests: u8,
}

/// Set the weights the caller's municipality ranks candidates and suggestions by. The same
/// weights again change nothing.
#[utoipa::path(put, path = "/municipalities/current/matching-weights", tag = "municipalities",
    request_body = WeightsInput, responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn set_matching_weights(
    cmd: CommandRequest,
    body: JsonBody<WeightsInput>,
) -> Result<Response, ApiError> {
    let w = &body.value;
    let weights = Weights {
        skills_required: u32::from(w.skills_required),
        skills_nice_to_have: u32::from(w.skills_nice_to_have),
        languages: u32::from(w.languages),
        distance: u32::from(w.distance),
        availability: u32::from(w.availability),
        interests: u32::from(w.interests),
    };
    // Checked by the decider, whose refusal names the criterion.
    let command = MunicipalityCommand::SetMatchingWeights {
        weights,
        at: Utc::now(),
    };
    let tenant = cmd.principal.tenant.clone();
    cmd.change::<Municipality>(tenant, &body.digest, command)
        .await
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
        .bind(Json(Weights::default()))
        .fetch_all(&state.pool)
        .await?;
    Ok(axum::Json(rows))
}

/// The caller's own municipality.
#[utoipa::path(get, path = "/municipalities/current", tag = "municipalities", params(Consistency),
    responses((status = 200, body = MunicipalityView),
        (status = 404, description = "The caller's municipality is not registered (yet).")),
    security(("bearer" = [])))]
async fn current_municipality(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<MunicipalityView>, ApiError> {
    wait_for(&state, DIRECTORY, consistency.min_position).await?;
    let sql = current_sql();
    let row: Option<MunicipalityView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .bind(Json(Weights::default()))
        .fetch_optional(&state.pool)
        .await?;
    row.map(axum::Json).ok_or(ApiError::NotFound)
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /municipalities", list_sql()),
        ("GET /municipalities/current", current_sql()),
        ("GET /needs/{id}/candidates (weights)", weights_sql()),
        (
            "GET /volunteers/{id}/suggestions (weights)",
            weights_of_each_sql(),
        ),
    ]
}

/// The columns of a [`MunicipalityView`]; a row from before the weights were projected ranks by
/// the default (`$3` in the list, `$2` for the current one).
fn columns(default: &str) -> String {
    format!(
        "tenant, kommunekode, name, registered_at, \
         coalesce(matching_weights, {default}::jsonb) AS matching_weights, shared_with, position"
    )
}

fn list_sql() -> String {
    format!(
        "SELECT {columns} FROM {schema}.municipality
     WHERE $1 OR tenant = $2 ORDER BY kommunekode",
        columns = columns("$3"),
        schema = DIRECTORY.schema
    )
}

fn current_sql() -> String {
    format!(
        "SELECT {columns} FROM {schema}.municipality WHERE tenant = $1",
        columns = columns("$2"),
        schema = DIRECTORY.schema
    )
}

/// The weights `tenant` ranks by ($1; `$2` the default).
pub(crate) fn weights_sql() -> String {
    format!(
        "SELECT coalesce(matching_weights, $2::jsonb) FROM {schema}.municipality WHERE tenant = $1",
        schema = DIRECTORY.schema
    )
}

/// The weights the principal's municipality ranks by.
pub(crate) async fn weights_of(
    state: &AppState,
    principal: &Principal,
) -> Result<Weights, ApiError> {
    let weights: Option<Json<Weights>> = sqlx::query_scalar(sqlx::AssertSqlSafe(weights_sql()))
        .bind(principal.tenant.as_str())
        .bind(Json(Weights::default()))
        .fetch_optional(&state.pool)
        .await?;
    Ok(weights.map(|w| w.0).unwrap_or_default())
}

/// The weights of each of the municipalities `tenants` (the needs' of a volunteer who opted in
/// to others), in one query; one that is not registered ranks by the default.
pub(crate) async fn weights_of_each(
    state: &AppState,
    tenants: &[String],
) -> Result<std::collections::HashMap<String, Weights>, ApiError> {
    let rows: Vec<(String, Json<Weights>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(weights_of_each_sql()))
            .bind(tenants)
            .bind(Json(Weights::default()))
            .fetch_all(&state.pool)
            .await?;
    let mut weights: std::collections::HashMap<String, Weights> =
        rows.into_iter().map(|(tenant, w)| (tenant, w.0)).collect();
    for tenant in tenants {
        weights.entry(tenant.clone()).or_default();
    }
    Ok(weights)
}

pub(crate) fn weights_of_each_sql() -> String {
    format!(
        "SELECT tenant, coalesce(matching_weights, $2::jsonb) FROM {schema}.municipality
     WHERE tenant = ANY($1)",
        schema = DIRECTORY.schema
    )
}
