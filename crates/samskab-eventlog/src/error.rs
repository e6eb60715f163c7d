/// Errors of connecting and setting up the stream.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot reach NATS at {url}")]
    Connect {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
    #[error("cannot create, update or read stream {stream}")]
    Stream {
        stream: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    KeyStore(#[from] samskab_privacy::VaultError),
    #[error("stream {stream} does not exist: run `samskab migrate` first")]
    StreamMissing { stream: String },
    #[error(
        "stream {stream} is not as this process is configured ({differences}); only `samskab migrate` changes it: fix the setting, or migrate on purpose"
    )]
    StreamDiffers { stream: String, differences: String },
}

/// Errors of appending a command's events.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another command appended to the entity first; reload and decide again, or report 409.
    #[error("the entity changed since it was read (expected last sequence {expected})")]
    Conflict { expected: u64 },
    /// The idempotency key was used before for a different request.
    #[error("the idempotency key was already used for a different request")]
    KeyReused,
    #[error("a command must append at least one event")]
    Empty,
    #[error("the event log is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Errors of reading from the log.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("message at position {position} is not a CloudEvents batch: {reason}")]
    Malformed { position: u64, reason: String },
    /// Sealed personal data that does not open with its subject's key and its event's id:
    /// changed in the store, or copied there from another event.
    #[error("the personal data of event {index} at position {position} does not open")]
    Unsealable { position: u64, index: usize },
    #[error("the event log is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub(crate) fn unavailable<E: std::error::Error + Send + Sync + 'static>(e: E) -> AppendError {
    AppendError::Unavailable(Box::new(e))
}
