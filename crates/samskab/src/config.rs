//! Turning flags and environment into the typed configs of each crate, checked once at
//! start-up with messages that say which setting is wrong.

use std::time::Duration;

use anyhow::{Context, bail};
use samskab_eventlog::{EventLog, LogConfig};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::cli::{Connections, ServeArgs};

pub fn log_config(c: &Connections) -> anyhow::Result<LogConfig> {
    if !(1..=5).contains(&c.stream_replicas) {
        bail!(
            "SAMSKAB_STREAM_REPLICAS must be 1 to 5 (got {})",
            c.stream_replicas
        );
    }
    if c.duplicate_window_secs == 0 {
        bail!("SAMSKAB_DUPLICATE_WINDOW_SECS must be at least 1");
    }
    Ok(LogConfig {
        replicas: c.stream_replicas,
        duplicate_window: Duration::from_secs(c.duplicate_window_secs),
        max_age: Duration::from_secs(c.max_age_days * 24 * 3600),
        ..LogConfig::default()
    })
}

pub async fn connect_log(c: &Connections) -> anyhow::Result<EventLog> {
    let config = log_config(c)?;
    EventLog::connect(&c.nats_url, config)
        .await
        .with_context(|| format!("connecting to NATS at {} (NATS_URL)", c.nats_url))
}

pub async fn connect_pg(c: &Connections) -> anyhow::Result<PgPool> {
    if c.pg_max_connections == 0 {
        bail!("SAMSKAB_PG_MAX_CONNECTIONS must be at least 1");
    }
    PgPoolOptions::new()
        .max_connections(c.pg_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&c.database_url)
        .await
        .context("connecting to PostgreSQL (DATABASE_URL)")
}

pub fn api_config(args: &ServeArgs) -> anyhow::Result<samskab_api::ApiConfig> {
    if args.body_limit < 1024 {
        bail!("SAMSKAB_BODY_LIMIT must be at least 1024 bytes");
    }
    Ok(samskab_api::ApiConfig {
        body_limit: args.body_limit,
        read_wait: Duration::from_millis(args.read_wait_ms),
        ..samskab_api::ApiConfig::default()
    })
}

pub fn token_keys(secret: &str) -> anyhow::Result<samskab_api::TokenKeys> {
    if secret.len() < 32 {
        bail!("SAMSKAB_JWT_SECRET must be at least 32 bytes");
    }
    Ok(samskab_api::TokenKeys::from_secret(secret.as_bytes()))
}
