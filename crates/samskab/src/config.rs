//! Turning flags and environment into the typed configs of each crate, checked once at
//! start-up with messages that say which setting is wrong.

use std::time::Duration;

use anyhow::{Context, bail};
use samskab_eventlog::{EventLog, LogConfig};
use samskab_privacy::MasterKeys;
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
    let master_keys = MasterKeys::parse(&c.master_keys).context("SAMSKAB_MASTER_KEYS")?;
    Ok(LogConfig::with_settings(
        c.stream_replicas,
        c.duplicate_window_secs,
        c.max_age_days,
        master_keys,
    ))
}

/// The event log as `samskab migrate` made it; refused if it is missing or set up otherwise.
pub async fn connect_log(c: &Connections) -> anyhow::Result<EventLog> {
    let config = log_config(c)?;
    EventLog::connect(&c.nats_url, config)
        .await
        .with_context(|| format!("connecting to the event log at {} (NATS_URL)", c.nats_url))
}

/// `samskab migrate`: creates the event stream or brings it to these settings.
pub async fn create_or_update_log(c: &Connections) -> anyhow::Result<EventLog> {
    let config = log_config(c)?;
    EventLog::create_or_update(&c.nats_url, config)
        .await
        .with_context(|| {
            format!(
                "creating or updating the event stream at {} (NATS_URL)",
                c.nats_url
            )
        })
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

pub fn dashboard_config(args: &ServeArgs) -> samskab_dashboard::DashboardConfig {
    samskab_dashboard::DashboardConfig {
        refresh: Duration::from_secs(args.dashboard_refresh_secs),
    }
}

/// Words that mark a value copied from an example rather than generated.
const PLACEHOLDERS: [&str; 4] = ["change_me", "changeme", "example", "placeholder"];

/// Below this, a secret could be guessed (estimated as below).
const MIN_SECRET_BITS: f64 = 128.0;

/// How to make a good one, for the error messages.
const GENERATE: &str = "generate one with: head -c 48 /dev/urandom | base64";

/// Anyone who knows the secret can sign a token for any municipality and role, so a copied
/// placeholder or a guessable secret stops start-up.
pub fn token_keys(secret: &str) -> anyhow::Result<samskab_api::TokenKeys> {
    if secret.len() < 32 {
        bail!("SAMSKAB_JWT_SECRET must be at least 32 bytes; {GENERATE}");
    }
    let lower = secret.to_lowercase();
    if let Some(word) = PLACEHOLDERS.iter().find(|word| lower.contains(*word)) {
        bail!("SAMSKAB_JWT_SECRET is a placeholder (it contains {word:?}); {GENERATE}");
    }
    let bits = estimated_bits(secret);
    if bits < MIN_SECRET_BITS {
        bail!(
            "SAMSKAB_JWT_SECRET has too little entropy (about {bits:.0} bits, at least {MIN_SECRET_BITS:.0}); {GENERATE}"
        );
    }
    Ok(samskab_api::TokenKeys::from_secret(secret.as_bytes()))
}

/// Length times the Shannon entropy of the secret's own character frequencies: an upper
/// bound for text, but it catches the usual mistakes (one character repeated, a short
/// alphabet, a pattern typed twice).
fn estimated_bits(secret: &str) -> f64 {
    let mut counts = std::collections::HashMap::<char, usize>::new();
    for c in secret.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let total = secret.chars().count() as f64;
    let per_char: f64 = counts
        .values()
        .map(|&n| {
            let p = n as f64 / total;
            -p * p.log2()
        })
        .sum();
    per_char * total
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn placeholders_and_guessable_secrets_are_refused() {
        for (secret, reason) in [
            ("CHANGE_ME_TO_48_RANDOM_BYTES_BASE64", "placeholder"),
            (
                "an-example-secret-that-is-long-enough-to-pass",
                "placeholder",
            ),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "entropy"),
            ("abababababababababababababababababababab", "entropy"),
            ("short", "at least 32 bytes"),
        ] {
            let error = token_keys(secret)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(reason), "{secret}: {error}");
            assert!(error.contains("SAMSKAB_JWT_SECRET"), "{error}");
        }
    }

    #[test]
    fn generated_secrets_are_accepted() {
        // What `head -c 48 /dev/urandom | base64` and up.sh make.
        assert!(token_keys("q8Kx1m2V9zP0aL3sN7dF4gH6jK5lB2cX8vM1nQ0wE3rT6yU9iO4pA7sD").is_ok());
    }
}
