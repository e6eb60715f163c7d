//! Section 8: the matching projector (`samskab_matching_worker::MatchingProjection`) on the
//! runtime of `samskab-projection`, as section 4 runs the directory's.
//!
//! 1. Catching up on profile changes: `--profile-volunteers` volunteers are registered and
//!    consent to matching (so their rows are in the partial indexes candidates are drawn from,
//!    as a matchable volunteer's are), both projectors catch up on that, then a backlog of
//!    `--profile-updates` `volunteer.profile_updated.v2` events spread over them is appended
//!    with no projector running. Timed, one after the other: PostgreSQL alone doing the
//!    matching projector's UPDATE (the baseline), the directory projector on the backlog, then
//!    the matching projector on it. Every event goes through `EventLog::append`, so its
//!    personal data is sealed as the API's is, and each projector opens it (matching never
//!    reads it, but the runtime opens every batch before `apply`).
//! 2. Rebuilding the matching read model (`Projector::rebuild`, what `samskab rebuild matching`
//!    runs) from `--rebuild-events` events of a mix that fills every table it has (see
//!    [`STORY`]), beside a rebuild from a tenth of them on the same log, taken when the log
//!    held only that tenth: the two rates side by side say whether a rebuild scales linearly.
//!    No live projector runs meanwhile, so the figure is the replay alone. The rebuild runs in
//!    this process; its peak RSS is taken with the kernel's high-water mark reset before it.
//!    The reporting read model (`samskab_reporting_worker::ReportingProjection`: versions of
//!    volunteers, needs and matches, minutes per month) is rebuilt from the same log right after
//!    each matching rebuild; its rate is given beside matching's on the same events (the
//!    baseline) and its time beside its own from a tenth (issue 10's replay figure).

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use samskab_directory_worker::DirectoryProjection;
use samskab_domain::ranking::slot_key;
use samskab_domain::{
    Availability, Counterpart, DomainEvent, MatchAccepted, MatchDetails, MatchEvent,
    MatchHoursLogged, MatchId, MatchProposed, MatchSide, MatchStarted, MonthlyMinutes, NeedEvent,
    NeedId, Postcode, ProposedBy, Purpose, VolunteerEvent, VolunteerId, VolunteerProfile,
    VolunteerPurposeConsent, VolunteersWanted, YearMonth, fixtures,
};
use samskab_eventlog::{EntityRef, EventLog};
use samskab_matching_worker::MatchingProjection;
use samskab_projection::{Projection, Projector, ProjectorConfig, RebuildReport};
use samskab_reporting_worker::ReportingProjection;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::Args;
use crate::fixtures::{RegistrationTemplate, TENANT, meta, new_event, volunteer_entity};
use crate::projection::{Servers, caught_up, cpu_note, fresh_servers, start_worker};
use crate::report::{Figure, Of, Report};

const MATCHING: &str = samskab_matching_worker::READ_MODEL.schema;
const DIRECTORY: &str = samskab_directory_worker::READ_MODEL.schema;

/// How often a long step logs how far it has got.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

pub async fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    profile_updates(args, report).await?;
    rebuild(args, report).await
}

// --- 1. profile changes -------------------------------------------------------------------

/// A registered volunteer and the subject sequence its next command expects.
struct Volunteer {
    id: VolunteerId,
    entity: EntityRef,
    last: u64,
}

/// Profiles that differ in what matching stores (postcode, hours, slots), so that every update
/// really changes the row, as an edit through the API would.
fn profile_variants(base: &VolunteerProfile) -> anyhow::Result<Vec<VolunteerProfile>> {
    const POSTCODES: [&str; 10] = [
        "2610", "2600", "2605", "2620", "2650", "2700", "2720", "2730", "2750", "2500",
    ];
    let slots = base.availability.slots();
    (0..10u8)
        .map(|i| {
            let mut profile = base.clone();
            profile.postcode = Postcode::parse(POSTCODES[usize::from(i)])?;
            // Every other variant drops its last slot: the slot array changes too.
            let keep = if i % 2 == 0 { slots.len() } else { 1 };
            profile.availability = Availability::parse(slots[..keep].iter().copied(), 1 + i)?;
            Ok(profile)
        })
        .collect()
}

