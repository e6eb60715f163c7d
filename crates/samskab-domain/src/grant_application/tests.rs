//! Given an application's events, when a command, then events or the rule that refuses it.

use super::*;
use crate::fixtures::*;
use crate::{CaseRetention, CriterionKey, DomainEvent, Justification};

fn drafted() -> ApplicationDraft {
    group_application(
        grant_application_id(),
        grant_pool_id(),
        kroner(40_000),
        "Birte Skov",
    )
}

fn window() -> SubmissionWindow {
    Some((at(2026, 1, 1), at(2026, 3, 1)))
}

fn submitted() -> Vec<GrantApplicationEvent> {
    let draft = drafted();
    let state = GrantApplication::replay(&[GrantApplicationEvent::Drafted(draft.clone())]);
    let submit = GrantApplication::decide(
        &state,
        &GrantApplicationCommand::Submit {
            round: Some(grant_round_id()),
            window: window(),
            at: at(2026, 2, 1),
        },
    )
    .expect("submitted");
    let mut events = vec![GrantApplicationEvent::Drafted(draft)];
    events.extend(submit);
    events
}

fn score(key: &str, score: u8) -> CriterionScore {
    CriterionScore {
        criterion: CriterionKey::parse(key).expect("key"),
        score,
        note: None,
    }
}

fn assess(
    assessor: &str,
    scores: Vec<CriterionScore>,
    recommended: Amount,
) -> GrantApplicationCommand {
    GrantApplicationCommand::Assess {
        assessor: staff(assessor),
        criteria: grant_pool_details(grant_pool_id()).criteria,
        scores,
        recommended,
        note: None,
        at: at(2026, 3, 10),
    }
}

fn then(
    events: &[GrantApplicationEvent],
    command: GrantApplicationCommand,
) -> Result<Vec<GrantApplicationEvent>, DomainError> {
    GrantApplication::decide(&GrantApplication::replay(events), &command)
}

#[test]
fn an_informal_groups_contact_person_is_personal_data_and_an_association_names_none() {
    let events = then(&[], GrantApplicationCommand::Draft(drafted())).expect("drafted");
    let payload = events[0].to_payload();
    assert_eq!(payload["personal"]["name"], "Birte Skov");
    assert_eq!(payload["group_name"], "Strikkeklubben i Islev");
    let mut association =
        association_application(grant_application_id(), grant_pool_id(), kroner(1_000));
    assert!(then(&[], GrantApplicationCommand::Draft(association.clone())).is_ok());
    association.personal = drafted().personal;
    assert!(then(&[], GrantApplicationCommand::Draft(association)).is_err());
    let mut nameless = drafted();
    nameless.personal = None;
    assert!(then(&[], GrantApplicationCommand::Draft(nameless)).is_err());
}

#[test]
fn the_budget_lines_add_up_to_the_amount_applied_for_and_the_co_funding() {
    let mut draft = drafted();
    draft.content.co_funding = kroner(10_000);
    let error = then(&[], GrantApplicationCommand::Draft(draft.clone())).expect_err("lines 40.000");
    assert!(
        matches!(&error, DomainError::Rule { field: Some(f), .. } if f == "budget_lines"),
        "{error}"
    );
    draft.content.budget_lines.push(BudgetLine {
        text: GrantTitle::parse("Egenfinansiering").expect("t"),
        amount: kroner(10_000),
    });
    assert!(then(&[], GrantApplicationCommand::Draft(draft.clone())).is_ok());
    draft.content.period_to = date(2026, 7, 1);
    assert!(
        matches!(then(&[], GrantApplicationCommand::Draft(draft)), Err(DomainError::Rule { field: Some(f), .. }) if f == "period_to")
    );
}

#[test]
fn an_application_after_the_deadline_or_before_the_round_opens_is_refused() {
    let draft = vec![GrantApplicationEvent::Drafted(drafted())];
    let late = then(
        &draft,
        GrantApplicationCommand::Submit {
            round: Some(grant_round_id()),
            window: window(),
            at: at(2026, 3, 2),
        },
    );
    assert!(
        matches!(&late, Err(DomainError::Conflict { reason }) if reason.contains("deadline passed")),
        "{late:?}"
    );
    let early = then(
        &draft,
        GrantApplicationCommand::Submit {
            round: Some(grant_round_id()),
            window: window(),
            at: at(2025, 12, 31),
        },
    );
    assert!(
        matches!(&early, Err(DomainError::Conflict { reason }) if reason.contains("opens")),
        "{early:?}"
    );
    // A pool without rounds takes it whenever.
    assert!(
        then(
            &draft,
            GrantApplicationCommand::Submit {
                round: Some(grant_round_id()),
                window: None,
                at: at(2030, 1, 1)
            }
        )
        .is_ok()
    );
}

