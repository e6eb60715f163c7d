use std::time::Duration;

/// How the event stream is shaped. Loaded once by the binary and passed in.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The JetStream stream name.
    pub stream: String,
    /// First subject tokens; the stream captures `<prefix>.>`.
    pub subject_prefix: String,
    /// 1 on one machine, 3 in production (R3 on a 3-node cluster).
    pub replicas: usize,
    /// Zero keeps events forever, which is what an audit log wants.
    pub max_age: Duration,
    /// The server's own duplicate window for `Nats-Msg-Id`. Idempotency beyond it is read from
    /// the entity's subject (see `idempotency.rs`).
    pub duplicate_window: Duration,
}

impl LogConfig {
    /// The settings an operator gives (`SAMSKAB_STREAM_REPLICAS`, `SAMSKAB_DUPLICATE_WINDOW_SECS`,
    /// `SAMSKAB_MAX_AGE_DAYS`), the rest as default. Every binary builds its config here, so
    /// the same environment means the same stream.
    pub fn with_settings(replicas: usize, duplicate_window_secs: u64, max_age_days: u64) -> Self {
        Self {
            replicas,
            duplicate_window: Duration::from_secs(duplicate_window_secs),
            max_age: Duration::from_secs(max_age_days.saturating_mul(24 * 3600)),
            ..Self::default()
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            stream: "SAMSKAB_EVENTS".into(),
            subject_prefix: "samskab.ev".into(),
            replicas: 1,
            max_age: Duration::ZERO,
            duplicate_window: Duration::from_secs(120),
        }
    }
}
