//! Volunteers (frivillige): the resource bank's profiles.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use samskab_domain::calendar::danish_date;
use samskab_domain::{
    AgeBand, Availability, AvailabilitySlot, Consent, ConsentPurpose, Contact, DayPart, Email,
    LanguageCode, Municipality, MunicipalityState, Name, OrganisationId, Phone, Postcode, PostedBy,
    Purpose, Tag, TargetGroup, TenantId, TravelKm, Volunteer, VolunteerCommand, VolunteerId,
    VolunteerPersonalData, VolunteerProfile, VolunteerState, Weekday,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::access;
use crate::auth::Principal;
use crate::body::{JsonBody, whole};
use crate::commands::{CommandAccepted, CommandRequest, NO_BODY, fold};
use crate::export::{ExportedEvent, exported, history_of};
use crate::fields::FieldCheck;
use crate::problem::ApiError;
use crate::read::{
    Consistency, DIRECTORY, Page, QueryParams, check_filter, check_limit, page, wait_for,
};
use crate::routes::notifications::{NotificationView, volunteers_inbox};
use crate::routes::{EntityId, current, current_in, municipality_or_organisation};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_volunteer, list_volunteers))
        .routes(routes!(get_volunteer, update_volunteer))
        .routes(routes!(withdraw_consent))
        .routes(routes!(forget_volunteer))
        .routes(routes!(set_purposes))
        .routes(routes!(set_other_municipalities))
        .routes(routes!(export_volunteer))
}

/// A volunteer's profile as a case worker enters it. Personal data (name, e-mail, phone,
/// birth year) is kept apart in the stored event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VolunteerInput {
    #[schema(schema_with = schema::name)]
    pub name: String,
    /// An e-mail address or a phone number (or both) is required.
    #[schema(schema_with = schema::email_or_null)]
    pub email: Option<String>,
    #[schema(schema_with = schema::phone_or_null)]
    pub phone: Option<String>,
    /// Not in the future. With `age_band`, the two must agree.
    #[serde(default, deserialize_with = "whole::option_u16")]
    #[schema(schema_with = schema::birth_year_or_null)]
    pub birth_year: Option<u16>,
    #[schema(schema_with = schema::postcode)]
    pub postcode: String,
    /// Derived from `birth_year` when absent; one of the two is required.
    #[schema(schema_with = schema::age_band_or_null)]
    pub age_band: Option<String>,
    /// Tags, trimmed and lowercased; duplicates count once.
    #[serde(default)]
    #[schema(schema_with = schema::tags)]
    pub skills: Vec<String>,
    /// Personal resources: a car, a workshop, time in the evenings.
    #[serde(default)]
    #[schema(schema_with = schema::tags)]
    pub resources: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = schema::languages)]
    pub languages: Vec<String>,
    /// How far, in whole km between postcodes, they will travel to a need: ranking gives the
    /// distance full points at 0 km, none at this. Absent or null: 15 km.
    #[serde(default, deserialize_with = "whole::option_u16")]
    #[schema(schema_with = schema::travel_km_or_null)]
    pub max_travel_km: Option<u16>,
    pub availability: AvailabilityInput,
    #[serde(default)]
    #[schema(schema_with = schema::target_groups)]
    pub target_groups: Vec<String>,
    /// The organisation of the caller's municipality they volunteer in (a club, an
    /// association); absent or null: on their own, outside the organised associations ("ny
    /// frivillighed"). It must be active, unless it is the one they already had.
    pub organisation_id: Option<Uuid>,
    /// Required when registering; cannot be changed by an update (withdraw it instead).
    pub consent: Option<ConsentInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityInput {
    #[schema(min_items = 1)]
    pub slots: Vec<SlotInput>,
    #[serde(deserialize_with = "whole::u8")]
    #[schema(value_type = u8, minimum = 1, maximum = 60)]
    pub hours_per_week: u8,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotInput {
    #[schema(schema_with = schema::weekday)]
    pub weekday: String,
    #[schema(schema_with = schema::day_part)]
    pub part: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    #[schema(schema_with = schema::consent_purpose)]
    pub purpose: String,
    /// When the volunteer gave consent: in 1900 or later and not later than now, which is the
    /// default.
    pub given_at: Option<DateTime<Utc>>,
}

/// Weekly slots and hours, as a volunteer offers them and a weekly need asks for them; errors
/// under `field` (`availability`, `weekly`).
pub(crate) fn parse_availability(
    f: &mut FieldCheck,
    field: &str,
    input: &AvailabilityInput,
) -> Option<Availability> {
    let slots = f.list(&format!("{field}.slots"), &input.slots, |s| {
        let weekday = Weekday::parse(&s.weekday)
            .map_err(|e| samskab_domain::InvalidValue(format!("weekday {e}")))?;
        let part = DayPart::parse(&s.part)
            .map_err(|e| samskab_domain::InvalidValue(format!("part {e}")))?;
        Ok(AvailabilitySlot { weekday, part })
    });
    slots.and_then(|slots| f.check(field, Availability::parse(slots, input.hours_per_week)))
}

/// At most `max` language codes, each with its own reason (`languages[2]`).
pub(crate) fn parse_languages(
    f: &mut FieldCheck,
    input: &[String],
    max: usize,
) -> Option<Vec<LanguageCode>> {
    if input.len() > max {
        f.fail("languages", format!("at most {max} languages"));
        return None;
    }
    f.list("languages", input, |l| LanguageCode::parse(l))
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
        (None, Some(year)) => f.check(
            "birth_year",
            AgeBand::from_birth_year(year, danish_date(now).year()),
        ),
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
    let languages = parse_languages(&mut f, &input.languages, VolunteerProfile::MAX_LANGUAGES);
    let availability = parse_availability(&mut f, "availability", &input.availability);
    let max_travel_km = f.optional("max_travel_km", input.max_travel_km, TravelKm::parse);
    let target_groups = f.list("target_groups", &input.target_groups, |t| {
        TargetGroup::parse(t)
    });
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
    // A refusal of it was answered by `finish`.
    let max_travel_km = max_travel_km.flatten();
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
                max_travel_km,
                // Asked of the log by the handler (`organisation_of`).
                organisation: None,
            },
            consent,
        }),
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        ))),
    }
}

