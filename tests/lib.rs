//! `spawn_app()`: the whole system in the test process, on real servers: a NATS server of its
//! own, a fresh PostgreSQL database, the directory projector, and the HTTP API on port 0.
//! Tests talk to it over HTTP like a client would.

use std::net::SocketAddr;

use samskab_api::{AppState, Party, Role, TokenKeys};
use samskab_domain::TenantId;
use samskab_eventlog::{EventLog, LogConfig, PersonalData};
use samskab_projection::ProjectorConfig;
use samskab_testkit::{NatsServer, TestDatabase};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub address: SocketAddr,
    pub http: reqwest::Client,
    pub keys: TokenKeys,
    pub log: EventLog,
    pub pool: sqlx::PgPool,
    pub nats: NatsServer,
    pub database: TestDatabase,
    pub worker_stop: CancellationToken,
    /// The projectors of every registered read model (`samskab::projections`).
    pub worker: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub server_stop: CancellationToken,
    /// The log's last position after `spawn_app`'s own set-up (the registered municipalities).
    pub setup_position: u64,
}

/// The municipalities every test app has registered (as `seed-demo` does): a token for any
/// other tenant is refused until it is registered.
pub const MUNICIPALITIES: [(&str, u16, &str); 3] = [
    ("rodovre", 175, "Rødovre Kommune"),
    ("roskilde", 265, "Roskilde Kommune"),
    ("syddjurs", 706, "Syddjurs Kommune"),
];

/// Who and why, for an append a test makes itself.
fn meta(actor: &str) -> samskab_eventlog::CommandMeta {
    samskab_eventlog::CommandMeta::by(actor)
}

async fn register_municipalities(log: &EventLog) -> u64 {
    let mut position = 0;
    for (slug, code, name) in MUNICIPALITIES {
        position = register_municipality(log, slug, code, name)
            .await
            .expect("register municipality");
    }
    position
}

/// Appends municipality `slug`'s registration to the log, as `POST /municipalities` would:
/// its log position. Tokens for the tenant hold from then on.
pub async fn register_municipality(
    log: &EventLog,
    slug: &str,
    code: u16,
    name: &str,
) -> anyhow::Result<u64> {
    use samskab_domain::{
        DomainEvent, Kommunekode, MunicipalityEvent, MunicipalityRegistered, Name,
    };
    let event = MunicipalityEvent::Registered(MunicipalityRegistered {
        tenant: TenantId::parse(slug).map_err(anyhow::Error::msg)?,
        kommunekode: Kommunekode::parse(code).map_err(|e| anyhow::anyhow!("{e:?}"))?,
        name: Name::parse(name).map_err(|e| anyhow::anyhow!("{e:?}"))?,
    });
    let entity = samskab_eventlog::EntityRef::new(slug, "municipality", slug)?;
    let events = vec![samskab_eventlog::NewEvent {
        event_type: event.event_type().to_string(),
        data: event.to_payload(),
    }];
    Ok(log
        .append(&entity, 0, &meta("user:test-setup"), events)
        .await?
        .position)
}

pub struct Options {
    pub body_limit: usize,
    pub with_worker: bool,
    /// Sealed with this process's ephemeral master key; plain only for the benchmark's
    /// baseline.
    pub personal_data: PersonalData,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            with_worker: true,
            personal_data: LogConfig::default().personal_data,
        }
    }
}

