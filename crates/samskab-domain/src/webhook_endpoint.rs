//! A webhook endpoint: where an organisation's notifications are posted, signed, as well as
//! (or instead of) mailed (`samskab-delivery`). An organisation may have several (a test
//! receiver beside the real one); each gets every message to the organisation, from the
//! message after its registration on, while it is enabled.
//!
//! The signing secret is no part of the entity: it is derived from the installation's webhook
//! key and the endpoint's id when needed (`samskab_delivery::WebhookKey`), so it is in no event
//! and no table. A new secret is a new endpoint (register the new one, then disable the old).

use serde::{Deserialize, Serialize};

use crate::{Decider, DomainError, EntityKind, OrganisationId, WebhookEndpointId, WebhookUrl};

/// The webhook endpoint decider.
pub struct WebhookEndpoint;

/// Payload of `registered`: whose it is and where it points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpointDetails {
    pub id: WebhookEndpointId,
    pub organisation: OrganisationId,
    pub url: WebhookUrl,
}

/// Payload of `url_changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpointUrlChanged {
    pub id: WebhookEndpointId,
    pub url: WebhookUrl,
}

/// Payload of `disabled` and `enabled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpointSwitched {
    pub id: WebhookEndpointId,
}

domain_events! {
    /// What happens to a webhook endpoint.
    pub enum WebhookEndpointEvent for EntityKind::WebhookEndpoint {
        Registered(WebhookEndpointDetails) = REGISTERED_V1 => "dk.samskab.webhook_endpoint.registered.v1",
        UrlChanged(WebhookEndpointUrlChanged) = URL_CHANGED_V1 => "dk.samskab.webhook_endpoint.url_changed.v1",
        Disabled(WebhookEndpointSwitched) = DISABLED_V1 => "dk.samskab.webhook_endpoint.disabled.v1",
        Enabled(WebhookEndpointSwitched) = ENABLED_V1 => "dk.samskab.webhook_endpoint.enabled.v1",
    }
}

