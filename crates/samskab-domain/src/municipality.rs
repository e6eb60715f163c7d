//! The municipality (kommune): the tenant itself.
//!
//! A municipality is registered once, by an operator, before any of its staff can log in. The
//! tenant key is the entity's id. Keeping kommunekoder unique across tenants spans entities and
//! is checked by whoever registers tenants, not here.

use crate::{Decider, DomainError, EntityKind, Kommunekode, Name, TenantId};
use serde::{Deserialize, Serialize};

/// The municipality decider.
pub struct Municipality;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MunicipalityState {
    #[default]
    NotRegistered,
    Registered(MunicipalityRegistered),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MunicipalityCommand {
    Register {
        tenant: TenantId,
        kommunekode: Kommunekode,
        name: Name,
    },
}

domain_events! {
    /// What happens to a municipality.
    pub enum MunicipalityEvent for EntityKind::Municipality {
        Registered(MunicipalityRegistered) = REGISTERED_V1 => "dk.samskab.municipality.registered.v1",
    }
}

/// Payload of `dk.samskab.municipality.registered.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MunicipalityRegistered {
    pub tenant: TenantId,
    pub kommunekode: Kommunekode,
    pub name: Name,
}

impl MunicipalityEvent {
    /// The entity this event is about.
    pub fn tenant(&self) -> &TenantId {
        match self {
            MunicipalityEvent::Registered(e) => &e.tenant,
        }
    }
}

impl Decider for Municipality {
    const KIND: EntityKind = EntityKind::Municipality;
    type State = MunicipalityState;
    const STATE_VERSION: u32 = 1;
    type Command = MunicipalityCommand;
    type Event = MunicipalityEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        match (state, command) {
            (
                MunicipalityState::NotRegistered,
                MunicipalityCommand::Register {
                    tenant,
                    kommunekode,
                    name,
                },
            ) => Ok(vec![MunicipalityEvent::Registered(
                MunicipalityRegistered {
                    tenant: tenant.clone(),
                    kommunekode: *kommunekode,
                    name: name.clone(),
                },
            )]),
            (MunicipalityState::Registered(_), MunicipalityCommand::Register { .. }) => {
                Err(DomainError::AlreadyExists {
                    kind: EntityKind::Municipality,
                })
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (MunicipalityState::NotRegistered, MunicipalityEvent::Registered(e)) => {
                MunicipalityState::Registered(e.clone())
            }
            // A second registration cannot have been decided; keep the first.
            (registered @ MunicipalityState::Registered(_), MunicipalityEvent::Registered(_)) => {
                registered
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::{DomainEvent, EventDecodeError};

    fn register_rodovre() -> MunicipalityCommand {
        MunicipalityCommand::Register {
            tenant: tenant("rodovre"),
            kommunekode: Kommunekode::parse(175).expect("valid"),
            name: name("Rødovre Kommune"),
        }
    }

    fn rodovre_registered() -> MunicipalityEvent {
        MunicipalityEvent::Registered(MunicipalityRegistered {
            tenant: tenant("rodovre"),
            kommunekode: Kommunekode::parse(175).expect("valid"),
            name: name("Rødovre Kommune"),
        })
    }

    #[test]
    fn registering_a_new_municipality() {
        assert_eq!(
            when::<Municipality>(&[], &register_rodovre()),
            Ok(vec![rodovre_registered()])
        );
    }

    #[test]
    fn registering_twice_is_already_exists() {
        assert_eq!(
            when::<Municipality>(&[rodovre_registered()], &register_rodovre()),
            Err(DomainError::AlreadyExists {
                kind: EntityKind::Municipality
            })
        );
    }

    #[test]
    fn evolve_keeps_the_first_registration() {
        let other = MunicipalityEvent::Registered(MunicipalityRegistered {
            tenant: tenant("roskilde"),
            kommunekode: Kommunekode::parse(265).expect("valid"),
            name: name("Roskilde Kommune"),
        });
        let state = Municipality::replay(&[rodovre_registered(), other]);
        let MunicipalityState::Registered(first) = state else {
            panic!("expected registered, got {state:?}");
        };
        assert_eq!(first.tenant.as_str(), "rodovre");
    }

    #[test]
    fn payload_round_trip_and_shape() {
        let event = rodovre_registered();
        assert_eq!(event.event_type(), "dk.samskab.municipality.registered.v1");
        let payload = event.to_payload();
        assert_eq!(
            payload,
            serde_json::json!({"tenant": "rodovre", "kommunekode": 175, "name": "Rødovre Kommune"})
        );
        assert_eq!(
            MunicipalityEvent::from_payload(event.event_type(), &payload),
            Ok(event)
        );
    }

    #[test]
    fn decoding_unknown_and_malformed_payloads() {
        assert_eq!(
            MunicipalityEvent::from_payload(
                "dk.samskab.municipality.renamed.v1",
                &serde_json::json!({})
            ),
            Err(EventDecodeError::UnknownType(
                "dk.samskab.municipality.renamed.v1".into()
            ))
        );
        let bad = serde_json::json!({"tenant": "Rødovre", "kommunekode": 175, "name": "x"});
        assert!(matches!(
            MunicipalityEvent::from_payload(MunicipalityEvent::REGISTERED_V1, &bad),
            Err(EventDecodeError::Malformed { .. })
        ));
    }
}
