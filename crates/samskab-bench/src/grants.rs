//! Section 9: §18 decisions on one contended pool, through the HTTP API in-process, beside the
//! rate of appends to one subject (the bound: every decision of a pool is an append to the
//! pool's subject, one after another). The pool's budget takes all but the last
//! `--grant-losers` decisions: the rest must be refused (409) and nothing over-committed,
//! which the run checks before it reports.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use samskab_api::Role;
use samskab_e2e::{application_content, pool_body};
use serde_json::{Value, json};

use crate::Args;
use crate::api::http_client;
use crate::append::plural;
use crate::driver::{histogram, quantile, record};
use crate::fixtures::meta;
use crate::report::{Figure, Of, Report};

/// What one application asks for, in øre.
const REQUESTED: i64 = 10_000;

pub async fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let app = samskab_e2e::spawn_app().await;
    single_subject_appends(args, &app, report).await?;
    contended_decisions(args, &app, report).await
}

/// The baseline: one task appending to one subject, each append expecting the one before.
async fn single_subject_appends(
    args: &Args,
    app: &samskab_e2e::TestApp,
    report: &mut Report,
) -> anyhow::Result<()> {
    let entity = samskab_eventlog::EntityRef::new("bench", "thing", "one-subject")?;
    let mut expected = 0;
    let warmup_end = Instant::now() + args.warmup();
    while Instant::now() < warmup_end {
        expected = append_one(app, &entity, expected).await?;
    }
    let window = Duration::from_secs_f64(args.append_secs);
    let mut latency = histogram();
    let started = Instant::now();
    let mut appended = 0u64;
    while started.elapsed() < window {
        let began = Instant::now();
        expected = append_one(app, &entity, expected).await?;
        record(&mut latency, began.elapsed());
        appended += 1;
    }
    let rate = appended as f64 / started.elapsed().as_secs_f64();
    report.add(
        Figure::new(
            9,
            "grants.subject",
            "EventLog::append to one subject, 1 task",
            rate,
            "cmd/s",
        )
        .latency(
            quantile(&latency, 0.5),
            quantile(&latency, 0.99),
            quantile(&latency, 1.0),
        ),
    );
    Ok(())
}

