//! An activity an organisation runs, such as a homework café on Tuesdays. (An example entity,
//! added to count the path; see ARCHITECTURE.md.)

use serde::{Deserialize, Serialize};

use crate::{ActivityId, Decider, DomainError, EntityKind, Name, OrganisationId};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ActivityState {
    #[default]
    NotRegistered,
    Registered(ActivityRegistered),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityCommand {
    Register {
        id: ActivityId,
        organisation: OrganisationId,
        title: Name,
    },
    Rename {
        title: Name,
    },
}

domain_events! {
    /// What happens to an activity.
    pub enum ActivityEvent for EntityKind::Activity {
        Registered(ActivityRegistered) = REGISTERED_V1 => "dk.samskab.activity.registered.v1",
        Renamed(ActivityRenamed) = RENAMED_V1 => "dk.samskab.activity.renamed.v1",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRegistered {
    pub id: ActivityId,
    pub organisation: OrganisationId,
    pub title: Name,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRenamed {
    pub id: ActivityId,
    pub title: Name,
}

pub struct Activity;

impl Decider for Activity {
    const KIND: EntityKind = EntityKind::Activity;
    type State = ActivityState;
    type Command = ActivityCommand;
    type Event = ActivityEvent;

    fn decide(
        state: &ActivityState,
        command: &ActivityCommand,
    ) -> Result<Vec<ActivityEvent>, DomainError> {
        match (state, command) {
            (
                ActivityState::NotRegistered,
                ActivityCommand::Register {
                    id,
                    organisation,
                    title,
                },
            ) => Ok(vec![ActivityEvent::Registered(ActivityRegistered {
                id: *id,
                organisation: *organisation,
                title: title.clone(),
            })]),
            (ActivityState::Registered(_), ActivityCommand::Register { .. }) => {
                Err(DomainError::AlreadyExists {
                    kind: EntityKind::Activity,
                })
            }
            (ActivityState::NotRegistered, ActivityCommand::Rename { .. }) => {
                Err(DomainError::NotFound {
                    kind: EntityKind::Activity,
                })
            }
            (ActivityState::Registered(current), ActivityCommand::Rename { title }) => {
                if &current.title == title {
                    return Ok(vec![]);
                }
                Ok(vec![ActivityEvent::Renamed(ActivityRenamed {
                    id: current.id,
                    title: title.clone(),
                })])
            }
        }
    }

    fn evolve(state: ActivityState, event: &ActivityEvent) -> ActivityState {
        match (state, event) {
            (ActivityState::NotRegistered, ActivityEvent::Registered(e)) => {
                ActivityState::Registered(e.clone())
            }
            (ActivityState::Registered(current), ActivityEvent::Renamed(e)) => {
                ActivityState::Registered(ActivityRegistered {
                    title: e.title.clone(),
                    ..current
                })
            }
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn registered() -> ActivityEvent {
        ActivityEvent::Registered(ActivityRegistered {
            id: ActivityId::from_uuid(uuid::Uuid::from_u128(7)),
            organisation: org_id(),
            title: name("Lektiecafé"),
        })
    }

    #[test]
    fn a_rename_to_the_same_title_changes_nothing() {
        let same = ActivityCommand::Rename {
            title: name("Lektiecafé"),
        };
        assert_eq!(when::<Activity>(&[registered()], &same), Ok(vec![]));
    }

    #[test]
    fn a_second_registration_is_a_conflict() {
        let again = ActivityCommand::Register {
            id: ActivityId::from_uuid(uuid::Uuid::from_u128(7)),
            organisation: org_id(),
            title: name("Lektiecafé"),
        };
        assert!(when::<Activity>(&[registered()], &again).is_err());
    }
}
