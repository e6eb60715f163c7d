//! Organisations (foreninger, organisationer): associations, NGOs, public bodies, companies
//! and informal groups that work with the municipality.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use samskab_domain::{
    Contact, Cvr, DeactivationReason, Email, EntityKind, Name, Organisation, OrganisationCommand,
    OrganisationId, OrganisationKind, Phone,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::body::JsonBody;
use crate::commands::Creates;
use crate::fields::FieldCheck;
use crate::problem::{ApiError, Problem};
use crate::read::{Consistency, DIRECTORY, Page, QueryParams, check_limit, page, wait_for};
use crate::routes::{CommandAccepted, CommandRequest, entity_ref, run};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_organisation, list_organisations))
        .routes(routes!(get_organisation, update_organisation))
        .routes(routes!(deactivate_organisation))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    #[schema(example = "Røde Kors Rødovre")]
    pub name: String,
    /// 8 digits with a valid modulus-11 check digit; absent for informal groups.
    #[schema(example = "24256790")]
    pub cvr: Option<String>,
    /// association, ngo, public_body, company, informal_group
    #[schema(example = "association")]
    pub kind: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact_person: Option<String>,
}

struct ParsedOrganisation {
    name: Name,
    cvr: Option<Cvr>,
    kind: OrganisationKind,
    contact: Contact,
}

fn parse_organisation(input: &OrganisationInput) -> Result<ParsedOrganisation, ApiError> {
    let mut f = FieldCheck::default();
    let name = f.check("name", Name::parse(&input.name));
    let cvr = f.optional("cvr", input.cvr.as_deref(), Cvr::parse);
    let kind = f.check("kind", OrganisationKind::parse(&input.kind));
    let email = f.optional("email", input.email.as_deref(), Email::parse);
    let phone = f.optional("phone", input.phone.as_deref(), Phone::parse);
    let person = f.optional(
        "contact_person",
        input.contact_person.as_deref(),
        Name::parse,
    );
    let contact = match (email, phone, person) {
        (Some(email), Some(phone), Some(person)) => {
            f.check("email", Contact::parse(email, phone, person))
        }
        _ => None,
    };
    f.finish()?;
    match (name, cvr, kind, contact) {
        (Some(name), Some(cvr), Some(kind), Some(contact)) => Ok(ParsedOrganisation {
            name,
            cvr,
            kind,
            contact,
        }),
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        ))),
    }
}

/// Register an organisation in the caller's municipality.
#[utoipa::path(post, path = "/organisations", tag = "organisations", request_body = OrganisationInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CommandAccepted), (status = 400, body = Problem), (status = 422, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
async fn register_organisation(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: JsonBody<OrganisationInput>,
) -> Result<impl IntoResponse, ApiError> {
    principal.require(&[Role::Caseworker])?;
    let p = parse_organisation(&body.value)?;
    let id = OrganisationId::new_v7();
    let entity = entity_ref(&principal, EntityKind::Organisation, &id.to_string())?;
    let command = OrganisationCommand::Register {
        id,
        name: p.name,
        cvr: p.cvr,
        kind: p.kind,
        contact: p.contact,
    };
    let request = CommandRequest {
        state: &state,
        principal: &principal,
        headers: &headers,
        fingerprint: body.fingerprint,
    };
    run::<Organisation>(request, entity, Creates::New, command, "/organisations").await
}

