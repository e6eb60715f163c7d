//! Section 10: the audit trail of grant cases (`samskab_audit_worker`).
//!
//! The backlog: one §18 pool (created, a 2026 budget that covers every grant, a round) and
//! `--audit-cases` applications to it, each drafted (an informal group: its contact person is
//! personal data, sealed by the log), submitted, assessed and decided by the pool (a grant in
//! full below the second-approval threshold, so final). Every event is one the domain's
//! deciders decide on the folded state, appended through `EventLog::append` as the API would:
//! the applications from `--clients` tasks, the pool's decisions one after the other on its
//! subject. No projector runs meanwhile.
//!
//! 1. Projection throughput: the grants projector (`GrantsProjection`, the baseline: the same
//!    events into the grants read model) catches up on the backlog, then the audit projector
//!    (`AuditProjection`, which reads the chain's head before every record it writes), each
//!    timed from its start until its checkpoint covers the last position.
//! 2. Export and verify of the pool-year 2026 (about 4 records a case): `export_pool_year` +
//!    `to_json_text` (the JSON as the text sent, as the route would send it); writing it to a
//!    file and `python3 deploy/audit/verify_export.py` on it (which must pass), and the two
//!    together (the aim: under 2 s at 10,000 cases). Beside them,
//!    `samskab_audit_worker::verify` over the municipality's whole chain, against the Python
//!    check of the export.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use samskab_audit_worker::{AuditProjection, Signer, export_pool_year, to_json_text};
use samskab_domain::fixtures;
use samskab_domain::{
    CriterionKey, CriterionScore, Decider, DomainEvent, EntityKind, GrantApplication,
    GrantApplicationCommand, GrantApplicationEvent, GrantApplicationId, GrantApplicationState,
    GrantOutcome, GrantPool, GrantPoolCommand, GrantPoolEvent, GrantPoolId, GrantPoolState,
    GrantTitle, Justification,
};
use samskab_eventlog::{EntityRef, EventLog};
use samskab_grants_worker::GrantsProjection;
use samskab_projection::{Projection, checkpoint};
use sqlx::PgPool;
use tracing::info;

use crate::Args;
use crate::fixtures::{TENANT, meta, new_event};
use crate::projection::{Servers, caught_up, cpu_note, fresh_servers, start_worker};
use crate::report::{Figure, Of, Report, ms};

const AUDIT: &str = samskab_audit_worker::READ_MODEL.schema;
const GRANTS: &str = samskab_grants_worker::READ_MODEL.schema;

/// What every application asks for and is granted, in kroner.
const REQUESTED_KRONER: i64 = 10_000;
/// The year every grant is decided for, and the pool-year exported.
const YEAR: i32 = 2026;
/// The export and its check together should take less than this at [`AIM_CASES`] cases.
const AIM: Duration = Duration::from_secs(2);
const AIM_CASES: usize = 10_000;
/// A fixed signing seed of the bench's own (the form `Signer::from_seed` takes).
const SEED: [u8; 32] = [0x5a; 32];
/// How often a long step logs how far it has got.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

pub async fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let cases = args.audit_cases.max(1);
    let servers = fresh_servers().await?;
    let started = Instant::now();
    let story = Story::decide(cases)?;
    info!(
        cases,
        secs = started.elapsed().as_secs_f64(),
        "section 10: decided the backlog's events"
    );
    let (events, last) = append_backlog(args, &servers.log, &story, report).await?;

    // 1. Both projectors on the same backlog, the grants projector first (the baseline).
    let grants = catch_up(&servers, GrantsProjection, GRANTS, last, events).await?;
    report.add(
        Figure::new(
            10,
            "audit.grants",
            format!("grants projector catching up on {events} grant events"),
            grants.rate,
            "ev/s",
        )
        .note(grants.note),
    );
    let audit = catch_up(&servers, AuditProjection, AUDIT, last, events).await?;
    let records: i64 = sqlx::query_scalar("SELECT count(*) FROM audit.record WHERE tenant = $1")
        .bind(TENANT)
        .fetch_one(&servers.pool)
        .await?;
    if records != i64::try_from(events).unwrap_or(i64::MAX) {
        bail!("the audit trail holds {records} records of {events} events");
    }
    let mut figure = Figure::new(
        10,
        "audit.projector",
        format!("audit projector catching up on the same {events} events"),
        audit.rate,
        "ev/s",
    )
    .note(audit.note);
    figure.ratio = report.ratio(figure.value, "audit.grants", Of::Value);
    report.add(figure);

    // 2. The pool-year's export, its check, and the whole chain's verification.
    export_and_verify(&servers.pool, story.pool_id, cases, report).await
}

