//! Organisations (foreninger, organisationer): associations, NGOs, public bodies, companies
//! and informal groups that work with the municipality.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use samskab_domain::{
    Contact, Cvr, DeactivationReason, Email, Name, Organisation, OrganisationCommand,
    OrganisationId, OrganisationKind, OrganisationState, Phone,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::access;
use crate::auth::Principal;
use crate::body::JsonBody;
use crate::commands::{CommandAccepted, CommandRequest, fold};
use crate::export::{ExportedEvent, exported, history_of};
use crate::fields::FieldCheck;
use crate::problem::ApiError;
use crate::read::{
    Consistency, DIRECTORY, Page, QueryParams, check_filter, check_limit, page, wait_for,
};
use crate::routes::EntityId;
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_organisation, list_organisations))
        .routes(routes!(get_organisation, update_organisation))
        .routes(routes!(deactivate_organisation))
        .routes(routes!(set_umbrella))
        .routes(routes!(forget_contact))
        .routes(routes!(export_contact))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    #[schema(schema_with = schema::name)]
    pub name: String,
    #[schema(schema_with = schema::cvr_or_null)]
    pub cvr: Option<String>,
    #[schema(schema_with = schema::organisation_kind)]
    pub kind: String,
    /// An e-mail address or a phone number (or both) is required.
    #[schema(schema_with = schema::email_or_null)]
    pub email: Option<String>,
    #[schema(schema_with = schema::phone_or_null)]
    pub phone: Option<String>,
    #[schema(schema_with = schema::name_or_null)]
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
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn register_organisation(
    cmd: CommandRequest,
    body: JsonBody<OrganisationInput>,
) -> Result<Response, ApiError> {
    let p = parse_organisation(&body.value)?;
    let id = OrganisationId::from(cmd.new_id::<Organisation>());
    let command = OrganisationCommand::Register {
        id,
        name: p.name,
        cvr: p.cvr,
        kind: p.kind,
        contact: p.contact,
    };
    cmd.create::<Organisation>(id, &body.digest, command).await
}

/// Replace an organisation's details.
#[utoipa::path(put, path = "/organisations/{id}", tag = "organisations", request_body = OrganisationInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn update_organisation(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<OrganisationInput>,
) -> Result<Response, ApiError> {
    let p = parse_organisation(&body.value)?;
    let command = OrganisationCommand::Update {
        name: p.name,
        cvr: p.cvr,
        kind: p.kind,
        contact: p.contact,
    };
    cmd.change::<Organisation>(OrganisationId::from(id), &body.digest, command)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateInput {
    /// Why; blank or absent for none.
    #[schema(schema_with = schema::deactivation_reason_or_null)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UmbrellaMembershipInput {
    /// The umbrella organisation or district it is a member of (`GET /umbrellas`); null: of
    /// none.
    pub umbrella_id: Option<Uuid>,
}

/// Make an organisation a member of an umbrella organisation or district (a Rotary club of
/// its district), or (null) of none. Its volunteers then count in the umbrella's figures in
/// municipalities that share them with it. The same again changes nothing.
#[utoipa::path(put, path = "/organisations/{id}/umbrella", tag = "organisations",
    request_body = UmbrellaMembershipInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn set_umbrella(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<UmbrellaMembershipInput>,
) -> Result<Response, ApiError> {
    let umbrella = match body.value.umbrella_id {
        Some(umbrella) => Some(
            crate::routes::umbrellas::registered_umbrella(&state, umbrella, "umbrella_id").await?,
        ),
        None => None,
    };
    let command = OrganisationCommand::SetUmbrella { umbrella };
    cmd.change::<Organisation>(OrganisationId::from(id), &body.digest, command)
        .await
}

/// Deactivate an organisation (it stays in the history and in statistics).
#[utoipa::path(post, path = "/organisations/{id}/deactivate", tag = "organisations", request_body = DeactivateInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn deactivate_organisation(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<DeactivateInput>,
) -> Result<Response, ApiError> {
    let mut f = FieldCheck::default();
    let reason = f.check(
        "reason",
        DeactivationReason::parse_optional(body.value.reason.as_deref()),
    );
    f.finish()?;
    let command = OrganisationCommand::Deactivate {
        reason: reason.flatten(),
    };
    cmd.change::<Organisation>(OrganisationId::from(id), &body.digest, command)
        .await
}

/// Forget the organisation's contact person, e-mail and phone (GDPR art. 17): their data key
/// is erased, so they can never be read again, from the log or any read model. The
/// organisation stays; an update may record a new contact. Repeating it is harmless.
#[utoipa::path(post, path = "/organisations/{id}/contact/forget", tag = "organisations",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn forget_contact(cmd: CommandRequest, EntityId(id): EntityId) -> Result<Response, ApiError> {
    let command = OrganisationCommand::ForgetContact { at: Utc::now() };
    cmd.forget::<Organisation>(OrganisationId::from(id), command)
        .await
}

