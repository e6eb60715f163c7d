//! Webhooks against a real PostgreSQL and a real HTTP receiver (the testkit's axum server):
//! each message to an organisation is posted to each of its enabled endpoints, signed per
//! Standard Webhooks with that endpoint's secret, with the message's id as `webhook-id`; a
//! rebuild posts nothing again; a receiver that fails is tried again, one that refuses is
//! parked; a disabled endpoint gets nothing; plain http is refused unless allowed.

use std::time::Duration;

use samskab_delivery::{DeliveryConfig, Outcome, Sender, WebhookKey, WebhookSender};
use samskab_directory_worker::DirectoryProjection;
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_notify_worker::NotifyProjection;
use samskab_testkit::WebhookReceiver;
use samskab_testkit::projection::{ReadModelTest, migrated_database, time_at};
use sqlx::PgPool;

const TENANT: &str = "rodovre";
const ACTOR: &str = "user:sagsbehandler-1";
const DIRECTORY: ReadModelTest<DirectoryProjection> =
    ReadModelTest::new(DirectoryProjection, ACTOR);
const NOTIFY: ReadModelTest<NotifyProjection> = ReadModelTest::new(NotifyProjection, ACTOR);
/// The base64 of 32 bytes 0, 1, ..., 31.
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn key() -> WebhookKey {
    WebhookKey::from_base64(KEY).expect("a key")
}

fn endpoint_event(id: WebhookEndpointId, url: &str) -> WebhookEndpointEvent {
    WebhookEndpointEvent::Registered(WebhookEndpointDetails {
        id,
        organisation: org_id(),
        url: WebhookUrl::parse(url).expect("a url"),
    })
}

/// The canonical organisation with the given endpoint events first (positions 2, 3, ...),
/// then a need, a proposal on it and the volunteer's no: two messages for the organisation.
async fn messages_after(
    pool: &PgPool,
    endpoints: &[(WebhookEndpointId, WebhookEndpointEvent)],
) -> anyhow::Result<Vec<RecordedEvent>> {
    let registered = OrganisationEvent::Registered(organisation_details(org_id(), "Æblehaven"));
    let org = DIRECTORY.recorded(TENANT, &org_id().as_uuid().to_string(), 1, &registered);
    DIRECTORY.apply_all(pool, &[&org]).await?;
    let mut position = 1;
    let mut next = || {
        position += 1;
        position
    };
    let mut events: Vec<RecordedEvent> = endpoints
        .iter()
        .map(|(id, event)| NOTIFY.recorded(TENANT, &id.to_string(), next(), event))
        .collect();
    let (need, matched) = (need_id(), match_id());
    let declined = MatchEvent::Declined(MatchDeclined {
        id: matched,
        side: MatchSide::Volunteer,
        reason: None,
        at: time_at(4),
    });
    events.push(NOTIFY.recorded(
        TENANT,
        &need.as_uuid().to_string(),
        next(),
        &NeedEvent::Published(need_details(need, "Lektiehjælp")),
    ));
    events.push(NOTIFY.recorded(
        TENANT,
        &matched.as_uuid().to_string(),
        next(),
        &match_proposed(matched),
    ));
    events.push(NOTIFY.recorded(TENANT, &matched.as_uuid().to_string(), next(), &declined));
    NOTIFY
        .apply_all(pool, &events.iter().collect::<Vec<_>>())
        .await?;
    Ok(events)
}

fn sender(pool: &PgPool, allow_local: bool, config: DeliveryConfig) -> anyhow::Result<Sender> {
    Ok(Sender::new(pool.clone(), config).with_webhooks(WebhookSender::new(key(), allow_local)?))
}