/// A fresh database with every migration applied; it is dropped with the handle.
pub async fn migrated_database() -> (TestDatabase, sqlx::PgPool) {
    let database = TestDatabase::create().await.expect("create database");
    let pool = database.pool().await.expect("pool");
    samskab_projection::MIGRATOR
        .run(&pool)
        .await
        .expect("migrate");
    (database, pool)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let nats = NatsServer::start().expect("start nats");
    let (database, pool) = migrated_database().await;
    let config = LogConfig {
        personal_data: options.personal_data,
        ..LogConfig::default()
    };
    let log = EventLog::create_or_update(&nats.url(), config)
        .await
        .expect("event log");
    let setup_position = register_municipalities(&log).await;
    let keys = TokenKeys::from_secret(b"a test secret that is long enough for hs256");
    let config = samskab_api::ApiConfig {
        body_limit: options.body_limit,
        ..Default::default()
    };
    let state = AppState::new(
        log.clone(),
        pool.clone(),
        keys.clone(),
        config,
        samskab::projections::read_models().into(),
    );
    // A signing key of this app's own, as the binary takes one from configuration.
    let state = state
        .with_audit_signer(audit_signer())
        .with_webhook_key(webhook_key());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let server_stop = CancellationToken::new();
    let stop = server_stop.clone();
    tokio::spawn(async move {
        axum::serve(listener, http_app(state))
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
    });
    let mut app = TestApp {
        address,
        http: reqwest::Client::new(),
        keys,
        log,
        pool,
        nats,
        database,
        worker_stop: CancellationToken::new(),
        worker: None,
        server_stop,
        setup_position,
    };
    if options.with_worker {
        app.start_worker();
    }
    app
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub fn token(&self, tenant: &str, role: Role) -> String {
        let tenant = TenantId::parse(tenant).expect("tenant");
        self.keys
            .sign(
                &tenant,
                &format!("tester-{}", role.as_str()),
                &[role],
                chrono::Duration::hours(1),
            )
            .expect("sign")
    }

    /// A token of `role` for the staff member `sub` (two committee members are two people).
    pub fn staff_token(&self, tenant: &str, sub: &str, role: Role) -> String {
        let tenant = TenantId::parse(tenant).expect("tenant");
        self.keys
            .sign(&tenant, sub, &[role], chrono::Duration::hours(1))
            .expect("sign")
    }

    /// A token that speaks for one volunteer or organisation of `tenant`.
    pub fn party_token(&self, tenant: &str, party: Party) -> String {
        let tenant = TenantId::parse(tenant).expect("tenant");
        self.keys
            .sign_party(
                &tenant,
                &format!("tester-{}", party.role().as_str()),
                party,
                chrono::Duration::hours(1),
            )
            .expect("sign")
    }

    /// Starts every registered projection, as `samskab all` does.
    pub fn start_worker(&mut self) {
        self.worker_stop = CancellationToken::new();
        let projectors: Vec<_> = samskab::projections::all()
            .iter()
            .map(|r| {
                r.projector(
                    self.log.clone(),
                    self.pool.clone(),
                    ProjectorConfig::default(),
                )
            })
            .collect();
        let stop = self.worker_stop.clone();
        self.worker = Some(tokio::spawn(async move {
            let runs = projectors.into_iter().map(|p| p.run(stop.clone()));
            for result in futures::future::join_all(runs).await {
                result?;
            }
            Ok(())
        }));
    }

    /// Kills the worker task at whatever point it is (no graceful shutdown).
    pub async fn kill_worker(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.abort();
            let _ = worker.await;
        }
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, token, None, body)
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, token, None, body)
            .await
    }

    /// A command with a JSON body, and an `Idempotency-Key` if given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        idempotency_key: Option<&str>,
        body: &Value,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        read(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        read(response).await
    }

    /// Waits until every projection has applied `position` (a hang guard of 60 s, not an
    /// expectation: CI is a busy two-core machine).
    pub async fn projected(&self, position: u64) {
        for model in samskab::projections::read_models() {
            let reached = samskab_projection::wait_for_position(
                &self.pool,
                model.schema,
                position,
                std::time::Duration::from_secs(60),
            )
            .await
            .expect("checkpoint");
            assert!(reached, "{} did not reach position {position}", model.name);
        }
    }

    /// The projections that parked events of `event_type`, in name order.
    pub async fn parked_by(&self, event_type: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT projection FROM samskab_runtime.parked_event WHERE event_type = $1
             ORDER BY projection",
        )
        .bind(event_type)
        .fetch_all(&self.pool)
        .await
        .expect("parked")
    }

    /// Takes volunteer `id`'s børneattest through the workflow, by the municipality, to
    /// `{"status": "requested"}` (consent and request) or `{"status": "approved", "valid_until":
    /// date}` (and an approval assessed today). Its last log position.
    pub async fn certify(&self, token: &str, id: &str, certificate: &Value) -> u64 {
        let municipality = serde_json::json!({ "organisation_id": null });
        let mut steps = vec![("consent", municipality.clone()), ("request", municipality)];
        if certificate["status"] == "approved" {
            let today = samskab_domain::calendar::danish_date(chrono::Utc::now());
            steps.push((
                "assessment",
                serde_json::json!({
                    "result": "approved",
                    "assessed_on": today,
                    "valid_until": certificate["valid_until"],
                }),
            ));
        }
        let mut position = 0;
        for (step, body) in steps {
            position = self
                .accepted(
                    &format!("/volunteers/{id}/child-certificate/{step}"),
                    token,
                    &body,
                )
                .await;
        }
        position
    }

    /// An active association named `name` (e-mail kontakt@example.dk, no CVR), registered by
    /// `token`'s caseworker: its id.
    pub async fn organisation(&self, token: &str, name: &str) -> String {
        let (status, created) = self
            .post("/organisations", token, &organisation_body(name, None))
            .await;
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().expect("id").to_string()
    }

    /// `POST path` with `body`, expected to be accepted (202): the command's log position.
    pub async fn accepted(&self, path: &str, token: &str, body: &Value) -> u64 {
        let (status, accepted) = self.post(path, token, body).await;
        assert_eq!(status, 202, "{path}: {accepted}");
        accepted["position"].as_u64().expect("position")
    }

    /// The log's last position.
    pub async fn log_position(&self) -> u64 {
        self.log.last_position().await.expect("log position")
    }

    /// A second API instance on the same log and database (its own caches), as a deployment
    /// with several API processes has; stopped with this one. Its base URL.
    pub async fn another_api(&self) -> String {
        self.another_api_with_state().await.0
    }

    /// [`TestApp::another_api`], and that instance's state (to look at what it keeps).
    pub async fn another_api_with_state(&self) -> (String, AppState) {
        let state = AppState::new(
            self.log.clone(),
            self.pool.clone(),
            self.keys.clone(),
            samskab_api::ApiConfig::default(),
            samskab::projections::read_models().into(),
        )
        .with_audit_signer(audit_signer())
        .with_webhook_key(webhook_key());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let stop = self.server_stop.clone();
        let router = http_app(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        });
        (format!("http://{address}"), state)
    }

    /// Rebuilds every registered read model from the log, as `samskab rebuild` does.
    pub async fn rebuild_all(&self) {
        for registered in samskab::projections::all() {
            registered
                .projector(
                    self.log.clone(),
                    self.pool.clone(),
                    ProjectorConfig::default(),
                )
                .rebuild(&|_, _| {})
                .await
                .expect("rebuild");
        }
    }

    /// Appends an event straight to the log, bypassing the domain (what another version of
    /// samskab, or someone with write access to the stream, could have written) after
    /// position `expected` of the entity.
    pub async fn append_raw(
        &self,
        entity: &samskab_eventlog::EntityRef,
        expected: u64,
        event_type: &str,
        data: Value,
    ) -> samskab_eventlog::Appended {
        let event = samskab_eventlog::NewEvent {
            event_type: event_type.into(),
            data,
        };
        self.log
            .append(
                entity,
                expected,
                &meta("user:outside-the-domain"),
                vec![event],
            )
            .await
            .expect("append")
    }

    /// Messages appended since `spawn_app`'s set-up: 0 means the test appended nothing.
    pub async fn appended(&self) -> u64 {
        self.log_position().await - self.setup_position
    }
}

pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// The webhook key of every test app (the binary takes one from `SAMSKAB_WEBHOOK_KEY`): the
/// base64 of the bytes 0 to 31, so a test's sender signs with the secrets the API shows.
pub fn webhook_key() -> samskab_delivery::WebhookKey {
    samskab_delivery::WebhookKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        .expect("a webhook key")
}

/// A fresh Ed25519 key for signing audit exports.
pub fn audit_signer() -> samskab_audit_worker::Signer {
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    samskab_audit_worker::Signer::from_seed(seed)
}

/// The canonical volunteer of `samskab_domain::fixtures` (the one the domain's, the workers'
/// and the benchmark's tests use), as a client posts it, under another name (sent as given,
/// so a test can send an invalid one).
pub fn volunteer_body(name: &str) -> Value {
    use samskab_domain::fixtures;
    let personal = fixtures::volunteer_personal("Søren");
    let profile = fixtures::volunteer_profile();
    let texts = |items: Vec<&str>| serde_json::json!(items);
    serde_json::json!({
        "name": name,
        "email": personal.contact.email().map(|e| e.as_str()),
        "phone": personal.contact.phone().map(|p| p.as_str()),
        "birth_year": personal.birth_year,
        "postcode": profile.postcode.as_str(),
        "skills": texts(profile.skills.iter().map(|t| t.as_str()).collect()),
        "resources": texts(profile.resources.iter().map(|t| t.as_str()).collect()),
        "languages": texts(profile.languages.iter().map(|l| l.as_str()).collect()),
        "availability": profile.availability,
        "target_groups": texts(profile.target_groups.iter().map(|g| g.as_str()).collect()),
        "consent": { "purpose": fixtures::volunteer_consent().purpose.as_str() }
    })
}

pub fn organisation_body(name: &str, cvr: Option<&str>) -> Value {
    serde_json::json!({ "name": name, "cvr": cvr, "kind": "association", "email": "kontakt@example.dk" })
}

