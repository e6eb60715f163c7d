//! Section 12: the dashboards with 100 municipalities' data in the reporting read model.
//!
//! The log holds `--dashboard-municipalities` registered municipalities; the reporting read
//! model holds, for each, `--dashboard-volunteers` volunteers, a need per 15 of them and a
//! match proposed per 10, projected by the real `ReportingProjection`.
//!
//! 1. Baseline: the three reports an overview is made of, as JSON (`GET /reports/volunteers`
//!    by age band, `/reports/matching`, `/reports/grants`), one set after the other, each
//!    for the next municipality.
//! 2. The overview page (`GET /dashboard`), rendered on the server from the same queries:
//!    its rate and latency against the baseline.
//! 3. In Debian's chromium (`tests/dashboard/browse.mjs`): each page's time to its response's
//!    end, DOMContentLoaded and load, as the browser measures them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use samskab_api::{ApiConfig, AppState, Role, TokenKeys};
use samskab_domain::fixtures::{match_details, need_details};
use samskab_domain::{
    Counterpart, MatchEvent, MatchId, MatchProposed, NeedEvent, NeedId, TenantId, VolunteerId,
};
use samskab_eventlog::{EventLog, LogConfig};
use samskab_reporting_worker::ReportingProjection;
use samskab_testkit::NatsServer;
use samskab_testkit::projection::ReadModelTest;
use serde_json::json;
use tracing::info;

use crate::Args;
use crate::report::{Figure, Of, Report};

const ACTOR: &str = "user:sagsbehandler-1";
/// The period the seeded events fall in (the test kit's clock starts in June 2025).
const PERIOD: &str = "2025";

