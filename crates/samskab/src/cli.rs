use clap::{Args, Parser, Subcommand, ValueEnum};

/// samskab: the shared backend for municipalities' volunteer social work.
///
/// Every setting can come from a flag or from the environment variable named beside it.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "SAMSKAB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The API and every worker in one process (the default on one machine).
    All(ServeArgs),
    /// The HTTP API alone.
    Api(ServeArgs),
    /// One worker alone (e.g. `directory`), or the outbox's sender (`delivery`); copies of
    /// the sender share the work.
    Worker {
        /// The worker's name.
        name: String,
        #[command(flatten)]
        connections: Connections,
        #[command(flatten)]
        delivery: DeliveryArgs,
    },
    /// Apply the PostgreSQL migrations.
    Migrate {
        #[command(flatten)]
        connections: Connections,
    },
    /// Replay the log into fresh tables of one projection and swap them in.
    Rebuild {
        /// The projection's name (e.g. `directory`).
        projection: String,
        #[command(flatten)]
        connections: Connections,
    },
    /// Load the demo municipalities, organisations and volunteers (idempotent).
    SeedDemo {
        #[command(flatten)]
        connections: Connections,
        /// Volunteers to create per municipality.
        #[arg(long, default_value_t = 40)]
        volunteers: usize,
    },
    /// The audit trail of the grant cases.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the OpenAPI document (what `/openapi.json` serves), for client generators.
    Openapi,
    /// Print demo bearer tokens for each demo municipality and role.
    Tokens {
        #[arg(long, env = "SAMSKAB_JWT_SECRET", hide_env_values = true)]
        jwt_secret: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every record's hash and link of each municipality's chain (or one's) and name
    /// the first changed, inserted, deleted or reordered record. Exits 1 if there is one.
    Verify {
        /// One municipality only.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        connections: Connections,
    },
}

#[derive(Debug, Args, Clone)]
pub struct Connections {
    /// NATS server (2.12 or newer).
    #[arg(long, env = "NATS_URL")]
    pub nats_url: String,
    /// PostgreSQL for the read models.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Replicas of the event stream: 1 on one machine, 3 on a cluster.
    #[arg(long, env = "SAMSKAB_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,
    /// The server's duplicate window for message ids, in seconds.
    #[arg(long, env = "SAMSKAB_DUPLICATE_WINDOW_SECS", default_value_t = 120)]
    pub duplicate_window_secs: u64,
    /// Maximum age of events in days; 0 keeps them forever (the default: an audit log).
    #[arg(long, env = "SAMSKAB_MAX_AGE_DAYS", default_value_t = 0)]
    pub max_age_days: u64,
    /// Master keys that wrap each person's data key: `<id>:<base64 of 32 bytes>`, comma
    /// separated, the active one first (older ones after it, to read keys wrapped before a
    /// rotation). Generate one with: echo "$(date +%Y-%m):$(head -c 32 /dev/urandom | base64)".
    #[arg(long, env = "SAMSKAB_MASTER_KEYS", hide_env_values = true)]
    pub master_keys: String,
    /// Connections in the PostgreSQL pool.
    #[arg(long, env = "SAMSKAB_PG_MAX_CONNECTIONS", default_value_t = 16)]
    pub pg_max_connections: u32,
}

/// How the notify outbox goes out: by mail, and to organisations' webhook endpoints. Without
/// an SMTP server or a webhook key, that channel waits in the outbox (set it and what is held
/// is sent); the in-app inbox needs neither.
#[derive(Debug, Args, Clone)]
pub struct DeliveryArgs {
    /// The SMTP server: `smtp://host:port` (no TLS: a local relay),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or `smtps://host:465`.
    #[arg(long, env = "SAMSKAB_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every mail, e.g. `samskab <noreply@samskab.example.dk>`.
    #[arg(
        long,
        env = "SAMSKAB_MAIL_FROM",
        default_value = "samskab <noreply@samskab.invalid>"
    )]
    pub mail_from: String,
    /// The key each webhook endpoint's signing secret is derived from: the base64 of 32
    /// random bytes (head -c 32 /dev/urandom | base64). Changing it changes every secret.
    #[arg(long, env = "SAMSKAB_WEBHOOK_KEY", hide_env_values = true)]
    pub webhook_key: Option<String>,
    /// Post webhooks over plain http and to this machine's or private networks' addresses:
    /// for a receiver on the same machine (development, tests). Never in production.
    #[arg(long, env = "SAMSKAB_WEBHOOK_ALLOW_LOCAL", default_value_t = false)]
    pub webhook_allow_local: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub connections: Connections,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Address to listen on.
    #[arg(long, env = "SAMSKAB_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Secret for HS256 bearer tokens, at least 32 bytes.
    #[arg(long, env = "SAMSKAB_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: String,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SAMSKAB_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,
    /// How long a query with min_position waits for the read model, in milliseconds.
    #[arg(long, env = "SAMSKAB_READ_WAIT_MS", default_value_t = 5_000)]
    pub read_wait_ms: u64,
    /// How often an open dashboard page fetches its figures again, in seconds; 0: never.
    #[arg(long, env = "SAMSKAB_DASHBOARD_REFRESH_SECS", default_value_t = 30)]
    pub dashboard_refresh_secs: u64,
    /// Print demo tokens and a curl line at start-up (the local stack does).
    #[arg(long)]
    pub print_demo_tokens: bool,
    /// The Ed25519 key that signs audit exports: the base64 of a 32-byte seed. Generate one
    /// with: head -c 32 /dev/urandom | base64. Without it, exports answer 503.
    #[arg(long, env = "SAMSKAB_AUDIT_SIGNING_KEY", hide_env_values = true)]
    pub audit_signing_key: Option<String>,
}
