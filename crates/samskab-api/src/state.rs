use std::time::Duration;

use std::sync::Arc;

use samskab_eventlog::EventLog;
use samskab_projection::ReadModel;
use sqlx::PgPool;

use crate::auth::TokenKeys;
use crate::decisions::DecisionCache;
use crate::municipalities::Municipalities;

/// Settings of the HTTP API, validated by the binary at start-up.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Request bodies above this are refused with 413 before they are parsed.
    pub body_limit: usize,
    /// How long a query with `min_position` waits for the read model before answering 503.
    pub read_wait: Duration,
    /// How many times a command is decided again after a concurrent append to the same entity.
    pub conflict_retries: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            read_wait: Duration::from_secs(5),
            conflict_retries: 3,
        }
    }
}

/// What every handler may use. Cheap to clone (handles inside).
#[derive(Clone)]
pub struct AppState {
    pub log: EventLog,
    pub pool: PgPool,
    pub tokens: TokenKeys,
    pub config: ApiConfig,
    /// The read models this installation projects (the binary's registry), for lag reports.
    pub read_models: Arc<[ReadModel]>,
    /// Which tenants are registered municipalities (a token for another is refused).
    pub municipalities: Municipalities,
    /// Entities' decision states between commands (see `decisions.rs`).
    pub decisions: DecisionCache,
    /// Signs the head of every audit export (`routes/audit.rs`); without one, exports are
    /// refused (503).
    pub audit_signer: Option<Arc<samskab_audit_worker::Signer>>,
    /// Derives each webhook endpoint's signing secret (`routes/webhook_endpoints.rs`); without
    /// one, the secret is refused (503).
    pub webhook_key: Option<Arc<samskab_delivery::WebhookKey>>,
    /// Latency and answers by route, for `/metrics`.
    pub metrics: Arc<crate::metrics::HttpMetrics>,
}

impl AppState {
    /// The state of one process: its connections and settings, with empty caches.
    pub fn new(
        log: EventLog,
        pool: PgPool,
        tokens: TokenKeys,
        config: ApiConfig,
        read_models: Arc<[ReadModel]>,
    ) -> Self {
        Self {
            log,
            pool,
            tokens,
            config,
            read_models,
            municipalities: Municipalities::default(),
            decisions: DecisionCache::default(),
            audit_signer: None,
            webhook_key: None,
            metrics: Arc::default(),
        }
    }

    /// The state with the key that signs audit exports (from `SAMSKAB_AUDIT_SIGNING_KEY`).
    pub fn with_audit_signer(mut self, signer: samskab_audit_worker::Signer) -> Self {
        self.audit_signer = Some(Arc::new(signer));
        self
    }

    /// The state with the key webhook secrets are derived from (`SAMSKAB_WEBHOOK_KEY`).
    pub fn with_webhook_key(mut self, key: samskab_delivery::WebhookKey) -> Self {
        self.webhook_key = Some(Arc::new(key));
        self
    }
}
