//! What the test files of the grants worker share: the projection under test and the actor its
//! events are recorded under, a story of one pool and its applications told through the
//! deciders (so every event is one `decide` would append), and the rows of every table. The
//! helpers are `samskab_testkit::projection`'s.

#![allow(dead_code)] // each test file uses its own part

use std::collections::BTreeMap;

use anyhow::Context;
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_grants_worker::GrantsProjection;
use samskab_testkit::projection::{ReadModelTest, with_micros};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

pub const ACTOR: &str = "user:sagsbehandler-1";

pub const GRANTS: ReadModelTest<GrantsProjection> = ReadModelTest::new(GrantsProjection, ACTOR);

pub const TENANT: &str = "rodovre";

/// Every table of the schema, and what orders its rows.
pub const TABLES: [(&str, &str); 10] = [
    ("pool", "tenant, id"),
    ("pool_year", "tenant, pool_id, year"),
    ("budget_change", "tenant, pool_id, position"),
    ("round", "tenant, id"),
    ("conflict", "tenant, pool_id, member, applicant_id"),
    ("application", "tenant, id"),
    ("application_version", "tenant, application_id, version"),
    ("assessment", "tenant, application_id, position"),
    ("decision", "tenant, application_id, position"),
    ("payment", "tenant, application_id, position"),
];

pub use samskab_testkit::projection::grant_story::{Logged, Story};

/// An event of the story as the runtime hands it to the grants projection in [`TENANT`].
pub trait LoggedInGrants {
    fn recorded(&self, position: u64) -> RecordedEvent;
}

impl LoggedInGrants for Logged {
    fn recorded(&self, position: u64) -> RecordedEvent {
        self.recorded_in(&GRANTS, TENANT, position)
    }
}

/// Every event of the story, recorded for the grants projection in [`TENANT`] at positions
/// 1, 2, ...
pub trait StoryInGrants {
    fn recorded(&self) -> Vec<RecordedEvent>;
}

