//! Test fixtures, in one place for every test in the workspace: the domain's own tests, the
//! workers' tests, the end-to-end tests (`tests/lib.rs` renders the canonical volunteer as a
//! request body) and the benchmark. Valid values by name, one canonical entity of each kind,
//! a given/when/then helper, and proptest strategies for events.
//!
//! Compiled for this crate's tests, and for other crates with the `fixtures` feature (as a
//! dev-dependency, or the benchmark's dependency). The helpers panic on a literal that does not
//! parse: that is a mistake in a test, not input from outside.

use crate::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

/// Given these past events, when this command: what does the decider say?
pub fn when<D: Decider>(
    given: &[D::Event],
    command: &D::Command,
) -> Result<Vec<D::Event>, DomainError> {
    D::decide(&D::replay(given), command)
}

pub fn tenant(text: &str) -> TenantId {
    TenantId::parse(text).expect("valid tenant")
}

pub fn name(text: &str) -> Name {
    Name::parse(text).expect("valid name")
}

pub fn cvr(text: &str) -> Cvr {
    Cvr::parse(text).expect("valid cvr")
}

pub fn tag(text: &str) -> Tag {
    Tag::parse(text).expect("valid tag")
}

pub fn language(text: &str) -> LanguageCode {
    LanguageCode::parse(text).expect("valid language")
}

pub fn contact() -> Contact {
    contact_of(
        Some("info@aeblehaven.dk"),
        Some("+45 36 37 70 00"),
        Some("Anne Hansen"),
    )
}

pub fn org_id() -> OrganisationId {
    OrganisationId::from_uuid(Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0001))
}

pub fn volunteer_id() -> VolunteerId {
    VolunteerId::from_uuid(Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0002))
}

pub fn need_id() -> NeedId {
    NeedId::from_uuid(Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0003))
}

pub fn match_id() -> MatchId {
    MatchId::from_uuid(Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0004))
}

pub fn person_id() -> PersonId {
    PersonId::from_uuid(Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0005))
}

/// A refugee family of seed 004 ("Venner viser vej"), registered by the association of
/// [`organisation_details`], under another name.
pub fn person_details(id: PersonId, name_text: &str) -> PersonDetails {
    PersonDetails {
        id,
        kind: PersonKind::Family,
        registered_by: PostedBy::Organisation(org_id()),
        postcode: Postcode::parse("2610").expect("valid postcode"),
        languages: vec![language("uk"), language("ru")],
        children_under_15: true,
        personal: Some(PersonPersonalData {
            name: name(name_text),
            contact: Some(contact_of(None, Some("+45 20 30 40 50"), None)),
        }),
    }
}

/// A person's record as `decide` accepts it; `personal` is `None` as a forgotten person's
/// reads back.
pub fn arb_person_details(id: PersonId) -> impl Strategy<Value = PersonDetails> {
    (
        proptest::sample::select(PersonKind::ALL),
        prop_oneof![
            Just(PostedBy::Municipality),
            (1u128..=2).prop_map(|n| PostedBy::Organisation(OrganisationId::from_uuid(
                Uuid::from_u128(n)
            ))),
        ],
        arb_postcode(),
        arb_languages(),
        any::<bool>(),
        proptest::option::weighted(
            0.9,
            (arb_name(), proptest::option::of(arb_contact()))
                .prop_map(|(name, contact)| PersonPersonalData { name, contact }),
        ),
    )
        .prop_map(
            move |(kind, registered_by, postcode, languages, children_under_15, personal)| {
                PersonDetails {
                    id,
                    kind,
                    registered_by,
                    postcode,
                    languages,
                    children_under_15,
                    personal,
                }
            },
        )
}

/// Any of a person's events, about person `id` (see [`arb_volunteer_event`]).
pub fn arb_person_event(id: PersonId) -> impl Strategy<Value = PersonEvent> {
    prop_oneof![
        arb_person_details(id).prop_map(PersonEvent::Registered),
        arb_person_details(id).prop_map(PersonEvent::Updated),
        arb_datetime().prop_map(move |at| PersonEvent::Forgotten(PersonForgotten { id, at })),
    ]
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0)
        .single()
        .expect("valid time")
}

pub fn consent_at(y: i32, m: u32, d: u32) -> Consent {
    Consent {
        purpose: ConsentPurpose::parse(
            "Rødovre Kommune må bruge mine oplysninger til at matche mig med frivillige opgaver.",
        )
        .expect("valid purpose"),
        given_at: at(y, m, d),
    }
}

// --- one canonical entity of each kind ---

/// Rødovre's registration: the municipality *is* the tenant, so tests of other tenants pass
/// their own.
pub fn municipality_registered(
    tenant_id: &str,
    kommunekode: u16,
    name_text: &str,
) -> MunicipalityEvent {
    MunicipalityEvent::Registered(MunicipalityRegistered {
        tenant: tenant(tenant_id),
        kommunekode: Kommunekode::parse(kommunekode).expect("valid kommunekode"),
        name: name(name_text),
    })
}

pub fn contact_of(email: Option<&str>, phone: Option<&str>, person: Option<&str>) -> Contact {
    Contact::parse(
        email.map(|e| Email::parse(e).expect("valid email")),
        phone.map(|p| Phone::parse(p).expect("valid phone")),
        person.map(name),
    )
    .expect("valid contact")
}

/// An association with a CVR number and a contact person.
pub fn organisation_details(id: OrganisationId, name_text: &str) -> OrganisationDetails {
    OrganisationDetails {
        id,
        name: name(name_text),
        cvr: Some(cvr("13748136")),
        kind: OrganisationKind::Association,
        contact: Some(contact_of(
            Some("info@aeblehaven.dk"),
            Some("+45 36 37 70 00"),
            Some("Åse Æbelø"),
        )),
        umbrella: None,
    }
}

