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
    // The same system twice: storing personal data in plain text (the baseline), and sealed.
    let plain = spawn_in_process(PersonalData::PlainForMeasurementOnly).await;
    let sealed = spawn_in_process(samskab_eventlog::LogConfig::default().personal_data).await;
    sealing_rows(args, report, &plain, &sealed).await?;
    stop(plain).await?;

    let rows = [(
        args.clients,
        "api.n.key",
        Some("api.n"),
        " + Idempotency-Key",
    )];
    drive_rows(args, report, &sealed, &rows).await?;
    forget_and_export(report, &sealed).await?;
    long_history(report, &sealed).await?;
    stop(sealed).await?;
    Ok(())
}

/// Rounds per sealing figure: plain and sealed take turns, so that whatever else the machine
/// does during the measurement (it varies by ±15% from one window to the next on this
/// two-core box, and by ±40% on a busy one) weighs on both alike. Eight rounds rather than
/// four: the spread of the sum shrinks with the square root of the rounds.
const SEALING_ROUNDS: u32 = 8;

/// Each round's window is `api_secs / SEALING_WINDOWS_PER_ROW` long (the figure's row takes
/// `SEALING_ROUNDS / SEALING_WINDOWS_PER_ROW` times the API window, for each of the two).
const SEALING_WINDOWS_PER_ROW: u32 = 4;

/// Registrations per second with personal data plain and sealed, at 1 and at `args.clients`
/// clients: each the sum of [`SEALING_ROUNDS`] windows taken in turn with the other's, each
/// `api_secs / SEALING_WINDOWS_PER_ROW` long. The note gives the ratio of each round, to show the spread.
async fn sealing_rows(
    args: &Args,
    report: &mut Report,
    plain: &samskab_e2e::TestApp,
    sealed: &samskab_e2e::TestApp,
) -> anyhow::Result<()> {
    let window = secs(args.api_secs) / SEALING_WINDOWS_PER_ROW;
    let warmup = args.warmup() / SEALING_WINDOWS_PER_ROW;
    for (clients, plain_key, sealed_key) in [
        (1, "api.1.plain", "api.1"),
        (args.clients, "api.n.plain", "api.n"),
    ] {
        let mut runs: [Option<Run>; 2] = [None, None];
        let mut ratios = Vec::new();
        for round in 0..SEALING_ROUNDS {
            let mut rates = [0.0; 2];
            // Plain first in even rounds, sealed first in odd ones, so that neither always
            // follows the other's leftovers.
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                let app = [plain, sealed][i];
                // Both projectors caught up first: the previous window's backlog (its
                // projector's catching up, its database's writes) is not this window's work.
                caught_up(plain).await?;
                caught_up(sealed).await?;
                let token = app.token(TENANT, Role::Caseworker);
                let run = drive_registrations(&app.url(""), &token, clients, warmup, window, None)
                    .await?;
                rates[i] = run.rate();
                runs[i] = Some(match runs[i].take() {
                    Some(earlier) => earlier.and(run),
                    None => run,
                });
            }
            ratios.push(rates[1] / rates[0].max(1e-9));
        }
        let rounds = ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ");
        let name = format!("POST /volunteers, {clients} client{}", plural(clients));
        for (run, key, suffix) in [
            (runs[0].take(), plain_key, " (plain, baseline)"),
            (runs[1].take(), sealed_key, ""),
        ] {
            let Some(run) = run else { continue };
            let mut figure = Figure::new(2, key, format!("{name}{suffix}"), run.rate(), "reg/s")
                .latency(run.p50(), run.p99(), run.max());
            if key == sealed_key {
                figure.ratio = report.ratio(run.rate(), plain_key, Of::Value);
            }
            let mut figure = with_errors(figure, &run);
            if key == sealed_key {
                let cpu = figure.note.take().unwrap_or_default();
                figure = figure.note(format!("sealed/plain by round: {rounds}; {cpu}"));
            }
            report.add(figure);
        }
    }
    Ok(())
}

