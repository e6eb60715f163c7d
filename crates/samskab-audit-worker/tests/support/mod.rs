//! What the audit worker's tests share: the projection under test, a story of one pool and
//! its applications told through the deciders (every event one `decide` would append), for
//! any municipality, and the records as the table holds them.

#![allow(dead_code)] // each test file uses its own part

use samskab_audit_worker::AuditProjection;
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_testkit::projection::ReadModelTest;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

pub const ACTOR: &str = "user:sagsbehandler-1";

pub const AUDIT: ReadModelTest<AuditProjection> = ReadModelTest::new(AuditProjection, ACTOR);

pub const RODOVRE: &str = "rodovre";
pub const HVIDOVRE: &str = "hvidovre";

/// The contact person of the knitting club: personal data no record may hold.
pub const CONTACT: &str = "Mette Jensen";

pub use samskab_testkit::projection::grant_story::{Logged, Story};

/// An event of a story as the runtime hands it to the audit projection, in a municipality.
pub trait LoggedInAudit {
    fn recorded(&self, tenant: &str, position: u64) -> RecordedEvent;
}

impl LoggedInAudit for Logged {
    fn recorded(&self, tenant: &str, position: u64) -> RecordedEvent {
        self.recorded_in(&AUDIT, tenant, position)
    }
}

/// Every event of a story, recorded for the audit projection in `tenant` at positions
/// `first`, `first + step`, ...
pub trait StoryInAudit {
    fn recorded(&self, tenant: &str, first: u64, step: u64) -> Vec<RecordedEvent>;
}

impl StoryInAudit for Story {
    fn recorded(&self, tenant: &str, first: u64, step: u64) -> Vec<RecordedEvent> {
        self.recorded_in(&AUDIT, tenant, first, step)
    }
}

pub fn why(text: &str) -> Justification {
    Justification::parse(text).expect("valid justification")
}

pub fn score(key: &str, score: u8) -> CriterionScore {
    CriterionScore {
        criterion: CriterionKey::parse(key).expect("valid key"),
        score,
        note: None,
    }
}

/// The knitting club's application (an informal group with a contact person).
pub fn group() -> GrantApplicationId {
    GrantApplicationId::from_uuid(Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0001_0001))
}
/// Æblehaven's application (an association: no personal data).
pub fn association() -> GrantApplicationId {
    GrantApplicationId::from_uuid(Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0001_0002))
}

/// The story: the pool is created; its budgets for 2026 and 2027 are set; the spring round
/// opens; a conflict is declared. The knitting club drafts, submits, is assessed and is granted
/// 90.000 kr. in part for 2026 (final at once: below the threshold). Æblehaven drafts, submits
/// and withdraws. 12 events.
pub fn story() -> anyhow::Result<Story> {
    let pool = grant_pool_id();
    let mut story = Story::default();
    story.pool(GrantPoolCommand::Create(grant_pool_details(pool)))?;
    for (year, amount, at) in [
        (2026, 300_000, at(2026, 1, 5)),
        (2027, 350_000, at(2026, 1, 6)),
    ] {
        story.pool(GrantPoolCommand::ChangeBudget {
            year,
            amount: kroner(amount),
            reason: why("Budget"),
            by: staff("admin"),
            at,
        })?;
    }
    story.pool(GrantPoolCommand::OpenRound {
        round: grant_round_id(),
        title: GrantTitle::parse("Forårsrunden 2026 <forår & sommer>").expect("title"),
        opens_at: at(2026, 2, 1),
        deadline: at(2026, 3, 15),
        decision_expected: date(2026, 4, 15),
    })?;
    story.pool(GrantPoolCommand::DeclareConflict {
        member: staff("deputy"),
        applicant: ApplicantRef::Organisation(org_id()),
        reason: Some(why("Bestyrelsesmedlem i Æblehaven")),
        at: at(2026, 2, 3),
    })?;

    let window = Some((at(2026, 2, 1), at(2026, 3, 15)));
    let club = group();
    story.application(
        club,
        GrantApplicationCommand::Draft(group_application(club, pool, kroner(120_000), CONTACT)),
    )?;
    story.application(
        club,
        GrantApplicationCommand::Submit {
            round: Some(grant_round_id()),
            window,
            at: at(2026, 2, 10),
        },
    )?;
    story.application(
        club,
        GrantApplicationCommand::Assess {
            assessor: staff("assessor"),
            criteria: grant_pool_details(pool).criteria,
            scores: vec![score("reach", 4), score("volunteers", 3)],
            recommended: kroner(90_000),
            note: None,
            at: at(2026, 3, 20),
        },
    )?;
    story.pool(GrantPoolCommand::Decide {
        case: story.facts(club)?,
        terms: DecisionTerms {
            outcome: GrantOutcome::Partial,
            amount: kroner(90_000),
            year: 2026,
            years: vec![],
            justification: Some(why("Puljen er begrænset")),
            duties: None,
        },
        by: staff("chair"),
        at: at(2026, 4, 1),
        today: date(2026, 4, 1),
        overdue_elsewhere: None,
    })?;

    let aeblehaven = association();
    story.application(
        aeblehaven,
        GrantApplicationCommand::Draft(association_application(aeblehaven, pool, kroner(40_000))),
    )?;
    story.application(
        aeblehaven,
        GrantApplicationCommand::Submit {
            round: Some(grant_round_id()),
            window,
            at: at(2026, 2, 20),
        },
    )?;
    story.pool(GrantPoolCommand::Withdraw {
        case: story.facts(aeblehaven)?,
        by: staff("aeblehaven"),
        at: at(2026, 3, 1),
    })?;
    Ok(story)
}

/// Every record of `tenant` as the table holds it (`to_jsonb`), by seq.
pub async fn records(pool: &PgPool, tenant: &str) -> anyhow::Result<Vec<Value>> {
    Ok(
        sqlx::query_scalar("SELECT to_jsonb(r) FROM audit.record r WHERE tenant = $1 ORDER BY seq")
            .bind(tenant)
            .fetch_all(pool)
            .await?,
    )
}

/// Every record and head of every municipality.
pub async fn everything(pool: &PgPool) -> anyhow::Result<(Vec<Value>, Vec<Value>)> {
    let records = sqlx::query_scalar("SELECT to_jsonb(r) FROM audit.record r ORDER BY tenant, seq")
        .fetch_all(pool)
        .await?;
    let heads = sqlx::query_scalar("SELECT to_jsonb(h) FROM audit.head h ORDER BY tenant")
        .fetch_all(pool)
        .await?;
    Ok((records, heads))
}

/// The event id of `tenant`'s record `seq`.
pub async fn event_id(pool: &PgPool, tenant: &str, seq: i64) -> anyhow::Result<Uuid> {
    Ok(
        sqlx::query_scalar("SELECT event_id FROM audit.record WHERE tenant = $1 AND seq = $2")
            .bind(tenant)
            .bind(seq)
            .fetch_one(pool)
            .await?,
    )
}
