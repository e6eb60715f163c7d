//! Section 7: matching queries through the HTTP API (in-process, as section 2), on a matching
//! read model of a given size: the top 20 candidates for a need among 100,000 volunteers of
//! one municipality, and among 1,000,000 across 100 municipalities; suggestions for a volunteer
//! among 50,000 open needs. Each beside `GET /needs/{id}` (one row) on the same system.
//!
//! The rows are written straight into `matching.volunteer` and `matching.need` with
//! `generate_series` (varied skills, languages, postcodes, slots, børneattest and consent by
//! modulus), not through the log: this measures the queries over a model of that size, not
//! the projection that fills it (sections 4 and 5 measure projecting).

use std::time::{Duration, Instant};

use anyhow::bail;
use samskab_api::Role;
use samskab_e2e::need_body;

use crate::Args;
use crate::driver::{Run, closed_loop, quantile};
use crate::fixtures::TENANT;
use crate::report::{Figure, Of, Report, duration};

/// Postcodes of Rødovre and around it, so that distances vary from 0 to ~15 km.
const POSTCODES: &str =
    "ARRAY['2610','2600','2605','2620','2650','2700','2720','2730','2750','2500']";
const SKILLS: &str = "ARRAY['lektiehjælp','madlavning','tømrer','it-hjælp','fodboldtræner',\
    'bisidder','danskundervisning','mentor','kørsel','havearbejde','matematik']";
const GROUPS: &str = "ARRAY['children','refugees','families','elderly','lonely','young_people']";
const DAYS: &str = "ARRAY['mon','tue','wed','thu','fri','sat','sun']";
const PARTS: &str = "ARRAY['morning','afternoon','evening']";

/// `count` volunteers; every `per_tenant`-th in the bench's municipality, the others in 99
/// made-up ones, of whom one in a thousand opted in to the bench's too (the candidate query's
/// second branch). Their attributes vary with `j`, their number within their municipality: one
/// in ten has not consented to matching, one in three has a børneattest only requested.
fn volunteers_sql(per_tenant: u32) -> String {
    format!(
        "INSERT INTO matching.volunteer (tenant, id, postcode, skills, languages, target_groups,
            slots, hours_per_week, certificate_status, certificate_valid_until, matching_consent,
            status, updated_at, position, other_municipalities)
         SELECT CASE WHEN i % {per_tenant} = 0 THEN $1 ELSE 'other-' || (i % 100) END,
                gen_random_uuid(), ({POSTCODES})[1 + j % 10],
                ARRAY[({SKILLS})[1 + j % 11], ({SKILLS})[1 + (j / 11) % 11]],
                CASE WHEN j % 4 = 0 THEN ARRAY['da', 'uk'] ELSE ARRAY['da'] END,
                ARRAY[({GROUPS})[1 + j % 6]],
                ARRAY[({DAYS})[1 + j % 7] || '-' || ({PARTS})[1 + (j / 7) % 3],
                      ({DAYS})[1 + (j / 3) % 7] || '-evening'],
                2 + j % 8,
                CASE WHEN j % 3 = 0 THEN 'requested' ELSE 'approved' END, NULL,
                j % 10 <> 0, 'active', now(), 1,
                CASE WHEN i % {per_tenant} <> 0 AND i % 1000 = 1 THEN ARRAY[$1::text]
                     ELSE '{{}}'::text[] END
         FROM (SELECT i, i / {per_tenant} AS j FROM generate_series(1, $2) AS i) AS numbered"
    )
}

/// `count` open weekly needs of the bench's municipality, posted by it.
const NEEDS_SQL: &str = "INSERT INTO matching.need (tenant, id, posted_by, organisation_id, title,
        description, target_groups, skills_required, skills_nice_to_have, languages, postcode,
        remote, schedule_kind, schedule_date, slots, hours_per_week, volunteers_wanted, starts_on,
        ends_on, children_under_15, status, closed_at, closing_reason, published_at, updated_at,
        position)
     SELECT $1, gen_random_uuid(), 'municipality', NULL, 'Behov ' || i, 'Beskrivelse',
            ARRAY[(ARRAY['children','refugees','families','elderly','lonely','young_people'])[1 + i % 6]],
            ARRAY[(ARRAY['lektiehjælp','madlavning','tømrer','it-hjælp','fodboldtræner','bisidder',
                         'danskundervisning','mentor','kørsel','havearbejde','matematik'])[1 + i % 11]],
            ARRAY[]::text[], ARRAY['da'],
            (ARRAY['2610','2600','2605','2620','2650','2700','2720','2730','2750','2500'])[1 + i % 10],
            false, 'weekly', NULL,
            jsonb_build_array(jsonb_build_object(
                'weekday', (ARRAY['mon','tue','wed','thu','fri','sat','sun'])[1 + i % 7],
                'part', (ARRAY['morning','afternoon','evening'])[1 + (i / 7) % 3])),
            2, 2, current_date, NULL, i % 5 = 0, 'open', NULL, NULL, now(), now(), 1
     FROM generate_series(1, $2) AS i";

