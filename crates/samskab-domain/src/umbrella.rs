//! Umbrella organisations (landsorganisationer, paraplyorganisationer): Rotary Danmark, Røde
//! Kors, Center for Frivilligt Socialt Arbejde, and their districts. They work across
//! municipalities, so they belong to the installation (the `platform` tenant), not to any one
//! municipality: a platform administrator registers them. A district names the umbrella it is
//! part of (`parent`), which gives seed 000's growth path club → district → national: a club
//! is an organisation of a municipality that is a member of a district
//! ([`crate::OrganisationDetails::umbrella`]), and the district's parent is the national
//! umbrella.
//!
//! What an umbrella may see of its members is decided by each municipality
//! ([`crate::MunicipalityCommand::ShareWithUmbrellas`]), and only as suppressed aggregates
//! (`crate::suppression`).

use serde::{Deserialize, Serialize};

use crate::{Decider, DomainError, EntityKind, Name, UmbrellaId};

/// The umbrella decider.
pub struct Umbrella;

/// Payload of `registered` and `renamed`: what is known of an umbrella.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UmbrellaDetails {
    pub id: UmbrellaId,
    pub name: Name,
    /// The umbrella this one is a district of; `None`: a national umbrella. Set at
    /// registration and never changed, so the tree has no cycle (a parent is registered
    /// first: the API checks that it exists).
    pub parent: Option<UmbrellaId>,
}

domain_events! {
    /// What happens to an umbrella organisation.
    pub enum UmbrellaEvent for EntityKind::Umbrella {
        Registered(UmbrellaDetails) = REGISTERED_V1 => "dk.samskab.umbrella.registered.v1",
        Renamed(UmbrellaDetails) = RENAMED_V1 => "dk.samskab.umbrella.renamed.v1",
    }
}

impl UmbrellaEvent {
    pub fn details(&self) -> &UmbrellaDetails {
        match self {
            UmbrellaEvent::Registered(d) | UmbrellaEvent::Renamed(d) => d,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum UmbrellaState {
    #[default]
    NotRegistered,
    Registered(UmbrellaDetails),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UmbrellaCommand {
    Register {
        id: UmbrellaId,
        name: Name,
        parent: Option<UmbrellaId>,
    },
    /// A new name; the same name again changes nothing.
    Rename { name: Name },
}

impl Decider for Umbrella {
    const KIND: EntityKind = EntityKind::Umbrella;
    type State = UmbrellaState;
    const STATE_VERSION: u32 = 1;
    type Command = UmbrellaCommand;
    type Event = UmbrellaEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        match (state, command) {
            (UmbrellaState::NotRegistered, UmbrellaCommand::Register { id, name, parent }) => {
                if *parent == Some(*id) {
                    return Err(DomainError::rule(
                        "parent_id",
                        "an umbrella is not a district of itself",
                    ));
                }
                Ok(vec![UmbrellaEvent::Registered(UmbrellaDetails {
                    id: *id,
                    name: name.clone(),
                    parent: *parent,
                })])
            }
            (UmbrellaState::Registered(_), UmbrellaCommand::Register { .. }) => {
                Err(DomainError::AlreadyExists {
                    kind: EntityKind::Umbrella,
                })
            }
            (UmbrellaState::NotRegistered, UmbrellaCommand::Rename { .. }) => {
                Err(DomainError::NotFound {
                    kind: EntityKind::Umbrella,
                })
            }
            (UmbrellaState::Registered(details), UmbrellaCommand::Rename { name }) => {
                if *name == details.name {
                    return Ok(vec![]);
                }
                Ok(vec![UmbrellaEvent::Renamed(UmbrellaDetails {
                    name: name.clone(),
                    ..details.clone()
                })])
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (UmbrellaState::NotRegistered, UmbrellaEvent::Registered(d)) => {
                UmbrellaState::Registered(d.clone())
            }
            (UmbrellaState::Registered(d), UmbrellaEvent::Renamed(e)) => {
                UmbrellaState::Registered(UmbrellaDetails {
                    name: e.name.clone(),
                    ..d
                })
            }
            // Cannot have been decided: keep what there is.
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::parse(text).expect("a name")
    }

    #[test]
    fn a_district_is_registered_under_its_umbrella_and_renamed_once() {
        let national = UmbrellaId::new_v7();
        let id = UmbrellaId::new_v7();
        let events = Umbrella::decide(
            &UmbrellaState::NotRegistered,
            &UmbrellaCommand::Register {
                id,
                name: name("Distrikt 1470"),
                parent: Some(national),
            },
        )
        .expect("registered");
        let state = Umbrella::replay(&events);
        let again = Umbrella::decide(
            &state,
            &UmbrellaCommand::Register {
                id,
                name: name("Distrikt 1470"),
                parent: None,
            },
        );
        assert!(matches!(again, Err(DomainError::AlreadyExists { .. })));
        let renamed = Umbrella::decide(
            &state,
            &UmbrellaCommand::Rename {
                name: name("Rotary Distrikt 1470"),
            },
        )
        .expect("renamed");
        let state = renamed.iter().fold(state, Umbrella::evolve);
        let UmbrellaState::Registered(details) = &state else {
            panic!("registered: {state:?}");
        };
        assert_eq!(details.name.as_str(), "Rotary Distrikt 1470");
        assert_eq!(details.parent, Some(national), "the parent stays");
        let same = Umbrella::decide(
            &state,
            &UmbrellaCommand::Rename {
                name: name("Rotary Distrikt 1470"),
            },
        )
        .expect("nothing to do");
        assert!(same.is_empty());
    }

    #[test]
    fn an_umbrella_is_no_district_of_itself() {
        let id = UmbrellaId::new_v7();
        let refused = Umbrella::decide(
            &UmbrellaState::NotRegistered,
            &UmbrellaCommand::Register {
                id,
                name: name("Rotary Danmark"),
                parent: Some(id),
            },
        );
        assert!(
            matches!(refused, Err(DomainError::Rule { .. })),
            "{refused:?}"
        );
    }
}