/// The organisation a volunteer is said to volunteer in, asked of the log: one registered in
/// the caller's municipality and active, or the one they already had (`had`; deactivated since,
/// it does not stop a case worker correcting their phone number).
async fn organisation_of(
    state: &AppState,
    principal: &Principal,
    named: Option<Uuid>,
    had: Option<OrganisationId>,
) -> Result<Option<OrganisationId>, ApiError> {
    let Some(named) = named else {
        return Ok(None);
    };
    if had == Some(OrganisationId::from(named)) {
        return Ok(had);
    }
    match municipality_or_organisation(
        state,
        principal,
        Some(named),
        "the organisation is deactivated: no volunteer joins it",
    )
    .await?
    {
        PostedBy::Organisation(id) => Ok(Some(id)),
        PostedBy::Municipality => Err(ApiError::Internal(anyhow::anyhow!(
            "an organisation's id resolved to the municipality"
        ))),
    }
}

/// Register a volunteer in the caller's municipality.
#[utoipa::path(post, path = "/volunteers", tag = "volunteers", request_body = VolunteerInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn register_volunteer(
    State(state): State<AppState>,
    cmd: CommandRequest,
    body: JsonBody<VolunteerInput>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let named = body.value.organisation_id;
    let parsed = parse_volunteer(body.value, now)?;
    let Some(consent) = parsed.consent else {
        return Err(ApiError::invalid(
            "consent",
            "a volunteer is registered only with consent and its purpose",
        ));
    };
    let organisation = organisation_of(&state, &cmd.principal, named, None).await?;
    let id = VolunteerId::from(cmd.new_id::<Volunteer>());
    let command = VolunteerCommand::Register {
        id,
        personal: parsed.personal,
        profile: VolunteerProfile {
            organisation,
            ..parsed.profile
        },
        consent,
        at: now,
    };
    cmd.create::<Volunteer>(id, &body.digest, command).await
}

/// Replace a volunteer's profile.
#[utoipa::path(put, path = "/volunteers/{id}", tag = "volunteers", request_body = VolunteerInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn update_volunteer(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<VolunteerInput>,
) -> Result<Response, ApiError> {
    let named = body.value.organisation_id;
    let parsed = parse_volunteer(body.value, Utc::now())?;
    if parsed.consent.is_some() {
        return Err(ApiError::invalid(
            "consent",
            "consent cannot be changed by an update; withdraw it instead",
        ));
    }
    // Only an update naming an organisation needs the one the volunteer had.
    let had = match named {
        None => None,
        Some(_) => match current::<Volunteer>(&state, &cmd.principal, id).await? {
            VolunteerState::Active(details) => details.profile.organisation,
            // The decider answers for a volunteer not registered, withdrawn or forgotten.
            _ => None,
        },
    };
    let organisation = organisation_of(&state, &cmd.principal, named, had).await?;
    let command = VolunteerCommand::Update {
        personal: parsed.personal,
        profile: VolunteerProfile {
            organisation,
            ..parsed.profile
        },
        at: Utc::now(),
    };
    cmd.change::<Volunteer>(VolunteerId::from(id), &body.digest, command)
        .await
}