/// Søren, the retired carpenter of seed 003: his personal data under another name.
pub fn volunteer_personal(name_text: &str) -> VolunteerPersonalData {
    VolunteerPersonalData {
        name: name(name_text),
        contact: contact_of(Some("soren@example.dk"), Some("+45 12 34 56 78"), None),
        birth_year: Some(1958),
    }
}

/// His profile: two skills, a car, Danish and Ukrainian, two evenings' worth of time, children
/// and refugees with an approved børneattest.
pub fn volunteer_profile() -> VolunteerProfile {
    VolunteerProfile {
        postcode: Postcode::parse("2610").expect("valid postcode"),
        age_band: AgeBand::From67,
        skills: Tag::parse_list(["Snedker", "Lektiehjælp"]).expect("valid tags"),
        resources: Tag::parse_list(["Har bil"]).expect("valid tags"),
        languages: vec![language("da"), language("uk")],
        availability: Availability::parse(
            [
                AvailabilitySlot {
                    weekday: Weekday::Tue,
                    part: DayPart::Evening,
                },
                AvailabilitySlot {
                    weekday: Weekday::Mon,
                    part: DayPart::Morning,
                },
            ],
            5,
        )
        .expect("valid availability"),
        target_groups: vec![TargetGroup::Children, TargetGroup::Refugees],
        max_travel_km: None,
        organisation: None,
    }
}

/// His børneattest: approved on 2025-02-01, to be renewed by 2027-02-01.
pub fn volunteer_certificate() -> ChildCertificate {
    ChildCertificate::parse(
        ChildCertificateStatus::Approved,
        Some(date(2025, 2, 1)),
        Some(date(2027, 2, 1)),
    )
    .expect("valid certificate")
}

/// His consent, given on 2025-03-01.
pub fn volunteer_consent() -> Consent {
    Consent {
        purpose: ConsentPurpose::parse("Formidling af frivilligt arbejde i Rødovre Kommune")
            .expect("valid purpose"),
        given_at: at(2025, 3, 1),
    }
}

pub fn volunteer_registered(id: VolunteerId, name_text: &str) -> VolunteerEvent {
    VolunteerEvent::Registered(VolunteerRegistered {
        id,
        personal: Some(volunteer_personal(name_text)),
        profile: volunteer_profile(),
        consent: volunteer_consent(),
    })
}

/// Homework help for Ukrainian refugee children (seed 004: Røde Kors in Rødovre restarts its
/// Lektiehjælp, and activities for Ukrainian children), posted by the canonical organisation:
/// in Rødovre (2610), Tuesday evenings, two hours a week, two volunteers, from 2025-09-02 to
/// the summer holidays, with regular contact with children under 15.
pub fn need_details(id: NeedId, title: &str) -> NeedDetails {
    NeedDetails {
        id,
        posted_by: PostedBy::Organisation(org_id()),
        title: NeedTitle::parse(title).expect("valid title"),
        description: NeedDescription::parse(
            "Røde Kors i Rødovre genstarter Lektiehjælpen. Vi søger to frivillige, der vil \
             hjælpe ukrainske børn i 1.-6. klasse med lektierne tirsdag aften i Rødovre \
             Frivilligcenter.\nDet er en fordel, hvis du taler ukrainsk eller russisk.",
        )
        .expect("valid description"),
        target_groups: vec![TargetGroup::Children, TargetGroup::Refugees],
        skills_required: Tag::parse_list(["Lektiehjælp"]).expect("valid tags"),
        skills_nice_to_have: Tag::parse_list(["Matematik", "Dansk som andetsprog"])
            .expect("valid tags"),
        languages: vec![language("da"), language("uk")],
        place: NeedPlace::AtPostcode(Postcode::parse("2610").expect("valid postcode")),
        schedule: NeedSchedule::Weekly(
            Availability::parse(
                [AvailabilitySlot {
                    weekday: Weekday::Tue,
                    part: DayPart::Evening,
                }],
                2,
            )
            .expect("valid availability"),
        ),
        volunteers_wanted: VolunteersWanted::parse(2).expect("valid count"),
        starts_on: date(2025, 9, 2),
        ends_on: Some(date(2026, 6, 30)),
        children_under_15: true,
    }
}

// --- proptest strategies ---

/// 2000-01-01 .. 2040-01-01, with nanoseconds, as the event log stores them.
pub fn arb_datetime() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..2_208_988_800i64, 0u32..1_000_000_000)
        .prop_filter_map("in range", |(secs, nanos)| {
            DateTime::from_timestamp(secs, nanos)
        })
}

pub fn arb_name() -> impl Strategy<Value = Name> {
    "[\\p{L}æøåÆØÅ][\\p{L}æøåÆØÅ '.–-]{0,40}"
        .prop_filter_map("valid name", |s| Name::parse(&s).ok())
}

pub fn arb_contact() -> impl Strategy<Value = Contact> {
    let email = "[a-z0-9._+-]{1,20}@[a-zæøå0-9-]{1,20}\\.(dk|com|org)"
        .prop_filter_map("valid email", |s| Email::parse(&s).ok());
    let phone = "(\\+45 ?)?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2}"
        .prop_filter_map("valid phone", |s| Phone::parse(&s).ok());
    (
        proptest::option::of(email),
        proptest::option::of(phone),
        proptest::option::of(arb_name()),
    )
        .prop_filter_map("email or phone", |(email, phone, person)| {
            Contact::parse(email, phone, person).ok()
        })
}

fn arb_tags() -> impl Strategy<Value = Vec<Tag>> {
    proptest::collection::vec("[\\p{L}0-9][\\p{L}0-9 -]{0,30}", 0..40).prop_map(|items| {
        let mut tags: Vec<Tag> = Vec::new();
        for tag in items.iter().filter_map(|s| Tag::parse(s).ok()) {
            if !tags.contains(&tag) && tags.len() < Tag::MAX_PER_LIST {
                tags.push(tag);
            }
        }
        tags
    })
}

