//! Snapshots against a real NATS server: sealed on disk with the entity's key, found only by the
//! version they were saved with, bound to their entity, and gone once the person is forgotten.

use samskab_eventlog::{CommandMeta, EntityRef, EventLog, LogConfig, NewEvent, Snapshot};
use samskab_testkit::NatsServer;
use serde_json::json;

fn meta() -> CommandMeta {
    CommandMeta::by("user:test")
}

fn volunteer(id: &str) -> anyhow::Result<EntityRef> {
    Ok(EntityRef::new("rodovre", "volunteer", id)?)
}

/// The snapshot message stored on `subject`, as bytes; `None` when there is none.
async fn stored_snapshot(log: &EventLog, subject: &str) -> anyhow::Result<Option<bytes::Bytes>> {
    let stream = log
        .jetstream()
        .get_stream(&log.config().snapshots_stream)
        .await?;
    match stream.direct_get_last_for_subject(subject).await {
        Ok(message) => Ok(Some(message.payload)),
        Err(e) if e.kind() == async_nats::jetstream::stream::DirectGetErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

async fn registered(log: &EventLog, entity: &EntityRef) -> anyhow::Result<u64> {
    let event = NewEvent {
        event_type: "dk.samskab.test.registered.v1".into(),
        data: json!({"personal": {"name": "Karen Snapmark"}}),
    };
    Ok(log.append(entity, 0, &meta(), vec![event]).await?.position)
}

#[tokio::test]
async fn a_snapshot_is_sealed_on_disk_and_read_back_by_its_version_only() -> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let karen = volunteer("karen")?;
    let position = registered(&log, &karen).await?;
    let body = json!({"state": {"name": "Karen Snapstate"}, "marker": "snapshot-marker-4711"});

    assert_eq!(log.load_snapshot(&karen, 1).await?, None, "none saved yet");
    log.save_snapshot(&karen, 1, position, body.clone()).await?;
    assert_eq!(
        log.load_snapshot(&karen, 1).await?,
        Some(Snapshot {
            position,
            body: body.clone()
        })
    );
    assert_eq!(
        log.load_snapshot(&karen, 2).await?,
        None,
        "a snapshot of another state version is not used"
    );

    // On disk the snapshot is sealed: neither its marker nor the name is in any file. (The
    // event's own message is on disk by now: wait for the snapshot's subject.)
    assert!(
        !server
            .wait_for_files_containing(b"samskab.snap.rodovre.volunteer.karen", true)
            .await?
            .is_empty()
    );
    assert!(server.files_containing(b"snapshot-marker-4711")?.is_empty());
    assert!(server.files_containing("Snapstate".as_bytes())?.is_empty());

    // A newer snapshot replaces the older one.
    log.save_snapshot(&karen, 1, position + 7, json!({"n": 2}))
        .await?;
    assert_eq!(
        log.load_snapshot(&karen, 1).await?.map(|s| s.position),
        Some(position + 7)
    );
    Ok(())
}

#[tokio::test]
async fn a_snapshot_copied_to_another_entity_does_not_open() -> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let karen = volunteer("karen")?;
    let position = registered(&log, &karen).await?;
    log.save_snapshot(&karen, 1, position, json!({"who": "karen"}))
        .await?;

    // Someone with access to the store copies Karen's sealed snapshot to another entity's
    // subject: it is bound to Karen, so it reads as none.
    let stored = stored_snapshot(&log, "samskab.snap.rodovre.volunteer.karen")
        .await?
        .expect("a snapshot is stored");
    let other = volunteer("other")?;
    registered(&log, &other).await?;
    log.jetstream()
        .publish("samskab.snap.rodovre.volunteer.other", stored)
        .await?
        .await?;
    assert_eq!(log.load_snapshot(&other, 1).await?, None);
    Ok(())
}