async fn append_one(
    app: &samskab_e2e::TestApp,
    entity: &samskab_eventlog::EntityRef,
    expected: u64,
) -> anyhow::Result<u64> {
    let event = crate::fixtures::small_event(expected);
    let appended = app
        .log
        .append(entity, expected, &meta(), vec![event])
        .await?;
    Ok(appended.position)
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: &str,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let response = http.post(url).bearer_auth(token).json(body).send().await?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// `--grant-decisions` assessed applications to one rolling pool, then all their decisions at
/// once from `--clients` clients.
async fn contended_decisions(
    args: &Args,
    app: &samskab_e2e::TestApp,
    report: &mut Report,
) -> anyhow::Result<()> {
    let http = http_client()?;
    let base = format!("http://{}", app.address);
    let admin = app.token("rodovre", Role::PoolAdministrator);
    let caseworker = app.token("rodovre", Role::Caseworker);
    let chair = app.token("rodovre", Role::CommitteeMember);
    let decisions = args.grant_decisions;
    let losers = args.grant_losers.min(decisions);
    let budget = REQUESTED * (decisions - losers) as i64;

    let (status, created) = post(
        &http,
        format!("{base}/grant-pools"),
        &admin,
        &pool_body("rolling", samskab_domain::Amount::MAX),
    )
    .await?;
    if status != 201 {
        bail!("creating the pool: {status} {created}");
    }
    let pool = created["id"].as_str().context("pool id")?.to_string();
    let budget_body = json!({ "year": 2026, "amount": budget, "reason": "Bench" });
    let (status, answer) = post(
        &http,
        format!("{base}/grant-pools/{pool}/budget"),
        &admin,
        &budget_body,
    )
    .await?;
    if status != 202 {
        bail!("budget: {status} {answer}");
    }

    // Applications, submitted and assessed: 3 commands each, 8 at a time.
    let preparing = Instant::now();
    let prepare = futures::stream::iter(0..decisions)
        .map(|i| {
            let (http, base, pool, caseworker) = (&http, &base, &pool, &caseworker);
            async move {
                let mut content = application_content(&format!("Ansøgning {i}"), REQUESTED);
                content["group_name"] = json!("Benchgruppen");
                content["applicant_name"] = json!("Bench Ansøger");
                let body = json!({ "pool_id": pool, "applicant_kind": "informal_group", "content": content });
                let (status, created) = post(http, format!("{base}/grant-applications"), caseworker, &body).await?;
                if status != 201 {
                    bail!("drafting: {status} {created}");
                }
                let id = created["id"].as_str().context("id")?.to_string();
                let steps = [
                    ("submit", json!(null)),
                    (
                        "assessments",
                        json!({ "scores": [{ "criterion": "reach", "score": 3 }, { "criterion": "volunteers", "score": 3 }], "recommended": REQUESTED }),
                    ),
                ];
                for (step, body) in steps {
                    let (status, answer) = post(http, format!("{base}/grant-applications/{id}/{step}"), caseworker, &body).await?;
                    if status != 202 {
                        bail!("{step}: {status} {answer}");
                    }
                }
                anyhow::Ok(id)
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let ids: Vec<String> = prepare.into_iter().collect::<anyhow::Result<_>>()?;
    tracing::info!(
        applications = ids.len(),
        secs = preparing.elapsed().as_secs_f64(),
        "prepared the applications"
    );

    // Every decision at once, `clients` at a time.
    let latencies = Arc::new(std::sync::Mutex::new(histogram()));
    let started = Instant::now();
    let answers = futures::stream::iter(ids.iter())
        .map(|id| {
            let (http, base, chair, latencies) = (&http, &base, &chair, latencies.clone());
            async move {
                let began = Instant::now();
                let body = json!({ "outcome": "full", "amount": REQUESTED, "year": 2026 });
                let answer = post(
                    http,
                    format!("{base}/grant-applications/{id}/decision"),
                    chair,
                    &body,
                )
                .await;
                if let Ok(mut h) = latencies.lock() {
                    record(&mut h, began.elapsed());
                }
                answer
            }
        })
        .buffer_unordered(args.clients)
        .collect::<Vec<_>>()
        .await;
    let elapsed = started.elapsed();
    let mut granted = 0;
    let mut refused = 0;
    let mut last = 0;
    for answer in answers {
        match answer? {
            (202, body) => {
                granted += 1;
                last = last.max(body["position"].as_u64().unwrap_or(0));
            }
            (409, body)
                if body["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("budget")) =>
            {
                refused += 1
            }
            (status, body) => bail!("a decision answered {status} {body}"),
        }
    }
    // Zero over-commit, and nothing acknowledged lost: the read model holds every grant.
    let (status, read) = {
        let response = http
            .get(format!("{base}/grant-pools/{pool}?min_position={last}"))
            .bearer_auth(&chair)
            .send()
            .await?;
        (response.status().as_u16(), response.json::<Value>().await?)
    };
    let committed = read["years"][0]["committed"].as_i64().unwrap_or(-1);
    if status != 200 || committed != budget || granted != decisions - losers || refused != losers {
        bail!(
            "over-commit or loss: {granted} granted, {refused} refused, {committed} of {budget} øre committed ({status})"
        );
    }
    let rate = decisions as f64 / elapsed.as_secs_f64();
    let h = latencies
        .lock()
        .map(|h| h.clone())
        .unwrap_or_else(|_| histogram());
    let mut figure = Figure::new(
        9,
        "grants.decisions",
        format!(
            "POST /grant-applications/{{id}}/decision on one pool, {} client{} ({decisions} decisions, {losers} refused for the budget)",
            args.clients,
            plural(args.clients)
        ),
        rate,
        "cmd/s",
    )
    .latency(quantile(&h, 0.5), quantile(&h, 0.99), quantile(&h, 1.0))
    .note(format!("0 over-committed: {committed} of {budget} øre"));
    figure.ratio = report.ratio(rate, "grants.subject", Of::Value);
    report.add(figure);
    Ok(())
}
