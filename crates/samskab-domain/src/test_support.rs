//! Fixtures, a given/when/then helper, and proptest strategies shared by the crate's tests.

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
    Contact::parse(
        Some(Email::parse("info@aeblehaven.dk").expect("valid email")),
        Some(Phone::parse("+45 36 37 70 00").expect("valid phone")),
        Some(name("Anne Hansen")),
    )
    .expect("valid contact")
}

pub fn org_id() -> OrganisationId {
    OrganisationId::from_uuid(Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0001))
}

pub fn volunteer_id() -> VolunteerId {
    VolunteerId::from_uuid(Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0002))
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
        arb_child_certificate(),
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
                cert,
            ) = profile_parts;
            let year = chrono::Datelike::year(&consent.given_at);
            let birth_year = age.and_then(|age| u16::try_from(year - i32::from(age)).ok());
            let age_band = birth_year
                .and_then(|b| AgeBand::from_birth_year(b, year).ok())
                .unwrap_or(any_band);
            let child_certificate = if target_groups.contains(&TargetGroup::Children)
                && cert.status() == ChildCertificateStatus::NotRequired
            {
                ChildCertificate::requested()
            } else {
                cert
            };
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
                    child_certificate,
                },
                consent,
            }
        },
    )
}
