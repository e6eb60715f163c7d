//! The projection runtime against a real NATS server and a real PostgreSQL database, each test
//! its own. The projection under test counts events: one row per event in `counter.counted`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::consumer::{PullConsumer, pull};
use futures::StreamExt;

use samskab_eventlog::{CommandMeta, EntityRef, EventLog, LogConfig, NewEvent};
use samskab_projection::{
    ApplyError, CancellationToken, MIGRATOR, Projection, Projector, ProjectorConfig, RecordedEvent,
    checkpoint, status, wait_for_position,
};
use samskab_testkit::{NatsServer, TestDatabase};
use sqlx::PgPool;
use uuid::Uuid;

const COUNTED: &str = "dk.samskab.test.counted.v1";
const POISON: &str = "dk.samskab.test.poison.v1";

struct Counter;

impl Projection for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    fn schema(&self) -> &'static str {
        "counter"
    }
    async fn apply(
        &self,
        conn: &mut sqlx::PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ApplyError> {
        match event.envelope.event_type.as_str() {
            COUNTED => {
                let n = event.envelope.data["n"]
                    .as_i64()
                    .ok_or_else(|| ApplyError::Malformed("n missing".into()))?;
                // Unqualified on purpose: the runtime's search_path picks the schema.
                sqlx::query("INSERT INTO counted (event_id, entity, n) VALUES ($1, $2, $3)")
                    .bind(event.envelope.id)
                    .bind(&event.envelope.entityid)
                    .bind(n)
                    .execute(conn)
                    .await?;
                Ok(())
            }
            POISON => {
                // Write something first: the runtime must roll it back with the message.
                sqlx::query("INSERT INTO counted (event_id, entity, n) VALUES ($1, 'poison', -1)")
                    .bind(event.envelope.id)
                    .execute(conn)
                    .await?;
                Err(ApplyError::Malformed("poison pill".into()))
            }
            other => Err(ApplyError::UnknownEventType(other.to_string())),
        }
    }
}

struct Env {
    nats: NatsServer,
    log: EventLog,
    pool: PgPool,
}

async fn env() -> anyhow::Result<Env> {
    let nats = NatsServer::start()?;
    let db = TestDatabase::create().await?;
    let pool = db.pool().await?;
    MIGRATOR.run(&pool).await?;
    sqlx::raw_sql(
        "CREATE SCHEMA counter;
         CREATE TABLE counter.checkpoint (projection text PRIMARY KEY, position bigint NOT NULL);
         CREATE TABLE counter.counted (event_id uuid PRIMARY KEY, entity text NOT NULL, n bigint NOT NULL);
         CREATE INDEX counted_by_entity ON counter.counted (entity);",
    )
    .execute(&pool)
    .await?;
    let log = EventLog::create_or_update(&nats.url(), LogConfig::default()).await?;
    Ok(Env { nats, log, pool })
}

fn config() -> ProjectorConfig {
    ProjectorConfig {
        batch_size: 100,
        fetch_wait: Duration::from_secs(1),
        ack_wait: Duration::from_secs(5),
    }
}

fn meta() -> CommandMeta {
    CommandMeta::by("user:test")
}

/// Appends one command with the given event types, on a new entity; returns (position, ids).
async fn append(log: &EventLog, types: &[&str]) -> anyhow::Result<(u64, Vec<Uuid>)> {
    let entity = EntityRef::new("testby", "thing", &Uuid::now_v7().to_string())?;
    let events = types
        .iter()
        .enumerate()
        .map(|(i, t)| NewEvent {
            event_type: (*t).to_string(),
            data: serde_json::json!({ "n": i }),
        })
        .collect();
    let appended = log.append(&entity, 0, &meta(), events).await?;
    Ok((appended.position, appended.event_ids))
}

async fn append_counted(log: &EventLog, n: usize) -> anyhow::Result<(u64, BTreeSet<Uuid>)> {
    let mut ids = BTreeSet::new();
    let mut last = 0;
    for _ in 0..n {
        let (position, event_ids) = append(log, &[COUNTED]).await?;
        last = position;
        ids.extend(event_ids);
    }
    Ok((last, ids))
}

async fn counted_ids(pool: &PgPool) -> anyhow::Result<Vec<Uuid>> {
    Ok(
        sqlx::query_scalar("SELECT event_id FROM counter.counted ORDER BY event_id")
            .fetch_all(pool)
            .await?,
    )
}

async fn parked(pool: &PgPool) -> anyhow::Result<Vec<(i64, i32, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT position, event_index, event_type, error FROM samskab_runtime.parked_event \
         WHERE projection = 'counter' ORDER BY position, event_index",
    )
    .fetch_all(pool)
    .await?)
}

struct Running {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

fn spawn(env: &Env, config: ProjectorConfig) -> Running {
    let projector = Projector::new(Counter, env.log.clone(), env.pool.clone(), config);
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let task = tokio::spawn(async move { projector.run(token).await });
    Running { shutdown, task }
}

impl Running {
    async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task.await?
    }
}

