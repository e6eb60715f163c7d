//! The time-based rules against a real PostgreSQL: a final report's reminders are told on the
//! municipality's days, fourteen days before it is due and once it is overdue, each once (a
//! day missed only delays one; a day redelivered or met again tells nothing twice); a report
//! received, or a decision not final, is reminded of nothing; and a rebuild makes the same
//! reminders with the same ids.

use chrono::NaiveDate;
use samskab_domain::fixtures::*;
use samskab_domain::grant_pool::PoolFinalReport;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_notify_worker::DUE_SOON_DAYS;
use samskab_testkit::projection::{migrated_database, time_at};
use sqlx::PgPool;
use uuid::Uuid;

mod support;
use support::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

const DUE: (i32, u32, u32) = (2027, 3, 31);

fn due() -> NaiveDate {
    date(DUE.0, DUE.1, DUE.2)
}

fn day(position: u64, date: NaiveDate) -> RecordedEvent {
    let id = DayId::of(date);
    let began = DayEvent::Began(DayBegan {
        id,
        date,
        at: time_at(position),
    });
    recorded(id.as_uuid(), position, &began)
}

fn application(n: u128) -> GrantApplicationId {
    GrantApplicationId::from_uuid(Uuid::from_u128(
        0x0199_0000_0000_7000_8000_0000_0005_0000 + n,
    ))
}

/// Three grants to the canonical organisation with a report due on [`DUE`]: one decided at
/// once, one proposed above the threshold and never approved, one whose report comes in time.
fn decisions() -> Vec<RecordedEvent> {
    let pool = grant_pool_id().as_uuid();
    let with_report = |n| PoolDecision {
        report_due: Some(due()),
        ..decision(application(n), kroner(40_000))
    };
    let received = GrantPoolEvent::FinalReportReceived(PoolFinalReport {
        id: grant_pool_id(),
        application: application(3),
        spent: kroner(40_000),
        narrative: GrantText::parse("40 lektiecaféer").expect("narrative"),
        audited: false,
        received_on: date(2027, 3, 1),
        by: staff("sagsbehandler-1"),
        at: time_at(4),
    });
    vec![
        recorded(pool, 1, &GrantPoolEvent::Decided(with_report(1))),
        recorded(pool, 2, &GrantPoolEvent::DecisionProposed(with_report(2))),
        recorded(pool, 3, &GrantPoolEvent::Decided(with_report(3))),
        recorded(pool, 4, &received),
    ]
}

/// Every reminder: the day's position it came from, its rule, its case.
async fn reminders(pool: &PgPool) -> anyhow::Result<Vec<(i64, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT from_position, rule, link FROM notify.message
         WHERE rule LIKE 'report_%' ORDER BY id",
    )
    .fetch_all(pool)
    .await?)
}

#[tokio::test]
async fn a_final_report_is_reminded_of_once_before_and_once_after_its_due_day() -> anyhow::Result<()>
{
    let pool = migrated_database().await?;
    let link = format!("/grant-applications/{}", application(1).as_uuid());
    let soon = due() - chrono::Days::new(u64::try_from(DUE_SOON_DAYS)?);
    let mut events = decisions();
    events.extend([
        // Too early; the first of the fourteen days; a day later (told already); the due day
        // itself (not overdue yet); the day after, missed by the clock; two days after; and
        // the first of the fourteen days again, out of place.
        day(10, soon - chrono::Days::new(1)),
        day(11, soon),
        day(12, soon + chrono::Days::new(1)),
        day(13, due()),
        day(14, due() + chrono::Days::new(2)),
        day(15, due() + chrono::Days::new(3)),
        day(16, soon),
    ]);
    let all: Vec<&RecordedEvent> = events.iter().collect();
    NOTIFY.apply_all(&pool, &all).await?;
    let expected = vec![
        (11, "report_due".to_string(), link.clone()),
        (14, "report_overdue".to_string(), link.clone()),
    ];
    assert_eq!(
        reminders(&pool).await?,
        expected,
        "not the proposal, not the report received, each reminder once"
    );
    let subject: String =
        sqlx::query_scalar("SELECT subject FROM notify.message WHERE from_position = 14")
            .fetch_one(&pool)
            .await?;
    assert_eq!(subject, "Slutrapporten er ikke modtaget");

    // Redelivered: nothing more. Rebuilt from nothing: the same reminders, the same ids.
    NOTIFY.apply_all(&pool, &all).await?;
    assert_eq!(reminders(&pool).await?, expected);
    let ids = |pool: PgPool| async move {
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM notify.message ORDER BY id")
            .fetch_all(&pool)
            .await
    };
    let before = ids(pool.clone()).await?;
    sqlx::query("TRUNCATE notify.message, notify.outbox, notify.grant_applicant")
        .execute(&pool)
        .await?;
    NOTIFY.apply_all(&pool, &all).await?;
    assert_eq!(ids(pool.clone()).await?, before);
    Ok(())
}

/// A day the clock missed: the case due tomorrow on the day it comes back is reminded of as
/// due; one whose due day passed while it was away is told it is overdue only.
#[tokio::test]
async fn a_missed_day_only_delays_a_reminder() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let mut events = decisions();
    events.push(day(10, due() + chrono::Days::new(5)));
    let all: Vec<&RecordedEvent> = events.iter().collect();
    NOTIFY.apply_all(&pool, &all).await?;
    let rules: Vec<String> = reminders(&pool)
        .await?
        .into_iter()
        .map(|(_, rule, _)| rule)
        .collect();
    assert_eq!(rules, ["report_overdue"]);
    Ok(())
}