/// The volunteer withdraws consent: their personal data is removed from the read models.
#[utoipa::path(post, path = "/volunteers/{id}/consent/withdraw", tag = "volunteers",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn withdraw_consent(
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    let command = VolunteerCommand::WithdrawConsent { at: Utc::now() };
    cmd.change::<Volunteer>(VolunteerId::from(id), NO_BODY, command)
        .await
}

/// The volunteer's consent per purpose, as they want it now. Every purpose is named, so the
/// request says the whole of it; what changes is recorded as an event each, at the server's
/// time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurposesInput {
    /// Being matched to needs and proposed to organisations.
    pub matching: bool,
    /// Organisations may contact the volunteer directly.
    pub contact: bool,
    /// Mails and messages from the resource bank.
    pub notifications: bool,
}

/// Give or withdraw consent per purpose. Withdrawing always works, also after the volunteer
/// withdrew all consent or was forgotten (it then changes nothing); giving needs an active
/// volunteer.
#[utoipa::path(put, path = "/volunteers/{id}/consents", tag = "volunteers", request_body = PurposesInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn set_purposes(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<PurposesInput>,
) -> Result<Response, ApiError> {
    let input = &body.value;
    let command = VolunteerCommand::SetPurposes {
        wanted: vec![
            (Purpose::Matching, input.matching),
            (Purpose::Contact, input.contact),
            (Purpose::Notifications, input.notifications),
        ],
        at: Utc::now(),
    };
    cmd.change::<Volunteer>(VolunteerId::from(id), &body.digest, command)
        .await
}

/// The other municipalities the volunteer may also be matched in, as they want it now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtherMunicipalitiesInput {
    /// Municipalities (tenant keys) registered on this installation, not the volunteer's own;
    /// at most 20. Empty: their own municipality only.
    #[schema(schema_with = schema::tenant_slugs)]
    pub municipalities: Vec<String>,
}

/// Choose the other municipalities whose needs the volunteer may also be matched to (the hard
/// rule is "the volunteer's own municipality, unless they opted in to others"). Their profile,
/// never their name or contact (unless they consented to contact), is then shown to those
/// municipalities' coordinators among a need's candidates. The whole list each time; clearing
/// it always works.
#[utoipa::path(put, path = "/volunteers/{id}/municipalities", tag = "volunteers",
    request_body = OtherMunicipalitiesInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn set_other_municipalities(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<OtherMunicipalitiesInput>,
) -> Result<Response, ApiError> {
    let municipalities = registered_municipalities(&state, &body.value.municipalities).await?;
    let command = VolunteerCommand::SetOtherMunicipalities {
        home: cmd.principal.tenant.clone(),
        municipalities,
        at: Utc::now(),
    };
    cmd.change::<Volunteer>(VolunteerId::from(id), &body.digest, command)
        .await
}

/// Each of `slugs` a municipality registered on the installation, asked of the log (each is
/// its own tenant's entity), with a reason per entry (`municipalities[1]`). The length is
/// checked first so that a long list costs no log reads (the domain checks it again).
async fn registered_municipalities(
    state: &AppState,
    slugs: &[String],
) -> Result<Vec<TenantId>, ApiError> {
    const MAX: usize = samskab_domain::volunteer::MAX_OTHER_MUNICIPALITIES;
    if slugs.len() > MAX {
        let mut f = FieldCheck::default();
        f.fail("municipalities", format!("at most {MAX} municipalities"));
        return f.finish().map(|()| Vec::new());
    }
    let mut f = FieldCheck::default();
    let parsed = f.list("municipalities", slugs, |s| TenantId::parse(s.trim()));
    f.finish()?;
    let parsed = parsed.unwrap_or_default();
    let mut f = FieldCheck::default();
    // A municipality is its own tenant's entity, keyed by the tenant.
    let known = futures::future::try_join_all(
        parsed
            .iter()
            .map(|tenant| current_in::<Municipality>(state, tenant.as_str(), tenant)),
    )
    .await?;
    for (n, (tenant, known)) in parsed.iter().zip(known).enumerate() {
        if matches!(known, MunicipalityState::NotRegistered) {
            f.fail(
                &format!("municipalities[{n}]"),
                format!("no municipality {tenant} on this installation"),
            );
        }
    }
    f.finish()?;
    Ok(parsed)
}

