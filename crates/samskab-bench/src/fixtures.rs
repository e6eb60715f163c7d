//! What the benchmark writes: realistic volunteer registrations (as the domain encodes them and
//! as a client posts them), small filler events, and the entity they go to.

use anyhow::Context;
use samskab_domain::fixtures;
use samskab_domain::{
    Consent, DomainEvent, VolunteerEvent, VolunteerId, VolunteerPersonalData, VolunteerProfile,
    VolunteerRegistered,
};
use samskab_eventlog::{CommandMeta, EntityRef, NewEvent};

/// The tenant every benchmark command is written for.
pub const TENANT: &str = "rodovre";

pub fn meta() -> CommandMeta {
    CommandMeta::by("user:bench")
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
    /// The canonical volunteer of `samskab_domain::fixtures`, which the tests use too.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            personal: fixtures::volunteer_personal("Søren Frivillig"),
            profile: fixtures::volunteer_profile(),
            consent: fixtures::volunteer_consent(),
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