/// How long a test waits for something that normally takes milliseconds before it gives up.
/// Only a hang guard: CI runs on a busy two-core machine, and a slow run must not fail.
const PATIENCE: Duration = Duration::from_secs(60);

async fn reach(pool: &PgPool, position: u64) -> anyhow::Result<()> {
    anyhow::ensure!(
        wait_for_position(pool, "counter", position, PATIENCE).await?,
        "projection did not reach {position}"
    );
    Ok(())
}

/// Polls the checkpoint every 5 ms until `done(checkpoint)`; returns that checkpoint. Fails
/// only after [`PATIENCE`].
async fn checkpoint_until(
    pool: &PgPool,
    what: &str,
    done: impl Fn(u64) -> bool,
) -> anyhow::Result<u64> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let position = checkpoint(pool, "counter").await?;
        if done(position) {
            return Ok(position);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "checkpoint stuck at {position}, waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The checkpoint once no batch transaction is in flight. Every batch transaction first takes
/// `pg_advisory_xact_lock(hashtext(<projection>))` (batch.rs); taking it here waits until a
/// batch that a killed worker left behind has ended - its COMMIT landed, or the pool rolled it
/// back - so the value read is final for that worker.
async fn settled_checkpoint(pool: &PgPool) -> anyhow::Result<u64> {
    let read = async {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('counter'))")
            .execute(&mut *tx)
            .await?;
        let position: i64 =
            sqlx::query_scalar("SELECT coalesce(max(position), 0)::bigint FROM counter.checkpoint")
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        anyhow::Ok(u64::try_from(position)?)
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .map_err(|_| anyhow::anyhow!("a batch transaction of a killed worker never ended"))?
}

/// Backend pids holding a projection leader lock in this test's database (the two-key
/// advisory locks of leader.rs; other tests' databases have their own).
async fn leader_pids(pool: &PgPool) -> anyhow::Result<Vec<i32>> {
    Ok(sqlx::query_scalar(
        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
         WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted \
         AND d.datname = current_database()",
    )
    .fetch_all(pool)
    .await?)
}

#[tokio::test]
async fn applies_a_batch_and_checkpoints() -> anyhow::Result<()> {
    let env = env().await?;
    let (last, ids) = append_counted(&env.log, 250).await?;
    let worker = spawn(&env, config());
    reach(&env.pool, last).await?;
    worker.stop().await?;

    assert_eq!(checkpoint(&env.pool, "counter").await?, last);
    let rows: BTreeSet<Uuid> = counted_ids(&env.pool).await?.into_iter().collect();
    assert_eq!(rows, ids, "the read model is exactly the appended events");
    assert!(parked(&env.pool).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn killing_the_worker_mid_run_applies_each_event_once() -> anyhow::Result<()> {
    let env = env().await?;
    // A backlog in small batches: 1000 events at 10 a transaction are ~100 commits, so a kill
    // right after the checkpoint moved cannot find the worker through the backlog.
    let (backlog_last, mut ids) = append_counted(&env.log, 1000).await?;
    let small_batches = ProjectorConfig {
        batch_size: 10,
        ..config()
    };
    // More events keep coming while the workers are killed.
    let appender = {
        let log = env.log.clone();
        tokio::spawn(async move { append_counted(&log, 500).await })
    };
    // Kill (abort, no graceful shutdown) a worker several times, each time once it has
    // committed a batch of its own: the checkpoint moved past where the last worker left it.
    let mut previous = 0;
    for round in 0..4 {
        let worker = spawn(&env, small_batches.clone());
        let seen =
            checkpoint_until(&env.pool, "the worker to commit a batch", |p| p > previous).await?;
        // Let the worker take a few more steps (a count of scheduler turns, not a time) so
        // that the kills land at different points: before a commit, between commit and ack,
        // in the middle of fetching. The test runs on a current-thread runtime: the worker
        // only runs while this task waits.
        for _ in 0..round * 3 {
            tokio::task::yield_now().await;
        }
        worker.task.abort();
        let _ = worker.task.await;
        let at_kill = settled_checkpoint(&env.pool).await?;
        // The checkpoint only grows, so `at_kill` (read after the kill) bounds the position
        // at the kill from above, and `seen` (read before it) from below.
        assert!(
            previous < seen && seen <= at_kill && at_kill < backlog_last,
            "round {round}: killed mid-stream, checkpoint {previous} -> {seen} ..= {at_kill}, \
             backlog up to {backlog_last}"
        );
        eprintln!("round {round}: killed at checkpoint {at_kill} of {backlog_last} (seen {seen})");
        previous = at_kill;
    }
    let (last, more) = appender.await??;
    ids.extend(more);
    let worker = spawn(&env, config());
    reach(&env.pool, last).await?;
    worker.stop().await?;

    let rows = counted_ids(&env.pool).await?;
    assert_eq!(rows.len(), ids.len(), "each event applied exactly once");
    assert_eq!(rows.into_iter().collect::<BTreeSet<_>>(), ids);
    assert!(
        parked(&env.pool).await?.is_empty(),
        "no duplicate was parked"
    );
    Ok(())
}

#[tokio::test]
async fn a_poison_event_is_parked_and_the_worker_goes_on() -> anyhow::Result<()> {
    let env = env().await?;
    let (_, before) = append_counted(&env.log, 5).await?;
    let (poison_at, _) = append(&env.log, &[POISON]).await?;
    // A command whose second event fails: the first must not be applied (half a command).
    let (mixed_at, _) = append(&env.log, &[COUNTED, POISON]).await?;
    let (unknown_at, _) = append(&env.log, &["dk.samskab.test.unheard-of.v1"]).await?;
    let (last, after) = append_counted(&env.log, 5).await?;

    let worker = spawn(&env, config());
    reach(&env.pool, last).await?;

    let rows: BTreeSet<Uuid> = counted_ids(&env.pool).await?.into_iter().collect();
    let expected: BTreeSet<Uuid> = before.union(&after).copied().collect();
    assert_eq!(
        rows, expected,
        "good events applied, the failed commands not at all"
    );

    let parked = parked(&env.pool).await?;
    let at = |p: u64| -> Vec<_> { parked.iter().filter(|r| r.0 == p as i64).cloned().collect() };
    let poison = at(poison_at);
    assert_eq!(poison.len(), 1);
    assert_eq!(poison[0].2, POISON);
    assert!(poison[0].3.contains("poison pill"), "{poison:?}");
    let mixed = at(mixed_at);
    assert_eq!(
        mixed.len(),
        2,
        "both events of the failed command are parked"
    );
    assert!(mixed[0].3.starts_with("not applied"), "{mixed:?}");
    assert!(mixed[1].3.contains("poison pill"), "{mixed:?}");
    let unknown = at(unknown_at);
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0].3.contains("unknown event type"), "{unknown:?}");

    // The worker goes on with new events.
    let (later, more) = append_counted(&env.log, 3).await?;
    reach(&env.pool, later).await?;
    worker.stop().await?;
    let rows: BTreeSet<Uuid> = counted_ids(&env.pool).await?.into_iter().collect();
    assert!(more.is_subset(&rows));
    let s = status(&env.pool, &env.log, "counter", "counter").await?;
    assert_eq!(s.parked, 4);
    Ok(())
}

#[tokio::test]
async fn status_reports_lag() -> anyhow::Result<()> {
    let env = env().await?;
    let (last, _) = append_counted(&env.log, 40).await?;
    let s = status(&env.pool, &env.log, "counter", "counter").await?;
    assert_eq!(
        (s.position, s.log_position, s.lag, s.parked),
        (0, last, 40, 0)
    );
    assert_eq!(s.name, "counter");

    let worker = spawn(&env, config());
    reach(&env.pool, last).await?;
    worker.stop().await?;
    let s = status(&env.pool, &env.log, "counter", "counter").await?;
    assert_eq!((s.position, s.log_position, s.lag), (last, last, 0));
    Ok(())
}

#[tokio::test]
async fn rebuild_replays_into_fresh_tables_while_the_live_worker_runs() -> anyhow::Result<()> {
    let env = env().await?;
    let (first_part, mut ids) = append_counted(&env.log, 3000).await?;
    let worker = spawn(&env, config());
    reach(&env.pool, first_part).await?;

    // Damage the live read model: rows lost and rows wrong.
    sqlx::raw_sql(
        "DELETE FROM counter.counted WHERE event_id IN (SELECT event_id FROM counter.counted LIMIT 100);
         UPDATE counter.counted SET n = 99 WHERE event_id IN (SELECT event_id FROM counter.counted LIMIT 50);",
    )
    .execute(&env.pool)
    .await?;

    // Events keep arriving during the rebuild, applied by the live worker to the old tables
    // and by the rebuild to the new ones; after the swap the worker must go on without
    // duplicates or gaps.
    let appender = {
        let log = env.log.clone();
        tokio::spawn(async move { append_counted(&log, 800).await })
    };
    let calls = Arc::new(AtomicU64::new(0));
    let projector = Projector::new(Counter, env.log.clone(), env.pool.clone(), config());
    let report = {
        let calls = calls.clone();
        projector
            .rebuild(move |done, total| {
                assert!(done <= total);
                calls.fetch_add(1, Ordering::Relaxed);
            })
            .await?
    };
    let (last, more) = appender.await??;
    ids.extend(more);
    reach(&env.pool, last).await?;
    worker.stop().await?;

    assert!(calls.load(Ordering::Relaxed) >= 1, "progress was reported");
    assert!(report.position >= first_part);
    assert!(report.events >= 3000);
    let rows = counted_ids(&env.pool).await?;
    assert_eq!(rows.len(), ids.len(), "no duplicates, no missing rows");
    assert_eq!(rows.into_iter().collect::<BTreeSet<_>>(), ids);
    let wrong: i64 = sqlx::query_scalar("SELECT count(*) FROM counter.counted WHERE n <> 0")
        .fetch_one(&env.pool)
        .await?;
    assert_eq!(wrong, 0, "corrupted rows are rebuilt from the log");
    assert_eq!(checkpoint(&env.pool, "counter").await?, last);
    let leftovers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'counter\\_%'")
            .fetch_one(&env.pool)
            .await?;
    assert_eq!(leftovers, 0, "rebuild and old schemas are gone");
    assert!(parked(&env.pool).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn wait_for_position_reports_reached_and_timeout() -> anyhow::Result<()> {
    let env = env().await?;
    let (position, _) = append(&env.log, &[COUNTED]).await?;
    // No worker: the wait runs out and says so (false, not an error); the outer timeout only
    // guards against a wait that never ends.
    let timed_out = tokio::time::timeout(
        PATIENCE,
        wait_for_position(&env.pool, "counter", position, Duration::from_millis(300)),
    )
    .await??;
    assert!(!timed_out, "reported as not reached");
    assert_eq!(checkpoint(&env.pool, "counter").await?, 0);

    // A wait that starts before the worker and ends when the worker gets there: it did wait.
    let waiting = {
        let pool = env.pool.clone();
        tokio::spawn(async move { wait_for_position(&pool, "counter", position, PATIENCE).await })
    };
    // Let it make its first check before there is a worker (current-thread runtime: the
    // spawned task runs when this one yields).
    tokio::task::yield_now().await;
    let worker = spawn(&env, config());
    assert!(waiting.await??, "reached while waiting");
    // Already there: true at once. A zero timeout allows only the first check, so `true`
    // means no waiting was needed.
    assert!(wait_for_position(&env.pool, "counter", position, Duration::ZERO).await?);
    worker.stop().await?;
    Ok(())
}

/// A second projection beside `Counter`, with a schema of its own; it writes nothing.
struct Bystander;

impl Projection for Bystander {
    fn name(&self) -> &'static str {
        "bystander"
    }
    fn schema(&self) -> &'static str {
        "bystander"
    }
    async fn apply(
        &self,
        _conn: &mut sqlx::PgConnection,
        _event: &RecordedEvent,
    ) -> Result<(), ApplyError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_wait_for_a_position_waits_for_the_named_projection_only() -> anyhow::Result<()> {
    let env = env().await?;
    sqlx::raw_sql(
        "CREATE SCHEMA bystander;
         CREATE TABLE bystander.checkpoint (projection text PRIMARY KEY, position bigint NOT NULL);",
    )
    .execute(&env.pool)
    .await?;
    let (position, _) = append(&env.log, &[COUNTED]).await?;

    // Only the bystander runs: it reaches the position, and that says nothing about Counter.
    let shutdown = CancellationToken::new();
    let bystander = Projector::new(Bystander, env.log.clone(), env.pool.clone(), config());
    let token = shutdown.clone();
    let bystander = tokio::spawn(async move { bystander.run(token).await });
    assert!(wait_for_position(&env.pool, "bystander", position, PATIENCE).await?);
    assert!(
        !wait_for_position(&env.pool, "counter", position, Duration::from_millis(300)).await?,
        "counter has not run, whatever the bystander reached"
    );

    // Counter catches up on its own checkpoint.
    let counter = spawn(&env, config());
    assert!(wait_for_position(&env.pool, "counter", position, PATIENCE).await?);
    assert_eq!(counted_ids(&env.pool).await?.len(), 1);
    counter.stop().await?;
    shutdown.cancel();
    bystander.await??;
    Ok(())
}

#[tokio::test]
async fn shutdown_returns_promptly_and_leaves_checkpoint_equal_to_rows() -> anyhow::Result<()> {
    let env = env().await?;
    // A backlog of 20 batches: a shutdown that drained it instead of stopping after the batch
    // in flight would show as a checkpoint at the end of the backlog.
    let (backlog_last, mut ids) = append_counted(&env.log, 2000).await?;
    let appender = {
        let log = env.log.clone();
        tokio::spawn(async move { append_counted(&log, 500).await })
    };
    let worker = spawn(&env, config());
    checkpoint_until(&env.pool, "the first batch", |p| p > 0).await?;
    // The timeout is a hang guard only (the batch in flight may take up to SHUTDOWN_GRACE).
    tokio::time::timeout(PATIENCE, worker.stop())
        .await
        .map_err(|_| anyhow::anyhow!("shutdown did not return"))??;

    // One event per message and nothing else in the stream: positions are 1..n.
    let applied = checkpoint(&env.pool, "counter").await?;
    let rows = counted_ids(&env.pool).await?.len() as u64;
    assert_eq!(applied, rows, "checkpoint and rows moved together");
    assert!(
        0 < applied && applied < backlog_last,
        "stopped after the batch in flight, mid-backlog: checkpoint {applied} of {backlog_last}"
    );

    // A new worker picks up exactly where the old one stopped.
    let (last, more) = appender.await??;
    ids.extend(more);
    let worker = spawn(&env, config());
    reach(&env.pool, last).await?;
    worker.stop().await?;
    let rows = counted_ids(&env.pool).await?;
    assert_eq!(rows.len(), ids.len(), "each event applied once");
    assert_eq!(rows.into_iter().collect::<BTreeSet<_>>(), ids);
    Ok(())
}

#[tokio::test]
async fn a_second_copy_stands_by_and_takes_over() -> anyhow::Result<()> {
    let env = env().await?;
    let first = spawn(&env, config());
    // The first copy is the leader before the second starts: wait for its leader lock.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let first_pid = loop {
        if let [pid] = leader_pids(&env.pool).await?[..] {
            break pid;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the first copy never became leader"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let second = spawn(&env, config());
    let (mid, _) = append_counted(&env.log, 300).await?;
    reach(&env.pool, mid).await?;
    assert_eq!(
        leader_pids(&env.pool).await?,
        vec![first_pid],
        "the second copy stands by while the first leads"
    );
    // The leader goes away; the standby takes over within its poll interval. Only the second
    // copy runs now, so reaching `last` is the takeover.
    first.stop().await?;
    let (last, _) = append_counted(&env.log, 300).await?;
    reach(&env.pool, last).await?;
    let leaders = leader_pids(&env.pool).await?;
    assert!(
        leaders.len() == 1 && leaders[0] != first_pid,
        "the second copy leads now: {leaders:?}"
    );
    second.stop().await?;
    assert_eq!(counted_ids(&env.pool).await?.len(), 600);
    assert!(parked(&env.pool).await?.is_empty());
    Ok(())
}

/// Counts `Unfinished::apply` calls, so the test can wait until the projection has failed and
/// retried instead of sleeping.
static UNFINISHED_ATTEMPTS: AtomicU64 = AtomicU64::new(0);

/// A projection whose table is missing until the test creates it: its SQL fails with 42P01.
struct Unfinished;

impl Projection for Unfinished {
    fn name(&self) -> &'static str {
        "unfinished"
    }
    fn schema(&self) -> &'static str {
        "unfinished"
    }
    async fn apply(
        &self,
        conn: &mut sqlx::PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ApplyError> {
        UNFINISHED_ATTEMPTS.fetch_add(1, Ordering::SeqCst);
        sqlx::query("INSERT INTO seen (event_id) VALUES ($1)")
            .bind(event.envelope.id)
            .execute(conn)
            .await?;
        Ok(())
    }
}

#[tokio::test]
async fn an_sql_error_of_the_projection_is_retried_and_parks_nothing() -> anyhow::Result<()> {
    let env = env().await?;
    sqlx::raw_sql(
        "CREATE SCHEMA unfinished;
         CREATE TABLE unfinished.checkpoint (projection text PRIMARY KEY, position bigint NOT NULL);",
    )
    .execute(&env.pool)
    .await?;
    let (_, ids) = append_counted(&env.log, 3).await?;
    let (position, _) = append(&env.log, &[COUNTED]).await?;

    let shutdown = CancellationToken::new();
    let projector = Projector::new(Unfinished, env.log.clone(), env.pool.clone(), config());
    let token = shutdown.clone();
    let task = tokio::spawn(async move { projector.run(token).await });
    // Failed once, and tried again: the error did not park the event and move on.
    let deadline = std::time::Instant::now() + PATIENCE;
    while UNFINISHED_ATTEMPTS.load(Ordering::SeqCst) < 2 {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "no retry within {PATIENCE:?}"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(parked(&env.pool).await?.is_empty(), "nothing parked");
    assert_eq!(
        checkpoint(&env.pool, "unfinished").await?,
        0,
        "the checkpoint waits"
    );

    // The missing migration arrives: every event is applied, in order, none lost.
    sqlx::raw_sql("CREATE TABLE unfinished.seen (event_id uuid PRIMARY KEY)")
        .execute(&env.pool)
        .await?;
    assert!(wait_for_position(&env.pool, "unfinished", position, PATIENCE).await?);
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM unfinished.seen")
        .fetch_one(&env.pool)
        .await?;
    assert_eq!(seen, i64::try_from(ids.len())? + 1);
    assert!(parked(&env.pool).await?.is_empty());
    shutdown.cancel();
    task.await??;
    Ok(())
}

/// Records the log position of every event it applies, one row each (no key: a duplicate would
/// show as a second row).
struct Positions;

impl Projection for Positions {
    fn name(&self) -> &'static str {
        "positions"
    }
    fn schema(&self) -> &'static str {
        "positions"
    }
    async fn apply(
        &self,
        conn: &mut sqlx::PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ApplyError> {
        sqlx::query("INSERT INTO applied (position) VALUES ($1)")
            .bind(i64::try_from(event.position).unwrap_or(i64::MAX))
            .execute(conn)
            .await?;
        Ok(())
    }
}

async fn create_positions_schema(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::raw_sql(
        "CREATE SCHEMA positions;
         CREATE TABLE positions.checkpoint (projection text PRIMARY KEY, position bigint NOT NULL);
         CREATE TABLE positions.applied (position bigint NOT NULL);",
    )
    .execute(pool)
    .await?;
    Ok(())
}

async fn applied_positions(pool: &PgPool) -> anyhow::Result<Vec<u64>> {
    let positions: Vec<i64> =
        sqlx::query_scalar("SELECT position FROM positions.applied ORDER BY position")
            .fetch_all(pool)
            .await?;
    Ok(positions.into_iter().map(|p| p as u64).collect())
}

const RESTARTS: usize = 3;

/// Polls the checkpoint of `schema` every millisecond until `done(checkpoint)`.
async fn checkpoint_until_in(
    pool: &PgPool,
    schema: &str,
    done: impl Fn(u64) -> bool,
) -> anyhow::Result<u64> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let position = checkpoint(pool, schema).await?;
        if done(position) {
            return Ok(position);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "checkpoint of {schema} stuck at {position}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Appends one counted event, retrying while the log is unreachable (NATS restarting).
async fn append_retrying(log: &EventLog) -> anyhow::Result<u64> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match append(log, &[COUNTED]).await {
            Ok((position, _)) => return Ok(position),
            Err(e) if tokio::time::Instant::now() < deadline => {
                eprintln!("append failed, retrying: {e:#}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[tokio::test]
async fn nats_restarts_while_behind_leave_no_gap() -> anyhow::Result<()> {
    let mut env = env().await?;
    create_positions_schema(&env.pool).await?;
    let (backlog_last, _) = append_counted(&env.log, 5000).await?;
    // Big batches and a long fetch_wait (so the pull stream rides out the restart instead of
    // ending on a missed heartbeat): many messages are in flight when the server dies.
    let config = ProjectorConfig {
        batch_size: 500,
        fetch_wait: Duration::from_secs(10),
        ack_wait: Duration::from_secs(30),
    };
    let shutdown = CancellationToken::new();
    let projector = Projector::new(Positions, env.log.clone(), env.pool.clone(), config);
    let token = shutdown.clone();
    let task = tokio::spawn(async move { projector.run(token).await });

    // Restart (kill -9) while the projector is well behind, several times, each once it has
    // applied something more: thousands are still to come each time.
    let mut previous = 0;
    for _ in 0..RESTARTS {
        let at_restart = checkpoint_until_in(&env.pool, "positions", |p| p > previous).await?;
        env.nats.restart()?;
        eprintln!("restarted NATS at checkpoint {at_restart} of {backlog_last}");
        assert!(at_restart < backlog_last - 1000, "restarted while behind");
        previous = at_restart;
    }

    let mut last = backlog_last;
    for _ in 0..20 {
        last = append_retrying(&env.log).await?;
    }
    assert!(
        wait_for_position(&env.pool, "positions", last, PATIENCE).await?,
        "projection did not reach {last}"
    );
    shutdown.cancel();
    task.await??;

    // Exactly what a clean replay yields: every position once, none skipped.
    let applied = applied_positions(&env.pool).await?;
    let missing: Vec<u64> = (1..=last)
        .filter(|p| applied.binary_search(p).is_err())
        .collect();
    assert!(missing.is_empty(), "positions never applied: {missing:?}");
    assert_eq!(applied, (1..=last).collect::<Vec<_>>());
    Ok(())
}

async fn counted_rows(pool: &PgPool) -> anyhow::Result<BTreeSet<(Uuid, String, i64)>> {
    let rows: Vec<(Uuid, String, i64)> =
        sqlx::query_as("SELECT event_id, entity, n FROM counter.counted")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

#[tokio::test]
async fn a_rebuild_with_short_fetches_swaps_in_the_whole_log() -> anyhow::Result<()> {
    let env = env().await?;
    let (_, _) = append_counted(&env.log, 3000).await?;
    let worker = spawn(&env, config());
    let at_start = env.log.last_position().await?;
    reach(&env.pool, at_start).await?;

    // Events keep arriving, and a reader waits for the newest one, while the rebuild replays
    // in batches of 3 messages: many short fetches, some of them empty while the log goes on.
    let appender = {
        let log = env.log.clone();
        tokio::spawn(async move { append_counted(&log, 300).await })
    };
    let tiny_batches = ProjectorConfig {
        batch_size: 3,
        ..config()
    };
    let projector = Projector::new(Counter, env.log.clone(), env.pool.clone(), tiny_batches);
    let report = projector.rebuild(|_, _| {}).await?;
    let (last, _) = appender.await??;
    assert!(
        wait_for_position(&env.pool, "counter", last, PATIENCE).await?,
        "readers waiting for a position are served after the swap"
    );
    let live = counted_rows(&env.pool).await?;
    worker.stop().await?;

    assert!(
        report.position >= at_start,
        "swapped in at {}, before the log's last position {at_start} at the start",
        report.position
    );
    assert_eq!(live.len() as u64, last, "one row per event, none missing");
    // The same rows as a clean rebuild of the whole log, done with nothing running.
    let report = Projector::new(Counter, env.log.clone(), env.pool.clone(), config())
        .rebuild(|_, _| {})
        .await?;
    assert_eq!(report.position, last);
    assert_eq!(counted_rows(&env.pool).await?, live);
    assert!(parked(&env.pool).await?.is_empty());
    Ok(())
}

/// What a thief takes from `consumer`: up to 5 messages, never acked; their stream sequences.
/// Bounded to 2 s: a pull request to a consumer that its owner deletes meanwhile (a re-align,
/// a replaced replay consumer) may never be answered.
async fn take_without_ack(consumer: &PullConsumer) -> Vec<u64> {
    let take = async {
        let mut taken = Vec::new();
        if let Ok(mut batch) = consumer.fetch().max_messages(5).messages().await {
            while let Some(Ok(message)) = batch.next().await {
                if let Ok(info) = message.info() {
                    taken.push(info.stream_sequence);
                }
            }
        }
        taken
    };
    tokio::time::timeout(Duration::from_secs(2), take)
        .await
        .unwrap_or_default()
}

/// The loss a reconnect can cause, made on purpose: another client pulls messages from the
/// projector's durable consumer and never acks them, so the projector's deliveries skip them.
/// Before the gap check, the projector applied what came next and its ack (`AckPolicy::All`)
/// covered the missing ones, which were then never delivered again.
#[tokio::test]
async fn messages_lost_in_flight_are_delivered_again_not_skipped() -> anyhow::Result<()> {
    let env = env().await?;
    create_positions_schema(&env.pool).await?;
    let (last, _) = append_counted(&env.log, 3000).await?;
    let small_batches = ProjectorConfig {
        batch_size: 10,
        ..config()
    };
    let shutdown = CancellationToken::new();
    let projector = Projector::new(Positions, env.log.clone(), env.pool.clone(), small_batches);
    let token = shutdown.clone();
    let task = tokio::spawn(async move { projector.run(token).await });

    // The thief: from the projector's consumer (again after the projector recreates it, which
    // is what a gap makes it do), take messages and never ack them.
    let stream = env
        .log
        .jetstream()
        .get_stream(&env.log.config().stream)
        .await?;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut stolen = Vec::new();
    while stolen.len() < 50 && checkpoint(&env.pool, "positions").await? < last - 500 {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the thief ran out of time"
        );
        let Ok(consumer) = stream.get_consumer::<pull::Config>("positions").await else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        stolen.extend(take_without_ack(&consumer).await);
    }
    assert!(
        !stolen.is_empty(),
        "the test took no message from the projector"
    );

    assert!(
        wait_for_position(&env.pool, "positions", last, PATIENCE).await?,
        "projection did not reach {last}"
    );
    shutdown.cancel();
    task.await??;
    let applied: BTreeSet<u64> = applied_positions(&env.pool).await?.into_iter().collect();
    let missing: Vec<&u64> = stolen.iter().filter(|p| !applied.contains(p)).collect();
    assert!(
        missing.is_empty(),
        "taken from the projector and never applied: {missing:?}"
    );
    assert_eq!(applied, (1..=last).collect::<BTreeSet<_>>());
    Ok(())
}

/// The same loss during a rebuild: another client pulls messages from the rebuild's replay
/// consumer (again after the rebuild replaces it, which is what a gap makes it do). The replay
/// has no acks, so a taken message never comes back on that consumer. Before the gap check,
/// the rebuild applied what came next and swapped in a read model without the taken ones.
#[tokio::test]
async fn a_rebuild_replays_messages_lost_in_flight_instead_of_skipping_them() -> anyhow::Result<()>
{
    let env = env().await?;
    create_positions_schema(&env.pool).await?;
    let (last, _) = append_counted(&env.log, 3000).await?;
    let small_batches = ProjectorConfig {
        batch_size: 10,
        ..config()
    };

    // The thief: find the replay consumer by its description, take a few messages, and look
    // again (the rebuild replaces its consumer after a gap), until it has taken 50 or the
    // rebuild has returned. (Unbounded, on a busy machine it outpaces the replay, which then
    // spends its time replacing consumers.)
    let done = CancellationToken::new();
    let thief = {
        let done = done.clone();
        let log = env.log.clone();
        tokio::spawn(async move {
            let stream = log.jetstream().get_stream(&log.config().stream).await?;
            let deadline = tokio::time::Instant::now() + PATIENCE;
            let mut stolen = Vec::new();
            while stolen.len() < 50 && !done.is_cancelled() {
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "the thief ran out of time"
                );
                let mut replay = None;
                let mut consumers = stream.consumers();
                while let Some(Ok(info)) = consumers.next().await {
                    if info.config.description.as_deref() == Some("samskab rebuild of positions") {
                        replay = Some(info.name);
                    }
                }
                let consumer = match replay {
                    Some(name) => stream.get_consumer::<pull::Config>(&name).await.ok(),
                    None => None,
                };
                let Some(consumer) = consumer else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                };
                tokio::select! {
                    _ = done.cancelled() => {}
                    taken = take_without_ack(&consumer) => stolen.extend(taken),
                }
            }
            anyhow::Ok(stolen)
        })
    };

    let projector = Projector::new(Positions, env.log.clone(), env.pool.clone(), small_batches);
    let report = projector.rebuild(|_, _| {}).await;
    done.cancel();
    let stolen = thief.await??;
    let report = report?;
    assert!(
        !stolen.is_empty(),
        "the test took no message from the rebuild"
    );
    eprintln!("the thief took {} messages", stolen.len());

    assert_eq!(report.position, last);
    let applied = applied_positions(&env.pool).await?;
    let missing: Vec<&u64> = stolen
        .iter()
        .filter(|p| applied.binary_search(p).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "taken from the rebuild and never applied: {missing:?}"
    );
    assert_eq!(
        applied,
        (1..=last).collect::<Vec<_>>(),
        "every position once, none missing"
    );
    Ok(())
}

/// Writes what each event's `personal` member reads as in `apply`, in a schema named after the
/// projection; keeps the personal data of the kinds it is given.
struct Witness {
    name: &'static str,
    keeps: &'static [&'static str],
}

impl Projection for Witness {
    fn name(&self) -> &'static str {
        self.name
    }
    fn schema(&self) -> &'static str {
        self.name
    }
    fn personal_data_of(&self) -> &'static [&'static str] {
        self.keeps
    }
    async fn apply(
        &self,
        conn: &mut sqlx::PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ApplyError> {
        sqlx::query("INSERT INTO seen (kind, personal) VALUES ($1, $2)")
            .bind(&event.envelope.entitykind)
            .bind(event.envelope.data["personal"].to_string())
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Only a read model that keeps a kind's personal data gets it opened; every other projector
/// reads it as `null`, as it reads a forgotten person's, and never decrypts it.
#[tokio::test]
async fn a_projection_opens_only_the_personal_data_it_keeps() -> anyhow::Result<()> {
    let env = env().await?;
    let witnesses = [
        Witness {
            name: "keeper",
            keeps: &["thing"],
        },
        Witness {
            name: "stranger",
            keeps: &[],
        },
    ];
    for witness in &witnesses {
        // The names are this test's constants.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA {0};
             CREATE TABLE {0}.checkpoint (projection text PRIMARY KEY, position bigint NOT NULL);
             CREATE TABLE {0}.seen (kind text NOT NULL, personal text NOT NULL);",
            witness.name
        )))
        .execute(&env.pool)
        .await?;
    }
    let mut position = 0;
    for kind in ["thing", "other"] {
        let entity = EntityRef::new("testby", kind, &Uuid::now_v7().to_string())?;
        let event = NewEvent {
            event_type: COUNTED.into(),
            data: serde_json::json!({"n": 0, "personal": {"name": "Søren"}}),
        };
        position = log_append(&env.log, &entity, event).await?;
    }

    let shutdown = CancellationToken::new();
    let mut runs = Vec::new();
    for witness in witnesses {
        let projector = Projector::new(witness, env.log.clone(), env.pool.clone(), config());
        let token = shutdown.clone();
        runs.push(tokio::spawn(async move { projector.run(token).await }));
    }
    for name in ["keeper", "stranger"] {
        assert!(wait_for_position(&env.pool, name, position, PATIENCE).await?);
    }
    let seen = |schema: &'static str| {
        let pool = env.pool.clone();
        async move {
            sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(format!(
                "SELECT kind, personal FROM {schema}.seen ORDER BY kind DESC"
            )))
            .fetch_all(&pool)
            .await
        }
    };
    let soeren = r#"{"name":"Søren"}"#.to_string();
    assert_eq!(
        seen("keeper").await?,
        vec![("thing".into(), soeren), ("other".into(), "null".into())]
    );
    assert_eq!(
        seen("stranger").await?,
        vec![
            ("thing".into(), "null".into()),
            ("other".into(), "null".into())
        ]
    );
    shutdown.cancel();
    for run in runs {
        run.await??;
    }
    Ok(())
}