fn arb_languages() -> impl Strategy<Value = Vec<LanguageCode>> {
    proptest::collection::vec("[a-z]{2}", 0..6).prop_map(|items| {
        let mut codes: Vec<LanguageCode> = Vec::new();
        for code in items.iter().filter_map(|s| LanguageCode::parse(s).ok()) {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        codes
    })
}

fn arb_availability() -> impl Strategy<Value = Availability> {
    (
        proptest::collection::vec(
            (
                proptest::sample::select(Weekday::ALL),
                proptest::sample::select(DayPart::ALL),
            ),
            1..12,
        ),
        1u8..=60,
    )
        .prop_filter_map("valid availability", |(slots, hours)| {
            let slots = slots
                .into_iter()
                .map(|(weekday, part)| AvailabilitySlot { weekday, part });
            Availability::parse(slots, hours).ok()
        })
}

fn arb_child_certificate() -> impl Strategy<Value = ChildCertificate> {
    (
        proptest::sample::select(ChildCertificateStatus::ALL),
        0i64..5_000,
        proptest::option::of(1i64..2_000),
    )
        .prop_filter_map("valid certificate", |(status, assessed, valid_for)| {
            let base = NaiveDate::from_ymd_opt(2015, 1, 1)?;
            let assessed_on = base.checked_add_signed(chrono::Duration::days(assessed))?;
            let assessed = matches!(
                status,
                ChildCertificateStatus::Approved | ChildCertificateStatus::NotApproved
            );
            let valid_until = match (status, valid_for) {
                (ChildCertificateStatus::Approved, Some(days)) => {
                    Some(assessed_on.checked_add_signed(chrono::Duration::days(days))?)
                }
                _ => None,
            };
            ChildCertificate::parse(status, assessed.then_some(assessed_on), valid_until).ok()
        })
}

/// A registered event that `decide` would have produced: rules hold, lists have no duplicates.
pub fn arb_volunteer_registered() -> impl Strategy<Value = VolunteerRegistered> {
    let personal_parts = (arb_name(), arb_contact(), proptest::option::of(0u16..=100));
    let profile_parts = (
        (800u16..=9990).prop_map(|n| Postcode::parse(&format!("{n:04}")).expect("in range")),
        proptest::sample::select(AgeBand::ALL),
        arb_tags(),
        arb_tags(),
        arb_languages(),
        arb_availability(),
        proptest::sample::subsequence(TargetGroup::ALL, 0..=TargetGroup::ALL.len()),
        proptest::option::of(
            (1u16..=TravelKm::MAX).prop_map(|km| TravelKm::parse(km).expect("in range")),
        ),
        proptest::option::of(
            (0u128..4).prop_map(|n| OrganisationId::from_uuid(Uuid::from_u128(0x0a5 << 64 | n))),
        ),
    );
    let consent = (
        "[\\p{L} .,]{3,100}".prop_filter_map("valid purpose", |s| ConsentPurpose::parse(&s).ok()),
        arb_datetime(),
    )
        .prop_map(|(purpose, given_at)| Consent { purpose, given_at });
    (any::<u128>(), personal_parts, profile_parts, consent).prop_map(
        |(id, (name, contact, age), profile_parts, consent)| {
            let (
                postcode,
                any_band,
                skills,
                resources,
                languages,
                availability,
                target_groups,
                max_travel_km,
                organisation,
            ) = profile_parts;
            let year = chrono::Datelike::year(&consent.given_at);
            let birth_year = age.and_then(|age| u16::try_from(year - i32::from(age)).ok());
            let age_band = birth_year
                .and_then(|b| AgeBand::from_birth_year(b, year).ok())
                .unwrap_or(any_band);
            VolunteerRegistered {
                id: VolunteerId::from_uuid(Uuid::from_u128(id)),
                personal: Some(VolunteerPersonalData {
                    name,
                    contact,
                    birth_year,
                }),
                profile: VolunteerProfile {
                    postcode,
                    age_band,
                    skills,
                    resources,
                    languages,
                    availability,
                    target_groups,
                    max_travel_km,
                    organisation,
                },
                consent,
            }
        },
    )
}

/// Any of a volunteer's events, about volunteer `id`. Not only what `decide` would append in
/// this order: `evolve` (and every projection, which mirrors it) must cope with any sequence.
pub fn arb_volunteer_event(id: VolunteerId) -> impl Strategy<Value = VolunteerEvent> {
    prop_oneof![
        3 => arb_volunteer_registered().prop_map(move |e| {
            VolunteerEvent::Registered(VolunteerRegistered { id, ..e })
        }),
        // `.v1`: before the workflow, a registration could bring any assessment.
        1 => (arb_volunteer_registered(), arb_child_certificate()).prop_map(
            move |(e, child_certificate)| {
                VolunteerEvent::RegisteredV1(VolunteerRegisteredV1 {
                    id,
                    personal: e.personal,
                    profile: VolunteerProfileV1 { profile: e.profile, child_certificate },
                    consent: e.consent,
                })
            }
        ),
        // `personal: None` is how an update of a forgotten person reads back from the log.
        3 => (arb_volunteer_registered(), any::<bool>()).prop_map(move |(e, forgotten)| {
            VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
                id,
                personal: if forgotten { None } else { e.personal },
                profile: e.profile,
            })
        }),
        // `.v1`: an update carried the børneattest along (any of them; events from before the
        // workflow set it directly).
        1 => (arb_volunteer_registered(), any::<bool>(), arb_child_certificate()).prop_map(
            move |(e, forgotten, child_certificate)| {
                VolunteerEvent::ProfileUpdatedV1(VolunteerProfileUpdatedV1 {
                    id,
                    personal: if forgotten { None } else { e.personal },
                    profile: VolunteerProfileV1 { profile: e.profile, child_certificate },
                })
            }
        ),
        1 => arb_datetime().prop_map(move |at| {
            VolunteerEvent::ConsentWithdrawn(VolunteerConsentWithdrawn { id, at })
        }),
        1 => arb_datetime().prop_map(move |at| {
            VolunteerEvent::Forgotten(VolunteerForgotten { id, at })
        }),
        2 => (proptest::sample::select(Purpose::ALL), arb_datetime()).prop_map(move |(purpose, at)| {
            VolunteerEvent::PurposeConsentGiven(VolunteerPurposeConsent { id, purpose, at })
        }),
        1 => (proptest::sample::select(Purpose::ALL), arb_datetime()).prop_map(move |(purpose, at)| {
            VolunteerEvent::PurposeConsentWithdrawn(VolunteerPurposeConsent { id, purpose, at })
        }),
        // As `decide` writes the list: sorted, each once (a subsequence keeps the order).
        1 => (
            proptest::sample::subsequence(vec!["albertslund", "glostrup", "hvidovre"], 0..=3),
            arb_datetime(),
        )
            .prop_map(move |(slugs, at)| {
                let municipalities = slugs
                    .into_iter()
                    .filter_map(|slug| TenantId::parse(slug).ok())
                    .collect();
                VolunteerEvent::OtherMunicipalitiesSet(VolunteerOtherMunicipalities {
                    id,
                    municipalities,
                    at,
                })
            }),
        1 => (arb_requester(), arb_datetime()).prop_map(move |(requester, at)| {
            VolunteerEvent::CertificateConsentGiven(VolunteerCertificateStep { id, requester, at })
        }),
        2 => (arb_requester(), arb_datetime()).prop_map(move |(requester, at)| {
            VolunteerEvent::CertificateRequested(VolunteerCertificateStep { id, requester, at })
        }),
        // `None` is how an assessment of a forgotten person reads back from the log.
        2 => (arb_requester(), proptest::option::weighted(0.9, arb_child_certificate()), arb_datetime()).prop_map(
            move |(requester, certificate, at)| {
                VolunteerEvent::CertificateAssessed(VolunteerCertificateAssessed {
                    id,
                    requester,
                    certificate,
                    at,
                })
            }
        ),
        1 => (arb_requester(), arb_child_certificate(), arb_datetime()).prop_map(
            move |(requester, certificate, at)| {
                VolunteerEvent::CertificateAssessedV1(VolunteerCertificateAssessedV1 {
                    id,
                    requester,
                    certificate,
                    at,
                })
            }
        ),
    ]
}

