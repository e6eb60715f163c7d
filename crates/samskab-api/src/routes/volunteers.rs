//! Volunteers (frivillige): the resource bank's profiles.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use samskab_domain::{
    AgeBand, Availability, AvailabilitySlot, ChildCertificate, ChildCertificateStatus, Consent,
    ConsentPurpose, Contact, DayPart, Email, EntityKind, LanguageCode, Name, Phone, Postcode, Tag,
    TargetGroup, Volunteer, VolunteerCommand, VolunteerId, VolunteerPersonalData, VolunteerProfile,
    Weekday,
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
        .routes(routes!(register_volunteer, list_volunteers))
        .routes(routes!(get_volunteer, update_volunteer))
        .routes(routes!(withdraw_consent))
}

/// A volunteer's profile as a case worker enters it. Personal data (name, e-mail, phone,
/// birth year) is kept apart in the stored event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolunteerInput {
    #[schema(example = "Søren Ærø Østergård")]
    pub name: String,
    #[schema(example = "soren@example.dk")]
    pub email: Option<String>,
    #[schema(example = "+45 20 30 40 50")]
    pub phone: Option<String>,
    pub birth_year: Option<u16>,
    #[schema(example = "2610")]
    pub postcode: String,
    /// One of under_18, 18_29, 30_49, 50_66, 67_plus. Derived from birth_year when absent.
    pub age_band: Option<String>,
    #[serde(default)]
    #[schema(example = json!(["lektiehjælp", "tømrer"]))]
    pub skills: Vec<String>,
    /// Personal resources: a car, a workshop, time in the evenings.
    #[serde(default)]
    pub resources: Vec<String>,
    /// ISO 639-1 codes.
    #[serde(default)]
    #[schema(example = json!(["da", "uk"]))]
    pub languages: Vec<String>,
    pub availability: AvailabilityInput,
    /// children, young_people, families, elderly, refugees, people_with_disabilities, mental_health, homeless, lonely, other.
    #[serde(default)]
    pub target_groups: Vec<String>,
    /// Børneattest status; absent means not required.
    pub child_certificate: Option<ChildCertificateInput>,
    /// Required when registering; cannot be changed by an update (withdraw it instead).
    pub consent: Option<ConsentInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityInput {
    pub slots: Vec<SlotInput>,
    pub hours_per_week: u8,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotInput {
    /// mon, tue, wed, thu, fri, sat, sun
    pub weekday: String,
    /// morning, afternoon, evening
    pub part: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChildCertificateInput {
    /// not_required, requested, approved, not_approved
    pub status: String,
    pub assessed_on: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    #[schema(example = "Matching med lokale frivilligopgaver i Rødovre Kommune")]
    pub purpose: String,
    /// When the volunteer gave consent; defaults to now.
    pub given_at: Option<DateTime<Utc>>,
}

struct ParsedVolunteer {
    personal: VolunteerPersonalData,
    profile: VolunteerProfile,
    consent: Option<Consent>,
}

fn parse_volunteer(input: VolunteerInput, now: DateTime<Utc>) -> Result<ParsedVolunteer, ApiError> {
    let mut f = FieldCheck::default();
    let name = f.check("name", Name::parse(&input.name));
    let email = f.optional("email", input.email.as_deref(), Email::parse);
    let phone = f.optional("phone", input.phone.as_deref(), Phone::parse);
    let contact = match (email.clone(), phone.clone()) {
        (Some(email), Some(phone)) => f.check("email", Contact::parse(email, phone, None)),
        _ => None,
    };
    let postcode = f.check("postcode", Postcode::parse(&input.postcode));
    let age_band = match (input.age_band.as_deref(), input.birth_year) {
        (Some(band), _) => f.check("age_band", AgeBand::parse(band)),
        (None, Some(year)) => f.check("birth_year", AgeBand::from_birth_year(year, now.year())),
        (None, None) => {
            f.fail("age_band", "give an age band or a birth year");
            None
        }
    };
    let skills = f.check(
        "skills",
        Tag::parse_list(input.skills.iter().map(String::as_str)),
    );
    let resources = f.check(
        "resources",
        Tag::parse_list(input.resources.iter().map(String::as_str)),
    );
    let languages = f.list("languages", &input.languages, |l| LanguageCode::parse(l));
    let slots = f.list("availability.slots", &input.availability.slots, |s| {
        let weekday = Weekday::parse(&s.weekday)
            .map_err(|e| samskab_domain::InvalidValue(format!("weekday {e}")))?;
        let part = DayPart::parse(&s.part)
            .map_err(|e| samskab_domain::InvalidValue(format!("part {e}")))?;
        Ok(AvailabilitySlot { weekday, part })
    });
    let availability = slots.and_then(|slots| {
        f.check(
            "availability",
            Availability::parse(slots, input.availability.hours_per_week),
        )
    });
    let target_groups = f.list("target_groups", &input.target_groups, |t| {
        TargetGroup::parse(t)
    });
    let child_certificate = match &input.child_certificate {
        None => Some(ChildCertificate::not_required()),
        Some(c) => f
            .check(
                "child_certificate.status",
                ChildCertificateStatus::parse(&c.status),
            )
            .and_then(|status| {
                f.check(
                    "child_certificate",
                    ChildCertificate::parse(status, c.assessed_on, c.valid_until),
                )
            }),
    };
    let consent = match &input.consent {
        None => Some(None),
        Some(c) => f
            .check("consent.purpose", ConsentPurpose::parse(&c.purpose))
            .map(|purpose| {
                Some(Consent {
                    purpose,
                    given_at: c.given_at.unwrap_or(now),
                })
            }),
    };
    f.finish()?;
    match (
        name,
        contact,
        postcode,
        age_band,
        skills,
        resources,
        languages,
        availability,
        target_groups,
        child_certificate,
        consent,
    ) {
        (
            Some(name),
            Some(contact),
            Some(postcode),
            Some(age_band),
            Some(skills),
            Some(resources),
            Some(languages),
            Some(availability),
            Some(target_groups),
            Some(child_certificate),
            Some(consent),
        ) => Ok(ParsedVolunteer {
            personal: VolunteerPersonalData {
                name,
                contact,
                birth_year: input.birth_year,
            },
            profile: VolunteerProfile {
                postcode,
                age_band,
                skills,
                resources,
                languages,
                availability,
                target_groups,
                child_certificate,
            },
            consent,
        }),
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        ))),
    }
}