// --- the backlog --------------------------------------------------------------------------

/// The pool's and the applications' events, each decided on its entity's folded state.
struct Story {
    pool_id: GrantPoolId,
    /// Created, budgeted, a round opened: appended before the applications.
    pool_setup: Vec<GrantPoolEvent>,
    /// Each application's draft, submission and assessment.
    applications: Vec<(GrantApplicationId, Vec<GrantApplicationEvent>)>,
    /// The pool's decision on each application, in order: appended after the applications.
    decisions: Vec<GrantPoolEvent>,
}

/// The one event `command` decides on `state`; `state` then evolved by it.
fn decide_one<D: Decider>(state: &mut D::State, command: &D::Command) -> anyhow::Result<D::Event> {
    let events =
        D::decide(state, command).map_err(|error| anyhow::anyhow!("{command:?}: {error:?}"))?;
    let [event] = events.as_slice() else {
        bail!("{command:?} decided {} events, not one", events.len());
    };
    *state = D::evolve(std::mem::take(state), event);
    Ok(event.clone())
}

impl Story {
    fn decide(cases: usize) -> anyhow::Result<Self> {
        let pool_id = GrantPoolId::new_v7();
        let round = fixtures::grant_round_id();
        let requested = fixtures::kroner(REQUESTED_KRONER);
        let mut details = fixtures::grant_pool_details(pool_id);
        // Every decision is final at once: no second approver.
        details.second_approval_above = fixtures::kroner(REQUESTED_KRONER * 10);
        let criteria = details.criteria.clone();
        let (opens_at, deadline) = (fixtures::at(2026, 2, 1), fixtures::at(2026, 3, 15));
        let budget = fixtures::kroner(
            REQUESTED_KRONER
                .checked_mul(i64::try_from(cases)?)
                .context("the budget overflows")?,
        );

        let mut pool = GrantPoolState::default();
        let pool_setup = [
            GrantPoolCommand::Create(details),
            GrantPoolCommand::ChangeBudget {
                year: YEAR,
                amount: budget,
                reason: Justification::parse("Budget 2026")?,
                by: fixtures::staff("admin"),
                at: fixtures::at(2026, 1, 5),
            },
            GrantPoolCommand::OpenRound {
                round,
                title: GrantTitle::parse("Forårsrunden 2026")?,
                opens_at,
                deadline,
                decision_expected: fixtures::date(2026, 4, 15),
            },
        ]
        .iter()
        .map(|command| decide_one::<GrantPool>(&mut pool, command))
        .collect::<anyhow::Result<Vec<_>>>()?;

        let scores = vec![
            CriterionScore {
                criterion: CriterionKey::parse("reach")?,
                score: 4,
                note: None,
            },
            CriterionScore {
                criterion: CriterionKey::parse("volunteers")?,
                score: 3,
                note: None,
            },
        ];
        let mut applications = Vec::with_capacity(cases);
        let mut decisions = Vec::with_capacity(cases);
        for _ in 0..cases {
            let id = GrantApplicationId::new_v7();
            let mut state = GrantApplicationState::default();
            let commands = [
                GrantApplicationCommand::Draft(fixtures::group_application(
                    id,
                    pool_id,
                    requested,
                    "Mette Jensen",
                )),
                GrantApplicationCommand::Submit {
                    round: Some(round),
                    window: Some((opens_at, deadline)),
                    at: fixtures::at(2026, 2, 10),
                },
                GrantApplicationCommand::Assess {
                    assessor: fixtures::staff("assessor"),
                    criteria: criteria.clone(),
                    scores: scores.clone(),
                    recommended: requested,
                    note: None,
                    at: fixtures::at(2026, 3, 20),
                },
            ];
            let events = commands
                .iter()
                .map(|command| decide_one::<GrantApplication>(&mut state, command))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let case = state.facts().context("the application is drafted")?;
            let decision = decide_one::<GrantPool>(
                &mut pool,
                &GrantPoolCommand::Decide {
                    case,
                    terms: samskab_domain::DecisionTerms {
                        outcome: GrantOutcome::Full,
                        amount: requested,
                        year: YEAR,
                        years: vec![],
                        justification: None,
                        duties: None,
                    },
                    by: fixtures::staff("chair"),
                    at: fixtures::at(2026, 4, 1),
                    today: fixtures::date(2026, 4, 1),
                    overdue_elsewhere: None,
                },
            )?;
            if !matches!(decision, GrantPoolEvent::Decided(_)) {
                bail!("a decision was {}, not final", decision.event_type());
            }
            applications.push((id, events));
            decisions.push(decision);
        }
        Ok(Self {
            pool_id,
            pool_setup,
            applications,
            decisions,
        })
    }