/// The municipality, or one of two organisations.
pub fn arb_requester() -> impl Strategy<Value = CertificateRequester> {
    prop_oneof![
        Just(PostedBy::Municipality),
        (1u128..=2)
            .prop_map(|n| PostedBy::Organisation(OrganisationId::from_uuid(Uuid::from_u128(n)))),
    ]
}

/// An organisation's record as `decide` accepts it: a CVR number where the kind needs one.
pub fn arb_organisation_details(id: OrganisationId) -> impl Strategy<Value = OrganisationDetails> {
    let cvr_numbers = proptest::sample::select(vec!["13748136", "29189838", "25052943"]);
    (
        arb_name(),
        proptest::option::of(cvr_numbers),
        proptest::sample::select(OrganisationKind::ALL),
        // `None` is how a record reads back once its contact was forgotten.
        proptest::option::weighted(0.9, arb_contact()),
        proptest::option::of(arb_umbrella_id()),
    )
        .prop_map(move |(name, cvr_text, kind, contact, umbrella)| {
            let cvr_text = match kind {
                OrganisationKind::InformalGroup => None,
                kind if kind.requires_cvr() => cvr_text.or(Some("13748136")),
                _ => cvr_text,
            };
            OrganisationDetails {
                id,
                name,
                cvr: cvr_text.map(cvr),
                kind,
                contact,
                umbrella,
            }
        })
}

/// Any of an umbrella's events: registered (a national umbrella or a district) or renamed.
pub fn arb_umbrella_event(id: UmbrellaId) -> impl Strategy<Value = UmbrellaEvent> {
    (
        arb_name(),
        proptest::option::of(arb_umbrella_id()),
        any::<bool>(),
    )
        .prop_map(move |(name, parent, renamed)| {
            let details = UmbrellaDetails { id, name, parent };
            if renamed {
                UmbrellaEvent::Renamed(details)
            } else {
                UmbrellaEvent::Registered(details)
            }
        })
}

/// One of a few umbrella ids, so that sequences of events meet the same one again.
pub fn arb_umbrella_id() -> impl Strategy<Value = UmbrellaId> {
    (1u128..=3).prop_map(|n| UmbrellaId::from_uuid(Uuid::from_u128(0x0b5 << 64 | n)))
}

/// Any of an organisation's events, about organisation `id` (see [`arb_volunteer_event`]).
pub fn arb_organisation_event(id: OrganisationId) -> impl Strategy<Value = OrganisationEvent> {
    prop_oneof![
        arb_organisation_details(id).prop_map(OrganisationEvent::Registered),
        arb_organisation_details(id).prop_map(OrganisationEvent::Updated),
        arb_organisation_details(id).prop_map(OrganisationEvent::RegisteredV1),
        arb_organisation_details(id).prop_map(OrganisationEvent::UpdatedV1),
        arb_datetime().prop_map(move |at| {
            OrganisationEvent::ContactForgotten(OrganisationContactForgotten { id, at })
        }),
        proptest::option::of(arb_umbrella_id()).prop_map(move |umbrella| {
            OrganisationEvent::UmbrellaSet(OrganisationUmbrellaSet { id, umbrella })
        }),
        proptest::option::of("[\\p{L} .,]{1,60}").prop_map(move |reason| {
            OrganisationEvent::Deactivated(OrganisationDeactivated {
                id,
                reason: reason.and_then(|r| DeactivationReason::parse(&r).ok()),
            })
        }),
    ]
}

