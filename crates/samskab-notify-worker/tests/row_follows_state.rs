//! The read model agrees with the decider: for any sequence of a webhook endpoint's events,
//! the `notify.webhook_endpoint` row after projecting them equals the row built from the state
//! `WebhookEndpoint::evolve` folds from the same events (no row before its registration). A
//! message's outbox rows are written for the endpoints this table holds enabled, so a row that
//! strayed from the state would post to an endpoint its organisation disabled, or to an old URL.
//!
//! The harness is `samskab_testkit::projection` (`ReadModelTest::rows_follow_state`): any order
//! of any events, delivered event by event or batched, some twice in a row, and one earlier
//! event again at the end at its old position.

use proptest::prelude::*;
use samskab_domain::fixtures::{arb_webhook_endpoint_event, org_id};
use samskab_domain::{WebhookEndpoint, WebhookEndpointId, WebhookEndpointState};
use samskab_notify_worker::NotifyProjection;
use samskab_testkit::projection::{Key, ReadModelTest};
use serde_json::{Value, json};

const TENANT: &str = "rodovre";
const NOTIFY: ReadModelTest<NotifyProjection> =
    ReadModelTest::new(NotifyProjection, "user:sagsbehandler-1");

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