#[tokio::test]
async fn each_message_is_posted_once_to_each_endpoint_signed_with_its_own_secret()
-> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let receiver = WebhookReceiver::start().await?;
    let (a, b) = (WebhookEndpointId::new_v7(), WebhookEndpointId::new_v7());
    let events = messages_after(
        &pool,
        &[
            (a, endpoint_event(a, &receiver.url("/a"))),
            (b, endpoint_event(b, &receiver.url("/b"))),
        ],
    )
    .await?;
    let sender = sender(&pool, true, DeliveryConfig::default())?;
    assert_eq!(
        sender.drain(|_| {}).await?.into_outcomes(),
        vec![Outcome::Delivered; 4]
    );
    let hooks = receiver.wait_for(4).await?;
    for hook in &hooks {
        let endpoint = if hook.path == "/a" { a } else { b };
        let secret = key().secret_for(TENANT, endpoint.as_uuid());
        let (id, signature) = (hook.id.as_deref(), hook.signature.as_deref());
        let (Some(id), Some(signature)) = (id, signature) else {
            panic!("the standard's headers: {hook:?}");
        };
        assert!(secret.verifies(id, hook.timestamp_secs()?, &hook.body, signature));
        // Another endpoint's secret is a forgery to this one's receiver.
        let other = key().secret_for(TENANT, if endpoint == a { b } else { a }.as_uuid());
        assert!(!other.verifies(id, hook.timestamp_secs()?, &hook.body, signature));
        let json = hook.json()?;
        assert_eq!(
            json["data"]["id"].as_str(),
            Some(id),
            "webhook-id is the message id"
        );
        let rule = json["data"]["rule"].as_str().unwrap_or_default();
        assert!(
            ["match_proposed", "match_declined"].contains(&rule),
            "{json}"
        );
        assert_eq!(
            json["type"].as_str(),
            Some(format!("notification.{rule}").as_str())
        );
        assert_eq!(hook.content_type.as_deref(), Some("application/json"));
    }
    let mut per_endpoint: Vec<(String, Option<String>)> = hooks
        .iter()
        .map(|h| (h.path.clone(), h.id.clone()))
        .collect();
    per_endpoint.sort();
    per_endpoint.dedup();
    assert_eq!(
        per_endpoint.len(),
        4,
        "two messages, each once to each endpoint"
    );

    // A rebuild writes the outbox again behind the sender's cursor: nothing is posted again.
    sqlx::query(
        "TRUNCATE notify.message, notify.outbox, notify.need_owner, notify.match_owner,
             notify.webhook_endpoint",
    )
    .execute(&pool)
    .await?;
    NOTIFY
        .apply_all(&pool, &events.iter().collect::<Vec<_>>())
        .await?;
    assert_eq!(sender.drain(|_| {}).await?.into_outcomes(), []);
    assert_eq!(receiver.received().len(), 4, "nothing posted twice");
    Ok(())
}

#[tokio::test]
async fn a_failing_receiver_is_tried_again_and_a_refusing_one_parks_the_delivery()
-> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let receiver = WebhookReceiver::start().await?;
    let a = WebhookEndpointId::new_v7();
    messages_after(&pool, &[(a, endpoint_event(a, &receiver.url("/a")))]).await?;
    let config = DeliveryConfig {
        retry_base: Duration::ZERO,
        parallel: 1,
        ..DeliveryConfig::default()
    };
    let sender = sender(&pool, true, config)?;
    // The first message: 503, then taken. The second: 410 Gone, parked at once.
    receiver.answer_next(&[503, 410]);
    // Queued with the two mails, which this sender (webhooks only) leaves for another.
    assert_eq!(sender.queue().await?, 4);
    let first = sender.deliver_due().await?.outcomes;
    assert!(
        matches!(
            first.iter().map(|(_, _, o)| o).collect::<Vec<_>>().as_slice(),
            [
                Outcome::Retry { attempts: 1, error, .. },
                Outcome::Parked { error: parked },
            ] if error == "HTTP 503 (transient)" && parked == "HTTP 410 (permanent)"
        ),
        "{first:?}"
    );
    assert_eq!(
        sender.drain(|_| {}).await?.into_outcomes(),
        [Outcome::Delivered]
    );
    let hooks = receiver.wait_for(3).await?;
    let answered: Vec<u16> = hooks.iter().map(|h| h.answered).collect();
    assert_eq!(answered, [503, 410, 204]);
    assert_eq!(
        hooks[0].id, hooks[2].id,
        "the retry carries the same webhook-id"
    );
    Ok(())
}

#[tokio::test]
async fn a_disabled_endpoint_gets_nothing_and_plain_http_is_refused_unless_allowed()
-> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let receiver = WebhookReceiver::start().await?;
    let (on, off) = (WebhookEndpointId::new_v7(), WebhookEndpointId::new_v7());
    messages_after(
        &pool,
        &[
            (on, endpoint_event(on, &receiver.url("/on"))),
            (off, endpoint_event(off, &receiver.url("/off"))),
            (
                off,
                WebhookEndpointEvent::Disabled(WebhookEndpointSwitched { id: off }),
            ),
        ],
    )
    .await?;
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT channel FROM notify.outbox WHERE channel <> 'email'")
            .fetch_all(&pool)
            .await?;
    assert_eq!(
        rows,
        [format!("webhook:{on}")],
        "nothing for the disabled endpoint"
    );

    // A production sender refuses the plain-http, local URL: parked, nothing posted.
    let production = sender(&pool, false, DeliveryConfig::default())?;
    let outcomes = production.drain(|_| {}).await?.into_outcomes();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Parked {
                error: "plain http is not allowed for webhooks here".into()
            };
            2
        ]
    );
    assert!(receiver.received().is_empty());

    // Disabled after the messages were made: what is queued for it is dropped.
    sqlx::query(
        "UPDATE delivery.delivery SET status = 'pending', next_attempt_at = now()
         WHERE channel <> 'email'",
    )
    .execute(&pool)
    .await?;
    sqlx::query("UPDATE notify.webhook_endpoint SET enabled = false")
        .execute(&pool)
        .await?;
    let local = sender(&pool, true, DeliveryConfig::default())?;
    assert!(
        local
            .drain(|_| {})
            .await?
            .into_outcomes()
            .iter()
            .all(|o| matches!(o, Outcome::Dropped { .. })),
    );
    assert!(receiver.received().is_empty());
    Ok(())
}