/// Any of a webhook endpoint's events: registered (for `organisation`, at one of a few
/// URLs), its URL changed, disabled or enabled.
pub fn arb_webhook_endpoint_event(
    id: WebhookEndpointId,
    organisation: OrganisationId,
) -> impl Strategy<Value = WebhookEndpointEvent> {
    let url = prop::sample::select(vec![
        "https://hooks.example.dk/samskab",
        "https://example.dk:8443/h?k=1",
        "http://127.0.0.1:9000/hook",
    ])
    .prop_map(|u| WebhookUrl::parse(u).expect("a valid url"));
    prop_oneof![
        url.clone().prop_map(
            move |url| WebhookEndpointEvent::Registered(WebhookEndpointDetails {
                id,
                organisation,
                url
            })
        ),
        url.prop_map(
            move |url| WebhookEndpointEvent::UrlChanged(WebhookEndpointUrlChanged { id, url })
        ),
        Just(WebhookEndpointEvent::Disabled(WebhookEndpointSwitched {
            id
        })),
        Just(WebhookEndpointEvent::Enabled(WebhookEndpointSwitched {
            id
        })),
    ]
}

/// Any `set` of the preferences of the inbox `recipient`: every combination of channel,
/// language and cadence.
pub fn arb_notification_preferences_event(
    recipient: &'static str,
) -> impl Strategy<Value = NotificationPreferencesEvent> {
    (
        any::<bool>(),
        prop::sample::select(MessageLanguage::ALL.to_vec()),
        prop::sample::select(MailCadence::ALL.to_vec()),
    )
        .prop_map(move |(email, language, cadence)| {
            NotificationPreferencesEvent::Set(PreferencesSet {
                id: NotificationPreferencesId::of_recipient(recipient),
                recipient: recipient.to_string(),
                preferences: Preferences {
                    email,
                    language,
                    cadence,
                },
            })
        })
}

/// Any of a municipality's events under `tenant_id`: its registration, or weights it set.
pub fn arb_municipality_event(tenant_id: String) -> impl Strategy<Value = MunicipalityEvent> {
    let registered_under = tenant_id.clone();
    let shared_under = tenant_id.clone();
    prop_oneof![
        2 => (101u16..=860, arb_name()).prop_map(move |(code, name)| {
            MunicipalityEvent::Registered(MunicipalityRegistered {
                tenant: tenant(&registered_under),
                kommunekode: Kommunekode::parse(code).expect("in range"),
                name,
            })
        }),
        1 => (arb_weights(), arb_datetime()).prop_map(move |(weights, at)| {
            MunicipalityEvent::MatchingWeightsSet(MunicipalityMatchingWeights {
                tenant: tenant(&tenant_id),
                weights,
                at,
            })
        }),
        1 => (
            proptest::collection::btree_set(arb_umbrella_id(), 0..=3),
            arb_datetime(),
        )
            .prop_map(move |(umbrellas, at)| {
                MunicipalityEvent::UmbrellasShared(MunicipalityUmbrellasShared {
                    tenant: tenant(&shared_under),
                    umbrellas: umbrellas.into_iter().collect(),
                    at,
                })
            }),
    ]
}

/// Weights a municipality may set (`Weights::check`).
pub fn arb_weights() -> impl Strategy<Value = crate::ranking::Weights> {
    proptest::array::uniform6(0u32..=100).prop_filter_map("one criterion counts", |p| {
        crate::ranking::Weights {
            skills_required: p[0],
            skills_nice_to_have: p[1],
            languages: p[2],
            distance: p[3],
            availability: p[4],
            interests: p[5],
        }
        .check()
        .ok()
    })
}

fn arb_postcode() -> impl Strategy<Value = Postcode> {
    (800u16..=9990).prop_map(|n| Postcode::parse(&format!("{n:04}")).expect("in range"))
}

/// A need's record as `decide` accepts it when published at 10:00 on its `starts_on`: dates
/// from 2000 on, an end within about eight years of the start, a one-off date between start and
/// end, lists without duplicates and no skill both required and nice to have.
pub fn arb_need_details(id: NeedId) -> impl Strategy<Value = NeedDetails> {
    let poster = prop_oneof![
        Just(PostedBy::Municipality),
        any::<u128>()
            .prop_map(|n| PostedBy::Organisation(OrganisationId::from_uuid(Uuid::from_u128(n)))),
    ];
    let texts = (
        poster,
        "[\\p{L}0-9][\\p{L}0-9 .,–-]{0,80}"
            .prop_filter_map("valid title", |s| NeedTitle::parse(&s).ok()),
        "[\\p{L}0-9 .,\n-]{1,300}"
            .prop_filter_map("valid description", |s| NeedDescription::parse(&s).ok()),
    );
    let lists = (
        proptest::sample::subsequence(TargetGroup::ALL, 0..=TargetGroup::ALL.len()),
        arb_tags(),
        arb_tags(),
        arb_languages(),
    );
    let place = prop_oneof![
        arb_postcode().prop_map(NeedPlace::AtPostcode),
        Just(NeedPlace::Remote),
    ];
    // Days after 2000-01-01 (to 2035), the length in days if it ends, the one-off date's
    // offset from the start if it is one.
    let timing = (
        0i64..13_000,
        proptest::option::of(0i64..3_000),
        proptest::option::of(0i64..3_000),
        arb_availability(),
    );
    (
        texts,
        lists,
        place,
        timing,
        1u16..=VolunteersWanted::MAX,
        any::<bool>(),
    )
        .prop_map(
            move |(
                (posted_by, title, description),
                (target_groups, skills_required, nice, languages),
                place,
                (start, length, once, availability),
                wanted,
                children_under_15,
            )| {
                let day = |offset: i64| {
                    date(2000, 1, 1)
                        .checked_add_signed(chrono::Duration::days(offset))
                        .expect("in range")
                };
                let starts_on = day(start);
                let ends_on = length.map(|length| day(start + length));
                let schedule = match once {
                    Some(offset) => NeedSchedule::OnDate {
                        date: day(start + length.map_or(offset, |length| offset % (length + 1))),
                    },
                    None => NeedSchedule::Weekly(availability),
                };
                let skills_nice_to_have = nice
                    .into_iter()
                    .filter(|skill| !skills_required.contains(skill))
                    .collect();
                NeedDetails {
                    id,
                    posted_by,
                    title,
                    description,
                    target_groups,
                    skills_required,
                    skills_nice_to_have,
                    languages,
                    place,
                    schedule,
                    volunteers_wanted: VolunteersWanted::parse(wanted).expect("in range"),
                    starts_on,
                    ends_on,
                    children_under_15,
                }
            },
        )
}

