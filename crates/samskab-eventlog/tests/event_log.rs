//! The event log against a real NATS server (one of our own per test, see samskab-testkit).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use samskab_eventlog::{
    AppendError, Appended, CommandMeta, EntityRef, EventLog, LogConfig, NewEvent,
};
use samskab_testkit::NatsServer;
use serde_json::json;
use uuid::Uuid;

async fn log_on(server: &NatsServer, config: LogConfig) -> EventLog {
    EventLog::create_or_update(&server.url(), config)
        .await
        .expect("connect")
}

fn meta(key: Option<&str>) -> CommandMeta {
    CommandMeta {
        idempotency_key: key.map(str::to_string),
        request_fingerprint: key.map(|_| "fp".to_string()),
        ..CommandMeta::by("user:test")
    }
}

fn event(n: u64) -> NewEvent {
    NewEvent {
        event_type: "dk.samskab.test.happened.v1".into(),
        data: json!({ "n": n }),
    }
}

fn entity(id: &str) -> EntityRef {
    EntityRef::new("rodovre", "volunteer", id).expect("valid entity")
}

/// Every message in the stream, as (position, event ids), read with an ordered consumer.
async fn all_messages(log: &EventLog) -> Vec<(u64, Vec<Uuid>)> {
    let last = log.last_position().await.expect("last position");
    let mut out = Vec::new();
    if last == 0 {
        return out;
    }
    let stream = log
        .jetstream()
        .get_stream(&log.config().stream)
        .await
        .expect("stream");
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("ordered consumer");
    let mut messages = consumer.messages().await.expect("messages");
    while let Some(message) = messages.next().await {
        let message = message.expect("message");
        let info = message.info().expect("info");
        let seq = info.stream_sequence;
        let events = samskab_eventlog::decode_message(seq, &message.payload).expect("decode");
        out.push((seq, events.iter().map(|e| e.envelope.id).collect()));
        if seq >= last {
            break;
        }
    }
    out
}

#[tokio::test]
async fn thirty_two_writers_racing_on_one_entity_leave_exactly_the_accepted_events() {
    let server = NatsServer::start().expect("nats");
    let log = log_on(&server, LogConfig::default()).await;
    let target = entity("raced");
    // Everyone read the same (empty) history, so everyone expects sequence 0; rounds repeat
    // the race at each new version.
    let mut accepted: Vec<Appended> = Vec::new();
    let mut conflicts = 0;
    for round in 0..3u64 {
        let expected = log.load(&target).await.expect("load").last_position;
        let mut tasks = Vec::new();
        for writer in 0..32u64 {
            let (log, target) = (log.clone(), target.clone());
            tasks.push(tokio::spawn(async move {
                log.append(
                    &target,
                    expected,
                    &meta(None),
                    vec![event(round * 100 + writer)],
                )
                .await
            }));
        }
        for task in tasks {
            match task.await.expect("join") {
                Ok(appended) => accepted.push(appended),
                Err(AppendError::Conflict { .. }) => conflicts += 1,
                Err(other) => panic!("unexpected error: {other}"),
            }
        }
    }
    assert_eq!(accepted.len(), 3, "exactly one writer wins each round");
    assert_eq!(conflicts, 3 * 31);
    let history = log.load(&target).await.expect("load");
    let stored: Vec<Uuid> = history.events.iter().map(|e| e.envelope.id).collect();
    let winners: Vec<Uuid> = accepted.iter().flat_map(|a| a.event_ids.clone()).collect();
    assert_eq!(
        stored, winners,
        "the stored events are exactly the accepted ones, in order"
    );
}