/// Replace an organisation's details.
#[utoipa::path(put, path = "/organisations/{id}", tag = "organisations", request_body = OrganisationInput,
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = CommandAccepted), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_organisation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<OrganisationInput>,
) -> Result<impl IntoResponse, ApiError> {
    principal.require(&[Role::Caseworker])?;
    let id = OrganisationId::parse(&id).map_err(|_| ApiError::NotFound)?;
    let p = parse_organisation(&body.value)?;
    let entity = entity_ref(&principal, EntityKind::Organisation, &id.to_string())?;
    let command = OrganisationCommand::Update {
        name: p.name,
        cvr: p.cvr,
        kind: p.kind,
        contact: p.contact,
    };
    let request = CommandRequest {
        state: &state,
        principal: &principal,
        headers: &headers,
        fingerprint: body.fingerprint,
    };
    run::<Organisation>(
        request,
        entity,
        Creates::Existing,
        command,
        "/organisations",
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateInput {
    pub reason: Option<String>,
}

/// Deactivate an organisation (it stays in the history and in statistics).
#[utoipa::path(post, path = "/organisations/{id}/deactivate", tag = "organisations", request_body = DeactivateInput,
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = CommandAccepted), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn deactivate_organisation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<DeactivateInput>,
) -> Result<impl IntoResponse, ApiError> {
    principal.require(&[Role::Caseworker])?;
    let id = OrganisationId::parse(&id).map_err(|_| ApiError::NotFound)?;
    let mut f = FieldCheck::default();
    let reason = f.check(
        "reason",
        DeactivationReason::parse_optional(body.value.reason.as_deref()),
    );
    f.finish()?;
    let entity = entity_ref(&principal, EntityKind::Organisation, &id.to_string())?;
    let command = OrganisationCommand::Deactivate {
        reason: reason.flatten(),
    };
    let request = CommandRequest {
        state: &state,
        principal: &principal,
        headers: &headers,
        fingerprint: body.fingerprint,
    };
    run::<Organisation>(
        request,
        entity,
        Creates::Existing,
        command,
        "/organisations",
    )
    .await
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct OrganisationView {
    pub id: Uuid,
    pub name: String,
    pub cvr: Option<String>,
    pub kind: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact_person: Option<String>,
    pub active: bool,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub deactivation_reason: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub position: i64,
}

const ORGANISATION_COLUMNS: &str = "id, name, cvr, kind, email, phone, contact_person, active, deactivated_at, \
    deactivation_reason, registered_at, updated_at, position";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganisationFilter {
    /// Organisations whose name contains this text (case-insensitive).
    pub name: Option<String>,
    pub kind: Option<String>,
    pub cvr: Option<String>,
    pub active: Option<bool>,
    pub limit: Option<i64>,
    pub after: Option<Uuid>,
    pub min_position: Option<u64>,
}

/// List the municipality's organisations.
#[utoipa::path(get, path = "/organisations", tag = "organisations", params(OrganisationFilter),
    responses((status = 200, body = Page<OrganisationView>), (status = 400, body = Problem)),
    security(("bearer" = [])))]
async fn list_organisations(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<OrganisationFilter>,
) -> Result<axum::Json<Page<OrganisationView>>, ApiError> {
    principal.require(&[Role::Caseworker, Role::Auditor])?;
    let limit = check_limit(filter.limit)?;
    wait_for(&state, filter.min_position).await?;
    let sql = format!(
        "SELECT {ORGANISATION_COLUMNS} FROM {DIRECTORY}.organisation
         WHERE tenant = $1
           AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0)
           AND ($3::text IS NULL OR kind = $3)
           AND ($4::text IS NULL OR cvr = $4)
           AND ($5::bool IS NULL OR active = $5)
           AND ($6::uuid IS NULL OR id > $6)
         ORDER BY id LIMIT $7"
    );
    let rows: Vec<OrganisationView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .bind(&filter.name)
        .bind(&filter.kind)
        .bind(&filter.cvr)
        .bind(filter.active)
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    Ok(axum::Json(page(rows, limit, |o| o.id)))
}

/// One organisation of the caller's municipality.
#[utoipa::path(get, path = "/organisations/{id}", tag = "organisations", params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = OrganisationView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_organisation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<OrganisationView>, ApiError> {
    principal.require(&[Role::Caseworker, Role::Auditor])?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    wait_for(&state, consistency.min_position).await?;
    let sql = format!(
        "SELECT {ORGANISATION_COLUMNS} FROM {DIRECTORY}.organisation WHERE tenant = $1 AND id = $2"
    );
    let row: Option<OrganisationView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(axum::Json).ok_or(ApiError::NotFound)
}
