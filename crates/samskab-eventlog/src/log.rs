use std::time::Duration;

use async_nats::jetstream::{self, stream};
use tracing::info;

use samskab_privacy::stream_check::{self, ShowSetting, StreamCheckError};
use samskab_privacy::{KeyStoreConfig, Vault};

use crate::config::{LogConfig, PersonalData};
use crate::error::LogError;
use crate::snapshot;

/// A handle on the event stream. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct EventLog {
    pub(crate) client: async_nats::Client,
    pub(crate) js: jetstream::Context,
    pub(crate) config: LogConfig,
    /// The data keys; `None` only when personal data is stored plain (the benchmark's baseline).
    pub(crate) vault: Option<Vault>,
}

impl EventLog {
    /// Connects to the stream as `samskab migrate` made it. Never changes it: a stream that is
    /// missing, or whose settings differ from `config` (replicas, maximum age, duplicate
    /// window, ...), is refused with what differs, so a mistyped setting or a process started
    /// with defaults cannot expire every tenant's history or drop replicas.
    #[tracing::instrument(skip(config), fields(stream = %config.stream))]
    pub async fn connect(url: &str, config: LogConfig) -> Result<Self, LogError> {
        let client = Self::connect_client(url).await?;
        Self::with_client(client, config).await
    }

    /// Creates the stream, or brings it to `config`: what `samskab migrate` does, once per
    /// deployment (and what a test does for the server it started).
    #[tracing::instrument(skip(config), fields(stream = %config.stream))]
    pub async fn create_or_update(url: &str, config: LogConfig) -> Result<Self, LogError> {
        let client = Self::connect_client(url).await?;
        let js = jetstream::new(client.clone());
        for wanted in [stream_config(&config), snapshot::stream_config(&config)] {
            js.create_or_update_stream(wanted.clone())
                .await
                .map_err(|e| LogError::Stream {
                    stream: wanted.name.clone(),
                    source: Box::new(e),
                })?;
        }
        info!(
            replicas = config.replicas,
            "event stream created or updated"
        );
        let vault = match &config.personal_data {
            PersonalData::Sealed(master) => {
                Some(Vault::create_or_update(js.clone(), key_store(&config), master.clone()).await?)
            }
            PersonalData::PlainForMeasurementOnly => None,
        };
        Ok(Self {
            client,
            js,
            config,
            vault,
        })
    }

    async fn connect_client(url: &str) -> Result<async_nats::Client, LogError> {
        async_nats::ConnectOptions::new()
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
            })
    }

    /// [`EventLog::connect`] on a client made elsewhere.
    pub async fn with_client(
        client: async_nats::Client,
        config: LogConfig,
    ) -> Result<Self, LogError> {
        let js = jetstream::new(client.clone());
        for wanted in [stream_config(&config), snapshot::stream_config(&config)] {
            check_stream(&js, &wanted).await?;
        }
        let vault = match &config.personal_data {
            PersonalData::Sealed(master) => {
                Some(Vault::connect(js.clone(), key_store(&config), master.clone()).await?)
            }
            PersonalData::PlainForMeasurementOnly => None,
        };
        info!(replicas = config.replicas, "event stream ready");
        Ok(Self {
            client,
            js,
            config,
            vault,
        })
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

/// Refuses a stream that is missing or not as `wanted` (see [`EventLog::connect`]).
async fn check_stream(js: &jetstream::Context, wanted: &stream::Config) -> Result<(), LogError> {
    stream_check::check_stream(js, wanted, &STREAM_SETTINGS)
        .await
        .map_err(|e| match e {
            StreamCheckError::Missing => LogError::StreamMissing {
                stream: wanted.name.clone(),
            },
            StreamCheckError::Differs(differences) => LogError::StreamDiffers {
                stream: wanted.name.clone(),
                differences,
            },
            StreamCheckError::Unavailable(source) => LogError::Stream {
                stream: wanted.name.clone(),
                source,
            },
        })
}

/// The key store beside the stream, with the stream's replicas.
fn key_store(config: &LogConfig) -> KeyStoreConfig {
    KeyStoreConfig {
        stream: config.keys_stream.clone(),
        subject_prefix: config.keys_subject_prefix.clone(),
        replicas: config.replicas,
    }
}

/// What a process checks of the event and snapshot streams: the settings `stream_config` and
/// `snapshot::stream_config` set, with the environment variable named where one sets it.
const STREAM_SETTINGS: [(&str, ShowSetting); 12] = [
    ("subjects", |c| format!("{:?}", c.subjects)),
    ("storage", |c| format!("{:?}", c.storage)),
    ("retention", |c| format!("{:?}", c.retention)),
    ("discard", |c| format!("{:?}", c.discard)),
    ("replicas (SAMSKAB_STREAM_REPLICAS)", |c| {
        c.num_replicas.to_string()
    }),
    ("maximum age (SAMSKAB_MAX_AGE_DAYS)", |c| {
        format!("{:?}", c.max_age)
    }),
    ("duplicate window (SAMSKAB_DUPLICATE_WINDOW_SECS)", |c| {
        format!("{:?}", c.duplicate_window)
    }),
    ("deny delete", |c| c.deny_delete.to_string()),
    ("deny purge", |c| c.deny_purge.to_string()),
    ("direct get", |c| c.allow_direct.to_string()),
    ("atomic publish", |c| c.allow_atomic_publish.to_string()),
    ("maximum message size", |c| c.max_message_size.to_string()),
];

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
