//! `samskab-bench`: figures for samskab on real servers, each beside a baseline measured in the
//! same run. Not a test: it prints a table. Run it with `bash deploy/local/bench.sh`.
//!
//! 1. Raw JetStream append rate (`EventLog::append`, and a bare publish), 1 and N tasks.
//! 2. Volunteer registrations through the HTTP API (in-process axum), 1 and N clients.
//! 3. Loading an entity's history: batch direct get vs an ordered consumer.
//! 4. Projection throughput (directory worker catching up on a backlog) vs plain INSERTs.
//! 5. Projection lag under a steady, paced load.
//! 6. RSS of `samskab all` in a child process, idle and under load.
//! 7. Matching: top-20 candidates at 100k and 1M volunteers, suggestions among 50k needs.
//! 8. Matching projection: the matching projector catching up on profile updates (vs the
//!    directory projector and plain UPDATEs), and a rebuild from 1M events (vs from 100k).
//! 9. Grants: decisions racing on one pool through the API (vs appends to one subject), with
//!    zero over-commit checked.
//! 10. The audit trail of grant cases: the audit projector catching up on a backlog of grant
//!     events (vs the grants projector on the same), and a pool-year's export and its check by
//!     `deploy/audit/verify_export.py` (vs the aim of 2 s), beside the whole chain's
//!     verification.
//! 11. Delivery of the notify outbox: mail to a local SMTP server (vs lettre alone) and
//!     webhooks to a local receiver (vs plain posts).
//! 12. The dashboards with 100 municipalities' data: the overview page against its three
//!     reports as JSON, and each page's load in Debian's chromium.
//!
//! Each section starts its own `nats-server` (samskab-testkit) and fresh database, so one
//! section's data does not weigh on the next (section 3 reuses section 1's server, whose
//! stream by then holds many subjects, as a real one would).

mod api;
mod append;
mod audit;
mod cpu;
mod dashboard;
mod delivery;
mod driver;
mod fixtures;
mod grants;
mod history;
mod matching;
mod matching_projection;
mod projection;
mod report;
mod rss;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use samskab_eventlog::{EventLog, LogConfig};
use samskab_testkit::NatsServer;

use crate::report::Report;

