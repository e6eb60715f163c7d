use std::time::Duration;

use samskab_privacy::MasterKeys;

/// How events' personal data is stored.
#[derive(Debug, Clone)]
pub enum PersonalData {
    /// Sealed with a key per data subject, the keys wrapped by these master keys. Always, in
    /// every process the binary starts.
    Sealed(MasterKeys),
    /// Stored as the domain wrote it. Only the benchmark's baseline builds this, to measure
    /// what sealing costs; no binary can be configured so.
    PlainForMeasurementOnly,
}

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
    /// Personal data sealed with which master keys (see `personal.rs`).
    pub personal_data: PersonalData,
    /// The key store's stream and subject prefix (`samskab-privacy`).
    pub keys_stream: String,
    pub keys_subject_prefix: String,
    /// The snapshot stream and its subject prefix (`snapshot.rs`).
    pub snapshots_stream: String,
    pub snapshots_subject_prefix: String,
}

impl LogConfig {
    /// The settings an operator gives (`SAMSKAB_STREAM_REPLICAS`, `SAMSKAB_DUPLICATE_WINDOW_SECS`,
    /// `SAMSKAB_MAX_AGE_DAYS`), the rest as default. Every binary builds its config here, so
    /// the same environment means the same stream.
    pub fn with_settings(
        replicas: usize,
        duplicate_window_secs: u64,
        max_age_days: u64,
        master_keys: MasterKeys,
    ) -> Self {
        Self {
            personal_data: PersonalData::Sealed(master_keys),
            replicas,
            duplicate_window: Duration::from_secs(duplicate_window_secs),
            max_age: Duration::from_secs(max_age_days.saturating_mul(24 * 3600)),
            ..Self::default()
        }
    }
}

/// Tests' and benchmarks' settings: personal data sealed with this process's ephemeral master
/// key (every `default()` in one process shares it), so what one `EventLog` seals another opens.
impl Default for LogConfig {
    fn default() -> Self {
        Self {
            stream: "SAMSKAB_EVENTS".into(),
            subject_prefix: "samskab.ev".into(),
            replicas: 1,
            max_age: Duration::ZERO,
            duplicate_window: Duration::from_secs(120),
            personal_data: PersonalData::Sealed(MasterKeys::ephemeral()),
            keys_stream: "SAMSKAB_KEYS".into(),
            keys_subject_prefix: "samskab.key".into(),
            snapshots_stream: "SAMSKAB_SNAPSHOTS".into(),
            snapshots_subject_prefix: "samskab.snap".into(),
        }
    }
}