pub async fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let window = Duration::from_secs_f64(args.api_secs.max(1.0) / 2.0);
    for (volunteers, per_tenant, key, label) in [
        (
            100_000,
            1,
            "match.100k",
            "among 100,000 volunteers of one municipality",
        ),
        (
            1_000_000,
            100,
            "match.1m",
            "among 1,000,000 volunteers of 100 municipalities",
        ),
    ] {
        let app = samskab_e2e::spawn_app().await;
        crate::remember_database(&app.database.name);
        let token = app.token(TENANT, Role::Caseworker);
        let (status, created) = app.post("/needs", &token, &need_body("Lektiehjælp")).await;
        if status != 201 {
            bail!("publishing the need: {status} {created}");
        }
        let need = created["id"].as_str().unwrap_or_default().to_string();
        let began = Instant::now();
        sqlx::query(sqlx::AssertSqlSafe(volunteers_sql(per_tenant)))
            .bind(TENANT)
            .bind(volunteers)
            .execute(&app.pool)
            .await?;
        sqlx::query("ANALYZE matching.volunteer")
            .execute(&app.pool)
            .await?;
        println!(
            "  ({volunteers} volunteers written in {})",
            duration(began.elapsed())
        );
        let position = app.log_position().await;
        let (status, first) = app
            .get(
                &format!("/needs/{need}/candidates?min_position={position}"),
                &token,
            )
            .await;
        if status != 200 {
            bail!("candidates: {status} {first}");
        }
        let found = first["candidates"].as_array().map_or(0, Vec::len);

        let base_key = if key == "match.100k" {
            "match.row"
        } else {
            "match.row.1m"
        };
        let row = drive(&app, &token, &format!("/needs/{need}"), args, window).await?;
        report.add(figure(
            base_key,
            format!("GET /needs/{{id}}, one row ({label})"),
            &row,
        ));
        let top = drive(
            &app,
            &token,
            &format!("/needs/{need}/candidates?limit=20"),
            args,
            window,
        )
        .await?;
        let mut f = figure(key, format!("Top 20 candidates {label}"), &top);
        f.ratio = report.ratio(top.rate(), base_key, Of::Value);
        report.add(f.note(format!(
            "p95 {:.1} ms; {found} candidates returned; aim p95 < {} ms",
            ms(quantile(&top.latency, 0.95)),
            if key == "match.100k" { 20 } else { 50 }
        )));
        if key == "match.1m" {
            report.add(
                Figure::new(
                    7,
                    "match.rss",
                    "RSS of the process answering candidate queries (bench, API and projectors)",
                    rss_mib()?,
                    "MiB",
                )
                .note("the volunteers live in PostgreSQL, not in this process"),
            );
        }
    }

    let app = samskab_e2e::spawn_app().await;
    crate::remember_database(&app.database.name);
    let token = app.token(TENANT, Role::Caseworker);
    let began = Instant::now();
    sqlx::query(NEEDS_SQL)
        .bind(TENANT)
        .bind(50_000i32)
        .execute(&app.pool)
        .await?;
    println!("  (50000 needs written in {})", duration(began.elapsed()));
    let volunteer = uuid::Uuid::now_v7();
    sqlx::query(sqlx::AssertSqlSafe(
        "INSERT INTO matching.volunteer VALUES ($1, $2, '2610', ARRAY['lektiehjælp','mentor'],
            ARRAY['da'], ARRAY['children'], ARRAY['tue-evening','mon-morning','sat-afternoon'],
            4, 'approved', NULL, true, 'active', now(), 1)",
    ))
    .bind(TENANT)
    .bind(volunteer)
    .execute(&app.pool)
    .await?;
    let (status, first) = app
        .get(&format!("/volunteers/{volunteer}/suggestions"), &token)
        .await;
    if status != 200 {
        bail!("suggestions: {status} {first}");
    }
    let some_need: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM matching.need WHERE tenant = $1 LIMIT 1")
            .bind(TENANT)
            .fetch_one(&app.pool)
            .await?;
    let row = drive(&app, &token, &format!("/needs/{some_need}"), args, window).await?;
    report.add(figure(
        "match.row.50k",
        "GET /needs/{id}, one row (among 50,000 needs)",
        &row,
    ));
    let top = drive(
        &app,
        &token,
        &format!("/volunteers/{volunteer}/suggestions?limit=20"),
        args,
        window,
    )
    .await?;
    let mut f = figure(
        "match.suggest",
        "Top 20 suggestions for a volunteer among 50,000 open needs",
        &top,
    );
    f.ratio = report.ratio(top.rate(), "match.row.50k", Of::Value);
    report.add(f.note(format!(
        "p95 {:.1} ms; the open needs are read and scored in the API",
        ms(quantile(&top.latency, 0.95))
    )));
    Ok(())
}

/// One client asking `path` back to back.
async fn drive(
    app: &samskab_e2e::TestApp,
    token: &str,
    path: &str,
    args: &Args,
    window: Duration,
) -> anyhow::Result<Run> {
    let http = crate::api::http_client()?;
    let url = app.url(path);
    let auth = format!("Bearer {token}");
    closed_loop(1, args.warmup() / 2, window, move |_, _| {
        let request = http.get(&url).header("Authorization", &auth);
        async move {
            let response = request.send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            if !status.is_success() {
                bail!("HTTP {status}: {}", String::from_utf8_lossy(&body));
            }
            Ok(())
        }
    })
    .await
}

fn figure(key: &'static str, name: impl Into<String>, run: &Run) -> Figure {
    Figure::new(7, key, name, run.rate(), "req/s").latency(run.p50(), run.p99(), run.max())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// This process's resident memory, in MiB.
fn rss_mib() -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/self/status"))?;
    Ok(kib / 1024.0)
}