/// Any of a need's events, about need `id` (see [`arb_volunteer_event`]).
pub fn arb_need_event(id: NeedId) -> impl Strategy<Value = NeedEvent> {
    prop_oneof![
        3 => arb_need_details(id).prop_map(NeedEvent::Published),
        3 => arb_need_details(id).prop_map(NeedEvent::Updated),
        2 => (proptest::option::of("[\\p{L} .,]{1,60}"), arb_datetime()).prop_map(move |(reason, at)| {
            NeedEvent::Closed(NeedClosed {
                id,
                reason: reason.and_then(|r| ClosingReason::parse(&r).ok()),
                at,
            })
        }),
        2 => (arb_datetime(), proptest::option::of(0i64..13_000)).prop_map(move |(at, day)| {
            let last_day = day.map(|offset| {
                date(2000, 1, 1)
                    .checked_add_signed(chrono::Duration::days(offset))
                    .expect("in range")
            });
            NeedEvent::Reopened(NeedReopened { id, at, last_day })
        }),
        // As stored before a reopening could give a new last day.
        1 => arb_datetime().prop_map(move |at| {
            NeedEvent::ReopenedV1(NeedReopened { id, at, last_day: None })
        }),
    ]
}

/// Søren (the canonical volunteer) and the homework help for Ukrainian children (the canonical
/// need), proposed by the organisation's coordinator.
pub fn match_details(id: MatchId) -> MatchDetails {
    MatchDetails {
        id,
        volunteer_id: volunteer_id(),
        counterpart: Counterpart::Need(need_id()),
        proposed_by: ProposedBy::Coordinator,
        note: MatchNote::parse_optional(Some(
            "Tirsdag aften passer begge parter, og der er brug for en, der taler ukrainsk.",
        ))
        .expect("valid note"),
        volunteer_municipality: None,
    }
}

/// The canonical proposal, on 2025-09-03, the day after the need started.
pub fn match_proposed(id: MatchId) -> MatchEvent {
    MatchEvent::Proposed(MatchProposed {
        details: match_details(id),
        at: at(2025, 9, 3),
    })
}

fn arb_match_note() -> impl Strategy<Value = Option<MatchNote>> {
    proptest::option::of("[\\p{L}0-9 .,\n-]{1,80}")
        .prop_map(|note| note.and_then(|n| MatchNote::parse(&n).ok()))
}

/// 1900-01 .. 2099-12.
pub fn arb_year_month() -> impl Strategy<Value = YearMonth> {
    (1900i32..2100, 1u32..=12)
        .prop_map(|(year, month)| YearMonth::new(year, month).expect("in range"))
}

/// Any of a match's events, about match `id` (see [`arb_volunteer_event`]). Acceptances, starts
/// and logged hours weigh more, so that folds reach the later states often.
pub fn arb_match_event(id: MatchId) -> impl Strategy<Value = MatchEvent> {
    let details = (
        any::<u128>(),
        any::<u128>(),
        // A need mostly, a person (a mentee, a family) now and then.
        proptest::bool::weighted(0.25),
        proptest::sample::select(ProposedBy::ALL),
        arb_match_note(),
        // Now and then a volunteer of another municipality who opted in to the match's.
        proptest::option::weighted(0.2, Just("roskilde")),
    )
        .prop_map(
            move |(volunteer, other, person, proposed_by, note, elsewhere)| MatchDetails {
                id,
                volunteer_id: VolunteerId::from_uuid(Uuid::from_u128(volunteer)),
                counterpart: if person {
                    Counterpart::Person(PersonId::from_uuid(Uuid::from_u128(other)))
                } else {
                    Counterpart::Need(NeedId::from_uuid(Uuid::from_u128(other)))
                },
                proposed_by,
                note,
                volunteer_municipality: elsewhere.and_then(|t| TenantId::parse(t).ok()),
            },
        );
    let side = proptest::sample::select(MatchSide::ALL);
    prop_oneof![
        2 => (details, arb_datetime()).prop_map(|(details, at)| {
            MatchEvent::Proposed(MatchProposed { details, at })
        }),
        3 => (side.clone(), arb_datetime()).prop_map(move |(side, at)| {
            MatchEvent::Accepted(MatchAccepted { id, side, at })
        }),
        1 => (side, arb_match_note(), arb_datetime()).prop_map(move |(side, reason, at)| {
            MatchEvent::Declined(MatchDeclined { id, side, reason, at })
        }),
        2 => (0i64..13_000, arb_datetime()).prop_map(move |(day, at)| {
            let on = date(2000, 1, 1)
                .checked_add_signed(chrono::Duration::days(day))
                .expect("in range");
            MatchEvent::Started(MatchStarted { id, on, at })
        }),
        3 => (arb_year_month(), 0..=MonthlyMinutes::MAX, arb_datetime()).prop_map(
            move |(period, minutes, at)| {
                MatchEvent::HoursLogged(MatchHoursLogged {
                    id,
                    period,
                    minutes: MonthlyMinutes::parse(minutes).expect("in range"),
                    at,
                })
            }
        ),
        2 => (arb_match_note(), arb_datetime()).prop_map(move |(reason, at)| {
            MatchEvent::Paused(MatchPaused { id, reason, at })
        }),
        2 => arb_datetime().prop_map(move |at| MatchEvent::Resumed(MatchResumed { id, at })),
        1 => (proptest::sample::select(MatchEndReason::ALL), arb_datetime()).prop_map(
            move |(reason, at)| MatchEvent::Ended(MatchEnded { id, reason, at })
        ),
    ]
}