#[tokio::test]
async fn a_retried_command_returns_the_original_result_and_appends_once() {
    let server = NatsServer::start().expect("nats");
    let log = log_on(&server, LogConfig::default()).await;
    let target = entity("retried");
    let first = log
        .append(&target, 0, &meta(Some("k-1")), vec![event(1)])
        .await
        .expect("first");
    // The retry may come with a stale expectation and different (freshly decided) events.
    let again = log
        .append(&target, 0, &meta(Some("k-1")), vec![event(2)])
        .await
        .expect("retry");
    assert_eq!(again.position, first.position);
    assert_eq!(again.event_ids, first.event_ids);
    assert!(again.replayed && !first.replayed);
    // The entity's history remembers the key: a change retried later finds it there.
    let history = log.load(&target).await.expect("load");
    assert_eq!(history.events.len(), 1);
    let remembered = history
        .command_with_key("rodovre", "k-1")
        .expect("the key is in the history");
    assert_eq!(
        remembered.replay(Some("fp")).expect("same request"),
        Appended {
            replayed: true,
            ..first
        }
    );
    assert!(history.command_with_key("roskilde", "k-1").is_none());
    // The same key for a different request is refused, not replayed.
    let mut other = meta(Some("k-1"));
    other.request_fingerprint = Some("another request".into());
    assert!(matches!(
        log.append(&target, 1, &other, vec![event(3)]).await,
        Err(AppendError::KeyReused)
    ));
    // Keys are per tenant: another municipality may use the same key.
    let elsewhere = EntityRef::new("roskilde", "volunteer", "retried").expect("valid");
    let theirs = log
        .append(&elsewhere, 0, &meta(Some("k-1")), vec![event(4)])
        .await
        .expect("theirs");
    assert!(!theirs.replayed);
}

#[tokio::test]
async fn a_retry_after_the_duplicate_window_is_answered_from_the_log() {
    let server = NatsServer::start().expect("nats");
    let config = LogConfig {
        duplicate_window: Duration::from_millis(500),
        ..LogConfig::default()
    };
    let log = log_on(&server, config.clone()).await;
    let target = entity("late");
    // The first attempt lands, but its answer is lost (a crash, a dropped connection): no
    // record exists anywhere but the message itself.
    let first = log
        .append(&target, 0, &meta(Some("k-late")), vec![event(1)])
        .await
        .expect("first");
    // Past the server's duplicate window, as a real late retry would be. No assert below depends
    // on the server having forgotten the message id: inside the window the duplicate's ack
    // leads to the same message, outside it the conflict on expected-sequence 0 does.
    tokio::time::sleep(Duration::from_millis(800)).await;

    let again = log
        .append(&target, 0, &meta(Some("k-late")), vec![event(2)])
        .await
        .expect("retry");
    assert_eq!(again.position, first.position);
    assert_eq!(again.event_ids, first.event_ids);
    assert!(again.replayed);
    assert_eq!(all_messages(&log).await.len(), 1, "nothing appended twice");

    // The same key with a different request is refused, not replayed.
    let mut other = meta(Some("k-late"));
    other.request_fingerprint = Some("another request".into());
    assert!(matches!(
        log.append(&target, 0, &other, vec![event(3)]).await,
        Err(AppendError::KeyReused)
    ));
    // A conflict that is not a retry stays a conflict.
    assert!(matches!(
        log.append(&target, 0, &meta(Some("k-new")), vec![event(4)])
            .await,
        Err(AppendError::Conflict { expected: 0 })
    ));
    assert_eq!(all_messages(&log).await.len(), 1);
}

