//! Personal data in the log against a real NATS server: sealed on disk, opened on load, unread
//! once forgotten, and bound to its event.

use samskab_eventlog::{CommandMeta, EntityRef, EventLog, LoadError, LogConfig, NewEvent};
use samskab_testkit::NatsServer;
use serde_json::{Value, json};
use uuid::Uuid;

fn meta() -> CommandMeta {
    CommandMeta::by("user:test")
}

fn registered(name: &str, postcode: &str) -> NewEvent {
    NewEvent {
        event_type: "dk.samskab.test.registered.v1".into(),
        data: json!({"personal": {"name": name, "email": "soeren@example.dk"}, "profile": {"postcode": postcode}}),
    }
}

fn volunteer(id: &str) -> anyhow::Result<EntityRef> {
    Ok(EntityRef::new("rodovre", "volunteer", id)?)
}

#[tokio::test]
async fn personal_data_is_sealed_on_disk_opened_on_load_and_gone_once_forgotten()
-> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let soeren = volunteer("soeren")?;
    let marker_postcode = "postcode-marker-2610";
    log.append(
        &soeren,
        0,
        &meta(),
        vec![registered("Søren Sealmark", marker_postcode)],
    )
    .await?;

    // The message is on disk (its profile is), and the name is not, in any file.
    assert!(
        !server
            .wait_for_files_containing(marker_postcode.as_bytes(), true)
            .await?
            .is_empty()
    );
    assert!(server.files_containing("Sealmark".as_bytes())?.is_empty());
    assert!(server.files_containing(b"soeren@example.dk")?.is_empty());

    let history = log.load(&soeren).await?;
    assert_eq!(
        history.events[0].envelope.data["personal"]["name"],
        json!("Søren Sealmark")
    );

    assert!(log.forget(&soeren).await?);
    let history = log.load(&soeren).await?;
    assert_eq!(history.events[0].envelope.data["personal"], Value::Null);
    assert_eq!(
        history.events[0].envelope.data["profile"]["postcode"],
        json!(marker_postcode),
        "what is not personal stays"
    );
    // Another process (a rebuild, another API instance) cannot read it either.
    let fresh = EventLog::connect(&server.url(), LogConfig::default()).await?;
    assert_eq!(
        fresh.load(&soeren).await?.events[0].envelope.data["personal"],
        Value::Null
    );
    Ok(())
}

#[tokio::test]
async fn sealed_personal_data_copied_into_another_event_does_not_open() -> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let soeren = volunteer("soeren")?;
    log.append(&soeren, 0, &meta(), vec![registered("Søren", "2610")])
        .await?;
    log.append(&soeren, 1, &meta(), vec![registered("Søren Anden", "2610")])
        .await?;

    // Someone with write access to the stream copies the first event's ciphertext into a new
    // message of the same subject, as if it were a later event.
    let stream = log.jetstream().get_stream(&log.config().stream).await?;
    let first = stream.get_raw_message(1).await?;
    let mut envelopes: Vec<Value> = serde_json::from_slice(&first.payload)?;
    envelopes[0]["id"] = json!(Uuid::now_v7());
    log.jetstream()
        .publish(
            soeren.subject(&log.config().subject_prefix),
            serde_json::to_vec(&envelopes)?.into(),
        )
        .await?
        .await?;

    let refused = log.load(&soeren).await.err();
    assert!(
        matches!(
            refused,
            Some(LoadError::Unsealable {
                position: 3,
                index: 0
            })
        ),
        "{refused:?}"
    );
    Ok(())
}

#[tokio::test]
async fn after_a_forgetting_new_personal_data_gets_a_new_key_and_the_old_stays_unread()
-> anyhow::Result<()> {
    // An organisation's contact person is forgotten, then a new one is recorded.
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let contact = EntityRef::new("rodovre", "organisation", "aeblehaven")?;
    log.append(
        &contact,
        0,
        &meta(),
        vec![registered("Første Kontakt", "2610")],
    )
    .await?;
    assert!(log.forget(&contact).await?);
    log.append(
        &contact,
        1,
        &meta(),
        vec![registered("Anden Kontakt", "2610")],
    )
    .await?;

    let history = log.load(&contact).await?;
    assert_eq!(history.events[0].envelope.data["personal"], Value::Null);
    assert_eq!(
        history.events[1].envelope.data["personal"]["name"],
        json!("Anden Kontakt")
    );
    Ok(())
}

#[tokio::test]
async fn an_earlier_attempts_unused_key_is_replaced_by_the_one_the_events_were_sealed_with()
-> anyhow::Result<()> {
    // A create whose key was stored but whose event was not (a crash between the two), then
    // retried: the key written with the events must be the one in the store.
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let soeren = volunteer("soeren")?;
    let vault = log.vault().expect("sealed");
    let subject = samskab_privacy::DataSubject::new("rodovre", "volunteer", "soeren")?;
    let unused = vault.key_for_sealing(&subject, true).await?;
    // A fresh process: it has not seen the earlier attempt's key.
    let fresh = EventLog::connect(&server.url(), LogConfig::default()).await?;
    fresh
        .append(
            &soeren,
            0,
            &meta(),
            vec![registered("Søren Anden Gang", "2610")],
        )
        .await?;
    let history = EventLog::connect(&server.url(), LogConfig::default())
        .await?
        .load(&soeren)
        .await?;
    assert_eq!(
        history.events[0].envelope.data["personal"]["name"],
        json!("Søren Anden Gang")
    );
    let stored = EventLog::connect(&server.url(), LogConfig::default())
        .await?
        .vault()
        .expect("sealed")
        .fetch(&subject)
        .await?
        .expect("a key");
    assert_ne!(stored.id, unused.id);
    Ok(())
}
