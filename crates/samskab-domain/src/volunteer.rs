//! Volunteers (frivillige) and their profiles in the resource bank (ressourcebank).
//!
//! Personal data is kept apart from the profile: every event that carries it has it under the
//! payload key `"personal"`, and everything else (postcode, age band, skills, availability, ...)
//! under `"profile"`. The event log can then encrypt `"personal"` with a key per person and
//! forget the person by deleting the key (crypto-shredding), while the event, the statistics and
//! the grant history built on it stay in the log.

use std::collections::BTreeMap;

use crate::calendar::danish_date;
use crate::{
    AgeBand, Availability, ChildCertificate, ChildCertificateStatus, Consent, Contact, Decider,
    DomainError, EntityKind, LanguageCode, Name, OrganisationId, Postcode, PostedBy, Purpose, Tag,
    TargetGroup, TenantId, TravelKm, VolunteerId,
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The volunteer decider.
pub struct Volunteer;

/// Personal data: what identifies or reaches the person. Encrypted per person by the event
/// log, and forgotten when the person asks to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerPersonalData {
    pub name: Name,
    pub contact: Contact,
    /// Optional; when given, the profile's age band must agree with it.
    pub birth_year: Option<u16>,
}

/// What matching and statistics use. Not directly identifying on its own; it survives when the
/// personal data is forgotten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerProfile {
    pub postcode: Postcode,
    pub age_band: AgeBand,
    /// Professional skills (faglighed), at most [`Tag::MAX_PER_LIST`].
    pub skills: Vec<Tag>,
    /// Personal resources, at most [`Tag::MAX_PER_LIST`].
    pub resources: Vec<Tag>,
    pub languages: Vec<LanguageCode>,
    pub availability: Availability,
    pub target_groups: Vec<TargetGroup>,
    /// How far they will travel to a need; `None`: the installation's default
    /// (`ranking::DEFAULT_TRAVEL_KM`). An optional member added to the profile's payloads:
    /// absent, as in every payload from before it, it means that default, so the payloads'
    /// versions stay (see ARCHITECTURE.md, "An event's payload is a contract").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_travel_km: Option<TravelKm>,
    /// The organisation (an association, a Rotary club, Røde Kors' local branch) they
    /// volunteer in; `None`: on their own, outside the organised associations ("ny
    /// frivillighed", seed 004), as every payload from before it meant. Optional and added
    /// without a new version, as `max_travel_km` was. Not personal data: it says no more than
    /// the skills do, and it stays for the statistics when the person is forgotten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationId>,
}

impl VolunteerProfile {
    /// The most languages a profile may list.
    pub const MAX_LANGUAGES: usize = 30;

    /// The same profile with duplicates removed from every list (first occurrence kept), so
    /// that the stored profile and the no-op check do not depend on how a form repeated itself.
    pub fn without_duplicates(&self) -> VolunteerProfile {
        VolunteerProfile {
            skills: first_occurrences(&self.skills),
            resources: first_occurrences(&self.resources),
            languages: first_occurrences(&self.languages),
            target_groups: first_occurrences(&self.target_groups),
            ..self.clone()
        }
    }
}

/// A profile as the `.v1` payloads of `registered` and `profile_updated` wrote it: with the
/// børneattest's assessment in it, in plain text. Read, never written: since `.v2` the
/// assessment is personal data of its own event (`child_certificate_assessed.v2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerProfileV1 {
    #[serde(flatten)]
    pub profile: VolunteerProfile,
    pub child_certificate: ChildCertificate,
}

pub(crate) fn first_occurrences<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !kept.contains(item) {
            kept.push(item.clone());
        }
    }
    kept
}

/// What a decision needs to know about a registered volunteer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerDetails {
    pub id: VolunteerId,
    /// `None` when the personal data could not be read back (forgotten: its key was deleted).
    pub personal: Option<VolunteerPersonalData>,
    pub profile: VolunteerProfile,
    pub consent: Consent,
    /// The purposes the volunteer consented to (matching, contact, notifications), and since
    /// when. None at registration.
    pub purposes: BTreeMap<Purpose, DateTime<Utc>>,
    /// The børneattest's assessment as the workflow left it: `not_required` at registration,
    /// `requested` by a first request, then what the requester assessed. Personal data (it
    /// tells whether the person has a record of offences against children): it travels only
    /// under the assessment event's sealed `personal` member, never with the profile.
    pub child_certificate: ChildCertificate,
    /// Where the børneattest workflow stands; its outcome is `child_certificate`.
    pub certificate_case: CertificateCase,
    /// The other municipalities (tenants) whose needs the volunteer may also be matched to,
    /// sorted, each once; empty: their own only (the hard rule's default). See
    /// [`VolunteerCommand::SetOtherMunicipalities`].
    pub other_municipalities: Vec<TenantId>,
}

/// Who asks the police for a volunteer's børneattest and assesses it: the municipality, or the
/// organisation the volunteer will work with children for. JSON as [`PostedBy`].
pub type CertificateRequester = PostedBy;

/// The børneattest as a workflow (børneattestloven): the volunteer consents that one body
/// requests it (their consent is required by law, and is its own event); that body requests
/// it; the body assesses the answer as approved (until the day it must be renewed) or not
/// approved. The certificate itself is criminal-offence data and never enters the system: only
/// who requested it, when, and the assessment. A renewal is a new consent and request; the
/// standing assessment holds until the new one is recorded (or it expires).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CertificateCase {
    /// The volunteer consented that this body request their børneattest. Used up by the
    /// request; a consent for another body replaces it.
    pub consent_for: Option<CertificateRequester>,
    /// A request sent and not yet assessed.
    pub request: Option<CertificateRequest>,
}

/// A børneattest requested and not yet assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRequest {
    pub by: CertificateRequester,
    pub at: DateTime<Utc>,
}

/// How a requester says who they are in a refusal.
fn requester_name(requester: &CertificateRequester) -> String {
    match requester {
        PostedBy::Municipality => "the municipality".into(),
        PostedBy::Organisation(id) => format!("organisation {id}"),
    }
}

