//! Sections 4 and 5: the directory worker, fed realistic volunteer registrations.
//!
//! 4. Throughput: a backlog of N registrations is appended with no worker running; then a
//!    `Projector` starts and is timed until the checkpoint reaches the last position. The
//!    baseline is PostgreSQL alone: N plain INSERTs, one statement per row, in transactions of
//!    the projector's batch size.
//! 5. Lag: the worker runs while commands arrive at a steady rate; each command's lag is the
//!    time from its append ack until the checkpoint covers its position.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use samskab_directory_worker::DirectoryProjection;
use samskab_eventlog::{EventLog, LogConfig};
use samskab_projection::{CancellationToken, Projection, Projector, ProjectorConfig, checkpoint};
use samskab_testkit::{NatsServer, TestDatabase};
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::Args;
use crate::driver::{histogram, quantile, record};
use crate::fixtures::{RegistrationTemplate, meta};
use crate::report::{Figure, Of, Report, ms};

/// The directory read model's schema, from the catalogue.
const SCHEMA: &str = samskab_directory_worker::READ_MODEL.schema;

/// Acked commands not yet covered by the checkpoint: (position, ack instant), lowest first.
type Waiting = BinaryHeap<Reverse<(u64, Instant)>>;

/// A `nats-server` and a fresh, migrated database of one section's own (section 8 too).
pub(crate) struct Servers {
    _nats: NatsServer,
    _database: TestDatabase,
    pub(crate) log: EventLog,
    pub(crate) pool: PgPool,
}

pub(crate) async fn fresh_servers() -> anyhow::Result<Servers> {
    let nats = NatsServer::start()?;
    let database = crate::fresh_database().await?;
    let pool = database.pool().await?;
    samskab_projection::MIGRATOR
        .run(&pool)
        .await
        .context("migrations")?;
    let log = EventLog::create_or_update(&nats.url(), LogConfig::default()).await?;
    Ok(Servers {
        _nats: nats,
        _database: database,
        log,
        pool,
    })
}

pub(crate) struct Worker {
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// A `Projector` of `projection` running on the servers until [`Worker::stop`].
pub(crate) fn start_worker<P: Projection>(servers: &Servers, projection: P) -> Worker {
    let projector = Projector::new(
        projection,
        servers.log.clone(),
        servers.pool.clone(),
        ProjectorConfig::default(),
    );
    let stop = CancellationToken::new();
    let token = stop.clone();
    Worker {
        stop,
        handle: tokio::spawn(async move { projector.run(token).await }),
    }
}

impl Worker {
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .context("the projector did not stop within 10 s")???;
        Ok(())
    }
}

/// Waits until the checkpoint of the read model in `schema` reaches `position`, polling every
/// `every`.
pub(crate) async fn caught_up(
    pool: &PgPool,
    schema: &str,
    position: u64,
    every: Duration,
    timeout: Duration,
    worker: &Worker,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let at = checkpoint(pool, schema).await?;
        if at >= position {
            return Ok(());
        }
        if worker.handle.is_finished() {
            bail!("the projector stopped at {at}, short of {position}");
        }
        if Instant::now() > deadline {
            bail!("checkpoint at {at} after {timeout:?}, short of {position}");
        }
        tokio::time::sleep(every).await;
    }
}