/// Register a volunteer in the caller's municipality.
#[utoipa::path(post, path = "/volunteers", tag = "volunteers",
    request_body = VolunteerInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key; a retry returns the first answer")),
    responses(
        (status = 201, body = CommandAccepted, description = "Registered; `position` can be passed as `min_position` to queries"),
        (status = 400, body = Problem), (status = 422, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
async fn register_volunteer(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: JsonBody<VolunteerInput>,
) -> Result<impl IntoResponse, ApiError> {
    principal.require(&[Role::Caseworker])?;
    let parsed = parse_volunteer(body.value, Utc::now())?;
    let Some(consent) = parsed.consent else {
        return Err(ApiError::invalid(
            "consent",
            "a volunteer is registered only with consent and its purpose",
        ));
    };
    let id = VolunteerId::new_v7();
    let entity = entity_ref(&principal, EntityKind::Volunteer, &id.to_string())?;
    let command = VolunteerCommand::Register {
        id,
        personal: parsed.personal,
        profile: parsed.profile,
        consent,
    };
    let request = CommandRequest {
        state: &state,
        principal: &principal,
        headers: &headers,
        fingerprint: body.fingerprint,
    };
    run::<Volunteer>(request, entity, Creates::New, command, "/volunteers").await
}

/// Replace a volunteer's profile.
#[utoipa::path(put, path = "/volunteers/{id}", tag = "volunteers",
    request_body = VolunteerInput,
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = CommandAccepted), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_volunteer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<VolunteerInput>,
) -> Result<impl IntoResponse, ApiError> {
    principal.require(&[Role::Caseworker])?;
    let id = VolunteerId::parse(&id).map_err(|_| ApiError::NotFound)?;
    let parsed = parse_volunteer(body.value, Utc::now())?;
    if parsed.consent.is_some() {
        return Err(ApiError::invalid(
            "consent",
            "consent cannot be changed by an update; withdraw it instead",
        ));
    }
    let entity = entity_ref(&principal, EntityKind::Volunteer, &id.to_string())?;
    let command = VolunteerCommand::Update {
        personal: parsed.personal,
        profile: parsed.profile,
        at: Utc::now(),
    };
    let request = CommandRequest {
        state: &state,
        principal: &principal,
        headers: &headers,
        fingerprint: body.fingerprint,
    };
    run::<Volunteer>(request, entity, Creates::Existing, command, "/volunteers").await
}