/// A volunteer's decision state. `Default` is "not yet registered".
// Nearly every state anyone holds (in a decision or in a cache) is `Active`, so boxing the
// large variant would save no memory and only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum VolunteerState {
    #[default]
    NotRegistered,
    Active(VolunteerDetails),
    /// Consent withdrawn: the volunteer can no longer be changed or matched.
    ConsentWithdrawn {
        id: VolunteerId,
        withdrawn_at: DateTime<Utc>,
    },
    /// Forgotten at the person's request (GDPR art. 17): their data key is erased, so no
    /// event's personal data about them can be read again. Nothing changes them any more;
    /// their profile stays for statistics.
    Forgotten {
        id: VolunteerId,
        forgotten_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolunteerCommand {
    /// `at` is "now" for the rules (the age band check), passed in so that `decide` stays
    /// pure; the consent cannot have been given later than that.
    Register {
        id: VolunteerId,
        personal: VolunteerPersonalData,
        profile: VolunteerProfile,
        consent: Consent,
        at: DateTime<Utc>,
    },
    /// Full replacement of personal data and profile. `at` is "now" for the rules, passed in so
    /// that `decide` stays pure.
    Update {
        personal: VolunteerPersonalData,
        profile: VolunteerProfile,
        at: DateTime<Utc>,
    },
    WithdrawConsent {
        at: DateTime<Utc>,
    },
    /// The volunteer's consent for each purpose, as they want it now: each change is an event
    /// (given or withdrawn); what is already so changes nothing. `at` is the server's clock.
    SetPurposes {
        wanted: Vec<(Purpose, bool)>,
        at: DateTime<Utc>,
    },
    /// Forget the person: their personal data can never be read again. Repeating it changes
    /// nothing (and the API erases the key again, in case the first attempt stopped halfway).
    Forget {
        at: DateTime<Utc>,
    },
    /// The volunteer consents that `requester` requests their børneattest. Given again for
    /// the same body, it changes nothing.
    ConsentToCertificate {
        requester: CertificateRequester,
        at: DateTime<Utc>,
    },
    /// `requester` has requested the børneattest, with the volunteer's consent.
    RequestCertificate {
        requester: CertificateRequester,
        at: DateTime<Utc>,
    },
    /// The other municipalities the volunteer may also be matched in, as they want it now (the
    /// whole list; empty: none). Matching in another municipality shows their profile (never
    /// their name or contact, unless they consented to contact) to that municipality's
    /// coordinators and organisations, so it is the volunteer's choice, recorded as an event
    /// at the server's time. `home` is the volunteer's own municipality (the caller's tenant),
    /// which is no "other". Clearing the list always works; after withdrawal or forgetting it
    /// changes nothing.
    SetOtherMunicipalities {
        home: TenantId,
        municipalities: Vec<TenantId>,
        at: DateTime<Utc>,
    },
    /// `requester` records its assessment of the børneattest it requested: approved, until
    /// the day it must be renewed (`valid_until`, required), or not approved (no such day).
    AssessCertificate {
        requester: CertificateRequester,
        approved: bool,
        assessed_on: NaiveDate,
        valid_until: Option<NaiveDate>,
        at: DateTime<Utc>,
    },
}

domain_events! {
    /// What happens to a volunteer.
    pub enum VolunteerEvent for EntityKind::Volunteer {
        Registered(VolunteerRegistered) = REGISTERED_V2 => "dk.samskab.volunteer.registered.v2",
        ProfileUpdated(VolunteerProfileUpdated) = PROFILE_UPDATED_V2 => "dk.samskab.volunteer.profile_updated.v2",
        ConsentWithdrawn(VolunteerConsentWithdrawn) = CONSENT_WITHDRAWN_V1 => "dk.samskab.volunteer.consent_withdrawn.v1",
        Forgotten(VolunteerForgotten) = FORGOTTEN_V1 => "dk.samskab.volunteer.forgotten.v1",
        PurposeConsentGiven(VolunteerPurposeConsent) = PURPOSE_CONSENT_GIVEN_V1 => "dk.samskab.volunteer.purpose_consent_given.v1",
        PurposeConsentWithdrawn(VolunteerPurposeConsent) = PURPOSE_CONSENT_WITHDRAWN_V1 => "dk.samskab.volunteer.purpose_consent_withdrawn.v1",
        CertificateConsentGiven(VolunteerCertificateStep) = CERTIFICATE_CONSENT_GIVEN_V1 => "dk.samskab.volunteer.child_certificate_consent_given.v1",
        CertificateRequested(VolunteerCertificateStep) = CERTIFICATE_REQUESTED_V1 => "dk.samskab.volunteer.child_certificate_requested.v1",
        CertificateAssessed(VolunteerCertificateAssessed) = CERTIFICATE_ASSESSED_V2 => "dk.samskab.volunteer.child_certificate_assessed.v2",
        OtherMunicipalitiesSet(VolunteerOtherMunicipalities) = OTHER_MUNICIPALITIES_SET_V1 => "dk.samskab.volunteer.other_municipalities_set.v1",
        /// As `Registered`, with the børneattest's assessment in the profile in plain text:
        /// read, never decided.
        RegisteredV1(VolunteerRegisteredV1) = REGISTERED_V1 => "dk.samskab.volunteer.registered.v1",
        /// As `ProfileUpdated`, with the assessment in the profile in plain text: read, never
        /// decided.
        ProfileUpdatedV1(VolunteerProfileUpdatedV1) = PROFILE_UPDATED_V1 => "dk.samskab.volunteer.profile_updated.v1",
        /// As `CertificateAssessed`, with the assessment in plain text: read, never decided.
        CertificateAssessedV1(VolunteerCertificateAssessedV1) = CERTIFICATE_ASSESSED_V1 => "dk.samskab.volunteer.child_certificate_assessed.v1",
    }
}

/// Payload of `child_certificate_consent_given.v1` and `child_certificate_requested.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerCertificateStep {
    pub id: VolunteerId,
    pub requester: CertificateRequester,
    pub at: DateTime<Utc>,
}

/// Payload of `child_certificate_assessed.v2`: who assessed it (the body that requested it;
/// the person is the event's actor), when, and the assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerCertificateAssessed {
    pub id: VolunteerId,
    pub requester: CertificateRequester,
    /// The assessment: personal data (whether the person may work with children), under the
    /// payload key `personal`, which the event log seals with the volunteer's data key.
    /// Always `Some` when decided; `None` once the volunteer was forgotten.
    #[serde(rename = "personal")]
    pub certificate: Option<ChildCertificate>,
    pub at: DateTime<Utc>,
}

/// Payload of `child_certificate_assessed.v1`: as `.v2`, the assessment in plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerCertificateAssessedV1 {
    pub id: VolunteerId,
    pub requester: CertificateRequester,
    pub certificate: ChildCertificate,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.volunteer.registered.v1`: as `.v2`, with the assessment in the
/// profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerRegisteredV1 {
    pub id: VolunteerId,
    pub personal: Option<VolunteerPersonalData>,
    pub profile: VolunteerProfileV1,
    pub consent: Consent,
}

/// Payload of `dk.samskab.volunteer.profile_updated.v1`: as `.v2`, with the assessment in the
/// profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerProfileUpdatedV1 {
    pub id: VolunteerId,
    pub personal: Option<VolunteerPersonalData>,
    pub profile: VolunteerProfileV1,
}

impl VolunteerRegisteredV1 {
    /// The `.v2` registration it stands for, and the assessment it brought.
    pub fn upcast(&self) -> (VolunteerRegistered, ChildCertificate) {
        let registered = VolunteerRegistered {
            id: self.id,
            personal: self.personal.clone(),
            profile: self.profile.profile.clone(),
            consent: self.consent.clone(),
        };
        (registered, self.profile.child_certificate.clone())
    }
}

impl VolunteerCertificateAssessedV1 {
    /// The `.v2` assessment it stands for.
    pub fn upcast(&self) -> VolunteerCertificateAssessed {
        VolunteerCertificateAssessed {
            id: self.id,
            requester: self.requester,
            certificate: Some(self.certificate.clone()),
            at: self.at,
        }
    }
}

impl VolunteerProfileUpdatedV1 {
    /// The `.v2` update it stands for, and the assessment it set.
    pub fn upcast(&self) -> (VolunteerProfileUpdated, ChildCertificate) {
        let updated = VolunteerProfileUpdated {
            id: self.id,
            personal: self.personal.clone(),
            profile: self.profile.profile.clone(),
        };
        (updated, self.profile.child_certificate.clone())
    }
}

/// Payload of `dk.samskab.volunteer.registered.v2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerRegistered {
    pub id: VolunteerId,
    /// Always `Some` when decided. `None` (JSON `null` or absent) when the event log could no
    /// longer decrypt it because the person was forgotten; the event still decodes and replays.
    pub personal: Option<VolunteerPersonalData>,
    pub profile: VolunteerProfile,
    pub consent: Consent,
}

/// Payload of `dk.samskab.volunteer.profile_updated.v2`: the full new personal data and profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerProfileUpdated {
    pub id: VolunteerId,
    /// As in [`VolunteerRegistered::personal`].
    pub personal: Option<VolunteerPersonalData>,
    pub profile: VolunteerProfile,
}

