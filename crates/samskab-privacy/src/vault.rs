//! The key store: one data key per data subject, wrapped by the master key, in a JetStream
//! stream of its own (`SAMSKAB_KEYS`, one message per subject). Why JetStream and not a
//! PostgreSQL table: deleting a message from a file-backed stream *erases* it (the server
//! overwrites the stored record with random bytes before it reports success), while PostgreSQL
//! keeps a deleted row's bytes in the table file until its page is rewritten and in the WAL
//! until the segment is recycled. ARCHITECTURE.md has the measurement.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, context::PublishErrorKind, stream};
use bytes::Bytes;
use futures::StreamExt;
use jetstream_extra::batch_fetch::{BatchFetchErrorKind, BatchFetchExt};
use tracing::{debug, error, info, warn};

use crate::cipher::DataKey;
use crate::master::{MasterKeys, UnwrapError, WrappedKey};
use crate::stream_check::{ShowSetting, StreamCheckError, check_stream};

/// A natural person whose personal data is sealed with a key of their own: in this system the
/// entity whose events carry the data (a volunteer; an organisation's contact person).
/// `<tenant>.<kind>.<id>`, each token `[a-z0-9-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataSubject(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a data subject token ([a-z0-9-], 1 to 64 characters)")]
pub struct InvalidSubject(pub String);

impl DataSubject {
    pub fn new(tenant: &str, kind: &str, id: &str) -> Result<Self, InvalidSubject> {
        for token in [tenant, kind, id] {
            let ok = (1..=64).contains(&token.len())
                && token
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(InvalidSubject(token.into()));
            }
        }
        Ok(Self(format!("{tenant}.{kind}.{id}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DataSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the data keys are kept.
#[derive(Debug, Clone)]
pub struct KeyStoreConfig {
    pub stream: String,
    /// Subjects are `<prefix>.<tenant>.<kind>.<id>`.
    pub subject_prefix: String,
    /// As the event stream's: 1 on one machine, 3 in production.
    pub replicas: usize,
}

impl Default for KeyStoreConfig {
    fn default() -> Self {
        Self {
            stream: "SAMSKAB_KEYS".into(),
            subject_prefix: "samskab.key".into(),
            replicas: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the key store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("key store stream {stream} does not exist: run `samskab migrate` first")]
    Missing { stream: String },
    #[error(
        "key store stream {stream} is not as expected ({differences}); only `samskab migrate` changes it"
    )]
    Differs { stream: String, differences: String },
    #[error("the data key of {subject} cannot be used")]
    Unwrap {
        subject: String,
        #[source]
        source: UnwrapError,
    },
    #[error("the stored data key of {subject} is not a wrapped key")]
    Malformed { subject: String },
}

fn unavailable<E: std::error::Error + Send + Sync + 'static>(e: E) -> VaultError {
    VaultError::Unavailable(Box::new(e))
}

/// How many unwrapped data keys a process keeps in memory. A key in the cache is only ever used
/// on events of its subject that are already in the log; a forgotten person's later events
/// carry no personal data, so a key cached elsewhere reveals nothing new. Past the bound, the
/// cache starts over.
const CACHE_CAPACITY: usize = 100_000;

/// What a process checks of the key stream: what makes it a store that erases, one key per
/// subject, and readable by direct get.
const KEY_STREAM_SETTINGS: [(&str, ShowSetting); 7] = [
    ("subjects", |c| format!("{:?}", c.subjects)),
    ("storage", |c| format!("{:?}", c.storage)),
    ("replicas", |c| c.num_replicas.to_string()),
    ("deny delete", |c| c.deny_delete.to_string()),
    ("messages per subject", |c| {
        c.max_messages_per_subject.to_string()
    }),
    ("direct get", |c| c.allow_direct.to_string()),
    ("compression", |c| format!("{:?}", c.compression)),
];

/// Subjects per multi-last direct get (the server's limit).
const SUBJECTS_PER_REQUEST: usize = 1024;

/// The data keys: created with a subject's first personal data, read to seal and open, erased
/// to forget. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    js: jetstream::Context,
    config: KeyStoreConfig,
    master: MasterKeys,
    cache: Mutex<HashMap<DataSubject, DataKey>>,
    /// Ids of the data keys this process erased. A read that fetched a key just before it was
    /// erased must not put it back into the cache after the erasure (it would open a forgotten
    /// person's events again until the process ends): `remember` refuses these. A subject's
    /// next key (an organisation's next contact person) has another id.
    erased: Mutex<HashSet<String>>,
}

impl Vault {
    /// Creates the key stream or brings it to its settings (`samskab migrate`, and tests).
    pub async fn create_or_update(
        js: jetstream::Context,
        config: KeyStoreConfig,
        master: MasterKeys,
    ) -> Result<Self, VaultError> {
        js.create_or_update_stream(stream_config(&config))
            .await
            .map_err(unavailable)?;
        info!(stream = %config.stream, "key store created or updated");
        Ok(Self::new(js, config, master))
    }