    fn events(&self) -> u64 {
        let application_events: usize = self.applications.iter().map(|(_, e)| e.len()).sum();
        (self.pool_setup.len() + application_events + self.decisions.len()) as u64
    }
}

/// Appends the story, one command (one event) an append: the pool's setup, the applications
/// from `--clients` tasks, then the pool's decisions one after the other. The events appended
/// and the log's last position.
async fn append_backlog(
    args: &Args,
    log: &EventLog,
    story: &Story,
    report: &mut Report,
) -> anyhow::Result<(u64, u64)> {
    let events = story.events();
    let cases = story.applications.len();
    let tasks = args.clients.max(1);
    let pool_entity = EntityRef::new(
        TENANT,
        EntityKind::GrantPool.as_str(),
        &story.pool_id.to_string(),
    )?;
    let cpu = crate::cpu::snapshot();
    let started = Instant::now();

    let mut pool_last = 0;
    for event in &story.pool_setup {
        pool_last = log
            .append(&pool_entity, pool_last, &meta(), vec![new_event(event)])
            .await?
            .position;
    }

    let done = Arc::new(AtomicUsize::new(0));
    let appended = futures::stream::iter(&story.applications)
        .map(|(id, application)| {
            let done = done.clone();
            async move {
                let entity = EntityRef::new(
                    TENANT,
                    EntityKind::GrantApplication.as_str(),
                    &id.to_string(),
                )?;
                let mut last = 0;
                for event in application {
                    last = log
                        .append(&entity, last, &meta(), vec![new_event(event)])
                        .await?
                        .position;
                }
                let done = done.fetch_add(1, Ordering::Relaxed) + 1;
                if done.is_multiple_of(2_000) {
                    info!(
                        done,
                        of = cases,
                        secs = started.elapsed().as_secs_f64(),
                        "section 10: appending the applications"
                    );
                }
                anyhow::Ok(())
            }
        })
        .buffer_unordered(tasks)
        .collect::<Vec<_>>()
        .await;
    appended.into_iter().collect::<anyhow::Result<()>>()?;

    let deciding = Instant::now();
    for (k, decision) in story.decisions.iter().enumerate() {
        pool_last = log
            .append(&pool_entity, pool_last, &meta(), vec![new_event(decision)])
            .await?
            .position;
        if (k + 1).is_multiple_of(2_000) {
            info!(
                done = k + 1,
                of = cases,
                secs = deciding.elapsed().as_secs_f64(),
                "section 10: appending the pool's decisions"
            );
        }
    }
    let elapsed = started.elapsed();
    let last = log.last_position().await?;
    let mut figure = Figure::new(
        10,
        "audit.backlog.append",
        format!("append {events} grant events ({cases} cases, {tasks} tasks; the pool's 1 task)"),
        events as f64 / elapsed.as_secs_f64(),
        "ev/s",
    )
    .note(format!(
        "each case drafted, submitted, assessed (its own subject, {tasks} at a time), then decided \
         on the pool's subject one after the other: the decisions took {:.1} s of {:.1} s; {}",
        deciding.elapsed().as_secs_f64(),
        elapsed.as_secs_f64(),
        cpu_note(&cpu, events, elapsed)
    ));
    figure.ratio = report.ratio(figure.value, "append.n", Of::Value);
    report.add(figure);
    Ok((events, last))
}

// --- the projectors -----------------------------------------------------------------------

struct CaughtUp {
    rate: f64,
    note: String,
}