/// The volunteer withdraws consent: their personal data is removed from the read models.
#[utoipa::path(post, path = "/volunteers/{id}/consent/withdraw", tag = "volunteers",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 202, body = CommandAccepted), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn withdraw_consent(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    principal.require(&[Role::Caseworker])?;
    let id = VolunteerId::parse(&id).map_err(|_| ApiError::NotFound)?;
    let entity = entity_ref(&principal, EntityKind::Volunteer, &id.to_string())?;
    let fingerprint = format!("withdraw-consent {id}");
    let request = CommandRequest {
        state: &state,
        principal: &principal,
        headers: &headers,
        fingerprint,
    };
    run::<Volunteer>(
        request,
        entity,
        Creates::Existing,
        VolunteerCommand::WithdrawConsent { at: Utc::now() },
        "/volunteers",
    )
    .await
}

/// A volunteer as the read model holds it. Personal fields are absent for auditors and after
/// consent was withdrawn.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct VolunteerView {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birth_year: Option<i32>,
    pub postcode: String,
    pub age_band: String,
    pub skills: Vec<String>,
    pub resources: Vec<String>,
    pub languages: Vec<String>,
    #[schema(value_type = Object)]
    pub availability: serde_json::Value,
    pub hours_per_week: i32,
    pub target_groups: Vec<String>,
    pub child_certificate_status: String,
    pub child_certificate_assessed_on: Option<NaiveDate>,
    pub child_certificate_valid_until: Option<NaiveDate>,
    pub consent_purpose: Option<String>,
    pub consent_given_at: Option<DateTime<Utc>>,
    pub consent_withdrawn_at: Option<DateTime<Utc>>,
    /// active or consent_withdrawn
    pub status: String,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Log position of the last change.
    pub position: i64,
}

impl VolunteerView {
    fn for_principal(mut self, principal: &Principal) -> Self {
        if !principal.has(Role::Caseworker) {
            self.name = None;
            self.email = None;
            self.phone = None;
            self.birth_year = None;
        }
        self
    }
}

const VOLUNTEER_COLUMNS: &str = "id, name, email, phone, birth_year, postcode, age_band, skills, resources, \
    languages, availability, hours_per_week, target_groups, child_certificate_status, \
    child_certificate_assessed_on, child_certificate_valid_until, consent_purpose, consent_given_at, \
    consent_withdrawn_at, status, registered_at, updated_at, position";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VolunteerFilter {
    pub postcode: Option<String>,
    /// Volunteers with this skill (exact tag, lowercase).
    pub skill: Option<String>,
    pub target_group: Option<String>,
    /// active or consent_withdrawn
    pub status: Option<String>,
    /// Page size, 1..=200 (default 50).
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    pub min_position: Option<u64>,
}

/// List the municipality's volunteers.
#[utoipa::path(get, path = "/volunteers", tag = "volunteers", params(VolunteerFilter),
    responses((status = 200, body = Page<VolunteerView>), (status = 400, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
async fn list_volunteers(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<VolunteerFilter>,
) -> Result<axum::Json<Page<VolunteerView>>, ApiError> {
    principal.require(&[Role::Caseworker, Role::Auditor])?;
    let limit = check_limit(filter.limit)?;
    wait_for(&state, filter.min_position).await?;
    let sql = format!(
        "SELECT {VOLUNTEER_COLUMNS} FROM {DIRECTORY}.volunteer
         WHERE tenant = $1
           AND ($2::text IS NULL OR postcode = $2)
           AND ($3::text IS NULL OR skills @> ARRAY[$3])
           AND ($4::text IS NULL OR target_groups @> ARRAY[$4])
           AND ($5::text IS NULL OR status = $5)
           AND ($6::uuid IS NULL OR id > $6)
         ORDER BY id LIMIT $7"
    );
    let rows: Vec<VolunteerView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .bind(&filter.postcode)
        .bind(filter.skill.as_ref().map(|s| s.trim().to_lowercase()))
        .bind(&filter.target_group)
        .bind(&filter.status)
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    let rows = rows
        .into_iter()
        .map(|v| v.for_principal(&principal))
        .collect();
    Ok(axum::Json(page(rows, limit, |v| v.id)))
}

/// One volunteer of the caller's municipality.
#[utoipa::path(get, path = "/volunteers/{id}", tag = "volunteers", params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = VolunteerView), (status = 404, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
async fn get_volunteer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<VolunteerView>, ApiError> {
    principal.require(&[Role::Caseworker, Role::Auditor])?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    wait_for(&state, consistency.min_position).await?;
    let sql = format!(
        "SELECT {VOLUNTEER_COLUMNS} FROM {DIRECTORY}.volunteer WHERE tenant = $1 AND id = $2"
    );
    let row: Option<VolunteerView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(|v| axum::Json(v.for_principal(&principal)))
        .ok_or(ApiError::NotFound)
}
