//! The read model agrees with the deciders: for any sequence of an entity's events, the
//! directory row after projecting them equals the row built from the state `evolve` folds from
//! the same events. That is what lets the API answer queries from the read model and decide
//! commands on the folded state without the two ever telling a different story.
//!
//! The sequences are any order of any events (`samskab_domain::fixtures::arb_*_event`), not
//! only what `decide` would append, because `evolve` and the projection both promise to cope
//! with events out of place. Each sequence is applied either event by event or through the batch
//! path the runtime uses, some events twice in a row (a redelivery), and at the end one earlier
//! event again at its old position (a stale redelivery); none of that may change the outcome.
//!
//! A row holds more than the state (times and positions from the envelope, statistics kept
//! after a withdrawal); the comparison covers every column the state determines.
//!
//! The harness is `samskab_testkit::projection` (`ReadModelTest::rows_follow_state`); what is
//! the directory's is here: its tables, the strategies, and the row each state implies.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use samskab_domain::fixtures::{
    arb_municipality_event, arb_organisation_event, arb_person_event, arb_volunteer_event,
    arb_volunteer_registered,
};
use samskab_domain::{
    CertificateRequester, Municipality, MunicipalityState, Organisation, OrganisationDetails,
    OrganisationId, OrganisationState, Person, PersonId, PersonState, PostedBy, Purpose, Volunteer,
    VolunteerEvent, VolunteerId, VolunteerRegistered, VolunteerState,
};
use samskab_testkit::projection::{Key, micros};
use serde_json::{Value, json};

mod support;
use support::*;

const TENANT: &str = "rodovre";

// ---------------------------------------------------------------------------------------------
// Volunteer
// ---------------------------------------------------------------------------------------------

/// The `directory.volunteer` row a volunteer's state implies, or `None` for no row.
/// The purposes' names sorted, as the row keeps them.
fn purpose_names(
    purposes: &std::collections::BTreeMap<Purpose, DateTime<Utc>>,
) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = purposes.keys().map(|p| p.as_str()).collect();
    names.sort_unstable();
    names
}

/// How the row names a requester of a børneattest: `municipality`, or the organisation's id.
fn requester(requester: &CertificateRequester) -> String {
    match requester {
        PostedBy::Municipality => "municipality".to_owned(),
        PostedBy::Organisation(id) => id.to_string(),
    }
}

fn volunteer_row(state: &VolunteerState) -> Option<Value> {
    match state {
        VolunteerState::NotRegistered => None,
        VolunteerState::Active(details) => {
            let personal = details.personal.as_ref();
            let profile = &details.profile;
            let certificate = &details.child_certificate;
            let case = &details.certificate_case;
            Some(json!({
                "name": personal.map(|p| p.name.as_str()),
                "email": personal.and_then(|p| p.contact.email()).map(|e| e.as_str()),
                "phone": personal.and_then(|p| p.contact.phone()).map(|p| p.as_str()),
                "birth_year": personal.and_then(|p| p.birth_year),
                "postcode": profile.postcode.as_str(),
                "age_band": profile.age_band.as_str(),
                "skills": profile.skills.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                "resources": profile.resources.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                "languages": profile.languages.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
                "availability": profile.availability,
                "hours_per_week": profile.availability.hours_per_week(),
                "max_travel_km": profile.max_travel_km.map(|km| km.km()),
                "organisation_id": profile.organisation.map(|o| o.as_uuid()),
                "target_groups": profile.target_groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
                "child_certificate_status": certificate.status().as_str(),
                "child_certificate_assessed_on": certificate.assessed_on(),
                "child_certificate_valid_until": certificate.valid_until(),
                "child_certificate_consent_for": case.consent_for.as_ref().map(requester),
                "child_certificate_requested_by": case.request.map(|r| requester(&r.by)),
                "child_certificate_requested_at": case.request.map(|r| micros(r.at)),
                "consent_purpose": details.consent.purpose.as_str(),
                "consent_given_at": micros(details.consent.given_at),
                "consent_withdrawn_at": null,
                // Sorted by name, as the row keeps them.
                "purposes": purpose_names(&details.purposes),
                "other_municipalities": details.other_municipalities,
                "status": "active",
            }))
        }
        // What stays after a withdrawal (postcode, skills, ...) is the last profile, which the
        // state no longer holds; what the state says is that the personal data is gone (the
        // børneattest's assessment with it), and that no børneattest is consented to or
        // requested any more.
        VolunteerState::ConsentWithdrawn { withdrawn_at, .. } => Some(json!({
            "name": null,
            "email": null,
            "phone": null,
            "birth_year": null,
            "child_certificate_status": null,
            "child_certificate_assessed_on": null,
            "child_certificate_valid_until": null,
            "child_certificate_consent_for": null,
            "child_certificate_requested_by": null,
            "child_certificate_requested_at": null,
            "consent_withdrawn_at": micros(*withdrawn_at),
            "purposes": [],
            "status": "consent_withdrawn",
        })),
        // Forgotten: the same, whether consent was withdrawn before or not.
        VolunteerState::Forgotten { forgotten_at, .. } => Some(json!({
            "name": null,
            "email": null,
            "phone": null,
            "birth_year": null,
            "child_certificate_status": null,
            "child_certificate_assessed_on": null,
            "child_certificate_valid_until": null,
            "child_certificate_consent_for": null,
            "child_certificate_requested_by": null,
            "child_certificate_requested_at": null,
            "forgotten_at": micros(*forgotten_at),
            "purposes": [],
            "status": "forgotten",
        })),
    }
}

