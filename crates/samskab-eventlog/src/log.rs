use std::time::Duration;

use async_nats::jetstream::{self, stream};
use tracing::info;

use crate::config::LogConfig;
use crate::error::LogError;

/// A handle on the event stream. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct EventLog {
    pub(crate) client: async_nats::Client,
    pub(crate) js: jetstream::Context,
    pub(crate) config: LogConfig,
}

impl EventLog {
    /// Connects and creates or updates the stream, so a fresh server and an upgraded one end in
    /// the same shape.
    #[tracing::instrument(skip(config), fields(stream = %config.stream))]
    pub async fn connect(url: &str, config: LogConfig) -> Result<Self, LogError> {
        let client = async_nats::ConnectOptions::new()
            .name("samskab")
            .connection_timeout(Duration::from_secs(5))
            // Reconnect quickly after a server restart (a rolling upgrade of the cluster), backing
            // off to at most two seconds; the default waits up to several seconds from the start.
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((attempts as u64 * 100).min(2_000))
            })
            .request_timeout(Some(Duration::from_secs(5)))
            .connect(url)
            .await
            .map_err(|source| LogError::Connect {
                url: url.to_string(),
                source,
            })?;
        Self::with_client(client, config).await
    }

    pub async fn with_client(
        client: async_nats::Client,
        config: LogConfig,
    ) -> Result<Self, LogError> {
        let js = jetstream::new(client.clone());
        js.create_or_update_stream(stream_config(&config))
            .await
            .map_err(|e| LogError::Stream {
                stream: config.stream.clone(),
                source: Box::new(e),
            })?;
        info!(replicas = config.replicas, "event stream ready");
        Ok(Self { client, js, config })
    }

    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The stream's last sequence: the newest log position.
    pub async fn last_position(&self) -> Result<u64, crate::LoadError> {
        let mut stream = self
            .js
            .get_stream(&self.config.stream)
            .await
            .map_err(|e| crate::LoadError::Unavailable(Box::new(e)))?;
        let info = stream
            .info()
            .await
            .map_err(|e| crate::LoadError::Unavailable(Box::new(e)))?;
        Ok(info.state.last_sequence)
    }

    /// True while the connection to NATS is up (for readiness checks).
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }
}

/// The one stream. Delete and purge are denied: the history of a grant decision cannot be
/// rewritten, not even by an operator with the API's credentials.
pub(crate) fn stream_config(config: &LogConfig) -> stream::Config {
    stream::Config {
        name: config.stream.clone(),
        description: Some("samskab: every event of every tenant".into()),
        subjects: vec![format!("{}.>", config.subject_prefix)],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::New,
        num_replicas: config.replicas,
        max_age: config.max_age,
        duplicate_window: config.duplicate_window,
        deny_delete: true,
        deny_purge: true,
        allow_direct: true,
        allow_atomic_publish: true,
        max_message_size: 1024 * 1024,
        ..Default::default()
    }
}