/// Forget the volunteer at their request (GDPR art. 17): their data key is erased, so their
/// name, contact and birth year can never be read again, from the log or any read model
/// (a rebuild included). What is not personal (postcode, age band, skills) stays for
/// statistics. Repeating it is harmless.
#[utoipa::path(post, path = "/volunteers/{id}/forget", tag = "volunteers",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn forget_volunteer(
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    let command = VolunteerCommand::Forget { at: Utc::now() };
    cmd.forget::<Volunteer>(VolunteerId::from(id), command)
        .await
}

/// Everything held about a volunteer (GDPR art. 15), read from the log and decrypted: their
/// record as it stands, and every event about them with when and by whom.
#[derive(Debug, Serialize, ToSchema)]
pub struct VolunteerExport {
    pub id: Uuid,
    /// active, consent_withdrawn or forgotten
    pub status: String,
    /// Personal data, profile and consent while the volunteer is active; null after consent
    /// was withdrawn or the volunteer was forgotten.
    #[schema(value_type = Option<Object>)]
    pub record: Option<serde_json::Value>,
    pub events: Vec<ExportedEvent>,
    /// The messages in their in-app inbox, oldest first (the notifications read model; none
    /// after they were forgotten).
    pub notifications: Vec<NotificationView>,
    pub exported_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/volunteers/{id}/export", tag = "volunteers",
    params(("id" = Uuid, Path)), responses((status = 200, body = VolunteerExport)),
    security(("bearer" = [])))]
async fn export_volunteer(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
) -> Result<axum::Json<VolunteerExport>, ApiError> {
    let history = history_of::<Volunteer>(&state, &principal, id).await?;
    let (status, record) = match fold::<Volunteer>(&history)? {
        VolunteerState::NotRegistered => return Err(ApiError::NotFound),
        VolunteerState::Active(details) => (
            "active",
            Some(serde_json::json!({
                "personal": details.personal,
                "profile": details.profile,
                "consent": details.consent,
                "purposes": details.purposes,
                "child_certificate": details.child_certificate,
                "child_certificate_case": details.certificate_case,
            })),
        ),
        VolunteerState::ConsentWithdrawn { .. } => ("consent_withdrawn", None),
        VolunteerState::Forgotten { .. } => ("forgotten", None),
    };
    Ok(axum::Json(VolunteerExport {
        id,
        status: status.into(),
        record,
        events: exported(history.events),
        notifications: volunteers_inbox(&state, &principal, id).await?,
        exported_at: Utc::now(),
    }))
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
    /// How far they will travel; null: the default, 15 km.
    pub max_travel_km: Option<i32>,
    /// The organisation they volunteer in; null: on their own ("ny frivillighed").
    pub organisation_id: Option<Uuid>,
    pub target_groups: Vec<String>,
    /// Null for a role that sees no persons' data (see the access table).
    pub child_certificate_status: Option<String>,
    pub child_certificate_assessed_on: Option<NaiveDate>,
    pub child_certificate_valid_until: Option<NaiveDate>,
    /// The volunteer consented that this body request their børneattest: `municipality` or an
    /// organisation's id. Null for a role that sees no persons' data.
    pub child_certificate_consent_for: Option<String>,
    /// A børneattest requested and not yet assessed: by whom (`municipality` or an
    /// organisation's id), and when.
    pub child_certificate_requested_by: Option<String>,
    pub child_certificate_requested_at: Option<DateTime<Utc>>,
    pub consent_purpose: Option<String>,
    pub consent_given_at: Option<DateTime<Utc>>,
    pub consent_withdrawn_at: Option<DateTime<Utc>>,
    pub forgotten_at: Option<DateTime<Utc>>,
    /// The purposes the volunteer consented to (`matching`, `contact`, `notifications`).
    /// Null for a role that sees no persons' data.
    pub purposes: Option<Vec<String>>,
    /// The other municipalities whose needs the volunteer may also be matched to
    /// (`PUT /volunteers/{id}/municipalities`); empty: their own only.
    pub other_municipalities: Vec<String>,
    /// active, consent_withdrawn or forgotten
    pub status: String,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Log position of the last change.
    pub position: i64,
}

impl VolunteerView {
    /// What the principal may see of the volunteer (`access::SEES_PERSONS`): others get the
    /// statistics and skills, not the personal data, børneattest or consent.
    fn for_principal(mut self, principal: &Principal) -> Self {
        if !access::sees_persons(principal) {
            self.name = None;
            self.email = None;
            self.phone = None;
            self.birth_year = None;
            self.child_certificate_status = None;
            self.child_certificate_assessed_on = None;
            self.child_certificate_valid_until = None;
            self.child_certificate_consent_for = None;
            self.child_certificate_requested_by = None;
            self.child_certificate_requested_at = None;
            self.consent_purpose = None;
            self.consent_given_at = None;
            self.consent_withdrawn_at = None;
            self.purposes = None;
        }
        self
    }
}

