//! Real dependencies for tests: a NATS server of our own per test, a fresh PostgreSQL
//! database per test, an SMTP server per test that needs one (`SmtpServer`: aiosmtpd), and a webhook receiver
//! (`WebhookReceiver`: an HTTP server that keeps what it is sent). Nothing here fakes a service; it only starts and finds the real ones.
//!
//! - `NatsServer::start()` launches the pinned `nats-server` binary (installed by
//!   `deploy/local/install-nats.sh`, or named by `SAMSKAB_NATS_SERVER`) on a free port with its
//!   own JetStream store in a temporary folder, and can `restart()` it mid-test on the same port
//!   and store.
//! - `TestDatabase::create()` makes a database with a random name on the server named by
//!   `DATABASE_URL` (as `deploy/local/services.sh up` writes it to `.data/env`).
//! - With feature `projection`, module `projection`: what every read model's tests share (events as
//!   the runtime hands them over, applying them as the runtime does, the real projector against
//!   these servers, and the "rows follow state" property).

mod database;
mod nats;
#[cfg(feature = "projection")]
pub mod projection;
mod smtp;
mod webhooks;

pub use database::TestDatabase;
pub use nats::NatsServer;
pub use smtp::{ReceivedMail, SmtpServer};
pub use webhooks::{ReceivedHook, WebhookReceiver};

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

/// Every file under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(
    dir: &std::path::Path,
    needle: &[u8],
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && !needle.is_empty()
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                found.push(path);
            }
        }
    }
    Ok(found)
}
