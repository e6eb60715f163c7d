//! Section 2: `POST /volunteers` through the real router, served in-process on 127.0.0.1:0
//! as in tests/lib.rs, with the directory projector running beside it.

use std::time::Duration;

use anyhow::bail;
use bytes::Bytes;
use samskab_api::{Role, TokenKeys};
use samskab_domain::TenantId;

use crate::append::{plural, with_errors};
use crate::driver::{Run, closed_loop};
use crate::fixtures::TENANT;
use crate::report::{Figure, Of, Report};
use crate::{Args, secs};
use samskab_e2e::volunteer_body;

pub fn caseworker_token(keys: &TokenKeys) -> anyhow::Result<String> {
    let tenant = TenantId::parse(TENANT).map_err(anyhow::Error::msg)?;
    keys.sign(
        &tenant,
        "bench-caseworker",
        &[Role::Caseworker],
        chrono::Duration::hours(2),
    )
}

pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// `clients` clients posting registrations back to back (keep-alive); with `idempotency`,
/// every request carries an `Idempotency-Key` of its own.
pub async fn drive_registrations(
    base_url: &str,
    token: &str,
    clients: usize,
    warmup: Duration,
    window: Duration,
    idempotency: Option<String>,
) -> anyhow::Result<Run> {
    let http = http_client()?;
    let url = format!("{base_url}/volunteers");
    let body = Bytes::from(serde_json::to_vec(&volunteer_body("Frivillig Bench"))?);
    let auth = format!("Bearer {token}");
    closed_loop(clients, warmup, window, move |task, n| {
        let mut request = http
            .post(&url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .body(body.clone());
        if let Some(label) = &idempotency {
            request = request.header("Idempotency-Key", format!("bench-{label}-{task}-{n}"));
        }
        async move {
            let response = request.send().await?;
            let status = response.status();
            let text = response.bytes().await?;
            if status != reqwest::StatusCode::CREATED {
                bail!("HTTP {status}: {}", String::from_utf8_lossy(&text));
            }
            Ok(())
        }
    })
    .await
}

/// The whole system in this process, as the end-to-end tests run it (`samskab_e2e::spawn_app`:
/// its own NATS server, a fresh database, the router on 127.0.0.1:0, the directory projector).
async fn spawn_in_process() -> samskab_e2e::TestApp {
    let app = samskab_e2e::spawn_app().await;
    crate::remember_database(&app.database.name);
    app
}

pub async fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let mut app = spawn_in_process().await;
    let base_url = app.url("");
    let token = app.token(TENANT, Role::Caseworker);
    let rows = [
        (1, "api.1", "append.1", None),
        (args.clients, "api.n", "append.n", None),
        (args.clients, "api.n.key", "append.n", Some("key")),
    ];
    for (clients, key, base, idempotency) in rows {
        let run = drive_registrations(
            &base_url,
            &token,
            clients,
            args.warmup(),
            secs(args.api_secs),
            idempotency.map(String::from),
        )
        .await?;
        let mut name = format!("POST /volunteers, {clients} client{}", plural(clients));
        if idempotency.is_some() {
            name.push_str(" + Idempotency-Key");
        }
        let mut figure =
            Figure::new(2, key, name, run.rate(), "reg/s").latency(run.p50(), run.p99(), run.max());
        figure.ratio = report.ratio(run.rate(), base, Of::Value);
        report.add(with_errors(figure, &run));
    }
    if let Some((ratio, _)) = report
        .get("api.n")
        .and_then(|f| report.ratio(f.value, "append.n", Of::Value))
    {
        println!(
            "  API at {} clients / raw append at {} tasks = {ratio:.2}",
            args.clients, args.clients
        );
    }
    app.server_stop.cancel();
    app.worker_stop.cancel();
    if let Some(worker) = app.worker.take() {
        match tokio::time::timeout(Duration::from_secs(10), worker).await {
            Ok(joined) => joined??,
            Err(_) => println!("  (the projector did not stop within 10 s)"),
        }
    }
    Ok(())
}

/// The headline ratios under the table.
pub fn print_headline(args: &Args, report: &Report) {
    println!();
    if let Some((ratio, _)) = report
        .get("api.n")
        .and_then(|f| report.ratio(f.value, "append.n", Of::Value))
    {
        println!(
            "API at {n} clients / raw append at {n} tasks: {ratio:.2}",
            n = args.clients
        );
    }
    if let Some((ratio, _)) = report
        .get("api.n.key")
        .and_then(|f| report.ratio(f.value, "api.n", Of::Value))
    {
        println!(
            "API at {} clients with Idempotency-Key / without: {ratio:.2}",
            args.clients
        );
    }
}
