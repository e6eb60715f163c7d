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
