//! Persons (borgere) a volunteer is paired with: a young mentee, a refugee family. Registered
//! by a caseworker for the municipality or for an organisation that looks after them (or by
//! that organisation's own token); their name and contact are sealed in the log with their
//! own key, exported on request and forgotten by erasing it, as a volunteer's are.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use samskab_domain::{
    Contact, Email, Name, Person, PersonCommand, PersonId, PersonKind, PersonPersonalData,
    PersonState, Phone, Postcode,
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
use crate::ownership;
use crate::problem::ApiError;
use crate::read::{
    Consistency, DIRECTORY, Page, QueryParams, check_filter, check_limit, page, wait_for,
};
use crate::routes::volunteers::parse_languages;
use crate::routes::{EntityId, municipality_or_organisation};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_person, list_persons))
        .routes(routes!(get_person, update_person))
        .routes(routes!(forget_person))
        .routes(routes!(export_person))
}

/// A person's record: who they are, and (on registration only) who looks after them. An update
/// replaces the record; who looks after them stays (the document shows the two apart:
/// `PersonRegistration` and `PersonUpdate`, `schema::VARIANTS`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// The organisation that looks after the person and speaks for them in a match: active,
    /// of the caller's municipality. Absent or null: the municipality itself. An
    /// organisation's token registers for itself only. Not taken by an update.
    pub organisation_id: Option<Uuid>,
    #[schema(schema_with = schema::person_kind)]
    pub kind: String,
    /// A mentee's name, or a family's. Personal data.
    #[schema(schema_with = schema::name)]
    pub name: String,
    /// Personal data, like the phone; both may be absent (reached through whoever looks after
    /// them).
    #[schema(schema_with = schema::email_or_null)]
    pub email: Option<String>,
    #[schema(schema_with = schema::phone_or_null)]
    pub phone: Option<String>,
    #[schema(schema_with = schema::postcode)]
    pub postcode: String,
    #[schema(schema_with = schema::languages)]
    pub languages: Vec<String>,
    /// A volunteer paired with them has direct, regular contact with children under 15 (a
    /// mentee under 15, a family with young children): only a volunteer with a børneattest
    /// approved and valid today may then be proposed.
    pub children_under_15: bool,
}

struct ParsedPerson {
    kind: PersonKind,
    postcode: Postcode,
    languages: Vec<samskab_domain::LanguageCode>,
    personal: PersonPersonalData,
}

fn parse_person(input: &PersonInput) -> Result<ParsedPerson, ApiError> {
    let mut f = FieldCheck::default();
    let kind = f.check("kind", PersonKind::parse(&input.kind));
    let name = f.check("name", Name::parse(&input.name));
    let email = f.optional("email", input.email.as_deref(), Email::parse);
    let phone = f.optional("phone", input.phone.as_deref(), Phone::parse);
    let postcode = f.check("postcode", Postcode::parse(&input.postcode));
    let languages = parse_languages(
        &mut f,
        &input.languages,
        samskab_domain::person::MAX_LANGUAGES,
    );
    f.finish()?;
    let (Some(kind), Some(name), Some(email), Some(phone), Some(postcode), Some(languages)) =
        (kind, name, email, phone, postcode, languages)
    else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    // Neither e-mail nor phone: no contact, which a person may well have.
    let contact = Contact::parse(email, phone, None).ok();
    Ok(ParsedPerson {
        kind,
        postcode,
        languages,
        personal: PersonPersonalData { name, contact },
    })
}

/// Register a person in the caller's municipality.
#[utoipa::path(post, path = "/persons", tag = "persons", request_body = PersonInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn register_person(
    State(state): State<AppState>,
    cmd: CommandRequest,
    body: JsonBody<PersonInput>,
) -> Result<Response, ApiError> {
    let p = parse_person(&body.value)?;
    ownership::check_own_name(
        &cmd.principal,
        body.value.organisation_id,
        "an organisation's token registers persons in its own name only",
    )?;
    let registered_by = municipality_or_organisation(
        &state,
        &cmd.principal,
        body.value.organisation_id,
        "the organisation is deactivated and cannot register persons",
    )
    .await?;
    let id = PersonId::from(cmd.new_id::<Person>());
    let command = PersonCommand::Register {
        id,
        kind: p.kind,
        registered_by,
        postcode: p.postcode,
        languages: p.languages,
        children_under_15: body.value.children_under_15,
        personal: p.personal,
    };
    cmd.create::<Person>(id, &body.digest, command).await
}

/// Replace a person's record.
#[utoipa::path(put, path = "/persons/{id}", tag = "persons", request_body = PersonInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn update_person(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<PersonInput>,
) -> Result<Response, ApiError> {
    if body.value.organisation_id.is_some() {
        return Err(ApiError::invalid(
            "organisation_id",
            "who looks after a person is set when they are registered; leave it out of an update",
        ));
    }
    let p = parse_person(&body.value)?;
    let command = PersonCommand::Update {
        kind: p.kind,
        postcode: p.postcode,
        languages: p.languages,
        children_under_15: body.value.children_under_15,
        personal: p.personal,
    };
    cmd.change::<Person>(PersonId::from(id), &body.digest, command)
        .await
}

/// Forget the person at their request (GDPR art. 17): their data key is erased, so their
/// name and contact can never be read again, from the log or any read model. Kind, postcode
/// and languages stay for statistics, and matches still refer to them. Repeating it is
/// harmless.
#[utoipa::path(post, path = "/persons/{id}/forget", tag = "persons",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn forget_person(cmd: CommandRequest, EntityId(id): EntityId) -> Result<Response, ApiError> {
    let command = PersonCommand::Forget { at: Utc::now() };
    cmd.forget::<Person>(PersonId::from(id), command).await
}