/// A projector of `projection` started on the backlog and timed until its checkpoint in
/// `schema` reaches `last` (progress logged meanwhile); stopped again.
async fn catch_up<P: Projection>(
    servers: &Servers,
    projection: P,
    schema: &'static str,
    last: u64,
    events: u64,
) -> anyhow::Result<CaughtUp> {
    let name = projection.name();
    let cpu = crate::cpu::snapshot();
    let started = Instant::now();
    let worker = start_worker(servers, projection);
    let progress = {
        let pool = servers.pool.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROGRESS_EVERY).await;
                if let Ok(at) = checkpoint(&pool, schema).await {
                    info!(
                        checkpoint = at,
                        of = last,
                        secs = started.elapsed().as_secs_f64(),
                        "section 10: {name} projector catching up"
                    );
                }
            }
        })
    };
    let outcome = caught_up(
        &servers.pool,
        schema,
        last,
        Duration::from_millis(2),
        Duration::from_secs(1800),
        &worker,
    )
    .await;
    let elapsed = started.elapsed();
    progress.abort();
    outcome?;
    let mut note = cpu_note(&cpu, events, elapsed);
    worker.stop().await?;
    let parked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM samskab_runtime.parked_event WHERE projection = $1",
    )
    .bind(name)
    .fetch_one(&servers.pool)
    .await?;
    if parked != 0 {
        note.push_str(&format!("; CHECK: {parked} parked events"));
    }
    Ok(CaughtUp {
        rate: events as f64 / elapsed.as_secs_f64(),
        note,
    })
}

// --- export and verify --------------------------------------------------------------------

async fn export_and_verify(
    pool: &PgPool,
    pool_id: GrantPoolId,
    cases: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let signer = Signer::from_seed(SEED);
    let now = chrono::Utc::now();

    // (a) The export, rendered as the JSON text that is sent.
    let started = Instant::now();
    let export = export_pool_year(pool, TENANT, pool_id.as_uuid(), YEAR, now, &signer).await?;
    let assembled = started.elapsed();
    let json = to_json_text(&export);
    let exported = started.elapsed();
    let records = export.records.len();
    let head = export.head.seq;
    drop(export);

    // (b) Written to a file and checked by the stand-alone script.
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("pool-year.json");
    let script = samskab_testkit::repo_root().join("deploy/audit/verify_export.py");
    let size = json.len();
    let started = Instant::now();
    tokio::fs::write(&file, json).await?;
    let output = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
        .await
        .with_context(|| format!("running python3 {}", script.display()))?;
    let checked = started.elapsed();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        bail!(
            "verify_export.py failed ({}): {}",
            output.status,
            printed.trim()
        );
    }

    report.add(
        Figure::new(
            10,
            "audit.export",
            format!("export_pool_year + to_json_text, pool-year {YEAR}"),
            ms(exported),
            "ms",
        )
        .note(format!(
            "{records} records, head seq {head}, {:.1} MB of JSON; export_pool_year {:.0} ms \
             (queries, the check before signing), to_json_text {:.0} ms",
            size as f64 / 1e6,
            ms(assembled),
            ms(exported - assembled)
        )),
    );
    let mut figure = Figure::new(
        10,
        "audit.verify.py",
        "write the export to a file + python3 deploy/audit/verify_export.py",
        ms(checked),
        "ms",
    )
    .note(printed.trim().to_string());
    figure.ratio = report.ratio(figure.value, "audit.export", Of::Value);
    report.add(figure);
    let both = exported + checked;
    let mut figure = Figure::new(
        10,
        "audit.export+verify",
        format!("export + verify of the pool-year ({records} records)"),
        ms(both),
        "ms",
    )
    .note(format!(
        "aim < {} s at {AIM_CASES} cases: {}",
        AIM.as_secs(),
        match (cases >= AIM_CASES, both < AIM) {
            (true, true) => "met".to_string(),
            (true, false) => "NOT met".to_string(),
            (false, _) => format!("not comparable, this run has {cases} cases"),
        }
    ));
    figure.ratio = Some((
        both.as_secs_f64() / AIM.as_secs_f64(),
        format!("the aim of {} s", AIM.as_secs()),
    ));
    report.add(figure);

    // The whole chain, in Rust.
    let started = Instant::now();
    let verified = samskab_audit_worker::verify(pool, Some(TENANT)).await?;
    let elapsed = started.elapsed();
    if !verified.is_ok() {
        let problem = verified
            .chains
            .iter()
            .find_map(|chain| chain.problem.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default();
        bail!("the chain does not verify: {problem}");
    }
    let chain_records = verified.records();
    let mut figure = Figure::new(
        10,
        "audit.verify.chain",
        format!("samskab_audit_worker::verify of {TENANT}'s whole chain"),
        ms(elapsed),
        "ms",
    )
    .note(format!(
        "{chain_records} records, {:.0} records/s",
        chain_records as f64 / elapsed.as_secs_f64()
    ));
    figure.ratio = report.ratio(figure.value, "audit.verify.py", Of::Value);
    report.add(figure);
    Ok(())
}
