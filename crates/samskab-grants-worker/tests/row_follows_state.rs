//! The read model agrees with the decider: for any sequence of an application's events, the
//! `grants.application` row after projecting them equals the row built from the state
//! `GrantApplication::evolve` folds from the same events (no row for NotDrafted). The harness
//! is `samskab_testkit::projection` (`ReadModelTest::rows_follow_state`): each sequence
//! delivered event by event or batched, some events twice in a row, and one earlier event again
//! at the end at its old position.
//!
//! The sequences are any order of any events, not only what `decide` would append: drafts and
//! updates with other pools, rounds, applicants; submissions and amendments of any version
//! number, with or without a round; assessments before the submission; and so on. The
//! strategies are this file's (the domain's fixtures have none for grants yet).
//!
//! Only the application's own events are drawn: the pool's decisions move the row's status
//! and decision columns, which `grants.rs` and `redelivery.rs` pin down.

use proptest::prelude::*;
use samskab_domain::fixtures::*;
use samskab_domain::grant_application::ApplicationSecondAssessmentRequested;
use samskab_domain::*;
use samskab_testkit::projection::{Key, micros};
use serde_json::{Value, json};
use uuid::Uuid;

mod support;
use support::*;

fn pools() -> Vec<GrantPoolId> {
    vec![
        grant_pool_id(),
        GrantPoolId::from_uuid(Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_0911)),
    ]
}

fn rounds() -> Vec<GrantRoundId> {
    vec![
        grant_round_id(),
        GrantRoundId::from_uuid(Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_0912)),
    ]
}

fn arb_content() -> impl Strategy<Value = ApplicationContent> {
    (
        prop::sample::select(vec![40_000i64, 120_000, 150_000]),
        prop::sample::select(vec![0i64, 5_000]),
    )
        .prop_map(|(requested, co_funding)| ApplicationContent {
            co_funding: kroner(co_funding),
            ..application_content(kroner(requested))
        })
}

fn arb_personal() -> impl Strategy<Value = Option<ApplicantPersonalData>> {
    let contacts = vec![
        None,
        Some(contact()),
        Some(contact_of(Some("mette@example.dk"), None, None)),
        Some(contact_of(None, Some("+45 20 30 40 50"), None)),
    ];
    proptest::option::of(
        (
            prop::sample::select(vec!["Mette Jensen", "Birte Skov"]),
            prop::sample::select(contacts),
        )
            .prop_map(|(contact_name, contact)| ApplicantPersonalData {
                name: name(contact_name),
                contact,
            }),
    )
}

fn arb_group_name() -> impl Strategy<Value = Option<GrantTitle>> {
    proptest::option::of(
        prop::sample::select(vec!["Strikkeklubben i Islev", "Løbeklubben"])
            .prop_map(|text| GrantTitle::parse(text).expect("a valid title")),
    )
}

fn arb_draft(id: GrantApplicationId) -> impl Strategy<Value = ApplicationDraft> {
    (
        prop::sample::select(pools()),
        proptest::option::of(prop::sample::select(rounds())),
        prop::sample::select(ApplicantKind::ALL),
        proptest::option::of(Just(org_id())),
        arb_group_name(),
        arb_content(),
        arb_personal(),
    )
        .prop_map(
            move |(pool, round, applicant_kind, organisation, group_name, content, personal)| {
                ApplicationDraft {
                    id,
                    pool,
                    round,
                    applicant_kind,
                    organisation,
                    group_name,
                    content,
                    personal,
                }
            },
        )
}

fn arb_version(id: GrantApplicationId) -> impl Strategy<Value = ApplicationVersion> {
    (
        1u32..5,
        proptest::option::of(prop::sample::select(rounds())),
        arb_datetime(),
        arb_content(),
        arb_group_name(),
        arb_personal(),
    )
        .prop_map(move |(version, round, at, content, group_name, personal)| {
            ApplicationVersion {
                id,
                version,
                round,
                at,
                content,
                group_name,
                personal,
            }
        })
}

fn arb_assessed(id: GrantApplicationId) -> impl Strategy<Value = ApplicationAssessed> {
    (
        prop::sample::select(vec!["assessor", "assessor-2", "chair"]),
        1u32..4,
        0u8..=MAX_SCORE,
        0u8..=100,
        prop::sample::select(vec![0i64, 40_000, 100_000]),
        proptest::option::of(Just("Velbeskrevet")),
        arb_datetime(),
    )
        .prop_map(
            move |(assessor, version, reach, total, recommended, note, at)| ApplicationAssessed {
                id,
                version,
                assessor: staff(assessor),
                scores: vec![score("reach", reach)],
                total,
                recommended: kroner(recommended),
                note: note.map(|text| GrantText::parse(text).expect("a valid note")),
                at,
            },
        )
}

/// Any of an application's events, the ones that move it on drawn more often than the rest.
fn arb_application_event(id: GrantApplicationId) -> BoxedStrategy<GrantApplicationEvent> {
    prop_oneof![
        2 => arb_draft(id).prop_map(GrantApplicationEvent::Drafted),
        1 => arb_draft(id).prop_map(GrantApplicationEvent::DraftUpdated),
        2 => arb_version(id).prop_map(GrantApplicationEvent::Submitted),
        2 => arb_version(id).prop_map(GrantApplicationEvent::Amended),
        2 => arb_assessed(id).prop_map(GrantApplicationEvent::Assessed),
        1 => arb_datetime().prop_map(move |at| {
            GrantApplicationEvent::SecondAssessmentRequested(
                ApplicationSecondAssessmentRequested {
                    id,
                    by: staff("chair"),
                    reason: why("Stort beløb"),
                    at,
                },
            )
        }),
        1 => arb_datetime().prop_map(move |at| {
            GrantApplicationEvent::Forgotten(ApplicationForgotten { id, at })
        }),
    ]
    .boxed()
}