pub async fn throughput(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let servers = fresh_servers().await?;
    let n = args.projection_events;
    let template = Arc::new(RegistrationTemplate::new()?);

    // The backlog, from `clients` tasks.
    let next = Arc::new(AtomicU64::new(0));
    let last = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let cpu = crate::cpu::snapshot();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (log, template, next, last) = (
            servers.log.clone(),
            template.clone(),
            next.clone(),
            last.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let registration = template.registration()?;
                let appended = log
                    .append(&registration.entity, 0, &meta(), vec![registration.event])
                    .await?;
                last.fetch_max(appended.position, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let cpu = cpu_note(&cpu, n, elapsed);
    let last = last.load(Ordering::Relaxed);
    let mut figure = Figure::new(
        4,
        "backlog.append",
        format!("append {n} registrations (backlog), {} tasks", args.clients),
        n as f64 / elapsed.as_secs_f64(),
        "ev/s",
    )
    .note(cpu);
    figure.ratio = report.ratio(figure.value, "append.n", Of::Value);
    report.add(figure);

    // Baseline: PostgreSQL alone.
    let cpu = crate::cpu::snapshot();
    let started = Instant::now();
    let rate = insert_baseline(&servers.pool, n, args.insert_batch, &template).await?;
    let cpu = cpu_note(&cpu, n, started.elapsed());
    report.add(
        Figure::new(
            4,
            "pg.insert",
            format!(
                "plain INSERT, {} rows/transaction, 1 statement/row",
                args.insert_batch
            ),
            rate,
            "rows/s",
        )
        .note(cpu),
    );

    // The worker on the backlog.
    let started = Instant::now();
    let cpu = crate::cpu::snapshot();
    let worker = start_worker(&servers, DirectoryProjection);
    caught_up(
        &servers.pool,
        SCHEMA,
        last,
        Duration::from_millis(2),
        Duration::from_secs(600),
        &worker,
    )
    .await?;
    let elapsed = started.elapsed();
    let mut note = cpu_note(&cpu, n, elapsed);
    worker.stop().await?;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM directory.volunteer")
        .fetch_one(&servers.pool)
        .await?;
    let parked: i64 = sqlx::query_scalar("SELECT count(*) FROM samskab_runtime.parked_event")
        .fetch_one(&servers.pool)
        .await?;
    let mut figure = Figure::new(
        4,
        "projector",
        format!("directory projector catching up on {n} events"),
        n as f64 / elapsed.as_secs_f64(),
        "ev/s",
    );
    figure.ratio = report.ratio(figure.value, "pg.insert", Of::Value);
    if rows != i64::try_from(n).unwrap_or(i64::MAX) || parked != 0 {
        note.push_str(&format!(
            "; CHECK: {rows} volunteer rows, {parked} parked events"
        ));
    }
    report.add(figure.note(note));
    Ok(())
}

/// `n` rows into a scratch table shaped like a read-model row (uuid key, a few columns, the
/// event's JSON), `batch` per transaction, one INSERT per row, on one connection: what one
/// applier can do when PostgreSQL is the only work.
async fn insert_baseline(
    pool: &PgPool,
    n: u64,
    batch: usize,
    template: &RegistrationTemplate,
) -> anyhow::Result<f64> {
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql(
        "CREATE TABLE public.bench_scratch (id uuid PRIMARY KEY, tenant text NOT NULL, \
         name text NOT NULL, postcode text NOT NULL, data jsonb NOT NULL, position bigint NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let payload = template.registration()?.event.data;
    let started = Instant::now();
    let mut written = 0u64;
    while written < n {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for _ in 0..batch.max(1) {
            if written == n {
                break;
            }
            written += 1;
            sqlx::query(
                "INSERT INTO public.bench_scratch (id, tenant, name, postcode, data, position) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(uuid::Uuid::now_v7())
            .bind("rodovre")
            .bind("Søren Frivillig")
            .bind("2610")
            .bind(&payload)
            .bind(i64::try_from(written).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

pub async fn lag(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let servers = fresh_servers().await?;
    let template = Arc::new(RegistrationTemplate::new()?);
    let worker = start_worker(&servers, DirectoryProjection);

    // Warm up: the consumer exists and the first batch has gone through.
    let registration = template.registration()?;
    let first = servers
        .log
        .append(&registration.entity, 0, &meta(), vec![registration.event])
        .await?;
    caught_up(
        &servers.pool,
        SCHEMA,
        first.position,
        Duration::from_millis(5),
        Duration::from_secs(30),
        &worker,
    )
    .await?;

    // Waiting commands: (position, ack instant), smallest position first.
    let waiting: Arc<Mutex<Waiting>> = Arc::default();
    let tasks = args.lag_tasks.max(1);
    let rate = args.lag_rate.max(1.0);
    let period = Duration::from_secs_f64(tasks as f64 / rate);
    let per_task = (rate * args.lag_secs / tasks as f64).round() as u64;
    let errors = Arc::new(AtomicU64::new(0));
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut senders = Vec::new();
    for i in 0..tasks {
        let (log, template, waiting, errors) = (
            servers.log.clone(),
            template.clone(),
            waiting.clone(),
            errors.clone(),
        );
        // Staggered so the tasks together tick evenly.
        let offset = Duration::from_secs_f64(i as f64 / rate);
        senders.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(start + offset, period);
            for _ in 0..per_task {
                ticks.tick().await;
                let registration = template.registration()?;
                match log
                    .append(&registration.entity, 0, &meta(), vec![registration.event])
                    .await
                {
                    Ok(appended) => waiting
                        .lock()
                        .await
                        .push(Reverse((appended.position, Instant::now()))),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            anyhow::Ok(())
        }));
    }

    // The poller: every 1 ms, read the checkpoint and resolve every command it covers.
    let done = CancellationToken::new();
    let poller = {
        let (pool, waiting, done) = (servers.pool.clone(), waiting.clone(), done.clone());
        tokio::spawn(async move {
            let mut lags = histogram();
            let mut resolved = 0u64;
            let mut ticks = tokio::time::interval(Duration::from_millis(1));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                ticks.tick().await;
                let at = checkpoint(&pool, SCHEMA).await?;
                let now = Instant::now();
                let mut waiting = waiting.lock().await;
                while let Some(Reverse((position, acked))) = waiting.peek().copied() {
                    if position > at {
                        break;
                    }
                    waiting.pop();
                    record(&mut lags, now.saturating_duration_since(acked));
                    resolved += 1;
                }
                if done.is_cancelled() && waiting.is_empty() {
                    return anyhow::Ok((lags, resolved));
                }
            }
        })
    };
    let sending = start.into_std();
    tokio::time::sleep_until(start).await;
    let cpu = crate::cpu::snapshot();
    for sender in senders {
        sender.await??;
    }
    let sent_for = sending.elapsed();
    let cpu = cpu_note(&cpu, 0, sent_for);
    done.cancel();
    let (lags, resolved) = tokio::time::timeout(Duration::from_secs(60), poller)
        .await
        .context("the checkpoint did not cover every command within 60 s")???;
    worker.stop().await?;

    let errors = errors.load(Ordering::Relaxed);
    let issued = resolved + errors;
    let p99 = quantile(&lags, 0.99);
    let mut figure = Figure::new(
        5,
        "lag",
        format!("projection lag (append ack → checkpoint), {rate:.0} cmd/s, {tasks} tasks"),
        ms(p99),
        "ms p99",
    )
    .latency(
        quantile(&lags, 0.50),
        p99,
        Duration::from_micros(lags.max()),
    )
    .note(format!(
        "{resolved} commands at {:.0} cmd/s achieved, {errors} append errors; checkpoint polled every 1 ms; {cpu}",
        issued as f64 / sent_for.as_secs_f64()
    ));
    figure.ratio = report.ratio(ms(p99), "append.1", Of::P99);
    report.add(figure);
    Ok(())
}

pub(crate) fn cpu_note(before: &crate::cpu::Snapshot, ops: u64, elapsed: Duration) -> String {
    crate::cpu::usage(before, &crate::cpu::snapshot())
        .map(|usage| usage.describe(ops, elapsed))
        .unwrap_or_default()
}