#[tokio::test]
async fn a_multi_event_command_is_visible_whole_or_not_at_all() {
    let server = NatsServer::start().expect("nats");
    let log = log_on(&server, LogConfig::default()).await;
    let target = entity("multi");
    let three = vec![event(1), event(2), event(3)];
    let appended = log
        .append(&target, 0, &meta(None), three.clone())
        .await
        .expect("append");
    assert_eq!(appended.event_ids.len(), 3);
    // A refused command (stale expectation) leaves none of its events.
    let refused = log.append(&target, 0, &meta(None), three).await;
    assert!(matches!(
        refused,
        Err(AppendError::Conflict { expected: 0 })
    ));

    let messages = all_messages(&log).await;
    assert_eq!(
        messages,
        vec![(appended.position, appended.event_ids.clone())],
        "one message, all three events"
    );
    let history = log.load(&target).await.expect("load");
    assert_eq!(
        history.events.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert!(
        history
            .events
            .iter()
            .all(|e| e.position == appended.position)
    );
}

#[tokio::test]
async fn the_stream_denies_purge_and_delete() {
    let server = NatsServer::start().expect("nats");
    let log = log_on(&server, LogConfig::default()).await;
    log.append(&entity("kept"), 0, &meta(None), vec![event(1)])
        .await
        .expect("append");
    let stream = log
        .jetstream()
        .get_stream(&log.config().stream)
        .await
        .expect("stream");
    assert!(stream.purge().await.is_err(), "purge must be refused");
    assert!(
        stream.delete_message(1).await.is_err(),
        "delete must be refused"
    );
    assert_eq!(all_messages(&log).await.len(), 1);
    // Connecting again (an upgrade, a second process) keeps the same stream.
    let again = log_on(&server, LogConfig::default()).await;
    assert_eq!(again.last_position().await.expect("last"), 1);
}

#[tokio::test]
async fn nats_restarted_mid_run_loses_no_acknowledged_event() {
    let mut server = NatsServer::start().expect("nats");
    let log = log_on(&server, LogConfig::default()).await;
    let acknowledged = Arc::new(tokio::sync::Mutex::new(Vec::<Uuid>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (log, acknowledged, stop) = (log.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let target = entity(&format!("writer-{writer}"));
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let expected = match log.load(&target).await {
                    Ok(history) => history.last_position,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // A fixed key per event: a retry after an unknown outcome appends it once.
                let key = format!("w{writer}-{n}");
                match log
                    .append(&target, expected, &meta(Some(&key)), vec![event(n)])
                    .await
                {
                    Ok(appended) => {
                        acknowledged.lock().await.extend(appended.event_ids);
                        n += 1;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        }));
    }
    // Restart only once a good number of commands were acknowledged (a count, not a time:
    // on a busy machine the writers may need seconds for it), so the restart is mid-run.
    let before = acknowledged_at_least(&acknowledged, 50, "before the restart").await;
    server.restart().expect("restart");
    // Keep writing until a good number of commands were acknowledged after the restart.
    acknowledged_at_least(&acknowledged, before + 50, "after the restart").await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("join");
    }
    let acknowledged = acknowledged.lock().await.clone();
    assert!(
        before > 0 && acknowledged.len() > before,
        "writes happened before and after the restart"
    );

    let stored: Vec<Uuid> = all_messages(&log)
        .await
        .into_iter()
        .flat_map(|(_, ids)| ids)
        .collect();
    let stored_set: HashSet<Uuid> = stored.iter().copied().collect();
    assert_eq!(stored_set.len(), stored.len(), "no event stored twice");
    let missing: Vec<&Uuid> = acknowledged
        .iter()
        .filter(|id| !stored_set.contains(id))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
}

/// Polls (every 10 ms) until at least `n` event ids were acknowledged; returns how many there
/// were. Fails only after a minute, a hang guard for a busy CI machine.
async fn acknowledged_at_least(
    acknowledged: &tokio::sync::Mutex<Vec<Uuid>>,
    n: usize,
    when: &str,
) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let count = acknowledged.lock().await.len();
        if count >= n {
            return count;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {count} of {n} commands acknowledged {when}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn part(id: &str, expected: u64, n: u64) -> samskab_eventlog::AtomicPart {
    samskab_eventlog::AtomicPart {
        entity: entity(id),
        expected,
        events: vec![event(n)],
    }
}

#[tokio::test]
async fn an_atomic_command_across_subjects_is_stored_whole_or_not_at_all() {
    let server = NatsServer::start().expect("nats");
    let log = log_on(&server, LogConfig::default()).await;
    let stored = log
        .append_atomic(vec![part("pool", 0, 1), part("grant", 0, 2)], &meta(None))
        .await
        .expect("atomic");
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[1].position,
        stored[0].position + 1,
        "consecutive in the stream"
    );
    assert_eq!(
        log.load(&entity("grant")).await.expect("load").events[0]
            .envelope
            .id,
        stored[1].event_ids[0]
    );

    // One stale expectation (grant is at 2 now, not 0) refuses the whole command: the pool's
    // part, whose expectation holds, is not stored either.
    let refused = log
        .append_atomic(vec![part("pool", 1, 3), part("grant", 0, 4)], &meta(None))
        .await;
    assert!(
        matches!(refused, Err(AppendError::Conflict { .. })),
        "{refused:?}"
    );
    assert_eq!(log.last_position().await.expect("last"), 2);
    assert_eq!(
        log.load(&entity("pool")).await.expect("load").events.len(),
        1
    );
}

#[tokio::test]
async fn racing_atomic_commands_leave_exactly_one_and_retries_append_once() {
    let server = NatsServer::start().expect("nats");
    let log = log_on(&server, LogConfig::default()).await;
    let mut tasks = Vec::new();
    for writer in 0..16u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            log.append_atomic(
                vec![
                    part("pool", 0, writer),
                    part(&format!("grant-{writer}"), 0, writer),
                ],
                &meta(None),
            )
            .await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.expect("join") {
            Ok(_) => won += 1,
            Err(AppendError::Conflict { .. }) => {}
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(won, 1, "the pool's expectation admits one command");
    assert_eq!(log.last_position().await.expect("last"), 2);

    let first = log
        .append_atomic(
            vec![part("a", 0, 1), part("b", 0, 2)],
            &meta(Some("atomic-1")),
        )
        .await
        .expect("first");
    let again = log
        .append_atomic(
            vec![part("a", 0, 1), part("b", 0, 2)],
            &meta(Some("atomic-1")),
        )
        .await
        .expect("again");
    assert_eq!(
        again
            .iter()
            .map(|a| (a.position, a.event_ids.clone()))
            .collect::<Vec<_>>(),
        first
            .iter()
            .map(|a| (a.position, a.event_ids.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        log.last_position().await.expect("last"),
        4,
        "the retry appended nothing"
    );
}

#[tokio::test]
async fn only_create_or_update_makes_or_changes_the_stream() {
    let server = NatsServer::start().expect("nats");
    // Nothing there yet: connecting refuses and says what to do.
    let missing = EventLog::connect(&server.url(), LogConfig::default())
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(missing.contains("samskab migrate"), "{missing}");

    let created = log_on(&server, LogConfig::default()).await;
    let position = created
        .append(&entity("a"), 0, &meta(None), vec![event(1)])
        .await
        .expect("append")
        .position;

    // A process configured otherwise (a mistyped maximum age, a worker started with other
    // replicas) is refused, with what differs, and the stream stays as it was.
    let mistyped = LogConfig {
        max_age: Duration::from_secs(24 * 3600),
        duplicate_window: Duration::from_secs(60),
        ..LogConfig::default()
    };
    let refused = EventLog::connect(&server.url(), mistyped)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("SAMSKAB_MAX_AGE_DAYS"), "{refused}");
    assert!(
        refused.contains("SAMSKAB_DUPLICATE_WINDOW_SECS"),
        "{refused}"
    );
    let info = created
        .jetstream()
        .get_stream("SAMSKAB_EVENTS")
        .await
        .expect("stream")
        .info()
        .await
        .expect("info")
        .clone();
    assert_eq!(info.config.max_age, Duration::ZERO, "the history is kept");
    assert_eq!(info.config.duplicate_window, Duration::from_secs(120));
    assert_eq!(info.state.last_sequence, position);

    // The same settings connect, and read what is there.
    let same = EventLog::connect(&server.url(), LogConfig::default())
        .await
        .expect("connect");
    assert_eq!(same.last_position().await.expect("position"), position);
}
