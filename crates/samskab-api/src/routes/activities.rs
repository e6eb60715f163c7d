//! Activities an organisation runs (an example room, added to count the path).

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use samskab_domain::{Activity, ActivityCommand, ActivityId, Name, OrganisationId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::body::JsonBody;
use crate::commands::{CommandAccepted, CommandRequest};
use crate::fields::FieldCheck;
use crate::problem::ApiError;
use crate::read::{Consistency, DIRECTORY, QueryParams, wait_for};
use crate::routes::EntityId;
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_activity))
        .routes(routes!(get_activity))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    pub organisation: Uuid,
    #[schema(schema_with = schema::name)]
    pub title: String,
}

/// Register an activity.
#[utoipa::path(post, path = "/activities", tag = "activities", request_body = ActivityInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn register_activity(
    cmd: CommandRequest,
    body: JsonBody<ActivityInput>,
) -> Result<Response, ApiError> {
    cmd.require(&[Role::Caseworker])?;
    let mut f = FieldCheck::default();
    let title = f.check("title", Name::parse(&body.value.title));
    f.finish()?;
    let Some(title) = title else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let id = ActivityId::from(cmd.new_id::<Activity>());
    let command = ActivityCommand::Register {
        id,
        organisation: OrganisationId::from(body.value.organisation),
        title,
    };
    cmd.create::<Activity>(id, &body.digest, command).await
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ActivityView {
    pub id: Uuid,
    pub organisation: Uuid,
    pub title: String,
    pub registered_at: DateTime<Utc>,
    pub position: i64,
}

/// One activity of the caller's municipality.
#[utoipa::path(get, path = "/activities/{id}", tag = "activities", params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = ActivityView)), security(("bearer" = [])))]
async fn get_activity(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<ActivityView>, ApiError> {
    principal.require(&[Role::Caseworker, Role::Auditor])?;
    wait_for(&state, DIRECTORY, consistency.min_position).await?;
    let row: Option<ActivityView> = sqlx::query_as(sqlx::AssertSqlSafe(get_sql()))
        .bind(principal.tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(axum::Json).ok_or(ApiError::NotFound)
}

pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![("GET /activities/{id}", get_sql())]
}

fn get_sql() -> String {
    format!(
        "SELECT id, organisation, title, registered_at, position FROM {schema}.activity
         WHERE tenant = $1 AND id = $2",
        schema = DIRECTORY.schema
    )
}