pub async fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let nats = NatsServer::start().context("starting nats-server")?;
    let log = EventLog::create_or_update(&nats.url(), LogConfig::default()).await?;
    let database = crate::fresh_database().await?;
    let pool = database.pool().await?;
    samskab_projection::MIGRATOR.run(&pool).await?;

    let tenants = seed(args, &log, &pool).await?;
    let keys = TokenKeys::from_secret(b"samskab benchmark secret, long enough for hs256");
    let state = AppState::new(log, pool, keys.clone(), ApiConfig::default(), Arc::from([]));
    let pages = samskab_dashboard::pages(
        &state,
        samskab_dashboard::DashboardConfig {
            refresh: Duration::ZERO,
        },
    );
    let app = samskab_api::router(state).merge(pages);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let tokens = tenants
        .iter()
        .map(|t| keys.sign(t, "bench", &[Role::Caseworker], chrono::Duration::hours(2)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let http = reqwest::Client::new();
    let rounds = args.dashboard_requests;

    // 1. The three reports as JSON.
    let reports = [
        format!("/reports/volunteers?period={PERIOD}&by=age_band"),
        format!("/reports/matching?period={PERIOD}"),
        format!("/reports/grants?year={PERIOD}"),
    ];
    // A round of each first, not counted: the first queries warm PostgreSQL's caches.
    let overview_path = [format!("/dashboard?period={PERIOD}")];
    measure(&http, &base, &tokens, tokens.len(), &reports).await?;
    measure(&http, &base, &tokens, tokens.len(), &overview_path).await?;
    let baseline = measure(&http, &base, &tokens, rounds, &reports).await?;
    report.add(
        Figure::new(
            12,
            "dashboard.reports",
            format!(
                "the overview's three reports as JSON, a set per request round ({} municipalities)",
                tenants.len()
            ),
            baseline.rate,
            "sets/s",
        )
        .latency(baseline.p50, baseline.p99, baseline.max),
    );

    // 2. The overview page.
    let overview = measure(&http, &base, &tokens, rounds, &overview_path).await?;
    let mut figure = Figure::new(
        12,
        "dashboard.page",
        "GET /dashboard rendered on the server (the same queries, HTML and SVG)",
        overview.rate,
        "pages/s",
    )
    .latency(overview.p50, overview.p99, overview.max);
    figure.ratio = report.ratio(overview.rate, "dashboard.reports", Of::Value);
    report.add(figure);

    // 3. In the browser.
    let job = json!({
        "base": base,
        "token": tokens[0],
        "pages": [
            format!("/dashboard?period={PERIOD}"),
            format!("/dashboard/matching?period={PERIOD}"),
            format!("/dashboard/grants?year={PERIOD}"),
        ],
    });
    let result = tokio::task::spawn_blocking(move || samskab_e2e::browse(&job)).await??;
    for page in result["pages"].as_array().context("pages")? {
        let path = page["path"].as_str().unwrap_or("?");
        if page["status"] != 200 {
            bail!("{path} answered {} in the browser", page["status"]);
        }
        let timing = &page["timing"];
        let ms = |key: &str| timing[key].as_f64().unwrap_or(f64::NAN);
        report.add(
            Figure::new(
                12,
                "dashboard.browser",
                format!("chromium: {path}, until the load event"),
                ms("load"),
                "ms",
            )
            .note(format!(
                "response ends {:.1} ms, DOMContentLoaded {:.1} ms; axe: {} violations",
                ms("response_end"),
                ms("dom_content_loaded"),
                page["violations"].as_array().map_or(0, Vec::len)
            )),
        );
    }
    server.abort();
    Ok(())
}

/// Registers the municipalities in the log and projects their volunteers, needs and matches
/// into the reporting read model; the tenants.
async fn seed(args: &Args, log: &EventLog, pool: &sqlx::PgPool) -> anyhow::Result<Vec<TenantId>> {
    let reporting = ReadModelTest::new(ReportingProjection, ACTOR);
    let mut tenants = Vec::new();
    let mut position = 0u64;
    let started = Instant::now();
    for i in 0..args.dashboard_municipalities {
        let slug = format!("kommune-{i:03}");
        let code = 101 + u16::try_from(i).context("at most 760 municipalities")?;
        samskab_e2e::register_municipality(log, &slug, code, &format!("Kommune {i}")).await?;

        let mut events = Vec::new();
        let mut needs = Vec::new();
        let mut volunteers = Vec::new();
        for v in 0..args.dashboard_volunteers {
            let id = VolunteerId::from_uuid(uuid::Uuid::now_v7());
            position += 1;
            let event = samskab_domain::fixtures::volunteer_registered(id, "Frivillig");
            events.push(reporting.recorded(&slug, &id.as_uuid().to_string(), position, &event));
            volunteers.push(id);
            if v % 15 == 0 {
                let need = NeedId::from_uuid(uuid::Uuid::now_v7());
                position += 1;
                let event = NeedEvent::Published(need_details(need, "Lektiehjælp"));
                events.push(reporting.recorded(
                    &slug,
                    &need.as_uuid().to_string(),
                    position,
                    &event,
                ));
                needs.push(need);
            }
        }
        for (m, volunteer) in volunteers.iter().enumerate().step_by(10) {
            let id = MatchId::from_uuid(uuid::Uuid::now_v7());
            let mut details = match_details(id);
            details.volunteer_id = *volunteer;
            details.counterpart = Counterpart::Need(needs[m / 15 % needs.len()]);
            position += 1;
            let event = MatchEvent::Proposed(MatchProposed {
                details,
                at: samskab_testkit::projection::time_at(position),
            });
            events.push(reporting.recorded(&slug, &id.as_uuid().to_string(), position, &event));
        }
        reporting
            .apply_all(pool, &events.iter().collect::<Vec<_>>())
            .await
            .map_err(|e| anyhow::anyhow!("projecting {slug}: {e:?}"))?;
        tenants.push(TenantId::parse(&slug).map_err(anyhow::Error::msg)?);
        if (i + 1) % 10 == 0 {
            info!(
                municipalities = i + 1,
                of = args.dashboard_municipalities,
                events = position,
                secs = started.elapsed().as_secs(),
                "seeding the dashboards' read model"
            );
        }
    }
    Ok(tenants)
}

struct Timing {
    rate: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

/// `rounds` rounds, one after the other, each getting every path in turn as the next
/// municipality; the rounds per second and each round's latency.
async fn measure(
    http: &reqwest::Client,
    base: &str,
    tokens: &[String],
    rounds: usize,
    paths: &[String],
) -> anyhow::Result<Timing> {
    let mut histogram = Histogram::<u64>::new(3)?;
    let started = Instant::now();
    for round in 0..rounds {
        let token = &tokens[round % tokens.len()];
        let one = Instant::now();
        for path in paths {
            let answer = http
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await?;
            if !answer.status().is_success() {
                bail!("{path} answered {}", answer.status());
            }
            answer.bytes().await?;
        }
        histogram.record(u64::try_from(one.elapsed().as_micros()).unwrap_or(u64::MAX))?;
    }
    let micros = |q: f64| Duration::from_micros(histogram.value_at_quantile(q));
    Ok(Timing {
        rate: rounds as f64 / started.elapsed().as_secs_f64(),
        p50: micros(0.5),
        p99: micros(0.99),
        max: Duration::from_micros(histogram.max()),
    })
}