/// A match's life as `decide` would begin it (proposed, then maybe accepted by the side that
/// had not, then maybe started), then any 0..10 events, most of them what an agreed or active
/// match meets: hours for one of three months (so that a month is logged again and the latest
/// figure must win, which `arb_match_event`'s months almost never repeat), pauses, resumptions,
/// an end; and one in four anything at all (`arb_match_event`), mostly out of place.
///
/// Any order of `arb_match_event`s alone rarely gets that far: a match is active only after a
/// proposal, the right side's acceptance and a start, in that order, among at most seven events
/// (about one case in a hundred), and paused and resumed almost never.
pub fn arb_match_life(id: MatchId) -> impl Strategy<Value = Vec<MatchEvent>> {
    let proposal = arb_match_event(id).prop_filter_map("a proposal", |event| match event {
        MatchEvent::Proposed(proposal) => Some(proposal),
        _ => None,
    });
    let reached = prop_oneof![1 => Just(0), 1 => Just(1), 4 => Just(2)];
    let on = (0i64..4_000)
        .prop_map(|day| date(2015, 1, 1) + chrono::Duration::days(day))
        .boxed();
    let month = proptest::sample::select(vec!["2025-09", "2025-10", "2025-11"]);
    let reason = proptest::option::of(Just("Sommerferie"))
        .prop_map(|reason| MatchNote::parse_optional(reason).expect("a valid note"));
    let later = prop_oneof![
        4 => (month, 0..=MonthlyMinutes::MAX, arb_datetime()).prop_map(
            move |(period, minutes, at)| {
                MatchEvent::HoursLogged(MatchHoursLogged {
                    id,
                    period: YearMonth::parse(period).expect("a valid month"),
                    minutes: MonthlyMinutes::parse(minutes).expect("in range"),
                    at,
                })
            }
        ),
        2 => (reason, arb_datetime()).prop_map(move |(reason, at)| {
            MatchEvent::Paused(MatchPaused { id, reason, at })
        }),
        2 => arb_datetime().prop_map(move |at| MatchEvent::Resumed(MatchResumed { id, at })),
        1 => (proptest::sample::select(MatchEndReason::ALL), arb_datetime())
            .prop_map(move |(reason, at)| MatchEvent::Ended(MatchEnded { id, reason, at })),
        3 => arb_match_event(id),
    ];
    (
        proposal,
        reached,
        on,
        arb_datetime(),
        proptest::collection::vec(later, 0..10),
    )
        .prop_map(move |(proposal, reached, on, at, later)| {
            let other_side = match proposal.details.proposed_by {
                ProposedBy::Coordinator => MatchSide::Volunteer,
                ProposedBy::Volunteer => MatchSide::Counterpart,
            };
            let mut events = vec![MatchEvent::Proposed(proposal)];
            if reached >= 1 {
                events.push(MatchEvent::Accepted(MatchAccepted {
                    id,
                    side: other_side,
                    at,
                }));
            }
            if reached >= 2 {
                events.push(MatchEvent::Started(MatchStarted { id, on, at }));
            }
            events.extend(later);
            events
        })
}

// --- grants ---------------------------------------------------------------------------------

pub fn grant_pool_id() -> GrantPoolId {
    GrantPoolId::from_uuid(Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_0901))
}

pub fn grant_round_id() -> GrantRoundId {
    GrantRoundId::from_uuid(Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_0902))
}

pub fn grant_application_id() -> GrantApplicationId {
    GrantApplicationId::from_uuid(Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_0903))
}

pub fn ore(amount: i64) -> Amount {
    Amount::from_ore(amount).expect("amount")
}

pub fn kroner(amount: i64) -> Amount {
    ore(amount * 100)
}

pub fn staff(sub: &str) -> StaffMember {
    StaffMember::parse(&format!("user:{sub}")).expect("staff member")
}

pub fn criterion(key: &str, weight: u8) -> Criterion {
    Criterion {
        key: CriterionKey::parse(key).expect("key"),
        title: GrantTitle::parse(key).expect("title"),
        weight,
    }
}

/// Rødovre's §18 pool (seed 004): in rounds, associations and informal groups, a second
/// approver above 100.000 kr.
pub fn grant_pool_details(id: GrantPoolId) -> PoolDetails {
    PoolDetails {
        id,
        name: GrantTitle::parse("§18-puljen").expect("name"),
        legal_basis: LegalBasis::ServicelovenParagraph18,
        purpose: GrantText::parse("Støtte til frivilligt socialt arbejde i Rødovre").expect("p"),
        kind: PoolKind::Rounds,
        applicants: vec![ApplicantKind::Association, ApplicantKind::InformalGroup],
        criteria: vec![criterion("reach", 60), criterion("volunteers", 40)],
        second_approval_above: kroner(100_000),
        audited_accounts_above: kroner(20_000),
        initiative: None,
        strategic_goal: None,
    }
}

/// An application's content asking for `requested` øre, with no co-funding.
pub fn application_content(requested: Amount) -> ApplicationContent {
    ApplicationContent {
        title: GrantTitle::parse("Lektiecafé").expect("title"),
        purpose: GrantText::parse("Lektiehjælp til børn i Islev").expect("purpose"),
        activities: GrantText::parse("To eftermiddage om ugen").expect("activities"),
        target_group: GrantText::parse("Skolebørn 7-14 år").expect("target group"),
        period_from: date(2026, 8, 1),
        period_to: date(2027, 6, 30),
        amount_requested: requested,
        budget_lines: vec![BudgetLine {
            text: GrantTitle::parse("Materialer og forplejning").expect("line"),
            amount: requested,
        }],
        expected_volunteers: 8,
        expected_participants: 40,
        co_funding: Amount::ZERO,
    }
}

