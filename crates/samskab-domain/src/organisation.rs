//! Organisations (foreninger, organisationer): associations, NGOs, public bodies, companies and
//! informal groups that do or support volunteer social work.

use crate::{
    Contact, Cvr, DeactivationReason, Decider, DomainError, EntityKind, Name, OrganisationId,
    OrganisationKind, UmbrellaId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The organisation decider.
pub struct Organisation;

/// What is known about an organisation. Also the payload of `registered` and `updated`: an
/// update is a full replacement, so both events carry the whole record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationDetails {
    pub id: OrganisationId,
    pub name: Name,
    /// Absent for informal groups and for associations not registered in CVR.
    pub cvr: Option<Cvr>,
    pub kind: OrganisationKind,
    /// The contact person, e-mail and phone. Personal data: the contact person is a natural
    /// person, and a small association's e-mail and phone are usually theirs. Stored under the
    /// payload key `personal` (`.v2`), which the event log seals with the organisation's data
    /// key; `None` once the contact was forgotten (or could no longer be decrypted). `.v1`
    /// events had it, in plain text, under `contact`.
    #[serde(rename = "personal", alias = "contact")]
    pub contact: Option<Contact>,
    /// The umbrella organisation or district it is a member of (a Rotary club of its
    /// district, a local branch of Røde Kors); `None`: of none. Set by its own event
    /// (`umbrella_set`), carried along by `updated`. An optional member added without a new
    /// version: absent, as in every payload from before it, it means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub umbrella: Option<UmbrellaId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OrganisationState {
    #[default]
    NotRegistered,
    Active(OrganisationDetails),
    /// Kept, not deleted: grants and history still refer to it.
    Deactivated(OrganisationDetails),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrganisationCommand {
    Register {
        id: OrganisationId,
        name: Name,
        cvr: Option<Cvr>,
        kind: OrganisationKind,
        contact: Contact,
    },
    /// Full replacement of the record; the id comes from the state.
    Update {
        name: Name,
        cvr: Option<Cvr>,
        kind: OrganisationKind,
        contact: Contact,
    },
    Deactivate {
        reason: Option<DeactivationReason>,
    },
    /// Forget the contact person, e-mail and phone (GDPR art. 17); the organisation stays. A
    /// later update may record a new contact.
    ForgetContact {
        at: DateTime<Utc>,
    },
    /// Become a member of an umbrella organisation or district, or (`None`) of none. That the
    /// umbrella exists is the API's to check: it is another entity, of the installation. The
    /// same again changes nothing.
    SetUmbrella {
        umbrella: Option<UmbrellaId>,
    },
}

domain_events! {
    /// What happens to an organisation. Registered and updated carry the full details.
    pub enum OrganisationEvent for EntityKind::Organisation {
        Registered(OrganisationDetails) = REGISTERED_V2 => "dk.samskab.organisation.registered.v2",
        Updated(OrganisationDetails) = UPDATED_V2 => "dk.samskab.organisation.updated.v2",
        Deactivated(OrganisationDeactivated) = DEACTIVATED_V1 => "dk.samskab.organisation.deactivated.v1",
        ContactForgotten(OrganisationContactForgotten) = CONTACT_FORGOTTEN_V1 => "dk.samskab.organisation.contact_forgotten.v1",
        UmbrellaSet(OrganisationUmbrellaSet) = UMBRELLA_SET_V1 => "dk.samskab.organisation.umbrella_set.v1",
        /// As `Registered`, from before the contact was personal data: read, never decided.
        RegisteredV1(OrganisationDetails) = REGISTERED_V1 => "dk.samskab.organisation.registered.v1",
        /// As `Updated`, from before the contact was personal data: read, never decided.
        UpdatedV1(OrganisationDetails) = UPDATED_V1 => "dk.samskab.organisation.updated.v1",
    }
}

/// Payload of `dk.samskab.organisation.deactivated.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationDeactivated {
    pub id: OrganisationId,
    pub reason: Option<DeactivationReason>,
}

/// Payload of `dk.samskab.organisation.umbrella_set.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationUmbrellaSet {
    pub id: OrganisationId,
    pub umbrella: Option<UmbrellaId>,
}

/// Payload of `dk.samskab.organisation.contact_forgotten.v1`: no personal data, only when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationContactForgotten {
    pub id: OrganisationId,
    pub at: DateTime<Utc>,
}