const VOLUNTEER_COLUMNS: &str = "id, name, email, phone, birth_year, postcode, age_band, skills, resources, \
    languages, availability, hours_per_week, max_travel_km, organisation_id, target_groups, child_certificate_status, \
    child_certificate_assessed_on, child_certificate_valid_until, child_certificate_consent_for, \
    child_certificate_requested_by, child_certificate_requested_at, consent_purpose, consent_given_at, \
    consent_withdrawn_at, forgotten_at, purposes, other_municipalities, status, registered_at, \
    updated_at, position";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VolunteerFilter {
    #[param(schema_with = schema::postcode_query)]
    pub postcode: Option<String>,
    /// Volunteers with this skill (a tag; compared trimmed and lowercased).
    #[param(schema_with = schema::tag_query)]
    pub skill: Option<String>,
    #[param(schema_with = schema::target_group_or_null)]
    pub target_group: Option<String>,
    #[param(schema_with = volunteer_status_or_null)]
    pub status: Option<String>,
    /// Volunteers in this organisation.
    pub organisation_id: Option<Uuid>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

const VOLUNTEER_STATUSES: [&str; 3] = ["active", "consent_withdrawn", "forgotten"];

fn volunteer_status_or_null() -> utoipa::openapi::Schema {
    schema::enum_or_null(&VOLUNTEER_STATUSES)
}

/// List the municipality's volunteers.
#[utoipa::path(get, path = "/volunteers", tag = "volunteers", params(VolunteerFilter),
    responses((status = 200, body = Page<VolunteerView>)), security(("bearer" = [])))]
async fn list_volunteers(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<VolunteerFilter>,
) -> Result<axum::Json<Page<VolunteerView>>, ApiError> {
    let limit = check_limit(filter.limit)?;
    let postcode = check_filter("postcode", filter.postcode.as_deref(), |p| {
        Postcode::parse(p).map(|p| p.to_string())
    })?;
    let skill = check_filter("skill", filter.skill.as_deref(), |s| {
        Tag::parse(s).map(|t| t.to_string())
    })?;
    let target_group = check_filter("target_group", filter.target_group.as_deref(), |t| {
        TargetGroup::parse(t).map(|t| t.as_str().to_string())
    })?;
    let status = check_filter("status", filter.status.as_deref(), |s| {
        VOLUNTEER_STATUSES
            .contains(&s)
            .then(|| s.to_string())
            .ok_or_else(|| {
                samskab_domain::InvalidValue(
                    "must be active, consent_withdrawn or forgotten".into(),
                )
            })
    })?;
    wait_for(&state, DIRECTORY, filter.min_position).await?;
    let sql = list_sql();
    let rows: Vec<VolunteerView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .bind(postcode)
        .bind(skill)
        .bind(target_group)
        .bind(status)
        .bind(filter.organisation_id)
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
    responses((status = 200, body = VolunteerView)), security(("bearer" = [])))]
async fn get_volunteer(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<VolunteerView>, ApiError> {
    wait_for(&state, DIRECTORY, consistency.min_position).await?;
    let sql = get_sql();
    let row: Option<VolunteerView> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(|v| axum::Json(v.for_principal(&principal)))
        .ok_or(ApiError::NotFound)
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /volunteers", list_sql()),
        ("GET /volunteers/{id}", get_sql()),
    ]
}

fn list_sql() -> String {
    format!(
        "SELECT {VOLUNTEER_COLUMNS} FROM {schema}.volunteer
     WHERE tenant = $1
       AND ($2::text IS NULL OR postcode = $2)
       AND ($3::text IS NULL OR skills @> ARRAY[$3])
       AND ($4::text IS NULL OR target_groups @> ARRAY[$4])
       AND ($5::text IS NULL OR status = $5)
       AND ($6::uuid IS NULL OR organisation_id = $6)
       AND ($7::uuid IS NULL OR id > $7)
     ORDER BY id LIMIT $8",
        schema = DIRECTORY.schema
    )
}

fn get_sql() -> String {
    format!(
        "SELECT {VOLUNTEER_COLUMNS} FROM {schema}.volunteer WHERE tenant = $1 AND id = $2",
        schema = DIRECTORY.schema
    )
}