impl StoryInGrants for Story {
    fn recorded(&self) -> Vec<RecordedEvent> {
        self.recorded_in(&GRANTS, TENANT, 1, 1)
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

/// The canonical story's pool and its first application, up to the complaint:
///
/// - Rødovre's §18 pool is created; its budget for 2026 is set to 300.000 kr. and raised to
///   400.000 kr.; the spring round opens; the chair's deputy declares a conflict with Æblehaven.
/// - The knitting club (an informal group, Mette Jensen its contact; [`group`]) drafts an
///   application for 120.000 kr., submits it, and amends it to 150.000 kr. An assessor scores
///   it, a second assessment is asked for and made. The chair decides a grant in full, above
///   the second approval threshold (100.000 kr.): proposed; the head of department approves
///   it. A complaint reopens it.
pub fn story_until_reopened() -> anyhow::Result<Story> {
    let pool = grant_pool_id();
    let group = group();
    let mut story = Story::default();
    story.pool(GrantPoolCommand::Create(grant_pool_details(pool)))?;
    story.pool(GrantPoolCommand::ChangeBudget {
        year: 2026,
        amount: kroner(300_000),
        reason: why("Budget 2026"),
        by: staff("admin"),
        at: at(2026, 1, 5),
    })?;
    story.pool(GrantPoolCommand::ChangeBudget {
        year: 2026,
        amount: kroner(400_000),
        reason: why("Tillægsbevilling"),
        by: staff("admin"),
        at: at(2026, 2, 2),
    })?;
    story.pool(GrantPoolCommand::OpenRound {
        round: grant_round_id(),
        title: GrantTitle::parse("Forårsrunden 2026").expect("title"),
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
    story.application(
        group,
        GrantApplicationCommand::Draft(group_application(
            group,
            pool,
            kroner(120_000),
            "Mette Jensen",
        )),
    )?;
    story.application(
        group,
        GrantApplicationCommand::Submit {
            round: Some(grant_round_id()),
            window,
            at: at(2026, 2, 10),
        },
    )?;
    let amended = group_application(group, pool, kroner(150_000), "Mette Jensen");
    story.application(
        group,
        GrantApplicationCommand::Amend {
            content: amended.content,
            group_name: amended.group_name,
            personal: amended.personal,
            window,
            at: at(2026, 3, 1),
        },
    )?;
    let criteria = grant_pool_details(pool).criteria;
    story.application(
        group,
        GrantApplicationCommand::Assess {
            assessor: staff("assessor"),
            criteria: criteria.clone(),
            scores: vec![score("reach", 4), score("volunteers", 3)],
            recommended: kroner(150_000),
            note: None,
            at: at(2026, 3, 20),
        },
    )?;
    story.application(
        group,
        GrantApplicationCommand::RequestSecondAssessment {
            by: staff("chair"),
            reason: why("Stort beløb"),
            at: at(2026, 3, 21),
        },
    )?;
    story.application(
        group,
        GrantApplicationCommand::Assess {
            assessor: staff("assessor-2"),
            criteria,
            scores: vec![score("reach", 5), score("volunteers", 5)],
            recommended: kroner(140_000),
            note: Some(GrantText::parse("Velbeskrevet").expect("note")),
            at: at(2026, 3, 25),
        },
    )?;
    story.pool(GrantPoolCommand::Decide {
        case: story.facts(group)?,
        terms: DecisionTerms {
            outcome: GrantOutcome::Full,
            amount: kroner(150_000),
            year: 2026,
            years: vec![],
            justification: None,
            duties: None,
        },
        by: staff("chair"),
        at: at(2026, 4, 1),
        today: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("day"),
        overdue_elsewhere: None,
    })?;
    story.pool(GrantPoolCommand::Approve {
        application: group,
        by: staff("head"),
        at: at(2026, 4, 2),
    })?;
    story.pool(GrantPoolCommand::Reopen {
        application: group,
        reason: why("Klage over sagsbehandlingen"),
        by: staff("chair"),
        at: at(2026, 5, 1),
    })?;
    Ok(story)
}

/// The knitting club's application.
pub fn group() -> GrantApplicationId {
    GrantApplicationId::from_uuid(Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0001_0001))
}
/// Æblehaven's application.
pub fn association() -> GrantApplicationId {
    GrantApplicationId::from_uuid(Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0001_0002))
}

/// The canonical story, every kind of event in it: [`story_until_reopened`], then the chair
/// decides the knitting club's application again: 90.000 kr. in part, final at once (not above
/// the threshold), pays it, receives its audited final report (80.000 kr. spent), approves it,
/// and has the 10.000 kr. not spent repaid; five years after, the group's contact person is
/// forgotten. Æblehaven ([`association`]) drafts an application
/// for 40.000 kr., raises it to 50.000 kr. in the draft, submits it, and withdraws it.
pub fn canonical_story() -> anyhow::Result<Story> {
    let pool = grant_pool_id();
    let group = group();
    let association = association();
    let window = Some((at(2026, 2, 1), at(2026, 3, 15)));
    let mut story = story_until_reopened()?;
    story.pool(GrantPoolCommand::Decide {
        case: story.facts(group)?,
        terms: DecisionTerms {
            outcome: GrantOutcome::Partial,
            amount: kroner(90_000),
            year: 2026,
            years: vec![],
            justification: Some(why("Puljen er begrænset")),
            duties: None,
        },
        by: staff("chair"),
        at: at(2026, 5, 10),
        today: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("day"),
        overdue_elsewhere: None,
    })?;
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("day");
    let reference = || GrantTitle::parse("Bilag 4711").expect("reference");
    story.pool(GrantPoolCommand::RecordPayment {
        application: group,
        amount: kroner(90_000),
        paid_on: day(2026, 6, 1),
        reference: reference(),
        by: staff("finance"),
        at: at(2026, 6, 1),
    })?;
    story.pool(GrantPoolCommand::ReceiveFinalReport {
        application: group,
        spent: kroner(80_000),
        narrative: GrantText::parse("40 lektiecaféer").expect("narrative"),
        audited: true,
        received_on: day(2027, 8, 1),
        by: staff("group"),
        at: at(2027, 8, 1),
    })?;
    story.pool(GrantPoolCommand::ApproveFinalReport {
        application: group,
        by: staff("caseworker"),
        at: at(2027, 8, 2),
    })?;
    story.pool(GrantPoolCommand::RecordRepayment {
        application: group,
        amount: kroner(10_000),
        repaid_on: day(2027, 9, 1),
        reference: reference(),
        by: staff("finance"),
        at: at(2027, 9, 1),
    })?;
    // The case closed with the repayment (2027) and is kept to the end of 2032; in 2033 the
    // group's contact person is forgotten.
    let retention = story
        .pool_state()
        .ledger()
        .map(|ledger| ledger.retention(group))
        .ok_or_else(|| anyhow::anyhow!("no pool"))?;
    story.application(
        group,
        GrantApplicationCommand::Forget {
            retention,
            at: at(2033, 1, 5),
        },
    )?;

    story.application(
        association,
        GrantApplicationCommand::Draft(association_application(association, pool, kroner(40_000))),
    )?;
    let raised = association_application(association, pool, kroner(50_000));
    story.application(
        association,
        GrantApplicationCommand::UpdateDraft {
            content: raised.content,
            group_name: raised.group_name,
            personal: raised.personal,
        },
    )?;
    story.application(
        association,
        GrantApplicationCommand::Submit {
            round: Some(grant_round_id()),
            window,
            at: at(2026, 2, 20),
        },
    )?;
    story.pool(GrantPoolCommand::Withdraw {
        case: story.facts(association)?,
        by: staff("aeblehaven"),
        at: at(2026, 3, 1),
    })?;
    Ok(story)
}

/// Every row of `table` (in the schema `grants`) as a JSON array in key order, `*_at` columns
/// as microseconds.
pub async fn rows(pool: &PgPool, table: &str) -> anyhow::Result<Vec<Value>> {
    let order = TABLES
        .iter()
        .find(|(name, _)| *name == table)
        .map(|(_, order)| *order)
        .context("no such table")?;
    let sql = format!("SELECT to_jsonb(t) FROM grants.{table} t ORDER BY {order}");
    let rows: Vec<Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(with_micros).collect()
}

/// Every row of every table, by table.
pub async fn all_rows(pool: &PgPool) -> anyhow::Result<BTreeMap<&'static str, Vec<Value>>> {
    let mut all = BTreeMap::new();
    for (table, _) in TABLES {
        all.insert(table, rows(pool, table).await?);
    }
    Ok(all)
}

/// The application's row (every column, `*_at` as microseconds).
pub async fn application_row(pool: &PgPool, id: GrantApplicationId) -> anyhow::Result<Value> {
    let row = GRANTS
        .row(pool, "application", TENANT, id.as_uuid())
        .await?
        .context("no application row")?;
    with_micros(row)
}

/// The columns of `row` that `expected` names.
pub fn pick(row: &Value, expected: &Value) -> Value {
    let columns = expected.as_object().map(|o| o.keys()).into_iter().flatten();
    Value::Object(
        columns
            .map(|column| (column.clone(), row[column].clone()))
            .collect(),
    )
}