/// Everything held about a person (GDPR art. 15), read from the log and decrypted.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonExport {
    pub id: Uuid,
    /// The record as it stands; its `personal` is null once forgotten.
    #[schema(value_type = Object)]
    pub person: serde_json::Value,
    pub events: Vec<ExportedEvent>,
    pub exported_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/persons/{id}/export", tag = "persons",
    params(("id" = Uuid, Path)), responses((status = 200, body = PersonExport)),
    security(("bearer" = [])))]
async fn export_person(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
) -> Result<axum::Json<PersonExport>, ApiError> {
    let history = history_of::<Person>(&state, &principal, id).await?;
    let details = match fold::<Person>(&history)? {
        PersonState::NotRegistered => return Err(ApiError::NotFound),
        PersonState::Registered(details) | PersonState::Forgotten { details, .. } => details,
    };
    Ok(axum::Json(PersonExport {
        id,
        person: serde_json::to_value(details).map_err(|e| ApiError::Internal(e.into()))?,
        events: exported(history.events),
        exported_at: Utc::now(),
    }))
}

/// A person as the read model holds it. Name, e-mail and phone are personal data: null for
/// roles that see no persons' data, and once forgotten.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct PersonView {
    pub id: Uuid,
    /// mentee or family
    pub kind: String,
    /// The organisation that looks after them; null for the municipality.
    pub organisation_id: Option<Uuid>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postcode: String,
    pub languages: Vec<String>,
    pub children_under_15: bool,
    /// registered or forgotten
    pub status: String,
    pub registered_at: DateTime<Utc>,
    pub forgotten_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub position: i64,
}

impl PersonView {
    /// What the principal may see (`access::SEES_PERSONS`).
    fn for_principal(mut self, principal: &Principal) -> Self {
        if !access::sees_persons(principal) {
            self.name = None;
            self.email = None;
            self.phone = None;
        }
        self
    }
}

const PERSON_COLUMNS: &str = "id, kind, organisation_id, name, email, phone, postcode, languages, \
    children_under_15, status, registered_at, forgotten_at, updated_at, position";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonFilter {
    #[param(schema_with = schema::person_kind_or_null)]
    pub kind: Option<String>,
    /// The persons an organisation looks after.
    pub organisation_id: Option<Uuid>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// List the municipality's persons, by id. An organisation's token lists those it looks after.
#[utoipa::path(get, path = "/persons", tag = "persons", params(PersonFilter),
    responses((status = 200, body = Page<PersonView>)), security(("bearer" = [])))]
async fn list_persons(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<PersonFilter>,
) -> Result<axum::Json<Page<PersonView>>, ApiError> {
    let limit = check_limit(filter.limit)?;
    let kind = check_filter("kind", filter.kind.as_deref(), |k| {
        PersonKind::parse(k).map(|k| k.as_str().to_string())
    })?;
    let organisation = ownership::narrowed(principal.organisation(), filter.organisation_id)?;
    wait_for(&state, DIRECTORY, filter.min_position).await?;
    let rows: Vec<PersonView> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql()))
        .bind(principal.tenant.as_str())
        .bind(kind)
        .bind(organisation)
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    let rows = rows
        .into_iter()
        .map(|p| p.for_principal(&principal))
        .collect();
    Ok(axum::Json(page(rows, limit, |p| p.id)))
}

/// One person of the caller's municipality.
#[utoipa::path(get, path = "/persons/{id}", tag = "persons", params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = PersonView)), security(("bearer" = [])))]
async fn get_person(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<PersonView>, ApiError> {
    wait_for(&state, DIRECTORY, consistency.min_position).await?;
    let row: Option<PersonView> = sqlx::query_as(sqlx::AssertSqlSafe(get_sql()))
        .bind(principal.tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(|p| axum::Json(p.for_principal(&principal)))
        .ok_or(ApiError::NotFound)
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /persons", list_sql()),
        ("GET /persons/{id}", get_sql()),
    ]
}

fn list_sql() -> String {
    format!(
        "SELECT {PERSON_COLUMNS} FROM {schema}.person
     WHERE tenant = $1
       AND ($2::text IS NULL OR kind = $2)
       AND ($3::uuid IS NULL OR organisation_id = $3)
       AND ($4::uuid IS NULL OR id > $4)
     ORDER BY id LIMIT $5",
        schema = DIRECTORY.schema
    )
}

fn get_sql() -> String {
    format!(
        "SELECT {PERSON_COLUMNS} FROM {schema}.person WHERE tenant = $1 AND id = $2",
        schema = DIRECTORY.schema
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_shows_who_looks_after_a_person_on_registration_only() {
        let document = crate::openapi_document();
        let schemas = &document["components"]["schemas"];
        assert!(schemas["PersonRegistration"]["properties"]["organisation_id"].is_object());
        assert!(schemas["PersonUpdate"]["properties"]["organisation_id"].is_null());
        let body = |method: &str, path: &str| {
            document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
                ["$ref"]
                .clone()
        };
        assert_eq!(
            body("post", "/persons"),
            "#/components/schemas/PersonRegistration"
        );
        assert_eq!(
            body("put", "/persons/{id}"),
            "#/components/schemas/PersonUpdate"
        );
    }
}