/// Everything held about an organisation's contact person (GDPR art. 15), read from the log
/// and decrypted: the contact as it stands, and every event of the organisation (the contact
/// is under `personal` in its data), with when and by whom.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactExport {
    pub id: Uuid,
    /// Contact person, e-mail and phone as held now; null once forgotten.
    #[schema(value_type = Option<Object>)]
    pub contact: Option<serde_json::Value>,
    pub events: Vec<ExportedEvent>,
    pub exported_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/organisations/{id}/contact/export", tag = "organisations",
    params(("id" = Uuid, Path)), responses((status = 200, body = ContactExport)),
    security(("bearer" = [])))]
async fn export_contact(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
) -> Result<axum::Json<ContactExport>, ApiError> {
    let history = history_of::<Organisation>(&state, &principal, id).await?;
    let contact = match fold::<Organisation>(&history)? {
        OrganisationState::NotRegistered => return Err(ApiError::NotFound),
        OrganisationState::Active(details) | OrganisationState::Deactivated(details) => {
            details.contact
        }
    };
    Ok(axum::Json(ContactExport {
        id,
        contact: contact
            .map(|c| serde_json::to_value(c).map_err(|e| ApiError::Internal(e.into())))
            .transpose()?,
        events: exported(history.events),
        exported_at: Utc::now(),
    }))
}

/// An organisation as the read model holds it. The contact (person, e-mail, phone) is personal
/// data: null for roles that see no persons' data, and once forgotten.
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
    /// The umbrella organisation or district it is a member of; null: none.
    pub umbrella_id: Option<Uuid>,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub deactivation_reason: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub position: i64,
}

impl OrganisationView {
    /// What the principal may see (`access::SEES_PERSONS`): others get no contact.
    fn for_principal(mut self, principal: &Principal) -> Self {
        if !access::sees_persons(principal) {
            self.email = None;
            self.phone = None;
            self.contact_person = None;
        }
        self
    }
}

const ORGANISATION_COLUMNS: &str = "id, name, cvr, kind, email, phone, contact_person, active, umbrella_id, deactivated_at, \
    deactivation_reason, registered_at, updated_at, position";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganisationFilter {
    /// Organisations whose name contains this text (case-insensitive).
    #[param(schema_with = schema::query_text_or_null)]
    pub name: Option<String>,
    #[param(schema_with = schema::organisation_kind_or_null)]
    pub kind: Option<String>,
    #[param(schema_with = schema::cvr_query)]
    pub cvr: Option<String>,
    pub active: Option<bool>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// List the municipality's organisations.
#[utoipa::path(get, path = "/organisations", tag = "organisations", params(OrganisationFilter),
    responses((status = 200, body = Page<OrganisationView>)), security(("bearer" = [])))]
async fn list_organisations(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<OrganisationFilter>,
) -> Result<axum::Json<Page<OrganisationView>>, ApiError> {
    let limit = check_limit(filter.limit)?;
    let kind = check_filter("kind", filter.kind.as_deref(), |k| {
        OrganisationKind::parse(k).map(|k| k.as_str().to_string())
    })?;
    let cvr = check_filter("cvr", filter.cvr.as_deref(), |c| {
        Cvr::parse(c).map(|c| c.to_string())
    })?;
    wait_for(&state, DIRECTORY, filter.min_position).await?;
    let sql = list_sql();
    let rows: Vec<OrganisationView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .bind(&filter.name)
        .bind(kind)
        .bind(cvr)
        .bind(filter.active)
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    let rows = rows
        .into_iter()
        .map(|o| o.for_principal(&principal))
        .collect();
    Ok(axum::Json(page(rows, limit, |o| o.id)))
}

/// One organisation of the caller's municipality.
#[utoipa::path(get, path = "/organisations/{id}", tag = "organisations", params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = OrganisationView)), security(("bearer" = [])))]
async fn get_organisation(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<OrganisationView>, ApiError> {
    wait_for(&state, DIRECTORY, consistency.min_position).await?;
    let sql = get_sql();
    let row: Option<OrganisationView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(|o| axum::Json(o.for_principal(&principal)))
        .ok_or(ApiError::NotFound)
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /organisations", list_sql()),
        ("GET /organisations/{id}", get_sql()),
    ]
}

fn list_sql() -> String {
    format!(
        "SELECT {ORGANISATION_COLUMNS} FROM {schema}.organisation
     WHERE tenant = $1
       AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0)
       AND ($3::text IS NULL OR kind = $3)
       AND ($4::text IS NULL OR cvr = $4)
       AND ($5::bool IS NULL OR active = $5)
       AND ($6::uuid IS NULL OR id > $6)
     ORDER BY id LIMIT $7",
        schema = DIRECTORY.schema
    )
}

fn get_sql() -> String {
    format!(
        "SELECT {ORGANISATION_COLUMNS} FROM {schema}.organisation WHERE tenant = $1 AND id = $2",
        schema = DIRECTORY.schema
    )
}