/// The canonical need (`samskab_domain::fixtures::need_details`: homework help for Ukrainian
/// children, Tuesday evenings in 2610) as a request body, posted by the municipality, running
/// from today for a year (so that it is never over when a test publishes it).
pub fn need_body(title: &str) -> Value {
    use samskab_domain::{NeedPlace, NeedSchedule, fixtures};
    let need = fixtures::need_details(fixtures::need_id(), title);
    let today = samskab_domain::calendar::danish_date(chrono::Utc::now());
    let texts = |items: Vec<&str>| serde_json::json!(items);
    let postcode = match &need.place {
        NeedPlace::AtPostcode(p) => Some(p.as_str().to_string()),
        NeedPlace::Remote => None,
    };
    let weekly = match &need.schedule {
        NeedSchedule::Weekly(availability) => serde_json::json!(availability),
        NeedSchedule::OnDate { .. } => Value::Null,
    };
    serde_json::json!({
        "title": need.title.as_str(),
        "description": need.description.as_str(),
        "target_groups": texts(need.target_groups.iter().map(|g| g.as_str()).collect()),
        "skills_required": texts(need.skills_required.iter().map(|t| t.as_str()).collect()),
        "skills_nice_to_have": texts(need.skills_nice_to_have.iter().map(|t| t.as_str()).collect()),
        "languages": texts(need.languages.iter().map(|l| l.as_str()).collect()),
        "postcode": postcode,
        "weekly": weekly,
        "volunteers_wanted": need.volunteers_wanted.get(),
        "starts_on": today,
        "ends_on": today + chrono::Duration::days(365),
        "children_under_15": need.children_under_15,
    })
}

/// A grant pool of `kind` ("rounds", "rolling", "partnership") taking associations and
/// informal groups, scored on reach (60) and volunteers (40), with a second approver above
/// `second_approval_above` øre.
pub fn pool_body(kind: &str, second_approval_above: i64) -> Value {
    serde_json::json!({
        "name": "§18-puljen",
        "legal_basis": "serviceloven-18",
        "purpose": "Støtte til frivilligt socialt arbejde",
        "kind": kind,
        "applicants": ["association", "informal_group"],
        "criteria": [
            { "key": "reach", "title": "Hvor mange det når", "weight": 60 },
            { "key": "volunteers", "title": "Frivillige", "weight": 40 },
        ],
        "second_approval_above": second_approval_above,
        "audited_accounts_above": 2_000_000,
        "initiative": "Flere frivillige",
        "strategic_goal": null,
    })
}

/// An application's content asking for `requested` øre, in one budget line.
pub fn application_content(title: &str, requested: i64) -> Value {
    serde_json::json!({
        "title": title,
        "purpose": "Lektiehjælp til børn i Islev",
        "activities": "To eftermiddage om ugen",
        "target_group": "Skolebørn 7-14 år",
        "period_from": "2026-08-01",
        "period_to": "2027-06-30",
        "amount_requested": requested,
        "budget_lines": [ { "text": "Materialer og forplejning", "amount": requested } ],
        "expected_volunteers": 8,
        "expected_participants": 40,
        "co_funding": 0,
    })
}

/// An informal group's application to `pool`, with its contact person (personal data).
pub fn group_application_body(pool: &str, title: &str, requested: i64, contact: &str) -> Value {
    let mut content = application_content(title, requested);
    content["group_name"] = serde_json::json!("Strikkeklubben i Islev");
    content["applicant_name"] = serde_json::json!(contact);
    content["applicant_email"] = serde_json::json!("strik@example.dk");
    serde_json::json!({
        "pool_id": pool,
        "applicant_kind": "informal_group",
        "content": content,
    })
}

/// What the binary serves: the API and, beside it, the dashboards, whose pages fetch their
/// figures again every 300 ms here, so a test sees them move without waiting long.
pub fn http_app(state: AppState) -> axum::Router {
    let pages = samskab_dashboard::pages(
        &state,
        samskab_dashboard::DashboardConfig {
            refresh: std::time::Duration::from_millis(300),
        },
    );
    samskab_api::router(state).merge(pages)
}

/// Runs one job through the dashboards' browser harness (`tests/dashboard/browse.mjs`, Debian's
/// chromium; `deploy/local/install-browser.sh` installs it): its one JSON result. Used by
/// `tests/api/dashboard.rs` and the benchmark's section 12.
pub fn browse(job: &Value) -> anyhow::Result<Value> {
    use anyhow::Context;
    use std::io::Write;
    let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/dashboard/browse.mjs");
    let mut child = std::process::Command::new("node")
        .arg(harness)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .context("node (deploy/local/install-browser.sh installs the harness)")?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(job.to_string().as_bytes())?;
    let output = child.wait_with_output()?;
    anyhow::ensure!(output.status.success(), "the browser harness could not run");
    Ok(serde_json::from_slice(&output.stdout)?)
}