async fn profile_updates(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let servers = fresh_servers().await?;
    let n = args.profile_updates;
    let count = args.profile_volunteers.max(1);
    let tasks = args.clients.max(1);
    let template = Arc::new(RegistrationTemplate::new()?);
    let profiles = Arc::new(profile_variants(template.profile())?);

    // Registered, and consenting to matching, from `tasks` tasks; each task keeps its
    // volunteers and later appends their updates, so no two tasks write one subject.
    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let (log, template) = (servers.log.clone(), template.clone());
        let mine = (task..count).step_by(tasks).count();
        handles.push(tokio::spawn(async move {
            let mut volunteers = Vec::with_capacity(mine);
            for _ in 0..mine {
                let registration = template.registration()?;
                let registered = log
                    .append(&registration.entity, 0, &meta(), vec![registration.event])
                    .await?;
                let consent = VolunteerEvent::PurposeConsentGiven(VolunteerPurposeConsent {
                    id: registration.id,
                    purpose: Purpose::Matching,
                    at: fixtures::at(2025, 3, 2),
                });
                let consented = log
                    .append(
                        &registration.entity,
                        registered.position,
                        &meta(),
                        vec![new_event(&consent)],
                    )
                    .await?;
                volunteers.push(Volunteer {
                    id: registration.id,
                    entity: registration.entity,
                    last: consented.position,
                });
            }
            anyhow::Ok(volunteers)
        }));
    }
    let mut groups = Vec::new();
    for handle in handles {
        groups.push(handle.await??);
    }
    let registered_to = servers.log.last_position().await?;
    // Both read models hold the volunteers before the backlog, so each projector's timed run
    // is updates only.
    let matching = start_worker(&servers, MatchingProjection);
    let directory = start_worker(&servers, DirectoryProjection);
    for (schema, worker) in [(MATCHING, &matching), (DIRECTORY, &directory)] {
        caught_up(
            &servers.pool,
            schema,
            registered_to,
            Duration::from_millis(20),
            Duration::from_secs(600),
            worker,
        )
        .await?;
    }
    matching.stop().await?;
    directory.stop().await?;
    println!(
        "  ({count} volunteers registered, consenting to matching and projected in {:.1} s)",
        started.elapsed().as_secs_f64()
    );

    // The backlog: task t updates its own volunteers in turn.
    let next = Arc::new(AtomicU64::new(0));
    let cpu = crate::cpu::snapshot();
    let started = Instant::now();
    let mut handles = Vec::new();
    for mut volunteers in groups.into_iter().filter(|g| !g.is_empty()) {
        let (log, template, profiles, next) = (
            servers.log.clone(),
            template.clone(),
            profiles.clone(),
            next.clone(),
        );
        handles.push(tokio::spawn(async move {
            let mut turn = 0usize;
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= n {
                    break;
                }
                let at = turn % volunteers.len();
                let volunteer = &mut volunteers[at];
                turn += 1;
                let profile = &profiles[(k % profiles.len() as u64) as usize];
                let event = template.profile_update(volunteer.id, profile);
                volunteer.last = log
                    .append(&volunteer.entity, volunteer.last, &meta(), vec![event])
                    .await?
                    .position;
            }
            anyhow::Ok(volunteers)
        }));
    }
    let mut volunteers = Vec::new();
    for handle in handles {
        volunteers.extend(handle.await??);
    }
    let elapsed = started.elapsed();
    let last = servers.log.last_position().await?;
    let mut figure = Figure::new(
        8,
        "match.backlog.append",
        format!("append {n} profile updates over {count} volunteers (backlog), {tasks} tasks"),
        n as f64 / elapsed.as_secs_f64(),
        "ev/s",
    )
    .note(cpu_note(&cpu, n, elapsed));
    figure.ratio = report.ratio(figure.value, "append.n", Of::Value);
    report.add(figure);

    // Baseline: PostgreSQL alone.
    let cpu = crate::cpu::snapshot();
    let started = Instant::now();
    let rate = update_baseline(
        &servers.pool,
        &volunteers,
        &profiles,
        (last, n),
        args.insert_batch,
    )
    .await?;
    report.add(
        Figure::new(
            8,
            "match.pg.update",
            format!(
                "plain UPDATE (the matching projector's), {} rows/transaction",
                args.insert_batch
            ),
            rate,
            "rows/s",
        )
        .note(cpu_note(&cpu, n, started.elapsed())),
    );

    let directory = catch_up(&servers, DirectoryProjection, DIRECTORY, last, n).await?;
    let mut figure = Figure::new(
        8,
        "match.dir",
        format!("directory projector on the same {n} profile updates"),
        directory.rate,
        "ev/s",
    )
    .note(directory.note);
    figure.ratio = report.ratio(figure.value, "match.pg.update", Of::Value);
    report.add(figure);

    let mut matching = catch_up(&servers, MatchingProjection, MATCHING, last, n).await?;
    // Each volunteer's row must carry its last update's position.
    let stale: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM matching.volunteer v JOIN unnest($1::uuid[], $2::bigint[]) AS l(id, last) \
         ON v.id = l.id WHERE v.position <> l.last",
    )
    .bind(volunteers.iter().map(|v| v.id.as_uuid()).collect::<Vec<_>>())
    .bind(
        volunteers
            .iter()
            .map(|v| i64::try_from(v.last).unwrap_or(i64::MAX))
            .collect::<Vec<_>>(),
    )
    .fetch_one(&servers.pool)
    .await?;
    if stale != 0 {
        matching
            .note
            .push_str(&format!("; CHECK: {stale} rows short of their last update"));
    }
    if let Some((ratio, _)) = report.ratio(matching.rate, "match.pg.update", Of::Value) {
        matching
            .note
            .push_str(&format!("; {ratio:.2}x plain UPDATE"));
    }
    let mut figure = Figure::new(
        8,
        "match.proj",
        format!("matching projector on {n} profile updates"),
        matching.rate,
        "ev/s",
    )
    .note(matching.note);
    figure.ratio = report.ratio(figure.value, "match.dir", Of::Value);
    report.add(figure);
    Ok(())
}