async fn log_append(log: &EventLog, entity: &EntityRef, event: NewEvent) -> anyhow::Result<u64> {
    Ok(log.append(entity, 0, &meta(), vec![event]).await?.position)
}

async fn leader_epoch(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT epoch FROM samskab_runtime.projection_leader WHERE projection = 'counter'",
    )
    .fetch_one(pool)
    .await?)
}

/// A leader whose epoch is no longer the projection's (another copy took over, as
/// `leader::acquire` does when the leader's connection is gone) stands down before its next
/// batch writes, and is elected again; every event is applied once.
#[tokio::test]
async fn a_leader_whose_epoch_has_passed_stands_down_before_writing() -> anyhow::Result<()> {
    let env = env().await?;
    let worker = spawn(&env, config());
    let (first, _) = append_counted(&env.log, 3).await?;
    reach(&env.pool, first).await?;
    let elected = leader_epoch(&env.pool).await?;

    sqlx::query(
        "UPDATE samskab_runtime.projection_leader SET epoch = epoch + 1 WHERE projection = 'counter'",
    )
    .execute(&env.pool)
    .await?;
    let (last, _) = append_counted(&env.log, 5).await?;
    reach(&env.pool, last).await?;
    assert_eq!(
        leader_epoch(&env.pool).await?,
        elected + 2,
        "the fenced copy stood down and took over again with an epoch of its own"
    );
    assert_eq!(counted_ids(&env.pool).await?.len(), 8);
    worker.stop().await?;
    Ok(())
}