    /// Connects to the key stream as `samskab migrate` made it; refuses one that is missing or
    /// differs (a key store that cannot delete is no key store).
    pub async fn connect(
        js: jetstream::Context,
        config: KeyStoreConfig,
        master: MasterKeys,
    ) -> Result<Self, VaultError> {
        check_stream(&js, &stream_config(&config), &KEY_STREAM_SETTINGS)
            .await
            .map_err(|e| match e {
                StreamCheckError::Missing => VaultError::Missing {
                    stream: config.stream.clone(),
                },
                StreamCheckError::Differs(differences) => VaultError::Differs {
                    stream: config.stream.clone(),
                    differences,
                },
                StreamCheckError::Unavailable(e) => VaultError::Unavailable(e),
            })?;
        Ok(Self::new(js, config, master))
    }

    fn new(js: jetstream::Context, config: KeyStoreConfig, master: MasterKeys) -> Self {
        Self {
            inner: Arc::new(Inner {
                js,
                config,
                master,
                cache: Mutex::new(HashMap::new()),
                erased: Mutex::new(HashSet::new()),
            }),
        }
    }

    pub fn config(&self) -> &KeyStoreConfig {
        &self.inner.config
    }

    fn subject_of(&self, subject: &DataSubject) -> String {
        format!("{}.{}", self.inner.config.subject_prefix, subject.as_str())
    }

    fn cached(&self, subject: &DataSubject) -> Option<DataKey> {
        self.inner
            .cache
            .lock()
            .ok()
            .and_then(|cache| cache.get(subject).cloned())
    }

    fn remember(&self, subject: &DataSubject, key: &DataKey) {
        // Checked under the cache's lock, which `forget` takes for its last look too: a key
        // marked erased is either refused here or removed there.
        if let Ok(mut cache) = self.inner.cache.lock() {
            if self
                .inner
                .erased
                .lock()
                .map_or(true, |erased| erased.contains(&key.id))
            {
                return;
            }
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(subject.clone(), key.clone());
        }
    }

    fn unwrap_stored(&self, subject: &DataSubject, payload: &[u8]) -> Result<DataKey, VaultError> {
        let wrapped: WrappedKey =
            serde_json::from_slice(payload).map_err(|_| VaultError::Malformed {
                subject: subject.to_string(),
            })?;
        self.inner
            .master
            .unwrap(subject.as_str(), &wrapped)
            .map_err(|source| VaultError::Unwrap {
                subject: subject.to_string(),
                source,
            })
    }