#[test]
fn every_submitted_version_is_kept_and_an_amendment_needs_the_round_open() {
    let events = submitted();
    let mut content = drafted().content;
    content.amount_requested = kroner(35_000);
    content.budget_lines[0].amount = kroner(35_000);
    let amend = |at_: DateTime<Utc>| GrantApplicationCommand::Amend {
        content: content.clone(),
        group_name: drafted().group_name,
        personal: drafted().personal,
        window: window(),
        at: at_,
    };
    assert!(
        then(&events, amend(at(2026, 3, 5))).is_err(),
        "after the deadline"
    );
    let mut events = events;
    events.extend(then(&events, amend(at(2026, 2, 20))).expect("amended"));
    let state = GrantApplication::replay(&events);
    let GrantApplicationState::Submitted(s) = &state else {
        panic!("{state:?}")
    };
    assert_eq!(
        s.versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(s.versions[0].content.amount_requested, kroner(40_000));
    assert_eq!(s.facts().requested, kroner(35_000));
    assert_eq!(s.facts().version, 2);
    // The same content again is no new version.
    assert_eq!(then(&events, amend(at(2026, 2, 21))), Ok(vec![]));
    assert!(
        then(
            &events,
            GrantApplicationCommand::UpdateDraft {
                content,
                group_name: None,
                personal: None
            }
        )
        .is_err()
    );
}

#[test]
fn an_assessment_scores_every_criterion_and_recommends_at_most_what_was_applied_for() {
    let events = submitted();
    let drafted_only = &events[..1];
    assert!(
        then(
            drafted_only,
            assess(
                "anna",
                vec![score("reach", 3), score("volunteers", 4)],
                kroner(1)
            )
        )
        .is_err()
    );
    assert!(
        matches!(then(&events, assess("anna", vec![score("reach", 3)], kroner(1))), Err(DomainError::Rule { field: Some(f), .. }) if f == "scores")
    );
    assert!(
        then(
            &events,
            assess(
                "anna",
                vec![score("reach", 6), score("volunteers", 4)],
                kroner(1)
            )
        )
        .is_err()
    );
    assert!(
        matches!(then(&events, assess("anna", vec![score("reach", 3), score("volunteers", 4)], kroner(40_001))), Err(DomainError::Rule { field: Some(f), .. }) if f == "recommended")
    );
    let assessed = then(
        &events,
        assess(
            "anna",
            vec![score("reach", 5), score("volunteers", 0)],
            kroner(30_000),
        ),
    )
    .expect("assessed");
    // reach 60 % × 5/5 + volunteers 40 % × 0/5 = 60.
    assert!(
        matches!(&assessed[0], GrantApplicationEvent::Assessed(a) if a.total == 60 && a.version == 1)
    );
}

#[test]
fn a_second_assessor_needs_a_request_for_a_second_assessment() {
    let mut events = submitted();
    let scores = || vec![score("reach", 3), score("volunteers", 3)];
    events.extend(then(&events, assess("anna", scores(), kroner(30_000))).expect("first"));
    assert!(then(&events, assess("bo", scores(), kroner(30_000))).is_err());
    // The first assessor may revise theirs.
    assert!(then(&events, assess("anna", scores(), kroner(20_000))).is_ok());
    let request = GrantApplicationCommand::RequestSecondAssessment {
        by: staff("chair"),
        reason: Justification::parse("Stort beløb").expect("why"),
        at: at(2026, 3, 11),
    };
    events.extend(then(&events, request.clone()).expect("requested"));
    assert_eq!(then(&events, request), Ok(vec![]));
    events.extend(then(&events, assess("bo", scores(), kroner(25_000))).expect("second"));
    let state = GrantApplication::replay(&events);
    assert_eq!(
        state.facts().expect("facts").assessed_by,
        vec![staff("anna"), staff("bo")]
    );
    assert!(
        then(&events, assess("carl", scores(), kroner(25_000))).is_err(),
        "two at most"
    );
}

#[test]
fn a_drafts_applicant_is_forgotten_at_once_and_a_cases_only_once_it_need_not_be_kept() {
    let forget = |retention, when| GrantApplicationCommand::Forget {
        retention,
        at: when,
    };
    let kept = CaseRetention::KeptUntil(date(2031, 12, 31));
    // A draft is no case: forgotten whatever the pool says.
    let draft = vec![GrantApplicationEvent::Drafted(drafted())];
    let events = then(&draft, forget(CaseRetention::Open, at(2026, 2, 1))).expect("draft");
    assert!(matches!(
        events.as_slice(),
        [GrantApplicationEvent::Forgotten(f)] if f.id == drafted().id
    ));
    assert_eq!(
        events[0].to_payload().get("personal"),
        None,
        "the event carries no personal data"
    );
    // A submitted case: not while open, nor until its retention ends.
    let case = submitted();
    let open = then(&case, forget(CaseRetention::Open, at(2040, 1, 1))).expect_err("open");
    assert!(open.to_string().contains("is open"), "{open}");
    let early = then(&case, forget(kept, at(2031, 12, 31))).expect_err("kept");
    assert!(early.to_string().contains("2031-12-31"), "{early}");
    let events = then(&case, forget(kept, at(2032, 1, 1))).expect("expired");
    assert_eq!(events.len(), 1);
    // Forgotten: no personal data left in any version, nothing changes it, a repeat is
    // harmless.
    let mut all = case.clone();
    all.extend(events);
    let state = GrantApplication::replay(&all);
    let GrantApplicationState::Forgotten(forgotten) = &state else {
        panic!("not forgotten: {state:?}");
    };
    let GrantApplicationState::Submitted(s) = &forgotten.application else {
        panic!("not the submitted case");
    };
    assert_eq!(s.draft.personal, None);
    assert!(s.versions.iter().all(|v| v.personal.is_none()));
    assert_eq!(s.versions.len(), 1, "the versions stay");
    assert_eq!(state.facts().map(|f| f.version), Some(1));
    assert!(
        then(&all, forget(kept, at(2032, 1, 2)))
            .expect("repeat")
            .is_empty()
    );
    assert!(
        then(
            &all,
            GrantApplicationCommand::RequestSecondAssessment {
                by: staff("lead"),
                reason: Justification::parse("Tjek").expect("why"),
                at: at(2032, 1, 2),
            }
        )
        .is_err()
    );
    // An association's application has no person to forget.
    let association =
        association_application(grant_application_id(), grant_pool_id(), kroner(1_000));
    let refused = then(
        &[GrantApplicationEvent::Drafted(association)],
        forget(CaseRetention::Open, at(2026, 2, 1)),
    )
    .expect_err("association");
    assert!(refused.to_string().contains("organisation's"), "{refused}");
}
