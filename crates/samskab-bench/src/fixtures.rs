//! What the benchmark writes: realistic volunteer registrations (as the domain encodes them and
//! as a client posts them), small filler events, and the entity they go to.

use anyhow::Context;
use samskab_domain::fixtures;
use samskab_domain::{
    Consent, DomainEvent, VolunteerEvent, VolunteerId, VolunteerPersonalData, VolunteerProfile,
    VolunteerProfileUpdated, VolunteerRegistered,
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
    pub id: VolunteerId,
    pub entity: EntityRef,
    pub event: NewEvent,
}

/// A domain event as `EventLog::append` takes it (its `personal` still plain: the log seals it).
pub fn new_event<E: DomainEvent>(event: &E) -> NewEvent {
    NewEvent {
        event_type: event.event_type().to_owned(),
        data: event.to_payload(),
    }
}

/// The entity of volunteer `id` in the bench's municipality.
pub fn volunteer_entity(id: VolunteerId) -> anyhow::Result<EntityRef> {
    Ok(EntityRef::new(
        TENANT,
        VolunteerEvent::KIND.as_str(),
        &id.to_string(),
    )?)
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
        Ok(Registration {
            id,
            entity: volunteer_entity(id)?,
            event: self.registration_of(id),
        })
    }

    /// The registration of volunteer `id`.
    pub fn registration_of(&self, id: VolunteerId) -> NewEvent {
        new_event(&VolunteerEvent::Registered(VolunteerRegistered {
            id,
            personal: Some(self.personal.clone()),
            profile: self.profile.clone(),
            consent: self.consent.clone(),
        }))
    }

    /// The volunteer's profile changed to `profile`: the event `PUT /volunteers/{id}` appends,
    /// which carries the personal data again (sealed by the log, as the API's is).
    pub fn profile_update(&self, id: VolunteerId, profile: &VolunteerProfile) -> NewEvent {
        new_event(&VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
            id,
            personal: Some(self.personal.clone()),
            profile: profile.clone(),
        }))
    }

    /// The canonical profile, which [`RegistrationTemplate::registration`] registers.
    pub fn profile(&self) -> &VolunteerProfile {
        &self.profile
    }
}