    /// The data key to seal `subject`'s personal data with, created if it has none. `is_new`
    /// says the subject's entity has no events yet: then the key is created without asking
    /// first (one round trip).
    pub async fn key_for_sealing(
        &self,
        subject: &DataSubject,
        is_new: bool,
    ) -> Result<DataKey, VaultError> {
        if let Some(key) = self.cached(subject) {
            return Ok(key);
        }
        if !is_new && let Some(key) = self.fetch(subject).await? {
            return Ok(key);
        }
        let key = DataKey::generate();
        let published = self.send_key(subject, &key).await?.await;
        match published {
            Ok(_) => {
                self.remember(subject, &key);
                Ok(key)
            }
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                debug!(%subject, "data key created by another writer; using it");
                self.fetch(subject).await?.ok_or_else(|| {
                    unavailable(std::io::Error::other(
                        "the data key vanished while it was created",
                    ))
                })
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// A new subject's data key, its write to the store already sent but not yet confirmed:
    /// the caller publishes what it sealed with it at the same time, then [`Vault::confirm`]s,
    /// so a registration waits for one round trip, not two. Nothing sealed with the key may be
    /// answered as stored before `confirm` succeeded.
    pub async fn start_new_key(&self, subject: &DataSubject) -> Result<PendingKey, VaultError> {
        let key = DataKey::generate();
        let ack = self.send_key(subject, &key).await?;
        Ok(PendingKey {
            subject: subject.clone(),
            key,
            ack: Some(ack),
        })
    }

    async fn send_key(
        &self,
        subject: &DataSubject,
        key: &DataKey,
    ) -> Result<async_nats::jetstream::context::PublishAckFuture, VaultError> {
        let wrapped = self.inner.master.wrap(subject.as_str(), key);
        let payload = serde_json::to_vec(&wrapped).map_err(unavailable)?;
        let mut headers = async_nats::HeaderMap::new();
        // One key per subject: a second writer meets the first one's key.
        headers.insert("Nats-Expected-Last-Subject-Sequence", "0");
        self.inner
            .js
            .publish_with_headers(self.subject_of(subject), headers, Bytes::from(payload))
            .await
            .map_err(unavailable)
    }

    /// Settles a [`PendingKey`]. `sealed_data_stored`: what was sealed with it is in the log
    /// (the event append succeeded); then the store must end up holding this very key, and
    /// this makes sure of it: a key found there instead can only be an earlier attempt's that
    /// sealed nothing that was stored (the entity had no events), so it is erased and replaced.
    /// Otherwise the key is of no use and nothing more is done.
    pub async fn confirm(
        &self,
        mut pending: PendingKey,
        sealed_data_stored: bool,
    ) -> Result<(), VaultError> {
        let first = match pending.ack.take() {
            Some(ack) => ack.await,
            None => return Ok(()),
        };
        if first.is_ok() {
            self.remember(&pending.subject, &pending.key);
            return Ok(());
        }
        if !sealed_data_stored {
            return Ok(());
        }
        let subject = &pending.subject;
        for attempt in 1..=3 {
            let stored = self.fetch_uncached(subject).await;
            match stored {
                Ok(Some(key)) if key.id == pending.key.id => {
                    self.remember(subject, &pending.key);
                    return Ok(());
                }
                Ok(Some(_)) => {
                    warn!(%subject, "an earlier attempt's unused data key is replaced");
                    self.forget(subject).await?;
                }
                Ok(None) => {}
                Err(e) => warn!(%subject, attempt, error = %e, "data key not confirmed; retrying"),
            }
            if let Ok(ack) = self.send_key(subject, &pending.key).await
                && ack.await.is_ok()
            {
                self.remember(subject, &pending.key);
                return Ok(());
            }
        }
        error!(%subject, "personal data was stored but its data key could not be; it cannot be read");
        Err(unavailable(std::io::Error::other(
            "the data key could not be stored",
        )))
    }

    /// The stored key, bypassing this process's cache.
    async fn fetch_uncached(&self, subject: &DataSubject) -> Result<Option<DataKey>, VaultError> {
        let stream = self.stream().await?;
        match stream
            .direct_get_last_for_subject(self.subject_of(subject))
            .await
        {
            Ok(message) => Ok(Some(self.unwrap_stored(subject, &message.payload)?)),
            Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// The data key of one subject; `None` when it has none (forgotten, or never had data).
    pub async fn fetch(&self, subject: &DataSubject) -> Result<Option<DataKey>, VaultError> {
        if let Some(key) = self.cached(subject) {
            return Ok(Some(key));
        }
        let key = self.fetch_uncached(subject).await?;
        if let Some(key) = &key {
            self.remember(subject, key);
        }
        Ok(key)
    }

    /// The data keys of many subjects at once (a projector's batch): one multi-last direct get
    /// per 1024 subjects not in the cache. A subject without a key is absent from the answer.
    pub async fn fetch_many(
        &self,
        subjects: &[DataSubject],
    ) -> Result<HashMap<DataSubject, DataKey>, VaultError> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for subject in subjects {
            match self.cached(subject) {
                Some(key) => {
                    found.insert(subject.clone(), key);
                }
                None if !missing.contains(subject) => missing.push(subject.clone()),
                None => {}
            }
        }
        for chunk in missing.chunks(SUBJECTS_PER_REQUEST) {
            let by_nats_subject: HashMap<String, &DataSubject> =
                chunk.iter().map(|s| (self.subject_of(s), s)).collect();
            let mut batch = match self
                .inner
                .js
                .get_last_messages_for(&self.inner.config.stream)
                .subjects(by_nats_subject.keys().cloned().collect())
                .send()
                .await
            {
                Ok(batch) => batch,
                Err(e) if e.kind() == BatchFetchErrorKind::NoMessages => continue,
                Err(e) => return Err(unavailable(e)),
            };
            while let Some(message) = batch.next().await {
                let message = match message {
                    Ok(message) => message,
                    Err(e) if e.kind() == BatchFetchErrorKind::NoMessages => break,
                    Err(e) => return Err(unavailable(e)),
                };
                let Some(subject) = by_nats_subject.get(message.subject.as_str()) else {
                    continue;
                };
                let key = self.unwrap_stored(subject, &message.payload)?;
                self.remember(subject, &key);
                found.insert((*subject).clone(), key);
            }
        }
        // A subject left out of the answer is asked for alone: only the server's "not found"
        // makes it forgotten, so an answer cut short never writes a person's data as null.
        for subject in &missing {
            if !found.contains_key(subject)
                && let Some(key) = self.fetch(subject).await?
            {
                found.insert(subject.clone(), key);
            }
        }
        Ok(found)
    }

    /// Forgets a subject: erases its data key from the store (the server overwrites the stored
    /// bytes) and from this process's cache. Everything sealed with it can never be opened
    /// again. True when there was a key to erase; forgetting twice is harmless.
    pub async fn forget(&self, subject: &DataSubject) -> Result<bool, VaultError> {
        let cached = self
            .inner
            .cache
            .lock()
            .ok()
            .and_then(|mut cache| cache.remove(subject));
        if let Some(key) = cached {
            self.mark_erased(key.id);
        }
        let stream = self.stream().await?;
        let mut erased = false;
        // One message per subject is kept, but a crash between two writers' publishes could
        // leave a second: erase until none is left.
        loop {
            match stream
                .direct_get_last_for_subject(self.subject_of(subject))
                .await
            {
                Ok(message) => {
                    if let Ok(wrapped) = serde_json::from_slice::<WrappedKey>(&message.payload) {
                        self.mark_erased(wrapped.data_key_id);
                    }
                    // The JetStream API's message delete erases unless told `no_erase`.
                    stream
                        .delete_message(message.sequence)
                        .await
                        .map_err(unavailable)?;
                    erased = true;
                }
                Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => break,
                Err(e) => return Err(unavailable(e)),
            }
        }
        // A read that fetched the key before the erasure may have cached it since.
        if let Ok(mut cache) = self.inner.cache.lock()
            && let Ok(erased_ids) = self.inner.erased.lock()
            && cache
                .get(subject)
                .is_some_and(|key| erased_ids.contains(&key.id))
        {
            cache.remove(subject);
        }
        info!(%subject, erased, "data key forgotten");
        Ok(erased)
    }

    fn mark_erased(&self, key_id: String) {
        if let Ok(mut erased) = self.inner.erased.lock() {
            erased.insert(key_id);
        }
    }

    async fn stream(&self) -> Result<jetstream::stream::Stream<()>, VaultError> {
        self.inner
            .js
            .get_stream_no_info(&self.inner.config.stream)
            .await
            .map_err(unavailable)
    }
}

/// A new subject's data key whose write is in flight (see [`Vault::start_new_key`]).
pub struct PendingKey {
    subject: DataSubject,
    key: DataKey,
    ack: Option<async_nats::jetstream::context::PublishAckFuture>,
}

impl PendingKey {
    pub fn key(&self) -> &DataKey {
        &self.key
    }
}

/// The key stream: file storage like the log; one message per subject; delete allowed (that is
/// how a key is forgotten), purge denied (no bulk loss by one call); no compression, so that the
/// server's erase overwrites the very bytes it stored.
fn stream_config(config: &KeyStoreConfig) -> stream::Config {
    stream::Config {
        name: config.stream.clone(),
        description: Some("samskab: one wrapped data key per data subject".into()),
        subjects: vec![format!("{}.>", config.subject_prefix)],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        num_replicas: config.replicas,
        max_messages_per_subject: 1,
        deny_delete: false,
        deny_purge: true,
        allow_direct: true,
        compression: Some(stream::Compression::None),
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use samskab_testkit::NatsServer;

    /// A read that fetched the key just before `forget` erased it (the projector fetching a
    /// batch's keys while a forget runs) must not leave it in the cache: it would open the
    /// forgotten person's events again in this process. Found as a flaky export test.
    #[tokio::test]
    async fn a_key_read_just_before_its_erasure_is_not_cached_after_it() -> anyhow::Result<()> {
        let server = NatsServer::start()?;
        let client = async_nats::connect(server.url()).await?;
        let js = jetstream::new(client);
        let vault =
            Vault::create_or_update(js, KeyStoreConfig::default(), MasterKeys::generate("k1"))
                .await?;
        let soeren = DataSubject::new("rodovre", "volunteer", "soeren")?;
        let in_flight = vault.key_for_sealing(&soeren, true).await?;
        assert!(vault.forget(&soeren).await?);
        // The read in flight comes back now, after the erasure.
        vault.remember(&soeren, &in_flight);
        assert_eq!(vault.fetch(&soeren).await?, None);

        // The subject's next key (an organisation's next contact person) is cached as usual.
        let next = vault.key_for_sealing(&soeren, false).await?;
        assert_ne!(next.id, in_flight.id);
        assert_eq!(vault.cached(&soeren), Some(next));
        Ok(())
    }
}
