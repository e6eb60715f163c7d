//! Persons (borgere) a volunteer is paired with, where the other side of a match is a citizen
//! rather than a need: a young mentee with a social mentor (seed 001), a refugee family with a
//! local family (seed 004, "Venner viser vej"). Registered by the municipality or by an
//! organisation that looks after them.
//!
//! A person's name and contact are personal data exactly like a volunteer's: under the payload
//! key `personal`, sealed by the log with the person's own data key from the first event,
//! exported on request and forgotten by erasing the key (`Forget`). What is left after a
//! forgetting (kind, postcode, languages, who registered them) is what statistics count.

use crate::{
    Contact, Decider, DomainError, EntityKind, LanguageCode, Name, PersonId, PersonKind, Postcode,
    PostedBy,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The person decider.
pub struct Person;

/// Personal data: what identifies or reaches the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonPersonalData {
    /// A mentee's name, or a family's ("Familien Kovalenko").
    pub name: Name,
    /// How to reach them (or their guardian); absent when they are reached through whoever
    /// registered them.
    pub contact: Option<Contact>,
}

/// What is known about a person. Also the payload of `registered` and `updated` (an update
/// replaces the record; who registered the person stays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDetails {
    pub id: PersonId,
    pub kind: PersonKind,
    /// The municipality, or the organisation that looks after the person and speaks for them
    /// in a match.
    pub registered_by: PostedBy,
    pub postcode: Postcode,
    /// The languages they speak, for matching a volunteer who speaks one of them.
    pub languages: Vec<LanguageCode>,
    /// A volunteer paired with them has direct, regular contact with children under 15 (a
    /// mentee under 15, a family with young children): then only a volunteer with a valid,
    /// assessed børneattest may be proposed.
    pub children_under_15: bool,
    /// Sealed by the log; `None` once forgotten (or no longer readable).
    pub personal: Option<PersonPersonalData>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PersonState {
    #[default]
    NotRegistered,
    Registered(PersonDetails),
    /// Forgotten at their request (GDPR art. 17): the record without personal data stays, so
    /// matches and statistics still refer to it. Nothing changes it any more.
    Forgotten {
        details: PersonDetails,
        at: DateTime<Utc>,
    },
}