#[test]
fn a_volunteers_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    DIRECTORY.rows_follow_state::<Volunteer>(
        "volunteer",
        Key::any_entity(TENANT),
        |key| arb_volunteer_event(VolunteerId::from_uuid(key.id())).boxed(),
        volunteer_row,
    )
}

/// Any of a volunteer's events (`arb_volunteer_event`), with registrations and the
/// børneattest's steps drawn more often than there (a registration one draw in seven, a step
/// three in seven), so that the sequences often reach an active volunteer and then consent,
/// request, assess and renew. From `arb_volunteer_event` alone, 128 sequences requested a
/// børneattest of an active volunteer 9 times and renewed a refused one never; from this,
/// 31 and 3 times.
fn arb_volunteer_event_for_certificates(id: VolunteerId) -> BoxedStrategy<VolunteerEvent> {
    let step =
        arb_volunteer_event(id).prop_filter_map("a step of the børneattest", |event| match event {
            VolunteerEvent::CertificateConsentGiven(_)
            | VolunteerEvent::CertificateRequested(_)
            | VolunteerEvent::CertificateAssessed(_) => Some(event),
            _ => None,
        });
    let registration = arb_volunteer_registered()
        .prop_map(move |e| VolunteerEvent::Registered(VolunteerRegistered { id, ..e }));
    prop_oneof![3 => arb_volunteer_event(id), 1 => registration, 3 => step].boxed()
}

/// The same property, for sequences that reach the børneattest's workflow more often
/// ([`arb_volunteer_event_for_certificates`]).
#[test]
fn a_volunteers_row_follows_the_certificate_workflow() -> anyhow::Result<()> {
    DIRECTORY.rows_follow_state::<Volunteer>(
        "volunteer",
        Key::any_entity(TENANT),
        |key| arb_volunteer_event_for_certificates(VolunteerId::from_uuid(key.id())),
        volunteer_row,
    )
}

// ---------------------------------------------------------------------------------------------
// Organisation
// ---------------------------------------------------------------------------------------------

fn organisation_fields(details: &OrganisationDetails, active: bool) -> Value {
    let contact = details.contact.as_ref();
    json!({
        "name": details.name.as_str(),
        "cvr": details.cvr.as_ref().map(|c| c.as_str()),
        "kind": details.kind.as_str(),
        "email": contact.and_then(|c| c.email()).map(|e| e.as_str()),
        "phone": contact.and_then(|c| c.phone()).map(|p| p.as_str()),
        "contact_person": contact.and_then(|c| c.person()).map(|n| n.as_str()),
        "active": active,
        "umbrella_id": details.umbrella.map(|u| u.as_uuid()),
    })
}