/// Æblehaven's application to the pool's round.
pub fn association_application(
    id: GrantApplicationId,
    pool: GrantPoolId,
    requested: Amount,
) -> ApplicationDraft {
    ApplicationDraft {
        id,
        pool,
        round: Some(grant_round_id()),
        applicant_kind: ApplicantKind::Association,
        organisation: Some(org_id()),
        group_name: None,
        content: application_content(requested),
        personal: None,
    }
}

/// An informal group's application, with its contact person (personal data).
pub fn group_application(
    id: GrantApplicationId,
    pool: GrantPoolId,
    requested: Amount,
    contact_name: &str,
) -> ApplicationDraft {
    ApplicationDraft {
        applicant_kind: ApplicantKind::InformalGroup,
        organisation: None,
        group_name: Some(GrantTitle::parse("Strikkeklubben i Islev").expect("group")),
        personal: Some(ApplicantPersonalData {
            name: name(contact_name),
            contact: Some(contact()),
        }),
        ..association_application(id, pool, requested)
    }
}

/// Any event of pool `id` about the cases `applications`, with amounts, years and days from
/// small ranges, so that a sequence touches the same cases and years often. Not only what the
/// decider would decide: the projections mirror `evolve`, which copes with any order.
pub fn arb_grant_pool_event(
    id: GrantPoolId,
    applications: [GrantApplicationId; 2],
) -> impl Strategy<Value = GrantPoolEvent> {
    use crate::grant_pool::{
        PoolApplicationWithdrawn, PoolBudgetChanged, PoolDecisionApproved, PoolDecisionReopened,
    };
    let application = proptest::sample::select(applications.to_vec());
    let amount = (0i64..20).prop_map(|n| kroner(n * 5_000));
    let year = 2026i32..=2027;
    let day = (1u32..=28, 1u32..=12).prop_map(|(d, m)| date(2026, m, d));
    let reason = || Justification::parse("Efter udvalgets møde").expect("reason");
    let decision = (
        application.clone(),
        proptest::sample::select(vec![
            GrantOutcome::Full,
            GrantOutcome::Partial,
            GrantOutcome::Refused,
        ]),
        amount.clone(),
        amount.clone(),
        year.clone(),
        proptest::option::of(day.clone()),
        proptest::option::of((amount.clone(), amount.clone())),
        arb_datetime(),
    )
        .prop_map(
            move |(application, outcome, amount, requested, year, report_due, years, at)| {
                PoolDecision {
                    id,
                    application,
                    version: 1,
                    applicant: ApplicantRef::Application(application),
                    outcome,
                    amount,
                    requested,
                    year,
                    justification: None,
                    decided_by: staff("udvalg-1"),
                    assessed_by: Vec::new(),
                    report_due,
                    years: years
                        .map(|(first, second)| {
                            vec![
                                YearlyAmount {
                                    year,
                                    amount: first,
                                },
                                YearlyAmount {
                                    year: year + 1,
                                    amount: second,
                                },
                            ]
                        })
                        .unwrap_or_default(),
                    duties: None,
                    at,
                }
            },
        )
        .boxed();
    let by = || staff("sagsbehandler-1");
    let reference = || GrantTitle::parse("Bilag 17").expect("reference");
    prop_oneof![
        1 => Just(GrantPoolEvent::Created(grant_pool_details(id))),
        2 => (year.clone(), amount.clone(), arb_datetime()).prop_map(move |(year, amount, at)| {
            GrantPoolEvent::BudgetChanged(PoolBudgetChanged {
                id, year, amount, previous: Amount::ZERO, reason: reason(), by: by(), at,
            })
        }),
        2 => decision.clone().prop_map(GrantPoolEvent::DecisionProposed),
        3 => decision.prop_map(GrantPoolEvent::Decided),
        1 => (application.clone(), arb_datetime()).prop_map(move |(application, at)| {
            GrantPoolEvent::DecisionApproved(PoolDecisionApproved {
                id, application, approved_by: staff("udvalg-2"), at,
            })
        }),
        1 => (application.clone(), arb_datetime()).prop_map(move |(application, at)| {
            GrantPoolEvent::DecisionReopened(PoolDecisionReopened {
                id, application, reason: reason(), by: by(), at,
            })
        }),
        1 => (application.clone(), arb_datetime()).prop_map(move |(application, at)| {
            GrantPoolEvent::ApplicationWithdrawn(PoolApplicationWithdrawn {
                id, application, by: by(), at,
            })
        }),
        2 => (application.clone(), amount.clone(), day.clone(), arb_datetime()).prop_map(
            move |(application, amount, paid_on, at)| {
                GrantPoolEvent::PaymentRecorded(PoolPayment {
                    id, application, amount, paid_on, reference: reference(), by: by(), at,
                })
            }
        ),
        1 => (application.clone(), amount.clone(), day.clone(), arb_datetime()).prop_map(
            move |(application, amount, repaid_on, at)| {
                GrantPoolEvent::RepaymentRecorded(PoolRepayment {
                    id, application, amount, repaid_on, reference: reference(), by: by(), at,
                })
            }
        ),
        1 => (application.clone(), amount.clone(), day, any::<bool>(), arb_datetime()).prop_map(
            move |(application, spent, received_on, audited, at)| {
                GrantPoolEvent::FinalReportReceived(PoolFinalReport {
                    id,
                    application,
                    spent,
                    narrative: GrantText::parse("Lektiecaféen kørte hele året").expect("text"),
                    audited,
                    received_on,
                    by: by(),
                    at,
                })
            }
        ),
        1 => (application, amount, arb_datetime()).prop_map(move |(application, due, at)| {
            GrantPoolEvent::FinalReportApproved(PoolFinalReportApproved {
                id, application, repayment_due: due, by: by(), at,
            })
        }),
    ]
}