impl PersonState {
    /// The record, registered or forgotten; `None` before the registration.
    pub fn details(&self) -> Option<&PersonDetails> {
        match self {
            PersonState::NotRegistered => None,
            PersonState::Registered(details) | PersonState::Forgotten { details, .. } => {
                Some(details)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonCommand {
    Register {
        id: PersonId,
        kind: PersonKind,
        registered_by: PostedBy,
        postcode: Postcode,
        languages: Vec<LanguageCode>,
        children_under_15: bool,
        personal: PersonPersonalData,
    },
    /// Replaces the record; who registered the person comes from the state.
    Update {
        kind: PersonKind,
        postcode: Postcode,
        languages: Vec<LanguageCode>,
        children_under_15: bool,
        personal: PersonPersonalData,
    },
    Forget {
        at: DateTime<Utc>,
    },
}

domain_events! {
    /// What happens to a person.
    pub enum PersonEvent for EntityKind::Person {
        Registered(PersonDetails) = REGISTERED_V1 => "dk.samskab.person.registered.v1",
        Updated(PersonDetails) = UPDATED_V1 => "dk.samskab.person.updated.v1",
        Forgotten(PersonForgotten) = FORGOTTEN_V1 => "dk.samskab.person.forgotten.v1",
    }
}

/// Payload of `dk.samskab.person.forgotten.v1`: no personal data, only when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonForgotten {
    pub id: PersonId,
    pub at: DateTime<Utc>,
}

impl PersonEvent {
    /// The entity this event is about.
    pub fn id(&self) -> PersonId {
        match self {
            PersonEvent::Registered(e) | PersonEvent::Updated(e) => e.id,
            PersonEvent::Forgotten(e) => e.id,
        }
    }
}

/// At most this many languages per person, as for a volunteer.
pub const MAX_LANGUAGES: usize = crate::VolunteerProfile::MAX_LANGUAGES;

fn check_languages(languages: &[LanguageCode]) -> Result<(), DomainError> {
    if languages.len() > MAX_LANGUAGES {
        return Err(DomainError::rule(
            "languages",
            format!("at most {MAX_LANGUAGES} languages"),
        ));
    }
    Ok(())
}

impl Decider for Person {
    const KIND: EntityKind = EntityKind::Person;
    type State = PersonState;
    const STATE_VERSION: u32 = 1;
    type Command = PersonCommand;
    type Event = PersonEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        let not_found = DomainError::NotFound {
            kind: EntityKind::Person,
        };
        match command {
            PersonCommand::Register {
                id,
                kind,
                registered_by,
                postcode,
                languages,
                children_under_15,
                personal,
            } => {
                if !matches!(state, PersonState::NotRegistered) {
                    return Err(DomainError::AlreadyExists {
                        kind: EntityKind::Person,
                    });
                }
                check_languages(languages)?;
                Ok(vec![PersonEvent::Registered(PersonDetails {
                    id: *id,
                    kind: *kind,
                    registered_by: *registered_by,
                    postcode: postcode.clone(),
                    languages: languages.clone(),
                    children_under_15: *children_under_15,
                    personal: Some(personal.clone()),
                })])
            }
            PersonCommand::Update {
                kind,
                postcode,
                languages,
                children_under_15,
                personal,
            } => {
                let current = match state {
                    PersonState::NotRegistered => return Err(not_found),
                    PersonState::Forgotten { .. } => {
                        return Err(DomainError::conflict(
                            "the person was forgotten at their request; register them anew",
                        ));
                    }
                    PersonState::Registered(current) => current,
                };
                check_languages(languages)?;
                let updated = PersonDetails {
                    kind: *kind,
                    postcode: postcode.clone(),
                    languages: languages.clone(),
                    children_under_15: *children_under_15,
                    personal: Some(personal.clone()),
                    ..current.clone()
                };
                if &updated == current {
                    return Ok(vec![]);
                }
                Ok(vec![PersonEvent::Updated(updated)])
            }
            PersonCommand::Forget { at } => match state {
                PersonState::NotRegistered => Err(not_found),
                PersonState::Forgotten { .. } => Ok(vec![]),
                PersonState::Registered(current) => {
                    Ok(vec![PersonEvent::Forgotten(PersonForgotten {
                        id: current.id,
                        at: *at,
                    })])
                }
            },
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        use PersonEvent as E;
        use PersonState::*;
        match (state, event) {
            (NotRegistered, E::Registered(details)) => Registered(details.clone()),
            // A second registration cannot have been decided; keep what we have.
            (state @ (Registered(_) | Forgotten { .. }), E::Registered(_)) => state,
            // An update carries the whole record.
            (NotRegistered | Registered(_), E::Updated(details)) => Registered(details.clone()),
            // Nothing changes a forgotten person.
            (state @ Forgotten { .. }, E::Updated(_) | E::Forgotten(_)) => state,
            (Registered(details), E::Forgotten(forgotten)) => Forgotten {
                details: PersonDetails {
                    personal: None,
                    ..details
                },
                at: forgotten.at,
            },
            (NotRegistered, E::Forgotten(_)) => NotRegistered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::{DomainEvent, OrganisationId};

    fn register() -> PersonCommand {
        let details = person_details(person_id(), "Familien Kovalenko");
        PersonCommand::Register {
            id: details.id,
            kind: details.kind,
            registered_by: details.registered_by,
            postcode: details.postcode,
            languages: details.languages,
            children_under_15: details.children_under_15,
            personal: details.personal.expect("personal"),
        }
    }

    #[test]
    fn a_person_is_registered_with_their_personal_data_under_personal() {
        let events = Person::decide(&PersonState::NotRegistered, &register()).expect("decided");
        assert_eq!(
            events,
            vec![PersonEvent::Registered(person_details(
                person_id(),
                "Familien Kovalenko"
            ))]
        );
        let payload = events[0].to_payload();
        assert_eq!(payload["personal"]["name"], "Familien Kovalenko");
        assert!(payload.get("name").is_none(), "{payload}");
        assert_eq!(
            Person::decide(&Person::replay(&events), &register()),
            Err(DomainError::AlreadyExists {
                kind: EntityKind::Person
            })
        );
    }

    #[test]
    fn an_update_keeps_who_registered_the_person_and_an_unchanged_one_appends_nothing() {
        let registered = vec![PersonEvent::Registered(person_details(
            person_id(),
            "Familien Kovalenko",
        ))];
        let state = Person::replay(&registered);
        let update = |name_text: &str| PersonCommand::Update {
            kind: PersonKind::Family,
            postcode: Postcode::parse("2610").expect("postcode"),
            languages: vec![language("uk"), language("ru")],
            children_under_15: true,
            personal: PersonPersonalData {
                name: name(name_text),
                contact: None,
            },
        };
        let events = Person::decide(&state, &update("Familien Kovalenko-Hansen")).expect("ok");
        let [PersonEvent::Updated(updated)] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!(
            updated.registered_by,
            PostedBy::Organisation(OrganisationId::from_uuid(org_id().as_uuid()))
        );
        let state = Person::evolve(state, &events[0]);
        assert_eq!(
            Person::decide(&state, &update("Familien Kovalenko-Hansen")),
            Ok(vec![])
        );
    }

    #[test]
    fn a_forgotten_person_keeps_the_record_without_personal_data_and_changes_no_more() {
        let registered = PersonEvent::Registered(person_details(person_id(), "Ivan"));
        let state = Person::replay(&[registered]);
        let events = Person::decide(&state, &PersonCommand::Forget { at: at(2026, 5, 1) })
            .expect("forgotten");
        let payload = events[0].to_payload();
        assert!(payload.get("personal").is_none(), "{payload}");
        let state = Person::evolve(state, &events[0]);
        let details = state.details().expect("kept");
        assert_eq!(details.personal, None);
        assert_eq!(
            details.postcode,
            Postcode::parse("2610").expect("postcode"),
            "statistics stay"
        );
        assert_eq!(
            Person::decide(&state, &PersonCommand::Forget { at: at(2026, 5, 2) }),
            Ok(vec![]),
            "a repeat decides nothing (the route erases the key again)"
        );
        assert!(matches!(
            Person::decide(
                &state,
                &PersonCommand::Update {
                    kind: PersonKind::Mentee,
                    postcode: Postcode::parse("2610").expect("postcode"),
                    languages: vec![],
                    children_under_15: false,
                    personal: PersonPersonalData {
                        name: name("Ivan"),
                        contact: None
                    },
                }
            ),
            Err(DomainError::Conflict { .. })
        ));
        assert_eq!(
            Person::decide(
                &PersonState::NotRegistered,
                &PersonCommand::Forget { at: at(2026, 5, 2) }
            ),
            Err(DomainError::NotFound {
                kind: EntityKind::Person
            })
        );
    }
}
