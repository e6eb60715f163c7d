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

/// A round's deadline at noon on 15 March 2027 (Copenhagen), a decision expected a month on.
fn round_opened() -> GrantPoolEvent {
    GrantPoolEvent::RoundOpened(samskab_domain::grant_pool::PoolRound {
        id: grant_pool_id(),
        round: grant_round_id(),
        title: GrantTitle::parse("Forårsrunden 2027").expect("title"),
        opens_at: time_at(0),
        deadline: "2027-03-15T11:00:00Z".parse().expect("deadline"),
        decision_expected: date(2027, 4, 15),
    })
}

fn submitted(id: GrantApplicationId, position: u64) -> RecordedEvent {
    let version = GrantApplicationEvent::Submitted(ApplicationVersion {
        id,
        version: 1,
        round: Some(grant_round_id()),
        at: "2027-03-01T09:00:00Z".parse().expect("at"),
        content: application_content(kroner(40_000)),
        group_name: None,
        personal: None,
    });
    recorded(id.as_uuid(), position, &version)
}

/// Two associations' drafts in a round: the one submitted is told it was received (with
/// when a decision is expected) and never reminded; the other is reminded once, seven days
/// before the deadline, and told when it is received in turn.
#[tokio::test]
async fn an_application_is_confirmed_when_submitted_and_reminded_of_its_deadline_until_then()
-> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let (early, late) = (application(1), application(2));
    let drafted = |id: GrantApplicationId, position| {
        let draft = association_application(id, grant_pool_id(), kroner(40_000));
        recorded(
            id.as_uuid(),
            position,
            &GrantApplicationEvent::Drafted(draft),
        )
    };
    let events = [
        recorded(grant_pool_id().as_uuid(), 1, &round_opened()),
        drafted(early, 2),
        drafted(late, 3),
        submitted(early, 4),
        day(10, date(2027, 3, 7)),
        day(11, date(2027, 3, 8)),
        day(12, date(2027, 3, 9)),
        submitted(late, 13),
    ];
    let all: Vec<&RecordedEvent> = events.iter().collect();
    NOTIFY.apply_all(&pool, &all).await?;
    let link = |id: GrantApplicationId| format!("/grant-applications/{}", id.as_uuid());
    let told = |pool: PgPool| async move {
        sqlx::query_as::<_, (i64, String, String)>(
            "SELECT from_position, rule, link FROM notify.message ORDER BY id",
        )
        .fetch_all(&pool)
        .await
    };
    let expected = vec![
        (4, "application_received".to_string(), link(early)),
        (11, "round_deadline".to_string(), link(late)),
        (13, "application_received".to_string(), link(late)),
    ];
    assert_eq!(told(pool.clone()).await?, expected);
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM notify.message ORDER BY id")
        .fetch_all(&pool)
        .await?;
    assert!(bodies[0].contains("15.04.2027"), "{}", bodies[0]);
    assert!(
        bodies[1].contains("Forårsrunden 2027") && bodies[1].contains("15.03.2027 kl. 12:00"),
        "{}",
        bodies[1]
    );

    NOTIFY.apply_all(&pool, &all).await?;
    assert_eq!(
        told(pool.clone()).await?,
        expected,
        "a redelivery tells nothing twice"
    );
    Ok(())
}