impl OrganisationEvent {
    /// The entity this event is about.
    pub fn id(&self) -> OrganisationId {
        match self {
            OrganisationEvent::Registered(e)
            | OrganisationEvent::Updated(e)
            | OrganisationEvent::RegisteredV1(e)
            | OrganisationEvent::UpdatedV1(e) => e.id,
            OrganisationEvent::Deactivated(e) => e.id,
            OrganisationEvent::ContactForgotten(e) => e.id,
            OrganisationEvent::UmbrellaSet(e) => e.id,
        }
    }
}

/// Companies and public bodies are always in CVR, so one without a CVR number is a typo or a
/// wrong kind. Associations and informal groups may or may not have one.
fn require_cvr_where_the_kind_has_one(
    kind: OrganisationKind,
    cvr: Option<&Cvr>,
) -> Result<(), DomainError> {
    if kind.requires_cvr() && cvr.is_none() {
        return Err(DomainError::rule(
            "cvr",
            format!("an organisation of kind {kind} must have a CVR number"),
        ));
    }
    Ok(())
}

impl Decider for Organisation {
    const KIND: EntityKind = EntityKind::Organisation;
    type State = OrganisationState;
    const STATE_VERSION: u32 = 1;
    type Command = OrganisationCommand;
    type Event = OrganisationEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        let not_found = DomainError::NotFound {
            kind: EntityKind::Organisation,
        };
        match command {
            OrganisationCommand::Register {
                id,
                name,
                cvr,
                kind,
                contact,
            } => {
                if !matches!(state, OrganisationState::NotRegistered) {
                    return Err(DomainError::AlreadyExists {
                        kind: EntityKind::Organisation,
                    });
                }
                require_cvr_where_the_kind_has_one(*kind, cvr.as_ref())?;
                Ok(vec![OrganisationEvent::Registered(OrganisationDetails {
                    id: *id,
                    name: name.clone(),
                    cvr: cvr.clone(),
                    kind: *kind,
                    contact: Some(contact.clone()),
                    umbrella: None,
                })])
            }
            OrganisationCommand::Update {
                name,
                cvr,
                kind,
                contact,
            } => {
                let current = match state {
                    OrganisationState::NotRegistered => return Err(not_found),
                    OrganisationState::Deactivated(_) => {
                        return Err(DomainError::conflict(
                            "the organisation is deactivated and cannot be updated",
                        ));
                    }
                    OrganisationState::Active(current) => current,
                };
                require_cvr_where_the_kind_has_one(*kind, cvr.as_ref())?;
                let updated = OrganisationDetails {
                    id: current.id,
                    name: name.clone(),
                    cvr: cvr.clone(),
                    kind: *kind,
                    contact: Some(contact.clone()),
                    umbrella: current.umbrella,
                };
                if &updated == current {
                    return Ok(vec![]);
                }
                Ok(vec![OrganisationEvent::Updated(updated)])
            }
            OrganisationCommand::Deactivate { reason } => match state {
                OrganisationState::NotRegistered => Err(not_found),
                OrganisationState::Deactivated(_) => Err(DomainError::conflict(
                    "the organisation is already deactivated",
                )),
                OrganisationState::Active(current) => Ok(vec![OrganisationEvent::Deactivated(
                    OrganisationDeactivated {
                        id: current.id,
                        reason: reason.clone(),
                    },
                )]),
            },
            OrganisationCommand::SetUmbrella { umbrella } => match state {
                OrganisationState::NotRegistered => Err(not_found),
                OrganisationState::Deactivated(_) => Err(DomainError::conflict(
                    "the organisation is deactivated and joins no umbrella",
                )),
                OrganisationState::Active(current) if current.umbrella == *umbrella => Ok(vec![]),
                OrganisationState::Active(current) => Ok(vec![OrganisationEvent::UmbrellaSet(
                    OrganisationUmbrellaSet {
                        id: current.id,
                        umbrella: *umbrella,
                    },
                )]),
            },
            OrganisationCommand::ForgetContact { at } => match state {
                OrganisationState::NotRegistered => Err(not_found),
                OrganisationState::Active(current) | OrganisationState::Deactivated(current) => {
                    if current.contact.is_none() {
                        return Ok(vec![]);
                    }
                    Ok(vec![OrganisationEvent::ContactForgotten(
                        OrganisationContactForgotten {
                            id: current.id,
                            at: *at,
                        },
                    )])
                }
            },
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        use OrganisationEvent as E;
        use OrganisationState::*;
        match (state, event) {
            (NotRegistered, E::Registered(details) | E::RegisteredV1(details)) => {
                Active(details.clone())
            }
            // A second registration cannot have been decided; keep what we have.
            (state @ (Active(_) | Deactivated(_)), E::Registered(_) | E::RegisteredV1(_)) => state,
            // An update carries the whole record, so it is enough to know the organisation even
            // if the registration is missing from what was loaded.
            (NotRegistered | Active(_), E::Updated(details) | E::UpdatedV1(details)) => {
                Active(details.clone())
            }
            (Deactivated(_), E::Updated(details) | E::UpdatedV1(details)) => {
                Deactivated(details.clone())
            }
            (Active(details), E::Deactivated(_)) => Deactivated(details),
            (state @ (NotRegistered | Deactivated(_)), E::Deactivated(_)) => state,
            (Active(details), E::ContactForgotten(_)) => Active(OrganisationDetails {
                contact: None,
                ..details
            }),
            (Deactivated(details), E::ContactForgotten(_)) => Deactivated(OrganisationDetails {
                contact: None,
                ..details
            }),
            (NotRegistered, E::ContactForgotten(_)) => NotRegistered,
            (Active(details), E::UmbrellaSet(e)) => Active(OrganisationDetails {
                umbrella: e.umbrella,
                ..details
            }),
            (state, E::UmbrellaSet(_)) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::{DomainEvent, EventDecodeError};

    fn details(kind: OrganisationKind, cvr_text: Option<&str>) -> OrganisationDetails {
        OrganisationDetails {
            id: org_id(),
            name: name("Rødovre Frivilligcenter – Æblehaven"),
            cvr: cvr_text.map(cvr),
            kind,
            contact: Some(contact()),
            umbrella: None,
        }
    }

    fn register(d: &OrganisationDetails) -> OrganisationCommand {
        OrganisationCommand::Register {
            id: d.id,
            name: d.name.clone(),
            cvr: d.cvr.clone(),
            kind: d.kind,
            contact: d.contact.clone().expect("a contact"),
        }
    }

    fn update(d: &OrganisationDetails) -> OrganisationCommand {
        OrganisationCommand::Update {
            name: d.name.clone(),
            cvr: d.cvr.clone(),
            kind: d.kind,
            contact: d.contact.clone().expect("a contact"),
        }
    }

    fn association() -> OrganisationDetails {
        details(OrganisationKind::Association, Some("13748136"))
    }

    fn registered() -> OrganisationEvent {
        OrganisationEvent::Registered(association())
    }

    fn deactivated() -> OrganisationEvent {
        OrganisationEvent::Deactivated(OrganisationDeactivated {
            id: org_id(),
            reason: None,
        })
    }

    fn cvr_rule() -> impl Fn(&Result<Vec<OrganisationEvent>, DomainError>) -> bool {
        |result| matches!(result, Err(DomainError::Rule { field: Some(f), .. }) if f == "cvr")
    }

    // --- Register ---

    #[test]
    fn registering_an_association() {
        let d = association();
        assert_eq!(
            when::<Organisation>(&[], &register(&d)),
            Ok(vec![OrganisationEvent::Registered(d)])
        );
    }

    #[test]
    fn registering_twice_is_already_exists() {
        let expected = Err(DomainError::AlreadyExists {
            kind: EntityKind::Organisation,
        });
        assert_eq!(
            when::<Organisation>(&[registered()], &register(&association())),
            expected
        );
        assert_eq!(
            when::<Organisation>(&[registered(), deactivated()], &register(&association())),
            expected
        );
    }

    #[test]
    fn informal_groups_and_associations_may_lack_a_cvr() {
        for kind in [
            OrganisationKind::InformalGroup,
            OrganisationKind::Association,
            OrganisationKind::Ngo,
        ] {
            assert!(
                when::<Organisation>(&[], &register(&details(kind, None))).is_ok(),
                "{kind}"
            );
        }
        let with_cvr = details(OrganisationKind::InformalGroup, Some("24256790"));
        assert!(when::<Organisation>(&[], &register(&with_cvr)).is_ok());
    }

    #[test]
    fn companies_and_public_bodies_need_a_cvr() {
        for kind in [OrganisationKind::Company, OrganisationKind::PublicBody] {
            let result = when::<Organisation>(&[], &register(&details(kind, None)));
            assert!(cvr_rule()(&result), "{kind}: {result:?}");
            assert!(when::<Organisation>(&[], &register(&details(kind, Some("24256790")))).is_ok());
        }
    }

    // --- Update ---

    #[test]
    fn updating_replaces_the_record() {
        let mut changed = association();
        changed.name = name("Røde Kors Rødovre");
        changed.cvr = None;
        assert_eq!(
            when::<Organisation>(&[registered()], &update(&changed)),
            Ok(vec![OrganisationEvent::Updated(changed.clone())])
        );
        assert_eq!(
            Organisation::replay(&[registered(), OrganisationEvent::Updated(changed.clone())]),
            OrganisationState::Active(changed)
        );
    }

    #[test]
    fn an_update_that_changes_nothing_appends_nothing() {
        assert_eq!(
            when::<Organisation>(&[registered()], &update(&association())),
            Ok(vec![])
        );
    }

    #[test]
    fn updating_an_unknown_organisation_is_not_found() {
        assert_eq!(
            when::<Organisation>(&[], &update(&association())),
            Err(DomainError::NotFound {
                kind: EntityKind::Organisation
            })
        );
    }

    #[test]
    fn updating_a_deactivated_organisation_is_a_conflict() {
        assert!(matches!(
            when::<Organisation>(&[registered(), deactivated()], &update(&association())),
            Err(DomainError::Conflict { .. })
        ));
    }

    #[test]
    fn updating_to_a_company_without_cvr_breaks_the_cvr_rule() {
        let result = when::<Organisation>(
            &[registered()],
            &update(&details(OrganisationKind::Company, None)),
        );
        assert!(cvr_rule()(&result), "{result:?}");
    }

    // --- Deactivate ---

    #[test]
    fn deactivating_with_a_reason() {
        let reason = DeactivationReason::parse("Foreningen er nedlagt").ok();
        assert_eq!(
            when::<Organisation>(
                &[registered()],
                &OrganisationCommand::Deactivate {
                    reason: reason.clone()
                }
            ),
            Ok(vec![OrganisationEvent::Deactivated(
                OrganisationDeactivated {
                    id: org_id(),
                    reason
                }
            )])
        );
        assert_eq!(
            Organisation::replay(&[registered(), deactivated()]),
            OrganisationState::Deactivated(association())
        );
    }

    #[test]
    fn deactivating_twice_is_a_conflict() {
        assert!(matches!(
            when::<Organisation>(
                &[registered(), deactivated()],
                &OrganisationCommand::Deactivate { reason: None }
            ),
            Err(DomainError::Conflict { .. })
        ));
    }

    #[test]
    fn deactivating_an_unknown_organisation_is_not_found() {
        assert_eq!(
            when::<Organisation>(&[], &OrganisationCommand::Deactivate { reason: None }),
            Err(DomainError::NotFound {
                kind: EntityKind::Organisation
            })
        );
    }

    // --- Evolve and payloads ---

    #[test]
    fn evolve_tolerates_events_out_of_place() {
        let updated = OrganisationEvent::Updated(association());
        for events in [
            vec![deactivated()],
            vec![updated.clone()],
            vec![registered(), registered()],
            vec![
                registered(),
                deactivated(),
                deactivated(),
                updated.clone(),
                registered(),
            ],
        ] {
            let _ = Organisation::replay(&events);
        }
        assert_eq!(
            Organisation::replay(&[deactivated()]),
            OrganisationState::NotRegistered
        );
        assert_eq!(
            Organisation::replay(&[registered(), deactivated(), updated]),
            OrganisationState::Deactivated(association())
        );
    }

    #[test]
    fn a_club_joins_its_district_once_and_an_update_keeps_it() {
        let district = UmbrellaId::from_uuid(uuid::Uuid::from_u128(7));
        let join = OrganisationCommand::SetUmbrella {
            umbrella: Some(district),
        };
        let joined = when::<Organisation>(&[registered()], &join).expect("joined");
        assert_eq!(
            joined,
            vec![OrganisationEvent::UmbrellaSet(OrganisationUmbrellaSet {
                id: org_id(),
                umbrella: Some(district),
            })]
        );
        let history = [registered(), joined[0].clone()];
        assert_eq!(when::<Organisation>(&history, &join), Ok(vec![]));
        let update = OrganisationCommand::Update {
            name: name("Rødovre Rotary"),
            cvr: None,
            kind: OrganisationKind::Association,
            contact: contact(),
        };
        let updated = when::<Organisation>(&history, &update).expect("updated");
        let state = Organisation::replay(history.iter().chain(&updated));
        let OrganisationState::Active(details) = state else {
            panic!("active: {state:?}");
        };
        assert_eq!(
            details.umbrella,
            Some(district),
            "an update keeps the membership"
        );
        let closed = [registered(), deactivated()];
        assert!(matches!(
            when::<Organisation>(&closed, &join),
            Err(DomainError::Conflict { .. })
        ));
    }

    #[test]
    fn every_event_round_trips_through_its_payload() {
        let events = [
            registered(),
            OrganisationEvent::Updated(details(OrganisationKind::InformalGroup, None)),
            deactivated(),
            OrganisationEvent::Deactivated(OrganisationDeactivated {
                id: org_id(),
                reason: DeactivationReason::parse("Fusioneret med Røde Kors").ok(),
            }),
            OrganisationEvent::UmbrellaSet(OrganisationUmbrellaSet {
                id: org_id(),
                umbrella: Some(UmbrellaId::from_uuid(uuid::Uuid::from_u128(7))),
            }),
        ];
        for event in events {
            let decoded = OrganisationEvent::from_payload(event.event_type(), &event.to_payload());
            assert_eq!(decoded, Ok(event));
        }
        assert_eq!(
            OrganisationEvent::TYPES,
            [
                "dk.samskab.organisation.registered.v2",
                "dk.samskab.organisation.updated.v2",
                "dk.samskab.organisation.deactivated.v1",
                "dk.samskab.organisation.contact_forgotten.v1",
                "dk.samskab.organisation.umbrella_set.v1",
                "dk.samskab.organisation.registered.v1",
                "dk.samskab.organisation.updated.v1",
            ]
        );
    }

    #[test]
    fn a_v1_payload_with_its_contact_in_plain_text_still_reads() {
        let v1 = serde_json::json!({
            "id": org_id().to_string(),
            "name": "Rødovre Frivilligcenter – Æblehaven",
            "cvr": "13748136",
            "kind": "association",
            "contact": {"email": "info@aeblehaven.dk", "phone": "+4536377000", "person": "Anne Hansen"},
        });
        assert_eq!(
            OrganisationEvent::from_payload(OrganisationEvent::REGISTERED_V1, &v1),
            Ok(OrganisationEvent::RegisteredV1(association()))
        );
        assert_eq!(
            Organisation::replay(&[OrganisationEvent::RegisteredV1(association())]),
            Organisation::replay(&[registered()])
        );
    }

    // --- ForgetContact ---

    fn contact_forgotten() -> OrganisationEvent {
        OrganisationEvent::ContactForgotten(OrganisationContactForgotten {
            id: org_id(),
            at: at(2025, 8, 1),
        })
    }

    #[test]
    fn forgetting_the_contact_keeps_the_organisation() {
        let forget = OrganisationCommand::ForgetContact { at: at(2025, 8, 1) };
        for history in [vec![registered()], vec![registered(), deactivated()]] {
            assert_eq!(
                when::<Organisation>(&history, &forget),
                Ok(vec![contact_forgotten()])
            );
        }
        let without_contact = OrganisationDetails {
            contact: None,
            ..association()
        };
        assert_eq!(
            Organisation::replay(&[registered(), contact_forgotten()]),
            OrganisationState::Active(without_contact)
        );
        // Once more changes nothing; a new contact may be recorded after.
        assert_eq!(
            when::<Organisation>(&[registered(), contact_forgotten()], &forget),
            Ok(vec![])
        );
        assert_eq!(
            when::<Organisation>(
                &[registered(), contact_forgotten()],
                &update(&association())
            ),
            Ok(vec![OrganisationEvent::Updated(association())])
        );
        assert_eq!(
            when::<Organisation>(&[], &forget),
            Err(DomainError::NotFound {
                kind: EntityKind::Organisation
            })
        );
    }

    #[test]
    fn payload_shape_is_snake_case_with_the_id() {
        let payload = registered().to_payload();
        assert_eq!(payload["id"], serde_json::json!(org_id().to_string()));
        assert_eq!(payload["cvr"], serde_json::json!("13748136"));
        assert_eq!(payload["kind"], serde_json::json!("association"));
        assert_eq!(
            payload["personal"]["email"],
            serde_json::json!("info@aeblehaven.dk"),
            "the contact is under `personal`, which the event log seals"
        );
    }

    #[test]
    fn decoding_unknown_and_malformed_payloads() {
        assert_eq!(
            OrganisationEvent::from_payload(
                "dk.samskab.organisation.merged.v1",
                &serde_json::json!({})
            ),
            Err(EventDecodeError::UnknownType(
                "dk.samskab.organisation.merged.v1".into()
            ))
        );
        let mut bad_cvr = registered().to_payload();
        bad_cvr["cvr"] = serde_json::json!("24256791");
        for bad in [
            serde_json::json!([1, 2]),
            serde_json::json!({"id": "x"}),
            bad_cvr,
        ] {
            assert!(matches!(
                OrganisationEvent::from_payload(OrganisationEvent::REGISTERED_V1, &bad),
                Err(EventDecodeError::Malformed { .. })
            ));
        }
    }
}
