//! What the benchmark writes: realistic volunteer registrations (as the domain encodes them and
//! as a client posts them), small filler events, and the entity they go to.

use anyhow::Context;
use samskab_domain::{
    AgeBand, Availability, AvailabilitySlot, ChildCertificate, ChildCertificateStatus, Consent,
    ConsentPurpose, Contact, DayPart, DomainEvent, Email, LanguageCode, Name, Phone, Postcode, Tag,
    TargetGroup, VolunteerEvent, VolunteerId, VolunteerPersonalData, VolunteerProfile,
    VolunteerRegistered, Weekday,
};
use samskab_eventlog::{CommandMeta, EntityRef, NewEvent};
use uuid::Uuid;

/// The tenant every benchmark command is written for.
pub const TENANT: &str = "rodovre";

pub fn meta() -> CommandMeta {
    CommandMeta {
        actor: "user:bench".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        idempotency_key: None,
        request_fingerprint: None,
    }
}

/// One small event (the raw append rate: no domain payload to speak of).
pub fn small_event(n: u64) -> NewEvent {
    NewEvent {
        event_type: "bench.pinged.v1".into(),
        data: serde_json::json!({ "n": n }),
    }
}

/// A fresh subject of its own for the raw append rate.
pub fn fresh_entity(run: &str, task: usize, n: u64) -> anyhow::Result<EntityRef> {
    EntityRef::new("bench", "thing", &format!("{run}-{task}-{n}")).context("entity")
}

/// A volunteer's registration as the API decides it, and the entity it is appended to.
pub struct Registration {
    pub entity: EntityRef,
    pub event: NewEvent,
}

/// The parts of a registration that do not change from volunteer to volunteer.
pub struct RegistrationTemplate {
    personal: VolunteerPersonalData,
    profile: VolunteerProfile,
    consent: Consent,
}

impl RegistrationTemplate {
    pub fn new() -> anyhow::Result<Self> {
        let name = |text: &str| Name::parse(text).map_err(anyhow::Error::msg);
        let personal = VolunteerPersonalData {
            name: name("Søren Frivillig")?,
            contact: Contact::parse(
                Some(Email::parse("soren@example.dk").map_err(anyhow::Error::msg)?),
                Some(Phone::parse("+45 12 34 56 78").map_err(anyhow::Error::msg)?),
                None,
            )
            .map_err(anyhow::Error::msg)?,
            birth_year: Some(1958),
        };
        let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).context("date");
        let profile = VolunteerProfile {
            postcode: Postcode::parse("2610").map_err(anyhow::Error::msg)?,
            age_band: AgeBand::From67,
            skills: Tag::parse_list(["Snedker", "Lektiehjælp"]).map_err(anyhow::Error::msg)?,
            resources: Tag::parse_list(["Har bil"]).map_err(anyhow::Error::msg)?,
            languages: vec![
                LanguageCode::parse("da").map_err(anyhow::Error::msg)?,
                LanguageCode::parse("uk").map_err(anyhow::Error::msg)?,
            ],
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
            .map_err(anyhow::Error::msg)?,
            target_groups: vec![TargetGroup::Children, TargetGroup::Refugees],
            child_certificate: ChildCertificate::parse(
                ChildCertificateStatus::Approved,
                Some(date(2025, 2, 1)?),
                Some(date(2027, 2, 1)?),
            )
            .map_err(anyhow::Error::msg)?,
        };
        let consent = Consent {
            purpose: ConsentPurpose::parse("Formidling af frivilligt arbejde i Rødovre Kommune")
                .map_err(anyhow::Error::msg)?,
            given_at: "2025-03-01T10:00:00Z".parse()?,
        };
        Ok(Self {
            personal,
            profile,
            consent,
        })
    }

    /// A new volunteer's registration: a fresh id, the payload the domain would append.
    pub fn registration(&self) -> anyhow::Result<Registration> {
        let id = VolunteerId::new_v7();
        let event = VolunteerEvent::Registered(VolunteerRegistered {
            id,
            personal: Some(self.personal.clone()),
            profile: self.profile.clone(),
            consent: self.consent.clone(),
        });
        let entity = EntityRef::new(TENANT, VolunteerEvent::KIND.as_str(), &id.to_string())?;
        Ok(Registration {
            entity,
            event: NewEvent {
                event_type: event.event_type().to_owned(),
                data: event.to_payload(),
            },
        })
    }
}