/// The `directory.organisation` row an organisation's state implies. When it is deactivated,
/// the time and reason of the deactivation are the envelope's and the event's, not the state's.
fn organisation_row(state: &OrganisationState) -> Option<Value> {
    match state {
        OrganisationState::NotRegistered => None,
        OrganisationState::Active(details) => {
            let mut row = organisation_fields(details, true);
            row["deactivated_at"] = Value::Null;
            row["deactivation_reason"] = Value::Null;
            Some(row)
        }
        OrganisationState::Deactivated(details) => Some(organisation_fields(details, false)),
    }
}

#[test]
fn an_organisations_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    DIRECTORY.rows_follow_state::<Organisation>(
        "organisation",
        Key::any_entity(TENANT),
        |key| arb_organisation_event(OrganisationId::from_uuid(key.id())).boxed(),
        organisation_row,
    )
}

// ---------------------------------------------------------------------------------------------
// Person
// ---------------------------------------------------------------------------------------------

/// The `directory.person` row a person's state implies: forgotten, without the personal
/// columns (and at the forgetting's time).
fn person_row(state: &PersonState) -> Option<Value> {
    let (details, status, forgotten_at) = match state {
        PersonState::NotRegistered => return None,
        PersonState::Registered(details) => (details, "registered", None),
        PersonState::Forgotten { details, at } => (details, "forgotten", Some(micros(*at))),
    };
    let personal = details.personal.as_ref();
    let contact = personal.and_then(|p| p.contact.as_ref());
    let organisation = match details.registered_by {
        PostedBy::Municipality => None,
        PostedBy::Organisation(id) => Some(id.to_string()),
    };
    Some(json!({
        "kind": details.kind.as_str(),
        "organisation_id": organisation,
        "name": personal.map(|p| p.name.as_str()),
        "email": contact.and_then(|c| c.email()).map(|e| e.as_str()),
        "phone": contact.and_then(|c| c.phone()).map(|p| p.as_str()),
        "postcode": details.postcode.as_str(),
        "languages": details.languages.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "children_under_15": details.children_under_15,
        "status": status,
        "forgotten_at": forgotten_at,
    }))
}

#[test]
fn a_persons_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    DIRECTORY.rows_follow_state::<Person>(
        "person",
        Key::any_entity(TENANT),
        |key| arb_person_event(PersonId::from_uuid(key.id())).boxed(),
        person_row,
    )
}

// ---------------------------------------------------------------------------------------------
// Municipality
// ---------------------------------------------------------------------------------------------

fn municipality_row(state: &MunicipalityState) -> Option<Value> {
    match state {
        MunicipalityState::NotRegistered => None,
        MunicipalityState::Registered {
            details: e,
            weights,
            shared_with,
        } => Some(json!({
            "kommunekode": e.kommunekode.as_u16(),
            "name": e.name.as_str(),
            "matching_weights": weights,
            "shared_with": shared_with,
        })),
    }
}

#[test]
fn a_municipalitys_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    // The municipality is the tenant, so every case has a tenant of its own.
    DIRECTORY.rows_follow_state::<Municipality>(
        "municipality",
        "t-[a-z0-9]{16}".prop_map(|tenant| Key {
            entity_id: tenant.clone(),
            tenant,
            row_id: None,
        }),
        |key| arb_municipality_event(key.tenant.clone()).boxed(),
        municipality_row,
    )
}

// ---------------------------------------------------------------------------------------------
// Umbrella
// ---------------------------------------------------------------------------------------------

fn umbrella_row(state: &samskab_domain::UmbrellaState) -> Option<Value> {
    match state {
        samskab_domain::UmbrellaState::NotRegistered => None,
        samskab_domain::UmbrellaState::Registered(details) => Some(json!({
            "name": details.name.as_str(),
            "parent_id": details.parent.map(|p| p.as_uuid()),
        })),
    }
}

#[test]
fn an_umbrellas_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    DIRECTORY.rows_follow_state::<samskab_domain::Umbrella>(
        "umbrella",
        Key::any_entity("platform"),
        |key| {
            samskab_domain::fixtures::arb_umbrella_event(samskab_domain::UmbrellaId::from_uuid(
                key.id(),
            ))
            .boxed()
        },
        umbrella_row,
    )
}