/// Waits until the app's directory projector has applied everything in its log.
async fn caught_up(app: &samskab_e2e::TestApp) -> anyhow::Result<()> {
    let position = app.log.last_position().await?;
    let reached = samskab_projection::wait_for_position(
        &app.pool,
        samskab_projection::read_model::DIRECTORY.schema,
        position,
        Duration::from_secs(60),
    )
    .await?;
    if !reached {
        bail!("the projector did not reach position {position} within 60 s");
    }
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

/// A command on an entity with [`LONG_HISTORY`] earlier events beside one on an entity with
/// one: `PUT /volunteers/{id}` one after another, each a change. The first command of a process
/// on the long one loads its whole history when there is no snapshot (shown as its own row,
/// "cold"), and the snapshot and what came after it when there is one (a second instance,
/// "snapshot"); after that the decision state is kept (`samskab_api::decisions`).
const LONG_HISTORY: usize = 10_000;

async fn long_history(report: &mut Report, app: &samskab_e2e::TestApp) -> anyhow::Result<()> {
    const COMMANDS: usize = 300;
    let token = app.token(TENANT, Role::Caseworker);
    let long = registered(app, &token).await?;
    let short = registered(app, &token).await?;
    // The history written straight to the log (what years of updates leave behind): the API
    // has not seen it, so its first command on the entity loads it all.
    let entity = samskab_eventlog::EntityRef::new(TENANT, "volunteer", &long)?;
    let mut expected = app.log.entity_position(&entity).await?;
    let template = volunteer_body("Frivillig Lang");
    for n in 0..LONG_HISTORY {
        let update = profile_updated(&long, n)?;
        expected = app
            .log
            .append(&entity, expected, &crate::fixtures::meta(), vec![update])
            .await?
            .position;
    }
    let mut bodies = [template.clone(), template];
    bodies[1]["name"] = serde_json::json!("Frivillig Lang Anden");
    for body in &mut bodies {
        body.as_object_mut().map(|b| b.remove("consent"));
    }
    let started = Instant::now();
    put_volunteer(app, &token, &app.url(""), &long, &bodies[0]).await?;
    let cold = started.elapsed();
    report.add(
        Figure::new(
            2,
            "command.cold",
            format!(
                "PUT /volunteers/{{id}}, {LONG_HISTORY} earlier events, first, no snapshot (loads them)"
            ),
            1.0 / cold.as_secs_f64().max(1e-9),
            "cmd/s",
        )
        .latency(cold, cold, cold),
    );
    // That first command saved a snapshot (in the background). A second API instance, which
    // has never seen the entity, starts from it: the first command of a process after a
    // restart.
    wait_for_snapshot(app, &entity).await?;
    // What any first command of a new process costs (its connection, the tenant check, the
    // key fetch), on an entity with one event: the baseline for the one from a snapshot. Each
    // is the median of FIRSTS new instances, one command each.
    const FIRSTS: usize = 5;
    let mut first_new = Vec::new();
    for _ in 0..FIRSTS {
        let fresh = registered(app, &token).await?;
        let instance = app.another_api().await;
        let started = Instant::now();
        put_volunteer(app, &token, &instance, &fresh, &bodies[1]).await?;
        first_new.push(started.elapsed());
    }
    let mut from_snapshot = Vec::new();
    for n in 0..FIRSTS {
        let instance = app.another_api().await;
        let started = Instant::now();
        put_volunteer(app, &token, &instance, &long, &bodies[(n + 1) % 2]).await?;
        from_snapshot.push(started.elapsed());
    }
    let first_figure = |key, name: String, mut times: Vec<std::time::Duration>| {
        times.sort();
        let median = times[times.len() / 2];
        Figure::new(2, key, name, 1.0 / median.as_secs_f64().max(1e-9), "cmd/s").latency(
            median,
            times[times.len() - 1],
            times[times.len() - 1],
        )
    };
    report.add(first_figure(
        "command.first",
        format!(
            "PUT /volunteers/{{id}}, 1 earlier event, first of a new instance (median of {FIRSTS})"
        ),
        first_new,
    ));
    let mut warm_start = first_figure(
        "command.snapshot",
        format!(
            "PUT /volunteers/{{id}}, {LONG_HISTORY} earlier events, first of a new instance, from its snapshot (median of {FIRSTS})"
        ),
        from_snapshot,
    );
    warm_start.ratio = report.ratio(warm_start.value, "command.first", Of::Value);
    report.add(warm_start);
    // Each command changes the name, from the one the entity has now.
    for (key, name, id, first) in [
        (
            "command.new",
            "PUT /volunteers/{id}, 1 earlier event".to_string(),
            &short,
            1,
        ),
        (
            "command.long",
            format!("PUT /volunteers/{{id}}, {LONG_HISTORY} earlier events"),
            &long,
            0,
        ),
    ] {
        let mut latencies = histogram();
        let started = Instant::now();
        for n in 0..COMMANDS {
            let sent = Instant::now();
            put_volunteer(app, &token, &app.url(""), id, &bodies[(n + first) % 2]).await?;
            record(&mut latencies, sent.elapsed());
        }
        let rate = COMMANDS as f64 / started.elapsed().as_secs_f64();
        let mut figure = Figure::new(2, key, name, rate, "cmd/s").latency(
            quantile(&latencies, 0.5),
            quantile(&latencies, 0.99),
            quantile(&latencies, 1.0),
        );
        figure.ratio = report.ratio(rate, "command.new", Of::Value);
        report.add(figure);
    }
    Ok(())
}

/// Waits until the entity's decision state is saved as a snapshot.
async fn wait_for_snapshot(
    app: &samskab_e2e::TestApp,
    entity: &samskab_eventlog::EntityRef,
) -> anyhow::Result<()> {
    use samskab_domain::Decider;
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    while app
        .log
        .load_snapshot(entity, samskab_domain::Volunteer::STATE_VERSION)
        .await?
        .is_none()
    {
        if Instant::now() > deadline {
            bail!("no snapshot of {entity} was saved");
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    Ok(())
}

async fn registered(app: &samskab_e2e::TestApp, token: &str) -> anyhow::Result<String> {
    let (status, created) = app
        .post("/volunteers", token, &volunteer_body("Frivillig Lang"))
        .await;
    match created["id"].as_str() {
        Some(id) if status == 201 => Ok(id.to_string()),
        _ => bail!("registration answered {status}: {created}"),
    }
}

/// `PUT /volunteers/{id}` at the API instance at `base`.
async fn put_volunteer(
    app: &samskab_e2e::TestApp,
    token: &str,
    base: &str,
    id: &str,
    body: &serde_json::Value,
) -> anyhow::Result<()> {
    let response = app
        .http
        .put(format!("{base}/volunteers/{id}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let (status, answer) = samskab_e2e::read(response).await;
    if status != 202
        || answer["event_ids"]
            .as_array()
            .is_none_or(|ids| ids.is_empty())
    {
        bail!("PUT answered {status} without an event: {answer}");
    }
    Ok(())
}

/// The `n`th profile update of volunteer `id`, as the domain would append it.
fn profile_updated(id: &str, n: usize) -> anyhow::Result<samskab_eventlog::NewEvent> {
    use samskab_domain::{
        DomainEvent, VolunteerEvent, VolunteerId, VolunteerProfileUpdated, fixtures,
    };
    let id = VolunteerId::from_uuid(uuid::Uuid::parse_str(id)?);
    let event = VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
        id,
        personal: Some(fixtures::volunteer_personal(if n.is_multiple_of(2) {
            "Frivillig Lang"
        } else {
            "Frivillig Langsom"
        })),
        profile: fixtures::volunteer_profile(),
    });
    Ok(samskab_eventlog::NewEvent {
        event_type: event.event_type().to_owned(),
        data: event.to_payload(),
    })
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