#[tokio::test]
async fn forgetting_the_person_deletes_their_snapshot() -> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let karen = volunteer("karen")?;
    let position = registered(&log, &karen).await?;
    log.save_snapshot(&karen, 1, position, json!({"who": "karen"}))
        .await?;
    assert!(log.load_snapshot(&karen, 1).await?.is_some());

    assert!(log.forget(&karen).await?, "Karen had a key");
    assert_eq!(log.load_snapshot(&karen, 1).await?, None);
    assert!(
        stored_snapshot(&log, "samskab.snap.rodovre.volunteer.karen")
            .await?
            .is_none(),
        "the snapshot message itself is gone"
    );
    Ok(())
}

#[tokio::test]
async fn a_snapshot_sealed_with_an_erased_key_reads_as_none() -> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let karen = volunteer("karen")?;
    let position = registered(&log, &karen).await?;
    log.save_snapshot(&karen, 1, position, json!({"who": "karen"}))
        .await?;
    let stored = stored_snapshot(&log, "samskab.snap.rodovre.volunteer.karen")
        .await?
        .expect("a snapshot is stored");

    // A copy kept from before the forgetting (a backup, say) is put back: it is sealed with
    // the erased key, so nothing of it can be read.
    log.forget(&karen).await?;
    log.jetstream()
        .publish("samskab.snap.rodovre.volunteer.karen", stored)
        .await?
        .await?;
    assert_eq!(log.load_snapshot(&karen, 1).await?, None);
    Ok(())
}

/// A command on another instance may have read the state before a forgetting and save it as a
/// snapshot after the key was erased: it must not get a new key (then the forgotten person's
/// data could be read again), so it is not saved. A state without personal data (a need, a
/// match) is saved without a key.
#[tokio::test]
async fn a_snapshot_never_makes_a_key() -> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let karen = volunteer("karen")?;
    let position = registered(&log, &karen).await?;
    log.forget(&karen).await?;

    let before_forgetting = json!({"state": {"Active": {"personal": {"name": "Karen Late"}}}});
    log.save_snapshot(&karen, 1, position, before_forgetting)
        .await?;
    assert_eq!(log.load_snapshot(&karen, 1).await?, None);
    assert!(
        log.vault()
            .expect("sealed")
            .fetch(&samskab_privacy::DataSubject::new(
                "rodovre",
                "volunteer",
                "karen"
            )?)
            .await?
            .is_none(),
        "no new key for the forgotten person"
    );
    assert!(server.files_containing("Karen Late".as_bytes())?.is_empty());

    let need = EntityRef::new("rodovre", "need", "lektiehjaelp")?;
    let body = json!({"state": {"Open": {"title": "Lektiehjælp"}}, "keyed": []});
    log.save_snapshot(&need, 1, 42, body.clone()).await?;
    assert_eq!(
        log.load_snapshot(&need, 1).await?,
        Some(Snapshot { position: 42, body })
    );
    Ok(())
}

#[tokio::test]
async fn a_state_beyond_the_servers_max_payload_keeps_the_older_snapshot_and_the_connection()
-> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let log = EventLog::create_or_update(&server.url(), LogConfig::default()).await?;
    let karen = volunteer("karen")?;
    let position = registered(&log, &karen).await?;
    log.save_snapshot(&karen, 1, position, json!({"n": 1}))
        .await?;
    // Twice the server's limit: published, it would close the connection.
    let limit = log.client().server_info().max_payload;
    let huge = json!({ "cases": "x".repeat(2 * limit) });
    log.save_snapshot(&karen, 1, position + 1, huge).await?;
    assert_eq!(
        log.load_snapshot(&karen, 1).await?.map(|s| s.position),
        Some(position),
        "the older snapshot stays"
    );
    // The connection is still the one it was (a publish beyond the limit would have closed
    // it, failing what was in flight on it): an append goes through on it.
    let event = NewEvent {
        event_type: "dk.samskab.test.updated.v1".into(),
        data: json!({"n": 2}),
    };
    let appended = log.append(&karen, position, &meta(), vec![event]).await?;
    assert_eq!(appended.position, position + 1);
    let connects = log
        .client()
        .statistics()
        .connects
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(connects, 1, "never reconnected");
    Ok(())
}