/// The samskab binary's allocator (see crates/samskab/Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Throughput, latency, projection lag and memory of samskab, on real servers.
#[derive(Debug, Parser, Clone)]
#[command(about)]
pub struct Args {
    /// Sections to run, comma-separated (1 append, 2 API, 3 history load, 4 projection
    /// throughput, 5 projection lag, 6 RSS of `samskab all`, 7 matching queries, 8 matching
    /// projection and rebuild, 9 grant decisions on one pool, 10 audit trail of grant cases,
    /// 11 mail delivery of the notify outbox, 12 dashboards with 100 municipalities).
    #[arg(long, value_delimiter = ',', default_values_t = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])]
    pub sections: Vec<u8>,
    /// Concurrent tasks/clients of the "many" rows.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Warm-up before each measured window, in seconds (not counted).
    #[arg(long, default_value_t = 2.0)]
    pub warmup_secs: f64,
    /// Measured window of each raw append row (section 1).
    #[arg(long, default_value_t = 5.0)]
    pub append_secs: f64,
    /// Measured window of each API row (section 2).
    #[arg(long, default_value_t = 10.0)]
    pub api_secs: f64,
    /// Measured window of each history-load row (section 3).
    #[arg(long, default_value_t = 3.0)]
    pub load_secs: f64,
    /// Events in the loaded entity's history (section 3).
    #[arg(long, default_value_t = 20)]
    pub history_events: usize,
    /// Backlog the directory projector catches up on (section 4).
    #[arg(long, default_value_t = 50_000)]
    pub projection_events: u64,
    /// Rows per transaction of the plain-INSERT baseline (section 4).
    #[arg(long, default_value_t = 500)]
    pub insert_batch: usize,
    /// Commands per second of the steady load (section 5).
    #[arg(long, default_value_t = 500.0)]
    pub lag_rate: f64,
    /// How long the steady load runs, in seconds (section 5).
    #[arg(long, default_value_t = 10.0)]
    pub lag_secs: f64,
    /// Tasks the steady load is spread over (section 5).
    #[arg(long, default_value_t = 8)]
    pub lag_tasks: usize,
    /// How long the clients drive `samskab all`, in seconds (section 6).
    #[arg(long, default_value_t = 10.0)]
    pub rss_secs: f64,
    /// Profile updates the matching projector catches up on (section 8).
    #[arg(long, default_value_t = 50_000)]
    pub profile_updates: u64,
    /// Volunteers the profile updates are spread over (section 8).
    #[arg(long, default_value_t = 5_000)]
    pub profile_volunteers: usize,
    /// Events the matching read model is rebuilt from (section 8; rounded up to whole stories
    /// of 20); the baseline rebuild is from a tenth of them.
    #[arg(long, default_value_t = 1_000_000)]
    pub rebuild_events: u64,
    /// Decisions racing on one pool (section 9), each on an application of its own.
    #[arg(long, default_value_t = 2_000)]
    pub grant_decisions: usize,
    /// Of them, how many the pool's budget cannot take (section 9): refused with 409.
    #[arg(long, default_value_t = 100)]
    pub grant_losers: usize,
    /// Grant cases of section 10 (drafted, submitted, assessed and decided, all in one pool):
    /// the projectors' backlog (about 4 events a case) and the pool-year exported.
    #[arg(long, default_value_t = 10_000)]
    pub audit_cases: usize,
    /// Messages the notify outbox holds for section 11 (each mailed to the local SMTP server).
    #[arg(long, default_value_t = 2_000)]
    pub mails: usize,
    /// Municipalities in the dashboards' read model (section 12).
    #[arg(long, default_value_t = 100)]
    pub dashboard_municipalities: usize,
    /// Volunteers of each of them (section 12), with a need per 15 and a match per 10.
    #[arg(long, default_value_t = 300)]
    pub dashboard_volunteers: usize,
    /// Request rounds of each server-side row (section 12).
    #[arg(long, default_value_t = 300)]
    pub dashboard_requests: usize,
    /// The release `samskab` binary (section 6). Default: <repo>/target/release/samskab.
    #[arg(long)]
    pub samskab_bin: Option<PathBuf>,
}

impl Args {
    pub fn warmup(&self) -> Duration {
        secs(self.warmup_secs)
    }
    fn runs(&self, section: u8) -> bool {
        self.sections.contains(&section)
    }
}

/// The databases this run created, dropped at its end (only these: other runs and tests may
/// share the server).
static DATABASES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A fresh database (samskab-testkit), remembered for [`drop_databases`].
pub async fn fresh_database() -> anyhow::Result<samskab_testkit::TestDatabase> {
    let database = samskab_testkit::TestDatabase::create().await?;
    remember_database(&database.name);
    Ok(database)
}

/// Remembers a database this run created, for [`drop_databases`].
pub fn remember_database(name: &str) {
    if let Ok(mut names) = DATABASES.lock() {
        names.push(name.to_string());
    }
}

async fn drop_databases() -> anyhow::Result<()> {
    use sqlx::{ConnectOptions, Connection};
    use std::str::FromStr;
    let names = DATABASES.lock().map(|n| n.clone()).unwrap_or_default();
    if names.is_empty() {
        return Ok(());
    }
    let url = samskab_testkit::env_or_dotdata("DATABASE_URL").context("DATABASE_URL")?;
    let mut conn = sqlx::postgres::PgConnectOptions::from_str(&url)?
        .database("postgres")
        .connect()
        .await?;
    for name in names {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await?;
    }
    conn.close().await?;
    Ok(())
}

pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // The bench's own progress lines (long steps of section 8) at info.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,samskab_bench=info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let started = Instant::now();
    print_header(&args).await;
    let mut report = Report::default();
    let mut failed = Vec::new();

    // Sections 1 and 3 share one server: section 3 loads from a stream with many subjects.
    let mut shared: Option<(NatsServer, EventLog)> = None;
    if args.runs(1) || args.runs(3) {
        let nats = NatsServer::start().context("starting nats-server")?;
        let log = EventLog::create_or_update(&nats.url(), LogConfig::default()).await?;
        shared = Some((nats, log));
    }

    for section in 1..=12u8 {
        if !args.runs(section) {
            continue;
        }
        let title = match section {
            1 => "Raw JetStream append rate (baseline)",
            2 => "Volunteer registrations through the HTTP API",
            3 => "Loading an entity's history",
            4 => "Projection throughput (directory worker on a backlog)",
            5 => "Projection lag under steady load",
            6 => "RSS of `samskab all`",
            7 => "Matching queries on a large read model",
            8 => "Matching and reporting projections (profile updates; rebuilds)",
            9 => "Grant decisions on one contended pool",
            10 => "The audit trail of grant cases",
            11 => "Mail delivery of the notify outbox",
            _ => "The dashboards with 100 municipalities' data",
        };
        println!("\n== {section}. {title}");
        let outcome = match (section, &shared) {
            (1, Some((_, log))) => append::run(&args, log, &mut report).await,
            (2, _) => api::run(&args, &mut report).await,
            (3, Some((_, log))) => history::run(&args, log, &mut report).await,
            (4, _) => projection::throughput(&args, &mut report).await,
            (5, _) => projection::lag(&args, &mut report).await,
            (6, _) => rss::run(&args, &mut report).await,
            (7, _) => matching::run(&args, &mut report).await,
            (8, _) => matching_projection::run(&args, &mut report).await,
            (9, _) => grants::run(&args, &mut report).await,
            (10, _) => audit::run(&args, &mut report).await,
            (11, _) => delivery::run(&args, &mut report).await,
            (12, _) => dashboard::run(&args, &mut report).await,
            _ => Ok(()),
        };
        if let Err(e) = outcome {
            println!("  section {section} FAILED: {e:#}");
            failed.push(section);
        }
        if section == 3 {
            shared = None;
        }
    }
    drop(shared);
    if let Err(e) = drop_databases().await {
        println!("  (could not drop the bench's databases: {e:#})");
    }

    println!(
        "\n== Summary ({} cores; load generator, API, NATS and PostgreSQL share them) — {:.0} s in all\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        started.elapsed().as_secs_f64()
    );
    report.print_table();
    api::print_headline(&args, &report);
    if !failed.is_empty() {
        anyhow::bail!("sections {failed:?} failed");
    }
    Ok(())
}

async fn print_header(args: &Args) {
    println!("samskab-bench");
    let nats_version = samskab_testkit::env_or_dotdata("SAMSKAB_NATS_SERVER")
        .map(PathBuf::from)
        .or_else(|| {
            let local = samskab_testkit::repo_root().join(".data/bin/nats-server");
            local.exists().then_some(local)
        })
        .and_then(|bin| {
            std::process::Command::new(bin)
                .arg("--version")
                .output()
                .ok()
        })
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let pg_version = pg_version()
        .await
        .unwrap_or_else(|e| format!("unknown ({e:#})"));
    println!(
        "  cores: {}   {nats_version}   {pg_version}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "  warm-up {} s; windows: append {} s, API {} s, load {} s; backlog {} events; lag load {} cmd/s for {} s over {} tasks; RSS load {} s; {} clients; matching: {} profile updates over {} volunteers, rebuild from {} events",
        args.warmup_secs,
        args.append_secs,
        args.api_secs,
        args.load_secs,
        args.projection_events,
        args.lag_rate,
        args.lag_secs,
        args.lag_tasks,
        args.rss_secs,
        args.clients,
        args.profile_updates,
        args.profile_volunteers,
        args.rebuild_events
    );
}

async fn pg_version() -> anyhow::Result<String> {
    use sqlx::Connection;
    let url = samskab_testkit::env_or_dotdata("DATABASE_URL").context("DATABASE_URL")?;
    let mut conn = sqlx::PgConnection::connect(&url).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(format!("PostgreSQL {version}"))
}
