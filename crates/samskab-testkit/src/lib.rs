//! Real dependencies for tests: a NATS server of our own per test, and a fresh PostgreSQL
//! database per test. Nothing here fakes a service; it only starts and finds the real ones.
//!
//! - `NatsServer::start()` launches the pinned `nats-server` binary (installed by
//!   `deploy/local/install-nats.sh`, or named by `SAMSKAB_NATS_SERVER`) on a free port with its
//!   own JetStream store in a temporary folder, and can `restart()` it mid-test on the same port
//!   and store.
//! - `TestDatabase::create()` makes a database with a random name on the server named by
//!   `DATABASE_URL` (as `deploy/local/services.sh up` writes it to `.data/env`).

mod database;
mod nats;

pub use database::TestDatabase;
pub use nats::NatsServer;

/// The repository root, found from this crate's manifest directory.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads `KEY` from the environment, or from `.data/env` (written by `services.sh up`).
pub fn env_or_dotdata(key: &str) -> Option<String> {
    if let Ok(value) = std::env::var(key) {
        return Some(value);
    }
    let text = std::fs::read_to_string(repo_root().join(".data/env")).ok()?;
    text.lines().find_map(|line| {
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (k, v) = line.split_once('=')?;
        (k == key).then(|| v.trim().to_string())
    })
}