impl WebhookEndpointEvent {
    pub fn id(&self) -> WebhookEndpointId {
        match self {
            WebhookEndpointEvent::Registered(e) => e.id,
            WebhookEndpointEvent::UrlChanged(e) => e.id,
            WebhookEndpointEvent::Disabled(e) | WebhookEndpointEvent::Enabled(e) => e.id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum WebhookEndpointState {
    #[default]
    NotRegistered,
    Registered {
        details: WebhookEndpointDetails,
        enabled: bool,
    },
}

impl WebhookEndpointState {
    /// The endpoint's details, once registered.
    pub fn details(&self) -> Option<&WebhookEndpointDetails> {
        match self {
            WebhookEndpointState::NotRegistered => None,
            WebhookEndpointState::Registered { details, .. } => Some(details),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEndpointCommand {
    /// Registered enabled. (That the organisation exists and is active is the API's to check:
    /// it is another entity.)
    Register {
        id: WebhookEndpointId,
        organisation: OrganisationId,
        url: WebhookUrl,
    },
    /// Point it elsewhere; the same URL again changes nothing.
    ChangeUrl { url: WebhookUrl },
    /// Nothing more is posted to it (what is queued is dropped); again: nothing changes.
    Disable,
    /// Posted to again, from the next message on; again: nothing changes.
    Enable,
}

impl Decider for WebhookEndpoint {
    const KIND: EntityKind = EntityKind::WebhookEndpoint;
    type State = WebhookEndpointState;
    const STATE_VERSION: u32 = 1;
    type Command = WebhookEndpointCommand;
    type Event = WebhookEndpointEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        use WebhookEndpointCommand as C;
        use WebhookEndpointEvent as E;
        let (details, enabled) = match (state, command) {
            (
                WebhookEndpointState::NotRegistered,
                C::Register {
                    id,
                    organisation,
                    url,
                },
            ) => {
                return Ok(vec![E::Registered(WebhookEndpointDetails {
                    id: *id,
                    organisation: *organisation,
                    url: url.clone(),
                })]);
            }
            (WebhookEndpointState::Registered { .. }, C::Register { .. }) => {
                return Err(DomainError::AlreadyExists {
                    kind: EntityKind::WebhookEndpoint,
                });
            }
            (WebhookEndpointState::NotRegistered, _) => {
                return Err(DomainError::NotFound {
                    kind: EntityKind::WebhookEndpoint,
                });
            }
            (WebhookEndpointState::Registered { details, enabled }, _) => (details, *enabled),
        };
        let id = details.id;
        Ok(match command {
            C::Register { .. } => vec![],
            C::ChangeUrl { url } if *url == details.url => vec![],
            C::ChangeUrl { url } => vec![E::UrlChanged(WebhookEndpointUrlChanged {
                id,
                url: url.clone(),
            })],
            C::Disable if enabled => vec![E::Disabled(WebhookEndpointSwitched { id })],
            C::Enable if !enabled => vec![E::Enabled(WebhookEndpointSwitched { id })],
            C::Disable | C::Enable => vec![],
        })
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        use WebhookEndpointEvent as E;
        use WebhookEndpointState::*;
        match (state, event) {
            (NotRegistered, E::Registered(details)) => Registered {
                details: details.clone(),
                enabled: true,
            },
            (Registered { details, enabled }, E::UrlChanged(e)) => Registered {
                details: WebhookEndpointDetails {
                    url: e.url.clone(),
                    ..details
                },
                enabled,
            },
            (Registered { details, .. }, E::Disabled(_)) => Registered {
                details,
                enabled: false,
            },
            (Registered { details, .. }, E::Enabled(_)) => Registered {
                details,
                enabled: true,
            },
            // Cannot have been decided: keep what there is.
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> WebhookUrl {
        WebhookUrl::parse(text).expect("a url")
    }

    fn registered() -> (WebhookEndpointState, WebhookEndpointId) {
        let id = WebhookEndpointId::new_v7();
        let events = WebhookEndpoint::decide(
            &WebhookEndpointState::NotRegistered,
            &WebhookEndpointCommand::Register {
                id,
                organisation: OrganisationId::new_v7(),
                url: url("https://hooks.example.dk/a"),
            },
        )
        .expect("registered");
        (WebhookEndpoint::replay(&events), id)
    }

    #[test]
    fn a_registered_endpoint_is_enabled_and_cannot_be_registered_again() {
        let (state, id) = registered();
        assert!(matches!(
            state,
            WebhookEndpointState::Registered { enabled: true, .. }
        ));
        let again = WebhookEndpointCommand::Register {
            id,
            organisation: OrganisationId::new_v7(),
            url: url("https://hooks.example.dk/b"),
        };
        assert_eq!(
            WebhookEndpoint::decide(&state, &again),
            Err(DomainError::AlreadyExists {
                kind: EntityKind::WebhookEndpoint
            })
        );
    }

    #[test]
    fn disabling_and_enabling_switch_it_and_repeating_changes_nothing() {
        let (state, id) = registered();
        let disabled =
            WebhookEndpoint::decide(&state, &WebhookEndpointCommand::Disable).expect("disabled");
        assert_eq!(
            disabled,
            vec![WebhookEndpointEvent::Disabled(WebhookEndpointSwitched {
                id
            })]
        );
        let state = disabled.iter().fold(state, WebhookEndpoint::evolve);
        assert_eq!(
            WebhookEndpoint::decide(&state, &WebhookEndpointCommand::Disable),
            Ok(vec![])
        );
        let enabled =
            WebhookEndpoint::decide(&state, &WebhookEndpointCommand::Enable).expect("enabled");
        let state = enabled.iter().fold(state, WebhookEndpoint::evolve);
        assert!(matches!(
            state,
            WebhookEndpointState::Registered { enabled: true, .. }
        ));
    }

    #[test]
    fn a_new_url_is_an_event_and_the_same_one_is_none() {
        let (state, _) = registered();
        let same = WebhookEndpointCommand::ChangeUrl {
            url: url("https://hooks.example.dk/a"),
        };
        assert_eq!(WebhookEndpoint::decide(&state, &same), Ok(vec![]));
        let other = WebhookEndpointCommand::ChangeUrl {
            url: url("https://hooks.example.dk/b"),
        };
        let events = WebhookEndpoint::decide(&state, &other).expect("changed");
        let state = events.iter().fold(state, WebhookEndpoint::evolve);
        assert_eq!(
            state.details().map(|d| d.url.as_str()),
            Some("https://hooks.example.dk/b")
        );
    }

    #[test]
    fn nothing_but_a_registration_is_decided_for_an_unknown_endpoint() {
        for command in [
            WebhookEndpointCommand::Disable,
            WebhookEndpointCommand::Enable,
            WebhookEndpointCommand::ChangeUrl {
                url: url("https://x.example.dk"),
            },
        ] {
            assert_eq!(
                WebhookEndpoint::decide(&WebhookEndpointState::NotRegistered, &command),
                Err(DomainError::NotFound {
                    kind: EntityKind::WebhookEndpoint
                })
            );
        }
    }
}
