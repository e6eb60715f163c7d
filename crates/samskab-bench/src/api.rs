//! Section 2: `POST /volunteers` through the real router, served in-process on 127.0.0.1:0
//! as in tests/lib.rs, with the directory projector running beside it.

use std::time::{Duration, Instant};

use anyhow::bail;
use bytes::Bytes;
use samskab_api::{Role, TokenKeys};
use samskab_domain::TenantId;

use crate::append::{plural, with_errors};
use crate::driver::{Run, closed_loop, histogram, quantile, record};
use crate::fixtures::TENANT;
use crate::report::{Figure, Of, Report};
use crate::{Args, secs};
use samskab_e2e::volunteer_body;
use samskab_eventlog::PersonalData;

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
/// its own NATS server, a fresh database, the router on 127.0.0.1:0, the directory projector),
/// with personal data sealed (as always) or, for the baseline, plain.
async fn spawn_in_process(personal_data: PersonalData) -> samskab_e2e::TestApp {
    let app = samskab_e2e::spawn_app_with(samskab_e2e::Options {
        personal_data,
        ..Default::default()
    })
    .await;
    crate::remember_database(&app.database.name);
    app
}

async fn stop(mut app: samskab_e2e::TestApp) -> anyhow::Result<()> {
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

pub async fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    // The baseline first: the same system storing personal data in plain text, so the sealed
    // rows can name it.
    let plain = spawn_in_process(PersonalData::PlainForMeasurementOnly).await;
    let rows = [
        (1, "api.1.plain", None, " (plain, baseline)"),
        (args.clients, "api.n.plain", None, " (plain, baseline)"),
    ];
    drive_rows(args, report, &plain, &rows).await?;
    stop(plain).await?;

    let sealed = spawn_in_process(samskab_eventlog::LogConfig::default().personal_data).await;
    let rows = [
        (1, "api.1", Some("api.1.plain"), ""),
        (args.clients, "api.n", Some("api.n.plain"), ""),
        (
            args.clients,
            "api.n.key",
            Some("api.n"),
            " + Idempotency-Key",
        ),
    ];
    drive_rows(args, report, &sealed, &rows).await?;
    forget_and_export(report, &sealed).await?;
    stop(sealed).await?;
    Ok(())
}

/// One figure per row: (clients, key, baseline key, suffix of the name).
async fn drive_rows(
    args: &Args,
    report: &mut Report,
    app: &samskab_e2e::TestApp,
    rows: &[(usize, &'static str, Option<&'static str>, &str)],
) -> anyhow::Result<()> {
    let base_url = app.url("");
    let token = app.token(TENANT, Role::Caseworker);
    for &(clients, key, base, suffix) in rows {
        let run = drive_registrations(
            &base_url,
            &token,
            clients,
            args.warmup(),
            secs(args.api_secs),
            suffix.contains("Idempotency").then(|| "key".to_string()),
        )
        .await?;
        let name = format!(
            "POST /volunteers, {clients} client{}{suffix}",
            plural(clients)
        );
        let mut figure =
            Figure::new(2, key, name, run.rate(), "reg/s").latency(run.p50(), run.p99(), run.max());
        figure.ratio = base.and_then(|base| report.ratio(run.rate(), base, Of::Value));
        report.add(with_errors(figure, &run));
    }
    Ok(())
}

/// Forgetting one person and exporting one person, one at a time (what a case worker does):
/// each on a volunteer of its own, registered just before.
async fn forget_and_export(report: &mut Report, app: &samskab_e2e::TestApp) -> anyhow::Result<()> {
    const PERSONS: usize = 200;
    let token = app.token(TENANT, Role::Caseworker);
    let mut forget = histogram();
    let mut export = histogram();
    for _ in 0..PERSONS {
        let (status, created) = app
            .post("/volunteers", &token, &volunteer_body("Frivillig Glemmes"))
            .await;
        let id = created["id"].as_str().unwrap_or_default().to_string();
        if status != 201 || id.is_empty() {
            bail!("registration answered {status}: {created}");
        }
        let started = Instant::now();
        let (status, body) = app.get(&format!("/volunteers/{id}/export"), &token).await;
        record(&mut export, started.elapsed());
        if status != 200 {
            bail!("export answered {status}: {body}");
        }
        let started = Instant::now();
        let (status, body) = app
            .post(
                &format!("/volunteers/{id}/forget"),
                &token,
                &serde_json::json!({}),
            )
            .await;
        record(&mut forget, started.elapsed());
        if status != 202 {
            bail!("forget answered {status}: {body}");
        }
    }
    for (key, name, histogram) in [
        (
            "forget.1",
            "POST /volunteers/{id}/forget, one person",
            &forget,
        ),
        (
            "export.1",
            "GET /volunteers/{id}/export, one person",
            &export,
        ),
    ] {
        let p50 = quantile(histogram, 0.5);
        let figure = Figure::new(2, key, name, 1.0 / p50.as_secs_f64().max(1e-9), "ops/s")
            .latency(p50, quantile(histogram, 0.99), quantile(histogram, 1.0))
            .note(format!("{PERSONS} persons, one after another"));
        report.add(figure);
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
    for (sealed, plain) in [("api.1", "api.1.plain"), ("api.n", "api.n.plain")] {
        if let Some((ratio, _)) = report
            .get(sealed)
            .and_then(|f| report.ratio(f.value, plain, Of::Value))
        {
            let clients = report
                .get(sealed)
                .map(|f| f.name.clone())
                .unwrap_or_default();
            println!("{clients}: personal data sealed / plain: {ratio:.2}");
        }
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
