//! The municipality (kommune): the tenant itself.
//!
//! A municipality is registered once, by an operator, before any of its staff can log in. The
//! tenant key is the entity's id. Keeping kommunekoder unique across tenants spans entities and
//! is checked by whoever registers tenants, not here.

use crate::ranking::Weights;
use crate::{Decider, DomainError, EntityKind, Kommunekode, Name, TenantId, UmbrellaId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The municipality decider.
pub struct Municipality;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MunicipalityState {
    #[default]
    NotRegistered,
    Registered {
        details: MunicipalityRegistered,
        /// How its candidates are ranked: the installation's default until it sets its own.
        weights: Weights,
        /// The umbrella organisations it shares its figures with (suppressed aggregates of
        /// their members' volunteers), sorted, each once; none until it decides to.
        #[serde(default)]
        shared_with: Vec<UmbrellaId>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MunicipalityCommand {
    Register {
        tenant: TenantId,
        kommunekode: Kommunekode,
        name: Name,
    },
    /// The points per matching criterion its candidates and suggestions are ranked by
    /// (checked with [`Weights::check`]). The same weights again change nothing.
    SetMatchingWeights { weights: Weights, at: DateTime<Utc> },
    /// The umbrella organisations it shares its figures with, all of them (an empty list: none
    /// any more). Sharing with an umbrella shares with its districts too. That each exists is
    /// the API's to check. The same set again changes nothing.
    ShareWithUmbrellas {
        umbrellas: Vec<UmbrellaId>,
        at: DateTime<Utc>,
    },
}

domain_events! {
    /// What happens to a municipality.
    pub enum MunicipalityEvent for EntityKind::Municipality {
        Registered(MunicipalityRegistered) = REGISTERED_V1 => "dk.samskab.municipality.registered.v1",
        MatchingWeightsSet(MunicipalityMatchingWeights) = MATCHING_WEIGHTS_SET_V1 => "dk.samskab.municipality.matching_weights_set.v1",
        UmbrellasShared(MunicipalityUmbrellasShared) = UMBRELLAS_SHARED_V1 => "dk.samskab.municipality.umbrellas_shared.v1",
    }
}

/// Payload of `dk.samskab.municipality.matching_weights_set.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MunicipalityMatchingWeights {
    pub tenant: TenantId,
    pub weights: Weights,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.municipality.umbrellas_shared.v1`: every umbrella it shares with
/// from now on, sorted, each once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MunicipalityUmbrellasShared {
    pub tenant: TenantId,
    pub umbrellas: Vec<UmbrellaId>,
    pub at: DateTime<Utc>,
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
            MunicipalityEvent::MatchingWeightsSet(e) => &e.tenant,
            MunicipalityEvent::UmbrellasShared(e) => &e.tenant,
        }
    }
}

impl Decider for Municipality {
    const KIND: EntityKind = EntityKind::Municipality;
    type State = MunicipalityState;
    const STATE_VERSION: u32 = 3;
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
            (MunicipalityState::Registered { .. }, MunicipalityCommand::Register { .. }) => {
                Err(DomainError::AlreadyExists {
                    kind: EntityKind::Municipality,
                })
            }
            (
                MunicipalityState::NotRegistered,
                MunicipalityCommand::SetMatchingWeights { .. }
                | MunicipalityCommand::ShareWithUmbrellas { .. },
            ) => Err(DomainError::NotFound {
                kind: EntityKind::Municipality,
            }),
            (
                MunicipalityState::Registered {
                    details,
                    shared_with,
                    ..
                },
                MunicipalityCommand::ShareWithUmbrellas { umbrellas, at },
            ) => {
                let mut wanted = umbrellas.clone();
                wanted.sort();
                wanted.dedup();
                if wanted == *shared_with {
                    return Ok(vec![]);
                }
                Ok(vec![MunicipalityEvent::UmbrellasShared(
                    MunicipalityUmbrellasShared {
                        tenant: details.tenant.clone(),
                        umbrellas: wanted,
                        at: *at,
                    },
                )])
            }
            (
                MunicipalityState::Registered {
                    details, weights, ..
                },
                MunicipalityCommand::SetMatchingWeights {
                    weights: wanted,
                    at,
                },
            ) => {
                let wanted = wanted
                    .check()
                    .map_err(|(criterion, e)| DomainError::rule(criterion, e.0))?;
                if wanted == *weights {
                    return Ok(vec![]);
                }
                Ok(vec![MunicipalityEvent::MatchingWeightsSet(
                    MunicipalityMatchingWeights {
                        tenant: details.tenant.clone(),
                        weights: wanted,
                        at: *at,
                    },
                )])
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (MunicipalityState::NotRegistered, MunicipalityEvent::Registered(e)) => {
                MunicipalityState::Registered {
                    details: e.clone(),
                    weights: Weights::default(),
                    shared_with: Vec::new(),
                }
            }
            // A second registration cannot have been decided; keep the first.
            (
                registered @ MunicipalityState::Registered { .. },
                MunicipalityEvent::Registered(_),
            ) => registered,
            (
                MunicipalityState::Registered {
                    details,
                    shared_with,
                    ..
                },
                MunicipalityEvent::MatchingWeightsSet(e),
            ) => MunicipalityState::Registered {
                details,
                weights: e.weights,
                shared_with,
            },
            (
                MunicipalityState::Registered {
                    details, weights, ..
                },
                MunicipalityEvent::UmbrellasShared(e),
            ) => MunicipalityState::Registered {
                details,
                weights,
                shared_with: e.umbrellas.clone(),
            },
            // Nothing to weigh or share before the registration.
            (
                MunicipalityState::NotRegistered,
                MunicipalityEvent::MatchingWeightsSet(_) | MunicipalityEvent::UmbrellasShared(_),
            ) => MunicipalityState::NotRegistered,
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
    fn sharing_with_umbrellas_keeps_each_once_and_the_same_set_changes_nothing() {
        let rotary = UmbrellaId::from_uuid(uuid::Uuid::from_u128(2));
        let red_cross = UmbrellaId::from_uuid(uuid::Uuid::from_u128(1));
        let at = Utc::now();
        let share =
            |umbrellas: Vec<UmbrellaId>| MunicipalityCommand::ShareWithUmbrellas { umbrellas, at };
        let events = when::<Municipality>(
            &[rodovre_registered()],
            &share(vec![rotary, red_cross, rotary]),
        )
        .expect("shared");
        assert_eq!(
            events,
            vec![MunicipalityEvent::UmbrellasShared(
                MunicipalityUmbrellasShared {
                    tenant: tenant("rodovre"),
                    umbrellas: vec![red_cross, rotary],
                    at,
                }
            )]
        );
        let history = [rodovre_registered(), events[0].clone()];
        assert_eq!(
            when::<Municipality>(&history, &share(vec![rotary, red_cross])),
            Ok(vec![])
        );
        let stopped = when::<Municipality>(&history, &share(vec![])).expect("stopped");
        let state = Municipality::replay(history.iter().chain(&stopped));
        assert!(
            matches!(state, MunicipalityState::Registered { ref shared_with, .. } if shared_with.is_empty()),
            "{state:?}"
        );
        assert!(matches!(
            when::<Municipality>(&[], &share(vec![rotary])),
            Err(DomainError::NotFound { .. })
        ));
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
        let MunicipalityState::Registered { details: first, .. } = state else {
            panic!("expected registered, got {state:?}");
        };
        assert_eq!(first.tenant.as_str(), "rodovre");
    }

    fn weights(skills_required: u32, distance: u32) -> Weights {
        Weights {
            skills_required,
            distance,
            ..Weights::default()
        }
    }

    #[test]
    fn a_municipality_sets_its_own_matching_weights() {
        let set = MunicipalityCommand::SetMatchingWeights {
            weights: weights(50, 0),
            at: at(2026, 1, 5),
        };
        let events = when::<Municipality>(&[rodovre_registered()], &set).expect("allowed");
        assert_eq!(
            events,
            vec![MunicipalityEvent::MatchingWeightsSet(
                MunicipalityMatchingWeights {
                    tenant: tenant("rodovre"),
                    weights: weights(50, 0),
                    at: at(2026, 1, 5),
                }
            )]
        );
        let history = [rodovre_registered(), events[0].clone()];
        assert!(matches!(
            Municipality::replay(&history),
            MunicipalityState::Registered { weights: w, .. } if w == weights(50, 0)
        ));
        assert_eq!(
            when::<Municipality>(&history, &set),
            Ok(vec![]),
            "the same again"
        );
        assert!(matches!(
            Municipality::replay(&[rodovre_registered()]),
            MunicipalityState::Registered { weights: w, .. } if w == Weights::default()
        ));
    }

    #[test]
    fn weights_are_0_to_100_points_and_one_criterion_counts() {
        let refused = |weights: Weights| match when::<Municipality>(
            &[rodovre_registered()],
            &MunicipalityCommand::SetMatchingWeights {
                weights,
                at: at(2026, 1, 5),
            },
        ) {
            Err(DomainError::Rule { field, .. }) => field,
            other => panic!("expected a rule, got {other:?}"),
        };
        assert_eq!(refused(weights(101, 20)), Some("skills_required".into()));
        assert_eq!(refused(weights(35, 250)), Some("distance".into()));
        let nothing = Weights {
            skills_required: 0,
            skills_nice_to_have: 0,
            languages: 0,
            distance: 0,
            availability: 0,
            interests: 0,
        };
        assert_eq!(refused(nothing), Some("skills_required".into()));
        assert_eq!(
            when::<Municipality>(
                &[],
                &MunicipalityCommand::SetMatchingWeights {
                    weights: Weights::default(),
                    at: at(2026, 1, 5)
                }
            ),
            Err(DomainError::NotFound {
                kind: EntityKind::Municipality
            })
        );
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