struct CaughtUp {
    rate: f64,
    note: String,
}

/// Times a projector of `projection` from its start until its checkpoint reaches `last`
/// (`n` events on), as section 4 does.
async fn catch_up<P: samskab_projection::Projection>(
    servers: &Servers,
    projection: P,
    schema: &str,
    last: u64,
    n: u64,
) -> anyhow::Result<CaughtUp> {
    let name = projection.name();
    let cpu = crate::cpu::snapshot();
    let started = Instant::now();
    let worker = start_worker(servers, projection);
    caught_up(
        &servers.pool,
        schema,
        last,
        Duration::from_millis(2),
        Duration::from_secs(600),
        &worker,
    )
    .await?;
    let elapsed = started.elapsed();
    let mut note = cpu_note(&cpu, n, elapsed);
    worker.stop().await?;
    let parked = parked(&servers.pool, name).await?;
    if parked != 0 {
        note.push_str(&format!("; CHECK: {parked} parked events"));
    }
    Ok(CaughtUp {
        rate: n as f64 / elapsed.as_secs_f64(),
        note,
    })
}

async fn parked(pool: &PgPool, projection: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM samskab_runtime.parked_event WHERE projection = $1",
    )
    .bind(projection)
    .fetch_one(pool)
    .await?)
}

/// The matching projector's profile UPDATE, `n` times over the same volunteers with the same
/// values (positions going on from `after`, as the backlog's do), on a copy of `matching.volunteer` (its indexes too), `batch` per transaction, one
/// statement per row, on one connection: the writes alone, without NATS, decoding, opening
/// personal data or the checkpoint.
async fn update_baseline(
    pool: &PgPool,
    volunteers: &[Volunteer],
    profiles: &[VolunteerProfile],
    (after, n): (u64, u64),
    batch: usize,
) -> anyhow::Result<f64> {
    if volunteers.is_empty() {
        bail!("no volunteers to update");
    }
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql(
        "CREATE TABLE public.bench_volunteer (LIKE matching.volunteer INCLUDING ALL); \
         INSERT INTO public.bench_volunteer SELECT * FROM matching.volunteer; \
         ANALYZE public.bench_volunteer",
    )
    .execute(&mut *conn)
    .await?;
    let texts = |items: Vec<&str>| items.into_iter().map(str::to_string).collect::<Vec<_>>();
    let started = Instant::now();
    let mut written = 0u64;
    while written < n {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for _ in 0..batch.max(1) {
            if written == n {
                break;
            }
            let volunteer = &volunteers[(written % volunteers.len() as u64) as usize];
            let profile = &profiles[(written % profiles.len() as u64) as usize];
            written += 1;
            // A `.v2` update leaves the børneattest as it is, as the worker's statement does.
            sqlx::query(
                "UPDATE public.bench_volunteer SET
                    postcode = $3, skills = $4, languages = $5, target_groups = $6, slots = $7,
                    hours_per_week = $8,
                    updated_at = $9, position = $10
                 WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $10",
            )
            .bind(TENANT)
            .bind(volunteer.id.as_uuid())
            .bind(profile.postcode.as_str())
            .bind(texts(profile.skills.iter().map(|t| t.as_str()).collect()))
            .bind(texts(
                profile.languages.iter().map(|l| l.as_str()).collect(),
            ))
            .bind(texts(
                profile.target_groups.iter().map(|g| g.as_str()).collect(),
            ))
            .bind(
                profile
                    .availability
                    .slots()
                    .iter()
                    .map(slot_key)
                    .collect::<Vec<_>>(),
            )
            .bind(i32::from(profile.availability.hours_per_week()))
            .bind(chrono::Utc::now())
            .bind(i64::try_from(after + written).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

// --- 2. rebuild -----------------------------------------------------------------------------

/// Events in one story: the commands of two volunteers, a need and a match between them, in
/// the order the API would take them. The mix of a log of stories: registrations 10%,
/// consents to matching 10%, needs published 5% and updated 5%, match proposals 5%,
/// acceptances 5%, starts 5%, hours logged 10%, profile updates 45%.
pub const STORY: u64 = 20;

/// The values every story shares, made once.
struct StoryTemplate {
    registration: RegistrationTemplate,
    profiles: Vec<VolunteerProfile>,
    wanted: VolunteersWanted,
    minutes: MonthlyMinutes,
    months: [YearMonth; 2],
}

impl StoryTemplate {
    fn new() -> anyhow::Result<Self> {
        let registration = RegistrationTemplate::new()?;
        let profiles = profile_variants(registration.profile())?;
        Ok(Self {
            registration,
            profiles,
            wanted: VolunteersWanted::parse(3)?,
            minutes: MonthlyMinutes::parse(240)?,
            months: [YearMonth::new(2025, 9)?, YearMonth::new(2025, 10)?],
        })
    }
}

/// One entity's subject and the subject sequence its next command expects.
struct Subject {
    entity: EntityRef,
    last: u64,
}

impl Subject {
    fn new(kind: &str, id: &str) -> anyhow::Result<Self> {
        Ok(Self {
            entity: EntityRef::new(TENANT, kind, id)?,
            last: 0,
        })
    }

    async fn append<E: DomainEvent>(&mut self, log: &EventLog, event: &E) -> anyhow::Result<()> {
        self.append_new(log, new_event(event)).await
    }

    async fn append_new(
        &mut self,
        log: &EventLog,
        event: samskab_eventlog::NewEvent,
    ) -> anyhow::Result<()> {
        self.last = log
            .append(&self.entity, self.last, &meta(), vec![event])
            .await?
            .position;
        Ok(())
    }
}

/// Appends story `s` ([`STORY`] events, one command each).
async fn append_story(log: &EventLog, t: &StoryTemplate, s: u64) -> anyhow::Result<()> {
    let ids = [VolunteerId::new_v7(), VolunteerId::new_v7()];
    let mut volunteers = [
        Subject {
            entity: volunteer_entity(ids[0])?,
            last: 0,
        },
        Subject {
            entity: volunteer_entity(ids[1])?,
            last: 0,
        },
    ];
    let need_id = NeedId::new_v7();
    let mut need = Subject::new(NeedEvent::KIND.as_str(), &need_id.to_string())?;
    let match_id = MatchId::new_v7();
    let mut matched = Subject::new(MatchEvent::KIND.as_str(), &match_id.to_string())?;

    for (volunteer, id) in volunteers.iter_mut().zip(ids) {
        let registration = t.registration.registration_of(id);
        volunteer.append_new(log, registration).await?;
        let consent = VolunteerEvent::PurposeConsentGiven(VolunteerPurposeConsent {
            id,
            purpose: Purpose::Matching,
            at: fixtures::at(2025, 3, 2),
        });
        volunteer.append(log, &consent).await?;
    }
    let details = fixtures::need_details(need_id, "Lektiehjælp tirsdag aften");
    need.append(log, &NeedEvent::Published(details.clone()))
        .await?;
    // Proposed by the need's coordinator (that side has accepted by proposing), accepted by
    // the volunteer: agreed; started; two months of hours.
    let proposal = MatchEvent::Proposed(MatchProposed {
        details: MatchDetails {
            id: match_id,
            volunteer_id: ids[0],
            counterpart: Counterpart::Need(need_id),
            proposed_by: ProposedBy::Coordinator,
            note: None,
            volunteer_municipality: None,
        },
        at: fixtures::at(2025, 9, 3),
    });
    matched.append(log, &proposal).await?;
    let accepted = MatchEvent::Accepted(MatchAccepted {
        id: match_id,
        side: MatchSide::Volunteer,
        at: fixtures::at(2025, 9, 4),
    });
    matched.append(log, &accepted).await?;
    let started = MatchEvent::Started(MatchStarted {
        id: match_id,
        on: fixtures::date(2025, 9, 9),
        at: fixtures::at(2025, 9, 5),
    });
    matched.append(log, &started).await?;
    for period in t.months {
        let hours = MatchEvent::HoursLogged(MatchHoursLogged {
            id: match_id,
            period,
            minutes: t.minutes,
            at: fixtures::at(2025, 11, 1),
        });
        matched.append(log, &hours).await?;
    }
    let mut updated = details;
    updated.volunteers_wanted = t.wanted;
    need.append(log, &NeedEvent::Updated(updated)).await?;
    for k in 0..9u64 {
        let i = (k % 2) as usize;
        let profile = &t.profiles[((s + k) % t.profiles.len() as u64) as usize];
        let event = t.registration.profile_update(ids[i], profile);
        volunteers[i].append_new(log, event).await?;
    }
    Ok(())
}

/// Appends `stories` from `tasks` tasks, logging progress.
async fn append_stories(
    log: &EventLog,
    template: &Arc<StoryTemplate>,
    stories: Range<u64>,
    tasks: usize,
) -> anyhow::Result<()> {
    let events = (stories.end - stories.start) * STORY;
    let next = Arc::new(AtomicU64::new(stories.start));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let stop = CancellationToken::new();
    let progress = {
        let (done, stop) = (done.clone(), stop.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(PROGRESS_EVERY);
            ticks.tick().await;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let done = done.load(Ordering::Relaxed) * STORY;
                info!(
                    appended = done,
                    of = events,
                    events_per_second = (done as f64 / started.elapsed().as_secs_f64()) as u64,
                    "section 8: appending the rebuild's log"
                );
            }
        })
    };
    let mut handles = Vec::new();
    for _ in 0..tasks.max(1) {
        let (log, template, next, done) =
            (log.clone(), template.clone(), next.clone(), done.clone());
        let end = stories.end;
        handles.push(tokio::spawn(async move {
            loop {
                let s = next.fetch_add(1, Ordering::Relaxed);
                if s >= end {
                    return anyhow::Ok(());
                }
                append_story(&log, &template, s).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut outcome = Ok(());
    for handle in handles {
        if let Err(e) = handle.await.map_err(anyhow::Error::from).and_then(|r| r) {
            outcome = Err(e);
        }
    }
    stop.cancel();
    let _ = progress.await;
    outcome?;
    println!(
        "  ({events} events appended in {:.1} s, {:.0} ev/s, {tasks} tasks)",
        started.elapsed().as_secs_f64(),
        events as f64 / started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One timed rebuild, with where the CPU went and the peak RSS of this process during it.
struct Rebuilt {
    report: RebuildReport,
    cpu: String,
    /// WAL the rebuild wrote and the size of the tables it swapped in (tables, indexes, TOAST):
    /// what PostgreSQL had to write, beside its CPU.
    wal: String,
    rss_before: f64,
    rss_peak: f64,
}

async fn rebuild_once<P: Projection>(
    servers: &Servers,
    projection: P,
    size: u64,
) -> anyhow::Result<Rebuilt> {
    let schema = projection.schema();
    let name = projection.name();
    let projector = Projector::new(
        projection,
        servers.log.clone(),
        servers.pool.clone(),
        ProjectorConfig::default(),
    );
    let pid = std::process::id();
    let rss_before = crate::rss::vm(pid, "VmRSS")?;
    let wal_before: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(&servers.pool)
        .await?;
    let peak = PeakRss::start(pid);
    let cpu = crate::cpu::snapshot();
    let started = Instant::now();
    let logged = std::sync::Mutex::new(Instant::now());
    let progress = |done: u64, total: u64| {
        let Ok(mut last) = logged.lock() else { return };
        if last.elapsed() >= PROGRESS_EVERY {
            *last = Instant::now();
            info!(
                done,
                total,
                events_per_second = (done as f64 / started.elapsed().as_secs_f64()) as u64,
                "section 8: rebuilding {name} from {size} events"
            );
        }
    };
    let report = projector.rebuild(progress).await?;
    let elapsed = started.elapsed();
    let cpu = cpu_note(&cpu, report.events, elapsed);
    let rss_peak = peak.finish().await?;
    let (wal, size): (i64, i64) = sqlx::query_as(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint,
                (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = $2 AND c.relkind = 'r')",
    )
    .bind(wal_before)
    .bind(schema)
    .fetch_one(&servers.pool)
    .await?;
    let mib = |bytes: i64| bytes as f64 / (1024.0 * 1024.0);
    let wal = format!(
        "WAL {:.0} MiB ({:.0} bytes/event), tables {:.0} MiB",
        mib(wal),
        wal as f64 / report.events.max(1) as f64,
        mib(size)
    );
    Ok(Rebuilt {
        cpu,
        wal,
        report,
        rss_before: crate::rss::mib(rss_before),
        rss_peak: crate::rss::mib(rss_peak),
    })
}

/// The highest RSS of a process over a step: the kernel's high-water mark, reset at the start
/// (`/proc/<pid>/clear_refs`), else the highest of 100 ms samples.
struct PeakRss {
    pid: u32,
    reset: bool,
    stop: CancellationToken,
    sampler: tokio::task::JoinHandle<u64>,
}

impl PeakRss {
    fn start(pid: u32) -> Self {
        let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
        let stop = CancellationToken::new();
        let sampler = {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut peak = 0;
                let mut ticks = tokio::time::interval(Duration::from_millis(100));
                while !stop.is_cancelled() {
                    ticks.tick().await;
                    if let Ok(rss) = crate::rss::vm(pid, "VmRSS") {
                        peak = peak.max(rss);
                    }
                }
                peak
            })
        };
        Self {
            pid,
            reset,
            stop,
            sampler,
        }
    }

    /// The peak in KiB.
    async fn finish(self) -> anyhow::Result<u64> {
        self.stop.cancel();
        let sampled = self.sampler.await?;
        let now = crate::rss::vm(self.pid, "VmRSS")?;
        let hwm = if self.reset {
            crate::rss::vm(self.pid, "VmHWM")?
        } else {
            0
        };
        Ok(sampled.max(now).max(hwm))
    }
}

async fn rebuild(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let servers = fresh_servers().await?;
    let template = Arc::new(StoryTemplate::new()?);
    let stories = args.rebuild_events.div_ceil(STORY).max(10);
    let small = (stories / 10).max(1);
    let tasks = args.clients.max(1);

    // The baseline first: the log then holds a tenth of the events; the same stories go on.
    // Keys: matching's and reporting's rate and total time.
    let mut small_growth = None;
    for (range, matching, rss_key, reporting) in [
        (
            0..small,
            ("match.rebuild.small", "match.rebuild.small.s"),
            "match.rebuild.small.rss",
            ("report.rebuild.small", "report.rebuild.small.s"),
        ),
        (
            small..stories,
            ("match.rebuild", "match.rebuild.s"),
            "match.rebuild.rss",
            ("report.rebuild", "report.rebuild.s"),
        ),
    ] {
        append_stories(&servers.log, &template, range.clone(), tasks).await?;
        let size = range.end * STORY;
        let rebuilt = rebuild_once(&servers, MatchingProjection, size).await?;
        let checks = check_rebuilt(&servers.pool, range.end, &rebuilt.report).await?;
        let note = format!(
            "{} events applied in {} stories of {STORY} (see STORY: 45% profile updates); {}; {}{checks}",
            rebuilt.report.events, range.end, rebuilt.cpu, rebuilt.wal
        );
        let baselines = ("match.rebuild.small.s", "match.rebuild.small");
        let what = format!("rebuild matching from {size} events");
        rebuild_figures(report, &rebuilt, what, matching, baselines, note);
        // A rebuild streams the log in batches: its own memory (the growth over what this
        // process held before it) should not grow with the log. The peak is the figure, its
        // growth beside the smaller rebuild's in the note.
        let growth = rebuilt.rss_peak - rebuilt.rss_before;
        let mut note = format!(
            "+{growth:.1} MiB over the {:.1} MiB before it (the bench, with what appending left)",
            rebuilt.rss_before
        );
        if let Some(small) = small_growth {
            note.push_str(&format!("; from a tenth of the events: +{small:.1} MiB"));
        }
        small_growth = Some(growth);
        let mut rss = Figure::new(
            8,
            rss_key,
            format!("RSS peak of the process rebuilding from {size} events"),
            rebuilt.rss_peak,
            "MiB",
        )
        .note(note);
        rss.ratio = report.ratio(rss.value, "match.rebuild.small.rss", Of::Value);
        report.add(rss);
        // The reporting read model from the same log: its rate beside matching's (the
        // baseline, the same events replayed in the same run), its time beside its own from a
        // tenth.
        let rebuilt = rebuild_once(&servers, ReportingProjection, size).await?;
        let checks = check_reporting(&servers.pool, range.end, &rebuilt.report).await?;
        let note = format!(
            "versions of volunteers, needs and matches, and minutes per month; {}; {}; RSS peak {:.1} MiB{checks}",
            rebuilt.cpu, rebuilt.wal, rebuilt.rss_peak
        );
        let baselines = ("report.rebuild.small.s", matching.0);
        let what = format!("rebuild reporting from {size} events");
        rebuild_figures(report, &rebuilt, what, reporting, baselines, note);
    }
    Ok(())
}

/// A rebuild's two figures, `what` it rebuilt: its total time (key `keys.1`, beside
/// `baselines.0`) and its rate (key `keys.0`, beside `baselines.1`), the rate with `note`.
fn rebuild_figures(
    report: &mut Report,
    rebuilt: &Rebuilt,
    what: String,
    keys: (&'static str, &'static str),
    baselines: (&str, &str),
    note: String,
) {
    let seconds = rebuilt.report.elapsed.as_secs_f64();
    let mut time = Figure::new(8, keys.1, format!("{what}: total time"), seconds, "s");
    time.ratio = report.ratio(seconds, baselines.0, Of::Value);
    report.add(time);
    let events = rebuilt.report.events as f64;
    let mut rate = Figure::new(8, keys.0, what, events / seconds, "ev/s").note(note);
    rate.ratio = report.ratio(rate.value, baselines.1, Of::Value);
    report.add(rate);
}

/// "; CHECK: ..." naming each `(what, got, want)` where got is not want; empty when none.
fn checked(expected: &[(&str, i64, i64)]) -> String {
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(_, got, want)| got != want)
        .map(|(what, got, want)| format!("{got} {what}, not {want}"))
        .collect();
    if wrong.is_empty() {
        String::new()
    } else {
        format!("; CHECK: {}", wrong.join(", "))
    }
}

/// What the rebuilt reporting tables must hold after `stories` stories: two volunteers, a need
/// and a match (agreed, then started) per story, their versions standing, two months of
/// minutes per match, nothing parked. Empty when they do.
async fn check_reporting(
    pool: &PgPool,
    stories: u64,
    rebuilt: &RebuildReport,
) -> anyhow::Result<String> {
    let (volunteers, needs, running, minutes, parked): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM reporting.volunteer_version
                      WHERE valid_to IS NULL AND status = 'active'),
                    (SELECT count(*) FROM reporting.need_version
                      WHERE valid_to IS NULL AND status = 'open'),
                    (SELECT count(*) FROM reporting.match_version
                      WHERE valid_to IS NULL AND stage = 'active'),
                    (SELECT count(DISTINCT (match_id, month)) FROM reporting.match_hours),
                    (SELECT count(*) FROM samskab_runtime.parked_event WHERE projection = $1)",
    )
    .bind(samskab_reporting_worker::READ_MODEL.name)
    .fetch_one(pool)
    .await
    .context("checking the rebuilt reporting tables")?;
    let stories = i64::try_from(stories).unwrap_or(i64::MAX);
    let expected = [
        ("active volunteers", volunteers, 2 * stories),
        ("open needs", needs, stories),
        ("running matches", running, stories),
        ("months of minutes", minutes, 2 * stories),
        ("parked events", parked, 0),
        (
            "events applied",
            i64::try_from(rebuilt.events).unwrap_or(i64::MAX),
            stories * STORY as i64,
        ),
    ];
    Ok(checked(&expected))
}

/// What the rebuilt tables must hold after `stories` stories: a row per volunteer, need and
/// match, every match active with two months of hours, nothing parked. Empty when they do.
async fn check_rebuilt(
    pool: &PgPool,
    stories: u64,
    rebuilt: &RebuildReport,
) -> anyhow::Result<String> {
    let (volunteers, matchable, needs, active, parked): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM matching.volunteer),
                    (SELECT count(*) FROM matching.volunteer WHERE matching_consent),
                    (SELECT count(*) FROM matching.need WHERE volunteers_wanted = 3),
                    (SELECT count(*) FROM matching.match
                      WHERE status = 'active' AND jsonb_typeof(minutes) = 'object'
                        AND (SELECT count(*) FROM jsonb_object_keys(minutes)) = 2),
                    (SELECT count(*) FROM samskab_runtime.parked_event WHERE projection = $1)",
    )
    .bind(samskab_matching_worker::READ_MODEL.name)
    .fetch_one(pool)
    .await
    .context("checking the rebuilt tables")?;
    let stories = i64::try_from(stories).unwrap_or(i64::MAX);
    let events = stories * STORY as i64;
    let expected = [
        ("volunteers", volunteers, 2 * stories),
        ("volunteers consenting to matching", matchable, 2 * stories),
        ("updated needs", needs, stories),
        ("active matches with two months", active, stories),
        ("parked events", parked, 0),
        (
            "events applied",
            i64::try_from(rebuilt.events).unwrap_or(i64::MAX),
            events,
        ),
    ];
    Ok(checked(&expected))
}
