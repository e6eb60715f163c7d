//! `samskab-directory-worker`: runs the directory projection alone, until Ctrl-C or SIGTERM.
//!
//! Thin on purpose: everything it runs is in the library, which the `samskab` binary also runs
//! in-process. Several copies may run at once; they share the durable consumer.

use anyhow::Context;
use clap::Parser;
use samskab_directory_worker::DirectoryProjection;
use samskab_eventlog::{EventLog, LogConfig};
use samskab_privacy::MasterKeys;
use samskab_projection::{CancellationToken, MIGRATOR, Projector, ProjectorConfig};
use sqlx::postgres::PgPoolOptions;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Projects the event log into the directory read model"
)]
struct Args {
    /// The NATS server (or cluster seed) holding the event stream.
    #[arg(long, env = "NATS_URL")]
    nats_url: String,
    /// The PostgreSQL database holding the read models.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Apply pending migrations first. Off by default: in production `samskab migrate` runs once
    /// per deployment, not once per worker copy. (The event stream is never changed here.)
    #[arg(long, env = "SAMSKAB_MIGRATE", default_value_t = false)]
    migrate: bool,
    /// The stream's settings as `samskab migrate` made it; a difference stops the worker.
    #[arg(long, env = "SAMSKAB_STREAM_REPLICAS", default_value_t = 1)]
    stream_replicas: usize,
    #[arg(long, env = "SAMSKAB_DUPLICATE_WINDOW_SECS", default_value_t = 120)]
    duplicate_window_secs: u64,
    #[arg(long, env = "SAMSKAB_MAX_AGE_DAYS", default_value_t = 0)]
    max_age_days: u64,
    /// The master keys that open persons' data keys (as for `samskab`).
    #[arg(long, env = "SAMSKAB_MASTER_KEYS", hide_env_values = true)]
    master_keys: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();

    let config = LogConfig::with_settings(
        args.stream_replicas,
        args.duplicate_window_secs,
        args.max_age_days,
        MasterKeys::parse(&args.master_keys).context("SAMSKAB_MASTER_KEYS")?,
    );
    let log = EventLog::connect(&args.nats_url, config)
        .await
        .context("connecting to the event log")?;
    // The projector holds one connection for its batch transaction; the second serves start-up
    // and any maintenance query the runtime makes beside it.
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&args.database_url)
        .await
        .context("connecting to PostgreSQL")?;
    if args.migrate {
        MIGRATOR.run(&pool).await.context("applying migrations")?;
    }

    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    Projector::new(DirectoryProjection, log, pool, ProjectorConfig::default())
        .run(shutdown)
        .await
        .context("directory projection")?;
    Ok(())
}

/// Ctrl-C (and SIGTERM, which is how a container is stopped) ends the projector after the batch
/// in hand; what was committed is acked, what was not is redelivered to the next copy.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM; Ctrl-C only");
                    let _ = ctrl_c.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutting down");
    shutdown.cancel();
}