/// An application's life as `decide` would begin it (drafted, maybe updated, submitted), then
/// 0..8 of any of its events (amendments, assessments, a second assessment, and events out of
/// place): the states after the submission, which independent draws reach less often.
fn arb_application_life(id: GrantApplicationId) -> BoxedStrategy<Vec<GrantApplicationEvent>> {
    (
        arb_draft(id),
        proptest::option::of(arb_draft(id)),
        arb_version(id),
        proptest::collection::vec(arb_application_event(id), 0..8),
    )
        .prop_map(|(draft, update, submitted, later)| {
            let mut events = vec![GrantApplicationEvent::Drafted(draft)];
            events.extend(update.map(GrantApplicationEvent::DraftUpdated));
            events.push(GrantApplicationEvent::Submitted(submitted));
            events.extend(later);
            events
        })
        .boxed()
}

/// The columns a draft (or a submitted application's latest content) determines, as
/// `to_jsonb` shows them.
fn draft_columns(draft: &ApplicationDraft) -> Value {
    let personal = draft.personal.as_ref();
    let contact = personal.and_then(|p| p.contact.as_ref());
    let content = &draft.content;
    json!({
        "pool_id": draft.pool.to_string(),
        "round_id": draft.round.map(|r| r.to_string()),
        "applicant_kind": draft.applicant_kind.as_str(),
        "organisation_id": draft.organisation.map(|o| o.to_string()),
        "group_name": draft.group_name.as_ref().map(|g| g.as_str()),
        "applicant_name": personal.map(|p| p.name.as_str()),
        "applicant_email": contact.and_then(|c| c.email()).map(|e| e.as_str()),
        "applicant_phone": contact.and_then(|c| c.phone()).map(|p| p.as_str()),
        "title": content.title.as_str(),
        "amount_requested": content.amount_requested.ore(),
        "co_funding": content.co_funding.ore(),
        "period_from": content.period_from,
        "period_to": content.period_to,
        "content": content,
    })
}

/// The `grants.application` row an application's state implies, or `None` for no row: every
/// column the application's own events determine (not the pool's decision columns, nor the
/// envelope's times and position).
fn application_row_of(state: &GrantApplicationState) -> Option<Value> {
    let mut row;
    match state {
        GrantApplicationState::NotDrafted => return None,
        // As it stood, without personal data (the state holds none), and when.
        GrantApplicationState::Forgotten(forgotten) => {
            let mut row = application_row_of(&forgotten.application)?;
            row["forgotten_at"] = json!(micros(forgotten.at));
            return Some(row);
        }
        GrantApplicationState::Draft(draft) => {
            row = draft_columns(draft);
            row["status"] = json!("draft");
            row["version"] = json!(0);
            row["submitted_at"] = Value::Null;
            row["last_submitted_at"] = Value::Null;
            row["assessors"] = json!([]);
            row["assessment_total"] = Value::Null;
            row["recommended"] = Value::Null;
            row["second_assessment_requested"] = json!(false);
            row["forgotten_at"] = Value::Null;
        }
        GrantApplicationState::Submitted(submitted) => {
            row = draft_columns(&submitted.draft);
            let latest = submitted.assessments.last();
            row["status"] = json!("submitted");
            row["version"] = json!(submitted.version());
            row["submitted_at"] = json!(submitted.versions.first().map(|v| micros(v.at)));
            row["last_submitted_at"] = json!(submitted.versions.last().map(|v| micros(v.at)));
            row["assessors"] = json!(
                submitted
                    .assessors()
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
            );
            row["assessment_total"] = json!(latest.map(|a| a.total));
            row["recommended"] = json!(latest.map(|a| a.recommended.ore()));
            row["second_assessment_requested"] = json!(submitted.second_assessment.is_some());
            row["forgotten_at"] = Value::Null;
        }
    }
    Some(row)
}

/// For any 1..8 of an application's events, however delivered, the row is the one
/// [`application_row_of`] builds from the folded state. Deterministic, so CI sees the same
/// cases every time; a failure shows the minimal sequence proptest shrank it to.
#[test]
fn an_applications_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    GRANTS.rows_follow_state::<GrantApplication>(
        "application",
        Key::any_entity(TENANT),
        |key| arb_application_event(GrantApplicationId::from_uuid(key.id())),
        application_row_of,
    )
}

/// The same property for lives that reach the submission ([`arb_application_life`]), with
/// amendments, assessments and events out of place after it.
#[test]
fn an_applications_row_follows_its_state_through_whole_lives() -> anyhow::Result<()> {
    GRANTS.rows_follow_state_of_sequences::<GrantApplication>(
        "application",
        Key::any_entity(TENANT),
        |key| arb_application_life(GrantApplicationId::from_uuid(key.id())),
        application_row_of,
    )
}
