//! The read model agrees with the deciders: for any sequence of a webhook endpoint's events,
//! the `notify.webhook_endpoint` row after projecting them equals the row built from the state
//! `WebhookEndpoint::evolve` folds from the same events (no row before its registration); and
//! the same for an inbox's `notify.preference`. A message's outbox rows are written for the
//! endpoints this table holds enabled, and in the language and to the channels the preferences
//! hold, so a row that strayed from the state would post to an endpoint its organisation
//! disabled, or mail someone who asked not to be.
//!
//! The harness is `samskab_testkit::projection` (`ReadModelTest::rows_follow_state`): any order
//! of any events, delivered event by event or batched, some twice in a row, and one earlier
//! event again at the end at its old position.

use proptest::prelude::*;
use samskab_domain::fixtures::{
    arb_notification_preferences_event, arb_webhook_endpoint_event, org_id,
};
use samskab_domain::{
    NotificationPreferences, NotificationPreferencesId, NotificationPreferencesState,
    WebhookEndpoint, WebhookEndpointId, WebhookEndpointState,
};
use samskab_testkit::projection::Key;
use serde_json::{Value, json};

mod support;
use support::*;

/// The row an endpoint's state implies: every column but the envelope's times and position.
fn endpoint_row(state: &WebhookEndpointState) -> Option<Value> {
    match state {
        WebhookEndpointState::NotRegistered => None,
        WebhookEndpointState::Registered { details, enabled } => Some(json!({
            "organisation_id": details.organisation.to_string(),
            "url": details.url.as_str(),
            "enabled": enabled,
        })),
    }
}

#[test]
fn an_endpoints_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    NOTIFY.rows_follow_state::<WebhookEndpoint>(
        "webhook_endpoint",
        Key::any_entity(TENANT),
        |key| arb_webhook_endpoint_event(WebhookEndpointId::from_uuid(key.id()), org_id()).boxed(),
        endpoint_row,
    )
}

/// Inboxes of each kind: an organisation's, a volunteer's, a member of staff's.
const RECIPIENTS: [&str; 3] = [
    "organisation:01950000-0000-7000-8000-000000000001",
    "volunteer:01950000-0000-7000-8000-000000000003",
    "user:sagsbehandler-1",
];

/// The row an inbox's preferences imply: none until set.
fn preference_row(state: &NotificationPreferencesState) -> Option<Value> {
    state.set.map(|set| {
        json!({
            "email": set.email,
            "language": set.language.as_str(),
            "cadence": set.cadence.as_str(),
        })
    })
}

#[test]
fn an_inboxs_preferences_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    let keys = prop::sample::select(RECIPIENTS.to_vec()).prop_map(|recipient| {
        Key::entity(
            TENANT,
            NotificationPreferencesId::of_recipient(recipient).as_uuid(),
        )
    });
    NOTIFY.rows_follow_state::<NotificationPreferences>(
        "preference",
        keys,
        |key| {
            let recipient = RECIPIENTS
                .into_iter()
                .find(|r| NotificationPreferencesId::of_recipient(r).as_uuid() == key.id())
                .unwrap_or(RECIPIENTS[0]);
            arb_notification_preferences_event(recipient).boxed()
        },
        preference_row,
    )
}