/// Payload of `other_municipalities_set.v1`: the whole list as it is from `at` on (sorted, each
/// once; empty: their own municipality only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerOtherMunicipalities {
    pub id: VolunteerId,
    pub municipalities: Vec<TenantId>,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.volunteer.consent_withdrawn.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerConsentWithdrawn {
    pub id: VolunteerId,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.volunteer.forgotten.v1`. Carries no personal data: it says only
/// that the person was forgotten, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerForgotten {
    pub id: VolunteerId,
    pub at: DateTime<Utc>,
}

/// Payload of `purpose_consent_given.v1` and `purpose_consent_withdrawn.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerPurposeConsent {
    pub id: VolunteerId,
    pub purpose: Purpose,
    pub at: DateTime<Utc>,
}

impl VolunteerEvent {
    /// The payload key under which personal data sits, for the event log's encryption.
    pub const PERSONAL_DATA_KEY: &'static str = "personal";

    /// The entity this event is about.
    pub fn id(&self) -> VolunteerId {
        match self {
            VolunteerEvent::Registered(e) => e.id,
            VolunteerEvent::ProfileUpdated(e) => e.id,
            VolunteerEvent::ConsentWithdrawn(e) => e.id,
            VolunteerEvent::Forgotten(e) => e.id,
            VolunteerEvent::PurposeConsentGiven(e) | VolunteerEvent::PurposeConsentWithdrawn(e) => {
                e.id
            }
            VolunteerEvent::CertificateConsentGiven(e)
            | VolunteerEvent::CertificateRequested(e) => e.id,
            VolunteerEvent::CertificateAssessed(e) => e.id,
            VolunteerEvent::OtherMunicipalitiesSet(e) => e.id,
            VolunteerEvent::RegisteredV1(e) => e.id,
            VolunteerEvent::ProfileUpdatedV1(e) => e.id,
            VolunteerEvent::CertificateAssessedV1(e) => e.id,
        }
    }
}

/// The most other municipalities a volunteer may be matched in (Denmark has 98; a volunteer
/// travels to a handful of neighbours).
pub const MAX_OTHER_MUNICIPALITIES: usize = 20;

/// The volunteer's other municipalities as they will be stored: sorted, each once, at most
/// [`MAX_OTHER_MUNICIPALITIES`], and not their own.
fn other_municipalities(
    home: &TenantId,
    wanted: &[TenantId],
) -> Result<Vec<TenantId>, DomainError> {
    let mut municipalities = wanted.to_vec();
    municipalities.sort_unstable();
    municipalities.dedup();
    if municipalities.contains(home) {
        return Err(DomainError::rule(
            "municipalities",
            format!("{home} is the volunteer's own municipality, not another"),
        ));
    }
    if municipalities.len() > MAX_OTHER_MUNICIPALITIES {
        return Err(DomainError::rule(
            "municipalities",
            format!("at most {MAX_OTHER_MUNICIPALITIES} municipalities"),
        ));
    }
    Ok(municipalities)
}

/// A birth year more than this many years back is a typo.
pub const OLDEST_AGE: i32 = 120;

/// The rules a volunteer's data must follow, at the moment `now`. Returns the profile as it
/// will be stored (duplicates removed).
/// No date in a volunteer's record lies before this year (PostgreSQL and every report can show
/// it; a year 0 or -1 is a typing error, and once broke the projection of an accepted event).
pub const EARLIEST_YEAR: i32 = 1900;

/// How far ahead of now a date may lie (a børneattest's valid-until).
pub const YEARS_AHEAD: i32 = 10;

/// An assessment's dates are plausible: assessed in [`EARLIEST_YEAR`] or later, not in the
/// future and not before it was requested; to be renewed after it was assessed and within
/// [`YEARS_AHEAD`] years from now.
fn check_assessment_dates(
    assessed_on: NaiveDate,
    valid_until: Option<NaiveDate>,
    requested_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    if assessed_on.year() < EARLIEST_YEAR {
        return Err(DomainError::rule(
            "assessed_on",
            format!("must be in {EARLIEST_YEAR} or later"),
        ));
    }
    if assessed_on > danish_date(now) {
        return Err(DomainError::rule(
            "assessed_on",
            "a børneattest cannot have been assessed in the future",
        ));
    }
    let requested_on = danish_date(requested_at);
    if assessed_on < requested_on {
        return Err(DomainError::rule(
            "assessed_on",
            format!("must not be before the børneattest was requested, on {requested_on}"),
        ));
    }
    if let Some(until) = valid_until
        && until.year() > danish_date(now).year() + YEARS_AHEAD
    {
        return Err(DomainError::rule(
            "valid_until",
            format!("must be within {YEARS_AHEAD} years from now"),
        ));
    }
    Ok(())
}

/// The assessment as the profile will hold it.
fn assessment(
    approved: bool,
    assessed_on: NaiveDate,
    valid_until: Option<NaiveDate>,
) -> Result<ChildCertificate, DomainError> {
    let status = match (approved, valid_until) {
        (true, None) => {
            return Err(DomainError::rule(
                "valid_until",
                "an approved børneattest needs the day it must be renewed by",
            ));
        }
        (false, Some(_)) => {
            return Err(DomainError::rule(
                "valid_until",
                "only an approved børneattest is renewed; leave it out",
            ));
        }
        (true, Some(_)) => ChildCertificateStatus::Approved,
        (false, None) => ChildCertificateStatus::NotApproved,
    };
    ChildCertificate::parse(status, Some(assessed_on), valid_until)
        .map_err(|e| DomainError::rule("valid_until", e.0))
}

fn check_volunteer_rules(
    personal: &VolunteerPersonalData,
    profile: &VolunteerProfile,
    now: DateTime<Utc>,
) -> Result<VolunteerProfile, DomainError> {
    let profile = profile.without_duplicates();
    let year = danish_date(now).year();
    if let Some(birth_year) = personal.birth_year {
        let birth_year_i32 = i32::from(birth_year);
        if birth_year_i32 > year {
            return Err(DomainError::rule(
                "birth_year",
                "the birth year must not be in the future",
            ));
        }
        if year - birth_year_i32 > OLDEST_AGE {
            return Err(DomainError::rule(
                "birth_year",
                format!("the birth year must be within the last {OLDEST_AGE} years"),
            ));
        }
        if !profile.age_band.agrees_with_birth_year(birth_year, year) {
            return Err(DomainError::rule(
                "age_band",
                format!(
                    "the age band {} does not agree with the birth year {birth_year}",
                    profile.age_band
                ),
            ));
        }
    }
    for (field, len) in [
        ("skills", profile.skills.len()),
        ("resources", profile.resources.len()),
    ] {
        if len > Tag::MAX_PER_LIST {
            return Err(DomainError::rule(
                field,
                format!("at most {} items", Tag::MAX_PER_LIST),
            ));
        }
    }
    if profile.languages.len() > VolunteerProfile::MAX_LANGUAGES {
        return Err(DomainError::rule(
            "languages",
            format!("at most {} languages", VolunteerProfile::MAX_LANGUAGES),
        ));
    }
    Ok(profile)
}

/// The volunteer a børneattest step is about: registered, and neither withdrawn nor forgotten.
fn certificate_subject(state: &VolunteerState) -> Result<&VolunteerDetails, DomainError> {
    match state {
        VolunteerState::NotRegistered => Err(DomainError::NotFound {
            kind: EntityKind::Volunteer,
        }),
        VolunteerState::ConsentWithdrawn { .. } => Err(DomainError::conflict(
            "the volunteer has withdrawn their consent; no børneattest is requested for them",
        )),
        VolunteerState::Forgotten { .. } => Err(forgotten()),
        VolunteerState::Active(current) => Ok(current),
    }
}

/// `state` with the børneattest's assessment a `.v1` event carried.
fn with_certificate(state: VolunteerState, certificate: ChildCertificate) -> VolunteerState {
    match state {
        VolunteerState::Active(mut current) => {
            current.child_certificate = certificate;
            VolunteerState::Active(current)
        }
        other => other,
    }
}

fn forgotten() -> DomainError {
    DomainError::conflict("the volunteer was forgotten at their request and cannot be changed")
}

impl Decider for Volunteer {
    const KIND: EntityKind = EntityKind::Volunteer;
    type State = VolunteerState;
    const STATE_VERSION: u32 = 3;
    type Command = VolunteerCommand;
    type Event = VolunteerEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        let not_found = DomainError::NotFound {
            kind: EntityKind::Volunteer,
        };
        match command {
            VolunteerCommand::Register {
                id,
                personal,
                profile,
                consent,
                at,
            } => {
                if !matches!(state, VolunteerState::NotRegistered) {
                    return Err(DomainError::AlreadyExists {
                        kind: EntityKind::Volunteer,
                    });
                }
                if consent.given_at > *at {
                    return Err(DomainError::rule(
                        "consent.given_at",
                        "consent cannot have been given later than now",
                    ));
                }
                if consent.given_at.year() < EARLIEST_YEAR {
                    return Err(DomainError::rule(
                        "consent.given_at",
                        format!("must be in {EARLIEST_YEAR} or later"),
                    ));
                }
                let profile = check_volunteer_rules(personal, profile, *at)?;
                Ok(vec![VolunteerEvent::Registered(VolunteerRegistered {
                    id: *id,
                    personal: Some(personal.clone()),
                    profile,
                    consent: consent.clone(),
                })])
            }
            VolunteerCommand::Update {
                personal,
                profile,
                at,
            } => {
                let current = match state {
                    VolunteerState::NotRegistered => return Err(not_found),
                    VolunteerState::ConsentWithdrawn { .. } => {
                        return Err(DomainError::conflict(
                            "the volunteer has withdrawn their consent and cannot be updated",
                        ));
                    }
                    VolunteerState::Forgotten { .. } => return Err(forgotten()),
                    VolunteerState::Active(current) => current,
                };
                let profile = check_volunteer_rules(personal, profile, *at)?;
                if current.personal.as_ref() == Some(personal) && current.profile == profile {
                    return Ok(vec![]);
                }
                Ok(vec![VolunteerEvent::ProfileUpdated(
                    VolunteerProfileUpdated {
                        id: current.id,
                        personal: Some(personal.clone()),
                        profile,
                    },
                )])
            }
            VolunteerCommand::WithdrawConsent { at } => match state {
                VolunteerState::NotRegistered => Err(not_found),
                VolunteerState::ConsentWithdrawn { .. } => Err(DomainError::conflict(
                    "the volunteer has already withdrawn their consent",
                )),
                VolunteerState::Forgotten { .. } => Err(forgotten()),
                // Withdrawal always works. A clock behind the one that recorded the consent
                // (another API instance) records it at the moment of consent, not before.
                VolunteerState::Active(current) => Ok(vec![VolunteerEvent::ConsentWithdrawn(
                    VolunteerConsentWithdrawn {
                        id: current.id,
                        at: (*at).max(current.consent.given_at),
                    },
                )]),
            },
            VolunteerCommand::SetPurposes { wanted, at } => {
                let current = match state {
                    VolunteerState::NotRegistered => return Err(not_found),
                    VolunteerState::Active(current) => current,
                    // Nothing is given any more, so withdrawals change nothing (and always
                    // succeed); a new consent cannot be given.
                    VolunteerState::ConsentWithdrawn { .. } | VolunteerState::Forgotten { .. } => {
                        if wanted.iter().any(|(_, want)| *want) {
                            return Err(DomainError::conflict(
                                "the volunteer has withdrawn their consent or was forgotten; no purpose can be consented to",
                            ));
                        }
                        return Ok(vec![]);
                    }
                };
                let id = current.id;
                Ok(wanted
                    .iter()
                    .filter_map(
                        |&(purpose, want)| match (want, current.purposes.get(&purpose)) {
                            (true, None) => Some(VolunteerEvent::PurposeConsentGiven(
                                VolunteerPurposeConsent {
                                    id,
                                    purpose,
                                    at: *at,
                                },
                            )),
                            // Withdrawal always works: a clock behind the one that recorded the
                            // consent records it at that moment, never before.
                            (false, Some(given_at)) => Some(
                                VolunteerEvent::PurposeConsentWithdrawn(VolunteerPurposeConsent {
                                    id,
                                    purpose,
                                    at: (*at).max(*given_at),
                                }),
                            ),
                            _ => None,
                        },
                    )
                    .collect())
            }
            VolunteerCommand::SetOtherMunicipalities {
                home,
                municipalities,
                at,
            } => {
                let current = match state {
                    VolunteerState::NotRegistered => return Err(not_found),
                    VolunteerState::Active(current) => current,
                    // As for purposes: nothing is shared any more, so clearing changes nothing
                    // (and always succeeds); sharing anew cannot be chosen.
                    VolunteerState::ConsentWithdrawn { .. } | VolunteerState::Forgotten { .. } => {
                        if municipalities.is_empty() {
                            return Ok(vec![]);
                        }
                        return Err(DomainError::conflict(
                            "the volunteer has withdrawn their consent or was forgotten; they are matched nowhere",
                        ));
                    }
                };
                let municipalities = other_municipalities(home, municipalities)?;
                if municipalities == current.other_municipalities {
                    return Ok(vec![]);
                }
                Ok(vec![VolunteerEvent::OtherMunicipalitiesSet(
                    VolunteerOtherMunicipalities {
                        id: current.id,
                        municipalities,
                        at: *at,
                    },
                )])
            }
            VolunteerCommand::ConsentToCertificate { requester, at } => {
                let current = certificate_subject(state)?;
                if current.certificate_case.consent_for == Some(*requester) {
                    return Ok(vec![]);
                }
                Ok(vec![VolunteerEvent::CertificateConsentGiven(
                    VolunteerCertificateStep {
                        id: current.id,
                        requester: *requester,
                        at: *at,
                    },
                )])
            }
            VolunteerCommand::RequestCertificate { requester, at } => {
                let current = certificate_subject(state)?;
                let case = &current.certificate_case;
                if let Some(pending) = case.request {
                    return Err(DomainError::conflict(format!(
                        "a børneattest was requested by {} and awaits its assessment",
                        requester_name(&pending.by)
                    )));
                }
                if case.consent_for != Some(*requester) {
                    return Err(DomainError::conflict(format!(
                        "the volunteer has not consented to {} requesting their børneattest; \
                         record the consent first",
                        requester_name(requester)
                    )));
                }
                Ok(vec![VolunteerEvent::CertificateRequested(
                    VolunteerCertificateStep {
                        id: current.id,
                        requester: *requester,
                        at: *at,
                    },
                )])
            }
            VolunteerCommand::AssessCertificate {
                requester,
                approved,
                assessed_on,
                valid_until,
                at,
            } => {
                let current = certificate_subject(state)?;
                let request = match current.certificate_case.request {
                    Some(request) if request.by == *requester => request,
                    Some(request) => {
                        return Err(DomainError::conflict(format!(
                            "the børneattest was requested by {}, who assesses it",
                            requester_name(&request.by)
                        )));
                    }
                    None => {
                        return Err(DomainError::conflict(
                            "no børneattest was requested; request it first",
                        ));
                    }
                };
                check_assessment_dates(*assessed_on, *valid_until, request.at, *at)?;
                let certificate = assessment(*approved, *assessed_on, *valid_until)?;
                Ok(vec![VolunteerEvent::CertificateAssessed(
                    VolunteerCertificateAssessed {
                        id: current.id,
                        requester: *requester,
                        certificate: Some(certificate),
                        at: (*at).max(request.at),
                    },
                )])
            }
            VolunteerCommand::Forget { at } => match state {
                VolunteerState::NotRegistered => Err(not_found),
                VolunteerState::Forgotten { .. } => Ok(vec![]),
                VolunteerState::Active(VolunteerDetails { id, .. })
                | VolunteerState::ConsentWithdrawn { id, .. } => {
                    Ok(vec![VolunteerEvent::Forgotten(VolunteerForgotten {
                        id: *id,
                        at: *at,
                    })])
                }
            },
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        use VolunteerState::*;
        match (state, event) {
            (NotRegistered, VolunteerEvent::Registered(e)) => Active(VolunteerDetails {
                id: e.id,
                personal: e.personal.clone(),
                profile: e.profile.clone(),
                consent: e.consent.clone(),
                purposes: BTreeMap::new(),
                child_certificate: ChildCertificate::not_required(),
                certificate_case: CertificateCase::default(),
                other_municipalities: Vec::new(),
            }),
            // Before the workflow, a registration could bring an assessment with it: the `.v2`
            // registration it stands for, with that assessment.
            (NotRegistered, VolunteerEvent::RegisteredV1(e)) => {
                let (registered, certificate) = e.upcast();
                with_certificate(
                    Self::evolve(NotRegistered, &VolunteerEvent::Registered(registered)),
                    certificate,
                )
            }
            (Active(mut current), VolunteerEvent::OtherMunicipalitiesSet(e)) => {
                current.other_municipalities = e.municipalities.clone();
                Active(current)
            }
            // Without an active registration the volunteer is matched nowhere.
            (
                state @ (NotRegistered | ConsentWithdrawn { .. }),
                VolunteerEvent::OtherMunicipalitiesSet(_),
            ) => state,
            (Active(mut current), VolunteerEvent::CertificateConsentGiven(e)) => {
                current.certificate_case.consent_for = Some(e.requester);
                Active(current)
            }
            // The consent is used up. A first request makes the børneattest "requested"; a
            // renewal leaves the standing assessment until the new one is recorded.
            (Active(mut current), VolunteerEvent::CertificateRequested(e)) => {
                current.certificate_case.consent_for = None;
                current.certificate_case.request = Some(CertificateRequest {
                    by: e.requester,
                    at: e.at,
                });
                if current.child_certificate.status() == ChildCertificateStatus::NotRequired {
                    current.child_certificate = ChildCertificate::requested();
                }
                Active(current)
            }
            (Active(mut current), VolunteerEvent::CertificateAssessed(e)) => {
                current.certificate_case.request = None;
                // `None`: the log could not open it, so the volunteer was forgotten, and a
                // later event says so; until then the standing assessment is all we know.
                if let Some(certificate) = &e.certificate {
                    current.child_certificate = certificate.clone();
                }
                Active(current)
            }
            (state @ Active(_), VolunteerEvent::CertificateAssessedV1(e)) => {
                Self::evolve(state, &VolunteerEvent::CertificateAssessed(e.upcast()))
            }
            // Without an active registration there is no børneattest to follow.
            (
                state @ (NotRegistered | ConsentWithdrawn { .. }),
                VolunteerEvent::CertificateConsentGiven(_)
                | VolunteerEvent::CertificateRequested(_)
                | VolunteerEvent::CertificateAssessed(_)
                | VolunteerEvent::CertificateAssessedV1(_),
            ) => state,
            (Active(mut current), VolunteerEvent::PurposeConsentGiven(e)) => {
                current.purposes.entry(e.purpose).or_insert(e.at);
                Active(current)
            }
            (Active(mut current), VolunteerEvent::PurposeConsentWithdrawn(e)) => {
                current.purposes.remove(&e.purpose);
                Active(current)
            }
            // Without an active registration there is no purpose to consent to.
            (
                state @ (NotRegistered | ConsentWithdrawn { .. }),
                VolunteerEvent::PurposeConsentGiven(_) | VolunteerEvent::PurposeConsentWithdrawn(_),
            ) => state,
            // A second registration cannot have been decided; keep what we have.
            (
                state @ (Active(_) | ConsentWithdrawn { .. }),
                VolunteerEvent::Registered(_) | VolunteerEvent::RegisteredV1(_),
            ) => state,
            (Active(current), VolunteerEvent::ProfileUpdated(e)) => Active(VolunteerDetails {
                personal: e.personal.clone(),
                profile: e.profile.clone(),
                ..current
            }),
            (state @ Active(_), VolunteerEvent::ProfileUpdatedV1(e)) => {
                let (updated, certificate) = e.upcast();
                with_certificate(
                    Self::evolve(state, &VolunteerEvent::ProfileUpdated(updated)),
                    certificate,
                )
            }
            // Without a registration there is no consent to be active under; after withdrawal
            // nothing changes any more.
            (
                state @ (NotRegistered | ConsentWithdrawn { .. }),
                VolunteerEvent::ProfileUpdated(_) | VolunteerEvent::ProfileUpdatedV1(_),
            ) => state,
            (Active(_), VolunteerEvent::ConsentWithdrawn(e)) => ConsentWithdrawn {
                id: e.id,
                withdrawn_at: e.at,
            },
            // Nothing to withdraw: no registration, so no personal data and no consent. `decide`
            // never appends this, and the read model has no row to mark (a row needs the
            // profile a registration brings), so this keeps the two telling the same story.
            (NotRegistered, VolunteerEvent::ConsentWithdrawn(_)) => NotRegistered,
            (state @ ConsentWithdrawn { .. }, VolunteerEvent::ConsentWithdrawn(_)) => state,
            (Active(_) | ConsentWithdrawn { .. }, VolunteerEvent::Forgotten(e)) => Forgotten {
                id: e.id,
                forgotten_at: e.at,
            },
            // As for a withdrawal: without a registration there is nobody to forget (and no
            // row); once forgotten, the first forgetting stands and nothing else changes.
            (NotRegistered, VolunteerEvent::Forgotten(_)) => NotRegistered,
            (state @ Forgotten { .. }, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::{AvailabilitySlot, DayPart, Weekday};
    use crate::{DomainEvent, EventDecodeError};
    use proptest::prelude::*;

    fn personal() -> VolunteerPersonalData {
        VolunteerPersonalData {
            name: name("Søren Ærø Østergaard"),
            contact: contact(),
            birth_year: Some(1958),
        }
    }

    fn profile() -> VolunteerProfile {
        VolunteerProfile {
            postcode: Postcode::parse("2610").expect("valid"),
            age_band: AgeBand::From67,
            skills: Tag::parse_list(["Snedker", "Lektiehjælp"]).expect("valid"),
            resources: Tag::parse_list(["Har bil"]).expect("valid"),
            languages: vec![language("da"), language("uk")],
            availability: Availability::parse(
                [AvailabilitySlot {
                    weekday: Weekday::Tue,
                    part: DayPart::Evening,
                }],
                4,
            )
            .expect("valid"),
            target_groups: vec![TargetGroup::Refugees, TargetGroup::Families],
            max_travel_km: None,
            organisation: None,
        }
    }

    fn registered() -> VolunteerEvent {
        VolunteerEvent::Registered(VolunteerRegistered {
            id: volunteer_id(),
            personal: Some(personal()),
            profile: profile(),
            consent: consent_at(2025, 3, 1),
        })
    }

    fn consent_withdrawn() -> VolunteerEvent {
        VolunteerEvent::ConsentWithdrawn(VolunteerConsentWithdrawn {
            id: volunteer_id(),
            at: at(2025, 6, 1),
        })
    }

    fn register(personal: VolunteerPersonalData, profile: VolunteerProfile) -> VolunteerCommand {
        VolunteerCommand::Register {
            id: volunteer_id(),
            personal,
            profile,
            consent: consent_at(2025, 3, 1),
            at: at(2025, 3, 1),
        }
    }

    fn update(personal: VolunteerPersonalData, profile: VolunteerProfile) -> VolunteerCommand {
        VolunteerCommand::Update {
            personal,
            profile,
            at: at(2025, 5, 1),
        }
    }

    fn rule_field(result: &Result<Vec<VolunteerEvent>, DomainError>) -> Option<&str> {
        match result {
            Err(DomainError::Rule { field, .. }) => field.as_deref(),
            _ => None,
        }
    }

    // --- Register ---

    #[test]
    fn registering_a_volunteer() {
        assert_eq!(
            when::<Volunteer>(&[], &register(personal(), profile())),
            Ok(vec![registered()])
        );
    }

    #[test]
    fn registering_twice_is_already_exists() {
        let expected = Err(DomainError::AlreadyExists {
            kind: EntityKind::Volunteer,
        });
        assert_eq!(
            when::<Volunteer>(&[registered()], &register(personal(), profile())),
            expected
        );
        assert_eq!(
            when::<Volunteer>(
                &[registered(), consent_withdrawn()],
                &register(personal(), profile())
            ),
            expected
        );
    }

    #[test]
    fn duplicates_in_lists_are_removed_when_stored() {
        let mut doubled = profile();
        doubled.skills.extend(profile().skills);
        doubled.languages.push(language("da"));
        doubled.target_groups.push(TargetGroup::Refugees);
        assert_eq!(
            when::<Volunteer>(&[], &register(personal(), doubled)),
            Ok(vec![registered()])
        );
    }

    #[test]
    fn age_band_must_agree_with_birth_year() {
        let mut young = profile();
        young.age_band = AgeBand::From18To29;
        assert_eq!(
            rule_field(&when::<Volunteer>(
                &[],
                &register(personal(), young.clone())
            )),
            Some("age_band")
        );
        // Without a birth year, any band goes.
        let anonymous_age = VolunteerPersonalData {
            birth_year: None,
            ..personal()
        };
        assert!(when::<Volunteer>(&[], &register(anonymous_age, young)).is_ok());
    }

    #[test]
    fn age_band_check_uses_the_year_of_the_command() {
        // Born 1958: 66 or 67 during 2025 (either band agrees), 67 or 68 during 2026.
        let mut sixties = profile();
        sixties.age_band = AgeBand::From50To66;
        assert!(when::<Volunteer>(&[], &register(personal(), sixties.clone())).is_ok());
        let later = VolunteerCommand::Update {
            personal: personal(),
            profile: sixties,
            at: at(2026, 2, 1),
        };
        assert_eq!(
            rule_field(&when::<Volunteer>(&[registered()], &later)),
            Some("age_band")
        );
    }

    #[test]
    fn implausible_birth_years_are_refused() {
        for birth_year in [2026, 1900] {
            let p = VolunteerPersonalData {
                birth_year: Some(birth_year),
                ..personal()
            };
            assert_eq!(
                rule_field(&when::<Volunteer>(&[], &register(p, profile()))),
                Some("birth_year")
            );
        }
    }

    // --- The børneattest workflow ---

    fn red_cross() -> CertificateRequester {
        PostedBy::Organisation(org_id())
    }

    fn consent_to(requester: CertificateRequester) -> VolunteerCommand {
        VolunteerCommand::ConsentToCertificate {
            requester,
            at: at(2025, 4, 1),
        }
    }

    fn request_by(requester: CertificateRequester) -> VolunteerCommand {
        VolunteerCommand::RequestCertificate {
            requester,
            at: at(2025, 4, 2),
        }
    }

    fn assess(approved: bool, valid_until: Option<NaiveDate>) -> VolunteerCommand {
        VolunteerCommand::AssessCertificate {
            requester: red_cross(),
            approved,
            assessed_on: date(2025, 4, 20),
            valid_until,
            at: at(2025, 4, 21),
        }
    }

    /// Applies `command` to the history, and the events it decides to the history.
    fn then(history: &mut Vec<VolunteerEvent>, command: &VolunteerCommand) {
        let events = when::<Volunteer>(history, command).expect("allowed");
        history.extend(events);
    }

    fn certificate_of(history: &[VolunteerEvent]) -> (ChildCertificate, CertificateCase) {
        match Volunteer::replay(history) {
            VolunteerState::Active(d) => (d.child_certificate, d.certificate_case),
            other => panic!("not active: {other:?}"),
        }
    }

    #[test]
    fn a_børneattest_is_consented_to_requested_and_assessed() {
        let mut history = vec![registered()];
        then(&mut history, &consent_to(red_cross()));
        let (certificate, case) = certificate_of(&history);
        assert_eq!(certificate, ChildCertificate::not_required());
        assert_eq!(case.consent_for, Some(red_cross()));

        then(&mut history, &request_by(red_cross()));
        let (certificate, case) = certificate_of(&history);
        assert_eq!(certificate, ChildCertificate::requested());
        assert_eq!(
            case.consent_for, None,
            "the consent is used up by the request"
        );
        assert_eq!(case.request.map(|r| r.by), Some(red_cross()));

        then(&mut history, &assess(true, Some(date(2027, 4, 20))));
        let (certificate, case) = certificate_of(&history);
        assert_eq!(certificate.status(), ChildCertificateStatus::Approved);
        assert_eq!(certificate.assessed_on(), Some(date(2025, 4, 20)));
        assert!(certificate.is_valid_on(date(2027, 4, 20)));
        assert!(!certificate.is_valid_on(date(2027, 4, 21)));
        assert_eq!(case, CertificateCase::default());
        assert!(matches!(
            history.last(),
            Some(VolunteerEvent::CertificateAssessed(e)) if e.requester == red_cross()
        ));
    }

    #[test]
    fn a_request_needs_the_volunteers_consent_to_that_body() {
        let refused = when::<Volunteer>(&[registered()], &request_by(red_cross()));
        assert!(
            matches!(&refused, Err(DomainError::Conflict { reason }) if reason.contains("consent")),
            "{refused:?}"
        );
        let consented_to_the_municipality = [
            registered(),
            when::<Volunteer>(&[registered()], &consent_to(PostedBy::Municipality))
                .expect("consent")
                .remove(0),
        ];
        assert!(matches!(
            when::<Volunteer>(&consented_to_the_municipality, &request_by(red_cross())),
            Err(DomainError::Conflict { .. })
        ));
        assert!(
            when::<Volunteer>(
                &consented_to_the_municipality,
                &request_by(PostedBy::Municipality)
            )
            .is_ok()
        );
    }

    #[test]
    fn the_same_consent_again_changes_nothing_and_a_request_pending_is_not_repeated() {
        let mut history = vec![registered()];
        then(&mut history, &consent_to(red_cross()));
        assert_eq!(
            when::<Volunteer>(&history, &consent_to(red_cross())),
            Ok(vec![])
        );
        then(&mut history, &request_by(red_cross()));
        then(&mut history, &consent_to(red_cross()));
        assert!(matches!(
            when::<Volunteer>(&history, &request_by(red_cross())),
            Err(DomainError::Conflict { reason }) if reason.contains("awaits")
        ));
    }

    #[test]
    fn only_the_body_that_requested_it_assesses_a_requested_børneattest() {
        let mut history = vec![registered()];
        assert!(matches!(
            when::<Volunteer>(&history, &assess(true, Some(date(2027, 1, 1)))),
            Err(DomainError::Conflict { reason }) if reason.contains("request it first")
        ));
        then(&mut history, &consent_to(PostedBy::Municipality));
        then(&mut history, &request_by(PostedBy::Municipality));
        assert!(matches!(
            when::<Volunteer>(&history, &assess(true, Some(date(2027, 1, 1)))),
            Err(DomainError::Conflict { .. })
        ));
    }

    #[test]
    fn an_assessment_says_approved_until_a_renewal_or_not_approved_and_its_dates_are_plausible() {
        let mut history = vec![registered()];
        then(&mut history, &consent_to(red_cross()));
        then(&mut history, &request_by(red_cross()));
        assert_eq!(
            rule_field(&when::<Volunteer>(&history, &assess(true, None))),
            Some("valid_until"),
            "an approval says when it must be renewed"
        );
        assert_eq!(
            rule_field(&when::<Volunteer>(
                &history,
                &assess(false, Some(date(2027, 1, 1)))
            )),
            Some("valid_until")
        );
        assert_eq!(
            rule_field(&when::<Volunteer>(
                &history,
                &assess(true, Some(date(2025, 4, 20)))
            )),
            Some("valid_until"),
            "renewed after it was assessed"
        );
        assert_eq!(
            rule_field(&when::<Volunteer>(
                &history,
                &assess(true, Some(date(2036, 1, 1)))
            )),
            Some("valid_until")
        );
        let before_the_request = VolunteerCommand::AssessCertificate {
            requester: red_cross(),
            approved: false,
            assessed_on: date(2025, 4, 1),
            valid_until: None,
            at: at(2025, 4, 21),
        };
        assert_eq!(
            rule_field(&when::<Volunteer>(&history, &before_the_request)),
            Some("assessed_on")
        );
        then(&mut history, &assess(false, None));
        let (certificate, _) = certificate_of(&history);
        assert_eq!(certificate.status(), ChildCertificateStatus::NotApproved);
    }

    /// 00:30 on 1 December in Copenhagen is 23:30 on 30 November in UTC: a børneattest
    /// assessed "today" is from today in Denmark, not from the future.
    #[test]
    fn a_certificate_assessed_today_in_denmark_is_accepted_just_after_midnight() {
        use chrono::TimeZone;
        let just_after_midnight = Utc
            .with_ymd_and_hms(2026, 11, 30, 23, 30, 0)
            .single()
            .expect("a valid time");
        let mut history = vec![registered()];
        then(&mut history, &consent_to(red_cross()));
        then(&mut history, &request_by(red_cross()));
        let assessed = |on| VolunteerCommand::AssessCertificate {
            requester: red_cross(),
            approved: true,
            assessed_on: on,
            valid_until: Some(date(2028, 12, 1)),
            at: just_after_midnight,
        };
        let today = when::<Volunteer>(&history, &assessed(date(2026, 12, 1)));
        assert!(today.is_ok(), "{today:?}");
        // A day later than that is still the future.
        assert_eq!(
            rule_field(&when::<Volunteer>(&history, &assessed(date(2026, 12, 2)))),
            Some("assessed_on")
        );
    }

    #[test]
    fn a_renewal_keeps_the_standing_approval_until_the_new_assessment() {
        let mut history = vec![registered()];
        then(&mut history, &consent_to(red_cross()));
        then(&mut history, &request_by(red_cross()));
        then(&mut history, &assess(true, Some(date(2027, 4, 20))));
        let approved = certificate_of(&history).0;
        then(&mut history, &consent_to(red_cross()));
        then(&mut history, &request_by(red_cross()));
        let (certificate, case) = certificate_of(&history);
        assert_eq!(certificate, approved);
        assert!(case.request.is_some());
    }

    #[test]
    fn an_update_keeps_the_børneattest_and_its_assessment_is_personal_data() {
        let mut history = vec![registered()];
        assert_eq!(certificate_of(&history).0, ChildCertificate::not_required());
        then(&mut history, &consent_to(red_cross()));
        then(&mut history, &request_by(red_cross()));
        then(&mut history, &assess(true, Some(date(2027, 4, 20))));
        let approved = certificate_of(&history).0;
        assert!(approved.is_valid_on(date(2027, 4, 20)));
        // The assessment travels under `personal`, which the log seals; nothing of it is in
        // plain text beside it.
        let Some(assessed) = history.last() else {
            panic!("an assessment");
        };
        let payload = assessed.to_payload();
        assert_eq!(
            assessed.event_type(),
            VolunteerEvent::CERTIFICATE_ASSESSED_V2
        );
        assert_eq!(payload["personal"]["status"], "approved");
        let mut outside = payload.clone();
        outside["personal"] = serde_json::Value::Null;
        assert!(!outside.to_string().contains("2027-04-20"), "{outside}");

        let mut moved = profile();
        moved.postcode = Postcode::parse("2650").expect("valid");
        then(&mut history, &update(personal(), moved));
        assert_eq!(certificate_of(&history).0, approved, "an update keeps it");
        let Some(VolunteerEvent::ProfileUpdated(updated)) = history.last() else {
            panic!("an update");
        };
        let payload = serde_json::to_value(updated).expect("serialises");
        assert_eq!(payload["profile"].get("child_certificate"), None);
    }

    #[test]
    fn v1_payloads_with_the_assessment_in_plain_text_still_read() {
        let approved = ChildCertificate::parse(
            ChildCertificateStatus::Approved,
            Some(date(2025, 2, 1)),
            Some(date(2027, 2, 1)),
        )
        .expect("valid");
        let mut v1 = registered().to_payload();
        v1["profile"]["child_certificate"] = serde_json::to_value(&approved).expect("json");
        let decoded = VolunteerEvent::from_payload(VolunteerEvent::REGISTERED_V1, &v1);
        let Ok(registered_v1 @ VolunteerEvent::RegisteredV1(_)) = decoded else {
            panic!("expected registered.v1, got {decoded:?}");
        };
        assert_eq!(
            certificate_of(std::slice::from_ref(&registered_v1)).0,
            approved
        );
        // Without the member a `.v1` profile is malformed: it always had one.
        let bare = registered().to_payload();
        assert!(VolunteerEvent::from_payload(VolunteerEvent::REGISTERED_V1, &bare).is_err());

        let refused = ChildCertificate::parse(
            ChildCertificateStatus::NotApproved,
            Some(date(2025, 10, 1)),
            None,
        )
        .expect("valid");
        let mut update_v1 = serde_json::json!({
            "id": volunteer_id(),
            "personal": personal(),
            "profile": profile(),
        });
        update_v1["profile"]["child_certificate"] = serde_json::to_value(&refused).expect("json");
        let update_v1 =
            VolunteerEvent::from_payload(VolunteerEvent::PROFILE_UPDATED_V1, &update_v1)
                .expect("reads");
        assert_eq!(
            certificate_of(&[registered_v1.clone(), update_v1]).0,
            refused
        );

        let assessed_v1 = serde_json::json!({
            "id": volunteer_id(),
            "requester": PostedBy::Municipality,
            "certificate": approved,
            "at": at(2025, 9, 20),
        });
        let assessed_v1 =
            VolunteerEvent::from_payload(VolunteerEvent::CERTIFICATE_ASSESSED_V1, &assessed_v1)
                .expect("reads");
        let history = [registered(), assessed_v1];
        assert_eq!(certificate_of(&history).0, approved);
    }

    #[test]
    fn no_børneattest_step_for_a_volunteer_who_withdrew_or_was_forgotten() {
        for ended in [
            consent_withdrawn(),
            VolunteerEvent::Forgotten(VolunteerForgotten {
                id: volunteer_id(),
                at: at(2025, 6, 1),
            }),
        ] {
            assert!(matches!(
                when::<Volunteer>(&[registered(), ended], &consent_to(red_cross())),
                Err(DomainError::Conflict { .. })
            ));
        }
        assert_eq!(
            when::<Volunteer>(&[], &consent_to(red_cross())),
            Err(DomainError::NotFound {
                kind: EntityKind::Volunteer
            })
        );
    }

    #[test]
    fn too_many_skills_or_resources_are_refused() {
        let many: Vec<Tag> = (0..31).map(|i| tag(&format!("skill {i}"))).collect();
        let mut p = profile();
        p.skills = many.clone();
        assert_eq!(
            rule_field(&when::<Volunteer>(&[], &register(personal(), p))),
            Some("skills")
        );
        let mut p = profile();
        p.resources = many;
        assert_eq!(
            rule_field(&when::<Volunteer>(&[], &register(personal(), p))),
            Some("resources")
        );
    }

    // --- Update ---

    #[test]
    fn updating_the_profile() {
        let mut changed = profile();
        changed.postcode = Postcode::parse("2650").expect("valid");
        assert_eq!(
            when::<Volunteer>(&[registered()], &update(personal(), changed.clone())),
            Ok(vec![VolunteerEvent::ProfileUpdated(
                VolunteerProfileUpdated {
                    id: volunteer_id(),
                    personal: Some(personal()),
                    profile: changed.clone(),
                }
            )])
        );
    }

    #[test]
    fn updating_personal_data_only_is_a_change() {
        let moved = VolunteerPersonalData {
            name: name("Søren Østergaard"),
            ..personal()
        };
        assert_eq!(
            when::<Volunteer>(&[registered()], &update(moved.clone(), profile())).map(|e| e.len()),
            Ok(1)
        );
    }

    #[test]
    fn an_update_that_changes_nothing_appends_nothing() {
        assert_eq!(
            when::<Volunteer>(&[registered()], &update(personal(), profile())),
            Ok(vec![])
        );
        let mut reordered_duplicates = profile();
        reordered_duplicates.skills.push(tag("snedker"));
        assert_eq!(
            when::<Volunteer>(&[registered()], &update(personal(), reordered_duplicates)),
            Ok(vec![])
        );
    }

    #[test]
    fn updating_an_unknown_volunteer_is_not_found() {
        assert_eq!(
            when::<Volunteer>(&[], &update(personal(), profile())),
            Err(DomainError::NotFound {
                kind: EntityKind::Volunteer
            })
        );
    }

    #[test]
    fn updating_after_consent_withdrawn_is_a_conflict() {
        assert!(matches!(
            when::<Volunteer>(
                &[registered(), consent_withdrawn()],
                &update(personal(), profile())
            ),
            Err(DomainError::Conflict { .. })
        ));
    }

    // --- WithdrawConsent ---

    #[test]
    fn withdrawing_consent() {
        assert_eq!(
            when::<Volunteer>(
                &[registered()],
                &VolunteerCommand::WithdrawConsent { at: at(2025, 6, 1) }
            ),
            Ok(vec![consent_withdrawn()])
        );
        assert_eq!(
            Volunteer::replay(&[registered(), consent_withdrawn()]),
            VolunteerState::ConsentWithdrawn {
                id: volunteer_id(),
                withdrawn_at: at(2025, 6, 1)
            }
        );
    }

    #[test]
    fn withdrawing_consent_twice_is_a_conflict() {
        assert!(matches!(
            when::<Volunteer>(
                &[registered(), consent_withdrawn()],
                &VolunteerCommand::WithdrawConsent { at: at(2025, 7, 1) }
            ),
            Err(DomainError::Conflict { .. })
        ));
    }

    #[test]
    fn withdrawing_consent_of_an_unknown_volunteer_is_not_found() {
        assert_eq!(
            when::<Volunteer>(
                &[],
                &VolunteerCommand::WithdrawConsent { at: at(2025, 7, 1) }
            ),
            Err(DomainError::NotFound {
                kind: EntityKind::Volunteer
            })
        );
    }

    // --- Purposes ---

    fn purpose(
        event: fn(VolunteerPurposeConsent) -> VolunteerEvent,
        p: Purpose,
        on: DateTime<Utc>,
    ) -> VolunteerEvent {
        event(VolunteerPurposeConsent {
            id: volunteer_id(),
            purpose: p,
            at: on,
        })
    }

    #[test]
    fn other_municipalities_are_chosen_as_a_whole_list_and_never_include_the_own() {
        let tenant = |slug: &str| TenantId::parse(slug).expect("valid");
        let set = |slugs: &[&str]| VolunteerCommand::SetOtherMunicipalities {
            home: tenant("rodovre"),
            municipalities: slugs.iter().map(|s| tenant(s)).collect(),
            at: at(2025, 4, 1),
        };
        let chosen = VolunteerEvent::OtherMunicipalitiesSet(VolunteerOtherMunicipalities {
            id: volunteer_id(),
            municipalities: vec![tenant("glostrup"), tenant("hvidovre")],
            at: at(2025, 4, 1),
        });
        assert_eq!(
            when::<Volunteer>(&[registered()], &set(&["hvidovre", "glostrup", "hvidovre"])),
            Ok(vec![chosen.clone()]),
            "sorted, each once"
        );
        let history = [registered(), chosen];
        assert!(matches!(
            Volunteer::replay(&history),
            VolunteerState::Active(VolunteerDetails { ref other_municipalities, .. })
                if other_municipalities.len() == 2
        ));
        assert_eq!(
            when::<Volunteer>(&history, &set(&["glostrup", "hvidovre"])),
            Ok(vec![]),
            "the same list changes nothing"
        );
        assert!(matches!(
            when::<Volunteer>(&history, &set(&[])).as_deref(),
            Ok([VolunteerEvent::OtherMunicipalitiesSet(e)]) if e.municipalities.is_empty()
        ));
        assert!(matches!(
            when::<Volunteer>(&history, &set(&["hvidovre", "rodovre"])),
            Err(DomainError::Rule { ref field, .. }) if field.as_deref() == Some("municipalities")
        ));
        let many: Vec<String> = (0..=MAX_OTHER_MUNICIPALITIES)
            .map(|n| format!("kommune-{n}"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(matches!(
            when::<Volunteer>(&history, &set(&many)),
            Err(DomainError::Rule { ref field, .. }) if field.as_deref() == Some("municipalities")
        ));
        // Withdrawn: clearing changes nothing, choosing is refused.
        let withdrawn = [registered(), consent_withdrawn()];
        assert_eq!(when::<Volunteer>(&withdrawn, &set(&[])), Ok(vec![]));
        assert!(matches!(
            when::<Volunteer>(&withdrawn, &set(&["hvidovre"])),
            Err(DomainError::Conflict { .. })
        ));
    }

    #[test]
    fn consent_per_purpose_is_given_and_withdrawn_as_events() {
        let set =
            |wanted: Vec<(Purpose, bool)>, on| VolunteerCommand::SetPurposes { wanted, at: on };
        let given = purpose(
            VolunteerEvent::PurposeConsentGiven,
            Purpose::Matching,
            at(2025, 4, 1),
        );
        assert_eq!(
            when::<Volunteer>(
                &[registered()],
                &set(
                    vec![(Purpose::Matching, true), (Purpose::Contact, false)],
                    at(2025, 4, 1)
                )
            ),
            Ok(vec![given.clone()]),
            "only what changes is an event"
        );
        let history = [registered(), given.clone()];
        assert!(matches!(
            Volunteer::replay(&history),
            VolunteerState::Active(VolunteerDetails { ref purposes, .. })
                if purposes.get(&Purpose::Matching) == Some(&at(2025, 4, 1))
        ));
        assert_eq!(
            when::<Volunteer>(
                &history,
                &set(vec![(Purpose::Matching, true)], at(2025, 5, 1))
            ),
            Ok(vec![])
        );
        // A clock behind the one that recorded the consent: recorded at the consent, not before.
        assert_eq!(
            when::<Volunteer>(
                &history,
                &set(vec![(Purpose::Matching, false)], at(2025, 3, 1))
            ),
            Ok(vec![purpose(
                VolunteerEvent::PurposeConsentWithdrawn,
                Purpose::Matching,
                at(2025, 4, 1)
            )])
        );
        // After the volunteer withdrew all consent, withdrawing a purpose still works (it
        // changes nothing); giving one is a conflict.
        let withdrawn = [registered(), given, consent_withdrawn()];
        assert_eq!(
            when::<Volunteer>(
                &withdrawn,
                &set(vec![(Purpose::Matching, false)], at(2025, 7, 1))
            ),
            Ok(vec![])
        );
        assert!(matches!(
            when::<Volunteer>(
                &withdrawn,
                &set(vec![(Purpose::Contact, true)], at(2025, 7, 1))
            ),
            Err(DomainError::Conflict { .. })
        ));
    }

    // --- Forget ---

    fn forgotten_event() -> VolunteerEvent {
        VolunteerEvent::Forgotten(VolunteerForgotten {
            id: volunteer_id(),
            at: at(2025, 8, 1),
        })
    }

    #[test]
    fn forgetting_a_volunteer_with_or_without_consent() {
        for history in [vec![registered()], vec![registered(), consent_withdrawn()]] {
            assert_eq!(
                when::<Volunteer>(&history, &VolunteerCommand::Forget { at: at(2025, 8, 1) }),
                Ok(vec![forgotten_event()])
            );
        }
        assert_eq!(
            Volunteer::replay(&[registered(), forgotten_event()]),
            VolunteerState::Forgotten {
                id: volunteer_id(),
                forgotten_at: at(2025, 8, 1)
            }
        );
    }

    #[test]
    fn the_forgotten_cannot_be_changed_and_forgetting_again_changes_nothing() {
        let history = [registered(), forgotten_event()];
        assert_eq!(
            when::<Volunteer>(&history, &VolunteerCommand::Forget { at: at(2025, 9, 1) }),
            Ok(vec![])
        );
        for command in [
            update(personal(), profile()),
            VolunteerCommand::WithdrawConsent { at: at(2025, 9, 1) },
        ] {
            assert!(matches!(
                when::<Volunteer>(&history, &command),
                Err(DomainError::Conflict { .. })
            ));
        }
        // Nothing after the forgetting changes the state, not even a registration replayed.
        assert_eq!(
            Volunteer::replay(&[registered(), forgotten_event(), registered()]),
            Volunteer::replay(&[registered(), forgotten_event()])
        );
    }

    #[test]
    fn forgetting_an_unknown_volunteer_is_not_found() {
        assert_eq!(
            when::<Volunteer>(&[], &VolunteerCommand::Forget { at: at(2025, 8, 1) }),
            Err(DomainError::NotFound {
                kind: EntityKind::Volunteer
            })
        );
    }

    #[test]
    fn a_withdrawal_timed_before_the_consent_is_recorded_at_the_consent() {
        let given_at = consent_at(2025, 3, 1).given_at;
        assert_eq!(
            when::<Volunteer>(
                &[registered()],
                &VolunteerCommand::WithdrawConsent { at: at(2025, 1, 1) }
            ),
            Ok(vec![VolunteerEvent::ConsentWithdrawn(
                VolunteerConsentWithdrawn {
                    id: volunteer_id(),
                    at: given_at,
                }
            )])
        );
    }

    #[test]
    fn consent_cannot_have_been_given_later_than_now() {
        let mut command = register(personal(), profile());
        if let VolunteerCommand::Register { at: now, .. } = &mut command {
            *now = at(2025, 2, 1);
        }
        assert_eq!(
            rule_field(&when::<Volunteer>(&[], &command)),
            Some("consent.given_at")
        );
    }

    // --- Evolve ---

    #[test]
    fn evolve_tolerates_events_out_of_place() {
        let updated = VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
            id: volunteer_id(),
            personal: None,
            profile: profile(),
        });
        assert_eq!(
            Volunteer::replay(std::slice::from_ref(&updated)),
            VolunteerState::NotRegistered
        );
        assert_eq!(
            Volunteer::replay(&[
                registered(),
                consent_withdrawn(),
                updated,
                registered(),
                consent_withdrawn()
            ]),
            VolunteerState::ConsentWithdrawn {
                id: volunteer_id(),
                withdrawn_at: at(2025, 6, 1)
            }
        );
        assert_eq!(
            Volunteer::replay(&[consent_withdrawn()]),
            VolunteerState::NotRegistered
        );
    }

    // --- Payloads ---

    #[test]
    fn personal_data_sits_apart_under_its_own_key() {
        let payload = registered().to_payload();
        let keys: Vec<&String> = payload.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 4, "{keys:?}");
        assert_eq!(payload["id"], serde_json::json!(volunteer_id().to_string()));
        assert_eq!(
            payload[VolunteerEvent::PERSONAL_DATA_KEY]["name"],
            serde_json::json!("Søren Ærø Østergaard")
        );
        assert_eq!(payload["personal"]["birth_year"], serde_json::json!(1958));
        assert_eq!(payload["profile"]["age_band"], serde_json::json!("67_plus"));
        assert_eq!(payload["profile"]["postcode"], serde_json::json!("2610"));
        let profile_text = payload["profile"].to_string();
        assert!(
            !profile_text.contains("Søren") && !profile_text.contains("@"),
            "{profile_text}"
        );
    }

    #[test]
    fn a_forgotten_person_still_decodes() {
        let mut payload = registered().to_payload();
        payload["personal"] = serde_json::Value::Null;
        let decoded = VolunteerEvent::from_payload(VolunteerEvent::REGISTERED_V2, &payload);
        let Ok(VolunteerEvent::Registered(e)) = decoded else {
            panic!("expected registered, got {decoded:?}");
        };
        assert_eq!(e.personal, None);
        assert_eq!(e.profile, profile());
    }

    #[test]
    fn every_event_type_round_trips() {
        let updated = VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
            id: volunteer_id(),
            personal: Some(personal()),
            profile: profile(),
        });
        for event in [registered(), updated, consent_withdrawn()] {
            assert_eq!(
                VolunteerEvent::from_payload(event.event_type(), &event.to_payload()),
                Ok(event)
            );
        }
    }

    #[test]
    fn decoding_unknown_and_malformed_payloads() {
        assert_eq!(
            VolunteerEvent::from_payload(
                "dk.samskab.volunteer.registered.v9",
                &serde_json::json!({})
            ),
            Err(EventDecodeError::UnknownType(
                "dk.samskab.volunteer.registered.v9".into()
            ))
        );
        let mut bad_band = registered().to_payload();
        bad_band["profile"]["age_band"] = serde_json::json!("ancient");
        for (event_type, payload) in [
            (
                VolunteerEvent::REGISTERED_V2,
                serde_json::json!("just a string"),
            ),
            (VolunteerEvent::REGISTERED_V2, bad_band),
            (
                VolunteerEvent::CONSENT_WITHDRAWN_V1,
                serde_json::json!({"id": volunteer_id(), "at": "yesterday"}),
            ),
        ] {
            let result = VolunteerEvent::from_payload(event_type, &payload);
            assert!(
                matches!(&result, Err(EventDecodeError::Malformed { event_type: t, .. }) if t == event_type),
                "{result:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn registered_events_round_trip_through_their_payload(event in arb_volunteer_registered()) {
            let event = VolunteerEvent::Registered(event);
            let decoded = VolunteerEvent::from_payload(event.event_type(), &event.to_payload());
            prop_assert_eq!(decoded, Ok(event));
        }

        #[test]
        fn updated_and_withdrawn_events_round_trip(
            registered in arb_volunteer_registered(),
            withdrawn_at in arb_datetime(),
        ) {
            let updated = VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
                id: registered.id,
                personal: registered.personal.clone(),
                profile: registered.profile.clone(),
            });
            let withdrawn = VolunteerEvent::ConsentWithdrawn(VolunteerConsentWithdrawn {
                id: registered.id,
                at: withdrawn_at,
            });
            for event in [updated, withdrawn] {
                let decoded = VolunteerEvent::from_payload(event.event_type(), &event.to_payload());
                prop_assert_eq!(decoded, Ok(event));
            }
        }

        #[test]
        fn an_arbitrary_valid_registration_is_accepted_as_is(registered in arb_volunteer_registered()) {
            let personal = registered.personal.clone().expect("generated with personal data");
            let command = VolunteerCommand::Register {
                id: registered.id,
                personal,
                profile: registered.profile.clone(),
                consent: registered.consent.clone(),
                at: registered.consent.given_at,
            };
            prop_assert_eq!(
                Volunteer::decide(&VolunteerState::NotRegistered, &command),
                Ok(vec![VolunteerEvent::Registered(registered)])
            );
        }

        #[test]
        fn registering_an_arbitrary_registered_volunteer_again_is_already_exists(
            registered in arb_volunteer_registered(),
            again in arb_volunteer_registered(),
        ) {
            let state = Volunteer::replay(&[VolunteerEvent::Registered(registered)]);
            let command = VolunteerCommand::Register {
                id: again.id,
                personal: again.personal.clone().expect("generated with personal data"),
                profile: again.profile,
                at: again.consent.given_at,
                consent: again.consent,
            };
            prop_assert_eq!(
                Volunteer::decide(&state, &command),
                Err(DomainError::AlreadyExists { kind: EntityKind::Volunteer })
            );
        }
    }
}
