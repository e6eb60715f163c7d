//! Given a pool's events, when a command, then events or the rule that refuses it.

use super::*;
use crate::fixtures::*;

fn created() -> Vec<GrantPoolEvent> {
    vec![
        GrantPoolEvent::Created(grant_pool_details(grant_pool_id())),
        GrantPoolEvent::BudgetChanged(PoolBudgetChanged {
            id: grant_pool_id(),
            year: 2026,
            amount: kroner(300_000),
            previous: Amount::ZERO,
            reason: Justification::parse("Budget 2026").expect("reason"),
            by: staff("admin"),
            at: at(2026, 1, 5),
        }),
    ]
}

fn facts(n: u128, requested: Amount) -> CaseFacts {
    let application = GrantApplicationId::from_uuid(uuid::Uuid::from_u128(n));
    CaseFacts {
        application,
        version: 1,
        applicant: ApplicantRef::Application(application),
        applicant_kind: ApplicantKind::InformalGroup,
        requested,
        assessed_by: vec![staff("assessor")],
        period_to: date(2026, 12, 31),
    }
}

fn decide(case: CaseFacts, outcome: GrantOutcome, amount: Amount) -> GrantPoolCommand {
    GrantPoolCommand::Decide {
        case,
        terms: DecisionTerms {
            outcome,
            amount,
            year: 2026,
            years: vec![],
            justification: match outcome {
                GrantOutcome::Full => None,
                _ => Some(Justification::parse("Puljen er begrænset").expect("why")),
            },
            duties: None,
        },
        by: staff("chair"),
        at: at(2026, 4, 1),
        today: date(2026, 4, 1),
        overdue_elsewhere: None,
    }
}

fn next_year(mut command: GrantPoolCommand) -> GrantPoolCommand {
    if let GrantPoolCommand::Decide { terms, .. } = &mut command {
        terms.year = 2027;
    }
    command
}

fn state_after(events: &[GrantPoolEvent]) -> GrantPoolState {
    GrantPool::replay(events)
}

fn decided(events: &[GrantPoolEvent], command: GrantPoolCommand) -> Vec<GrantPoolEvent> {
    let mut all = events.to_vec();
    all.extend(GrantPool::decide(&state_after(events), &command).expect("decided"));
    all
}

fn refusal(events: &[GrantPoolEvent], command: GrantPoolCommand) -> DomainError {
    GrantPool::decide(&state_after(events), &command).expect_err("refused")
}

#[test]
fn a_pools_weights_add_up_to_100_and_it_names_who_may_apply() {
    let mut details = grant_pool_details(grant_pool_id());
    details.criteria[0].weight = 50;
    let error = GrantPool::decide(
        &GrantPoolState::NotCreated,
        &GrantPoolCommand::Create(details),
    )
    .expect_err("90");
    assert!(error.to_string().contains("add up to 90"), "{error}");
    let mut details = grant_pool_details(grant_pool_id());
    details.applicants.clear();
    assert!(matches!(
        GrantPool::decide(&GrantPoolState::NotCreated, &GrantPoolCommand::Create(details)),
        Err(DomainError::Rule { field: Some(f), .. }) if f == "applicants"
    ));
    let mut details = grant_pool_details(grant_pool_id());
    details.criteria[1].key = details.criteria[0].key.clone();
    assert!(
        GrantPool::decide(
            &GrantPoolState::NotCreated,
            &GrantPoolCommand::Create(details)
        )
        .is_err()
    );
}

#[test]
fn a_grant_within_the_budget_is_final_and_commits_its_amount() {
    let events = decided(
        &created(),
        decide(facts(1, kroner(50_000)), GrantOutcome::Full, kroner(50_000)),
    );
    assert!(
        matches!(events.last(), Some(GrantPoolEvent::Decided(d)) if d.version == 1 && d.decided_by == staff("chair"))
    );
    let state = state_after(&events);
    let ledger = state.ledger().expect("created");
    assert_eq!(ledger.committed(2026), kroner(50_000));
    assert_eq!(ledger.available(2026), kroner(250_000));
}

#[test]
fn the_budget_of_a_pool_year_is_never_over_committed() {
    let events = decided(
        &created(),
        decide(
            facts(1, kroner(280_000)),
            GrantOutcome::Full,
            kroner(80_000 + 200_000),
        ),
    );
    // 280.000 is above the 100.000 threshold: proposed, and committed already.
    assert!(matches!(
        events.last(),
        Some(GrantPoolEvent::DecisionProposed(_))
    ));
    let error = refusal(
        &events,
        decide(facts(2, kroner(30_000)), GrantOutcome::Full, kroner(30_000)),
    );
    assert_eq!(
        error,
        DomainError::Conflict {
            reason:
                "the pool's budget for 2026 has 20.000,00 kr. left; this grant is 30.000,00 kr."
                    .into()
        }
    );
    // What is left can still be granted, and a refusal costs nothing.
    let events = decided(
        &events,
        decide(facts(3, kroner(20_000)), GrantOutcome::Full, kroner(20_000)),
    );
    let events = decided(
        &events,
        decide(facts(4, kroner(5_000)), GrantOutcome::Refused, Amount::ZERO),
    );
    assert_eq!(
        state_after(&events)
            .ledger()
            .expect("ledger")
            .available(2026),
        Amount::ZERO
    );
    assert!(matches!(
        refusal(&events, next_year(decide(facts(5, kroner(1)), GrantOutcome::Full, kroner(1)))),
        DomainError::Rule { field: Some(f), .. } if f == "year"
    ));
}

#[test]
fn a_refusal_or_a_partial_grant_needs_a_justification_and_the_amount_fits_the_outcome() {
    let case = facts(1, kroner(50_000));
    for (outcome, amount) in [
        (GrantOutcome::Refused, Amount::ZERO),
        (GrantOutcome::Partial, kroner(25_000)),
    ] {
        let mut command = decide(case.clone(), outcome, amount);
        if let GrantPoolCommand::Decide { terms, .. } = &mut command {
            terms.justification = None;
        }
        let error = refusal(&created(), command);
        assert!(
            matches!(&error, DomainError::Rule { field: Some(f), .. } if f == "justification"),
            "{error}"
        );
    }
    for (outcome, amount) in [
        (GrantOutcome::Full, kroner(40_000)),
        (GrantOutcome::Partial, kroner(50_000)),
        (GrantOutcome::Partial, Amount::ZERO),
        (GrantOutcome::Refused, kroner(1)),
    ] {
        let error = refusal(&created(), decide(case.clone(), outcome, amount));
        assert!(
            matches!(&error, DomainError::Rule { field: Some(f), .. } if f == "amount"),
            "{outcome} {amount}: {error}"
        );
    }
}

#[test]
fn a_decision_stands_on_a_submitted_and_assessed_application_of_a_kind_the_pool_takes() {
    let mut case = facts(1, kroner(10_000));
    case.version = 0;
    assert!(
        refusal(&created(), decide(case, GrantOutcome::Full, kroner(10_000)))
            .to_string()
            .contains("not been submitted")
    );
    let mut case = facts(1, kroner(10_000));
    case.assessed_by.clear();
    assert!(
        refusal(&created(), decide(case, GrantOutcome::Full, kroner(10_000)))
            .to_string()
            .contains("not been assessed")
    );
    let mut case = facts(1, kroner(10_000));
    case.applicant_kind = ApplicantKind::Person;
    assert!(
        refusal(&created(), decide(case, GrantOutcome::Full, kroner(10_000)))
            .to_string()
            .contains("does not take")
    );
}

#[test]
fn someone_with_a_declared_conflict_of_interest_can_neither_decide_nor_approve() {
    let case = facts(1, kroner(150_000));
    let declare = |member: &str| GrantPoolCommand::DeclareConflict {
        member: staff(member),
        applicant: case.applicant,
        reason: None,
        at: at(2026, 3, 1),
    };
    let events = decided(&created(), declare("chair"));
    assert!(
        refusal(
            &events,
            decide(case.clone(), GrantOutcome::Full, kroner(150_000))
        )
        .to_string()
        .contains("inhabilitet")
    );
    // Declared twice: nothing new.
    assert_eq!(
        GrantPool::decide(&state_after(&events), &declare("chair")),
        Ok(vec![])
    );
    // Another member decides; the conflicted one cannot approve.
    let events = decided(
        &created(),
        decide(case.clone(), GrantOutcome::Full, kroner(150_000)),
    );
    let events = decided(&events, declare("member"));
    let approve = |by: &str| GrantPoolCommand::Approve {
        application: case.application,
        by: staff(by),
        at: at(2026, 4, 2),
    };
    assert!(
        refusal(&events, approve("member"))
            .to_string()
            .contains("inhabilitet")
    );
    // An applicant the member has no conflict with is theirs to decide.
    assert!(
        GrantPool::decide(
            &state_after(&events),
            &decide(facts(2, kroner(1_000)), GrantOutcome::Full, kroner(1_000))
        )
        .is_ok()
    );
}

#[test]
fn above_the_threshold_a_second_approver_who_neither_decided_nor_assessed_makes_it_final() {
    let case = facts(1, kroner(150_000));
    let events = decided(
        &created(),
        decide(case.clone(), GrantOutcome::Full, kroner(150_000)),
    );
    assert!(matches!(
        events.last(),
        Some(GrantPoolEvent::DecisionProposed(_))
    ));
    let approve = |by: &str| GrantPoolCommand::Approve {
        application: case.application,
        by: staff(by),
        at: at(2026, 4, 2),
    };
    assert!(
        refusal(&events, approve("chair"))
            .to_string()
            .contains("someone else")
    );
    assert!(
        refusal(&events, approve("assessor"))
            .to_string()
            .contains("assessed")
    );
    // A second decision on it waits for the approver too.
    assert!(
        refusal(
            &events,
            decide(case.clone(), GrantOutcome::Full, kroner(150_000))
        )
        .to_string()
        .contains("second approver")
    );
    let events = decided(&events, approve("deputy"));
    assert!(
        matches!(events.last(), Some(GrantPoolEvent::DecisionApproved(a)) if a.approved_by == staff("deputy"))
    );
    let state = state_after(&events);
    assert_eq!(
        state.ledger().expect("l").cases[&case.application].status,
        CaseStatus::Decided
    );
    assert!(
        refusal(&events, approve("deputy"))
            .to_string()
            .contains("already final")
    );
    // At the threshold, no second approver.
    let at_threshold = decided(
        &created(),
        decide(
            facts(2, kroner(100_000)),
            GrantOutcome::Full,
            kroner(100_000),
        ),
    );
    assert!(matches!(
        at_threshold.last(),
        Some(GrantPoolEvent::Decided(_))
    ));
}

#[test]
fn a_decision_is_never_edited_a_complaint_reopens_it_and_it_is_decided_again() {
    let case = facts(1, kroner(50_000));
    let events = decided(
        &created(),
        decide(case.clone(), GrantOutcome::Refused, Amount::ZERO),
    );
    assert!(
        refusal(
            &events,
            decide(case.clone(), GrantOutcome::Full, kroner(50_000))
        )
        .to_string()
        .contains("klage")
    );
    let reopen = GrantPoolCommand::Reopen {
        application: case.application,
        reason: Justification::parse("Klage over afslaget").expect("why"),
        by: staff("caseworker"),
        at: at(2026, 5, 1),
    };
    let events = decided(&events, reopen.clone());
    assert!(
        refusal(&events, reopen)
            .to_string()
            .contains("already reopened")
    );
    let events = decided(
        &events,
        decide(case.clone(), GrantOutcome::Full, kroner(50_000)),
    );
    let state = state_after(&events);
    let ledger = state.ledger().expect("l");
    assert_eq!(ledger.committed(2026), kroner(50_000));
    // Both decisions are in the log; the ledger holds the standing one.
    let decisions = events
        .iter()
        .filter(|e| matches!(e, GrantPoolEvent::Decided(_)))
        .count();
    assert_eq!(decisions, 2);
    assert_eq!(
        ledger.cases[&case.application]
            .decision
            .as_ref()
            .map(|d| d.outcome),
        Some(GrantOutcome::Full)
    );
    // A reopened grant no longer commits its amount until decided again.
    let reopened = decided(
        &events,
        GrantPoolCommand::Reopen {
            application: case.application,
            reason: Justification::parse("Ny klage").expect("why"),
            by: staff("caseworker"),
            at: at(2026, 6, 1),
        },
    );
    assert_eq!(
        state_after(&reopened).ledger().expect("l").committed(2026),
        Amount::ZERO
    );
    assert!(
        refusal(
            &created(),
            GrantPoolCommand::Reopen {
                application: case.application,
                reason: Justification::parse("x").expect("why"),
                by: staff("caseworker"),
                at: at(2026, 6, 1),
            }
        )
        .to_string()
        .contains("no final decision")
    );
}

#[test]
fn a_withdrawal_comes_before_the_decision_and_a_withdrawn_application_is_not_decided() {
    let case = facts(1, kroner(50_000));
    let withdraw = GrantPoolCommand::Withdraw {
        case: case.clone(),
        by: staff("org"),
        at: at(2026, 3, 1),
    };
    let events = decided(&created(), withdraw.clone());
    assert_eq!(
        GrantPool::decide(&state_after(&events), &withdraw),
        Ok(vec![])
    );
    assert!(
        refusal(
            &events,
            decide(case.clone(), GrantOutcome::Full, kroner(50_000))
        )
        .to_string()
        .contains("withdrawn")
    );
    let events = decided(
        &created(),
        decide(case.clone(), GrantOutcome::Full, kroner(50_000)),
    );
    assert!(
        refusal(&events, withdraw)
            .to_string()
            .contains("can no longer be withdrawn")
    );
}

#[test]
fn a_budget_change_has_a_reason_and_never_goes_below_what_is_granted() {
    let events = decided(
        &created(),
        decide(facts(1, kroner(90_000)), GrantOutcome::Full, kroner(90_000)),
    );
    let change = |amount: Amount| GrantPoolCommand::ChangeBudget {
        year: 2026,
        amount,
        reason: Justification::parse("Besparelse").expect("why"),
        by: staff("admin"),
        at: at(2026, 6, 1),
    };
    assert!(
        refusal(&events, change(kroner(89_999)))
            .to_string()
            .contains("already granted")
    );
    let events = decided(&events, change(kroner(90_000)));
    assert!(
        matches!(events.last(), Some(GrantPoolEvent::BudgetChanged(b)) if b.previous == kroner(300_000))
    );
    assert_eq!(
        GrantPool::decide(&state_after(&events), &change(kroner(90_000))),
        Ok(vec![])
    );
}

#[test]
fn a_pool_in_rounds_has_at_most_two_a_year_each_with_a_deadline_after_it_opens() {
    let round =
        |n: u128, opens: DateTime<Utc>, deadline: DateTime<Utc>| GrantPoolCommand::OpenRound {
            round: GrantRoundId::from_uuid(uuid::Uuid::from_u128(n)),
            title: GrantTitle::parse("Runde").expect("title"),
            opens_at: opens,
            deadline,
            decision_expected: crate::calendar::danish_date(deadline),
        };
    assert!(
        matches!(refusal(&created(), round(1, at(2026, 3, 1), at(2026, 3, 1))), DomainError::Rule { field: Some(f), .. } if f == "deadline")
    );
    let events = decided(&created(), round(1, at(2026, 1, 1), at(2026, 3, 1)));
    let events = decided(&events, round(2, at(2026, 8, 1), at(2026, 9, 1)));
    assert!(
        refusal(&events, round(3, at(2026, 10, 1), at(2026, 11, 1)))
            .to_string()
            .contains("2 rounds")
    );
    assert!(
        GrantPool::decide(
            &state_after(&events),
            &round(3, at(2026, 12, 1), at(2027, 3, 1))
        )
        .is_ok()
    );
    let ledger = state_after(&events);
    let ledger = ledger.ledger().expect("l");
    assert!(
        ledger.submission_window(None).is_err(),
        "a pool in rounds needs the round"
    );
    assert!(
        ledger
            .submission_window(Some(GrantRoundId::from_uuid(uuid::Uuid::from_u128(1))))
            .expect("window")
            .is_some()
    );
    let mut rolling = grant_pool_details(grant_pool_id());
    rolling.kind = PoolKind::Rolling;
    let rolling = vec![GrantPoolEvent::Created(rolling)];
    assert!(
        refusal(&rolling, round(1, at(2026, 1, 1), at(2026, 3, 1)))
            .to_string()
            .contains("no application rounds")
    );
}

fn follow(application: GrantApplicationId, command: &str, amount: Amount) -> GrantPoolCommand {
    let reference = GrantTitle::parse("Bilag 4711").expect("reference");
    match command {
        "pay" => GrantPoolCommand::RecordPayment {
            application,
            amount,
            paid_on: date(2026, 5, 1),
            reference,
            by: staff("finance"),
            at: at(2026, 5, 1),
        },
        "report" => GrantPoolCommand::ReceiveFinalReport {
            application,
            spent: amount,
            narrative: GrantText::parse("Vi holdt 40 lektiecaféer").expect("narrative"),
            audited: false,
            received_on: date(2027, 2, 1),
            by: staff("org"),
            at: at(2027, 2, 1),
        },
        "approve" => GrantPoolCommand::ApproveFinalReport {
            application,
            by: staff("caseworker"),
            at: at(2027, 2, 2),
        },
        _ => GrantPoolCommand::RecordRepayment {
            application,
            amount,
            repaid_on: date(2027, 3, 1),
            reference,
            by: staff("finance"),
            at: at(2027, 3, 1),
        },
    }
}

#[test]
fn payments_never_pass_the_grant_and_the_unspent_money_is_to_be_repaid() {
    let case = facts(1, kroner(15_000));
    let app = case.application;
    let events = decided(&created(), decide(case, GrantOutcome::Full, kroner(15_000)));
    assert!(
        matches!(events.last(), Some(GrantPoolEvent::Decided(d)) if d.report_due == Some(date(2027, 3, 31))),
        "due three months after the period ends"
    );
    // In instalments, never more than granted.
    let events = decided(&events, follow(app, "pay", kroner(10_000)));
    assert!(
        refusal(&events, follow(app, "pay", kroner(5_001)))
            .to_string()
            .contains("more than granted")
    );
    let events = decided(&events, follow(app, "pay", kroner(5_000)));
    assert!(
        refusal(&events, follow(app, "approve", Amount::ZERO))
            .to_string()
            .contains("no final report")
    );
    assert!(
        refusal(&events, follow(app, "repay", kroner(1)))
            .to_string()
            .contains("before the final report")
    );
    // 12.000 kr. spent of 15.000 kr. paid: 3.000 kr. to be repaid.
    let events = decided(&events, follow(app, "report", kroner(12_000)));
    let events = decided(&events, follow(app, "approve", Amount::ZERO));
    assert!(
        matches!(events.last(), Some(GrantPoolEvent::FinalReportApproved(a)) if a.repayment_due == kroner(3_000))
    );
    assert!(refusal(&events, follow(app, "repay", kroner(3_001))).is_rule("amount"));
    let events = decided(&events, follow(app, "repay", kroner(3_000)));
    let state = state_after(&events);
    let follow_up = &state.ledger().expect("l").cases[&app].follow_up;
    assert_eq!(
        (follow_up.paid, follow_up.repaid),
        (kroner(15_000), kroner(3_000))
    );
    // A refusal has nothing to follow up.
    let refused = facts(2, kroner(1_000));
    let app2 = refused.application;
    let events = decided(
        &events,
        decide(refused, GrantOutcome::Refused, Amount::ZERO),
    );
    assert!(
        refusal(&events, follow(app2, "pay", kroner(1)))
            .to_string()
            .contains("no final grant")
    );
}

#[test]
fn a_grant_above_the_pools_threshold_needs_audited_accounts() {
    let case = facts(1, kroner(50_000));
    let app = case.application;
    let events = decided(&created(), decide(case, GrantOutcome::Full, kroner(50_000)));
    // 50.000 kr. is above the pool's 20.000 kr.
    assert!(refusal(&events, follow(app, "report", kroner(50_000))).is_rule("audited"));
    let mut audited = follow(app, "report", kroner(50_000));
    if let GrantPoolCommand::ReceiveFinalReport { audited, .. } = &mut audited {
        *audited = true;
    }
    assert!(GrantPool::decide(&state_after(&events), &audited).is_ok());
}

#[test]
fn an_applicant_with_an_overdue_final_report_gets_no_new_grant_until_it_is_received() {
    let org = ApplicantRef::Organisation(org_id());
    let mut first = facts(1, kroner(10_000));
    first.applicant = org;
    first.applicant_kind = ApplicantKind::Association;
    let mut details = grant_pool_details(grant_pool_id());
    details.applicants.push(ApplicantKind::Association);
    let mut events = vec![GrantPoolEvent::Created(details)];
    events.extend(created().into_iter().skip(1));
    let events = decided(
        &events,
        decide(first.clone(), GrantOutcome::Full, kroner(10_000)),
    );
    let mut second = facts(2, kroner(10_000));
    second.applicant = org;
    second.applicant_kind = ApplicantKind::Association;
    let late = |case: CaseFacts, outcome, amount, today| {
        let mut command = decide(case, outcome, amount);
        if let GrantPoolCommand::Decide { today: t, .. } = &mut command {
            *t = today;
        }
        command
    };
    // Due 2027-03-31 (three months after 2026-12-31): on 2027-04-01 it is overdue.
    let refused = refusal(
        &events,
        late(
            second.clone(),
            GrantOutcome::Full,
            kroner(10_000),
            date(2027, 4, 1),
        ),
    );
    assert!(refused.to_string().contains("overdue"), "{refused}");
    // Not before it is due, and a refusal is still possible.
    assert!(
        GrantPool::decide(
            &state_after(&events),
            &late(
                second.clone(),
                GrantOutcome::Full,
                kroner(10_000),
                date(2027, 3, 31)
            )
        )
        .is_ok()
    );
    assert!(
        GrantPool::decide(
            &state_after(&events),
            &late(
                second.clone(),
                GrantOutcome::Refused,
                Amount::ZERO,
                date(2027, 4, 1)
            )
        )
        .is_ok()
    );
    // One overdue in another pool counts too.
    let mut elsewhere = late(
        facts(3, kroner(1_000)),
        GrantOutcome::Full,
        kroner(1_000),
        date(2027, 4, 1),
    );
    if let GrantPoolCommand::Decide {
        overdue_elsewhere, ..
    } = &mut elsewhere
    {
        *overdue_elsewhere = Some(date(2026, 1, 1));
    }
    assert!(
        refusal(&created(), elsewhere)
            .to_string()
            .contains("2026-01-01")
    );
    // Received: the next grant may be made.
    let events = decided(&events, follow(first.application, "report", kroner(10_000)));
    assert!(
        GrantPool::decide(
            &state_after(&events),
            &late(second, GrantOutcome::Full, kroner(10_000), date(2027, 4, 1))
        )
        .is_ok()
    );
}

fn partnership() -> Vec<GrantPoolEvent> {
    let mut details = grant_pool_details(grant_pool_id());
    details.kind = PoolKind::Partnership;
    details.second_approval_above = kroner(1_000_000);
    let mut events = vec![GrantPoolEvent::Created(details)];
    for year in 2021..=2023 {
        events.push(GrantPoolEvent::BudgetChanged(PoolBudgetChanged {
            id: grant_pool_id(),
            year,
            amount: kroner(750_000),
            previous: Amount::ZERO,
            reason: Justification::parse("Budget").expect("reason"),
            by: staff("admin"),
            at: at(2021, 1, 5),
        }));
    }
    events
}

fn agreement(case: CaseFacts, per_year: &[(i32, i64)], outcome: GrantOutcome) -> GrantPoolCommand {
    let years: Vec<YearlyAmount> = per_year
        .iter()
        .map(|(year, kr)| YearlyAmount {
            year: *year,
            amount: kroner(*kr),
        })
        .collect();
    let amount = years.iter().fold(Amount::ZERO, |sum, y| {
        sum.checked_add(y.amount).expect("sum")
    });
    let mut command = decide(case, outcome, amount);
    if let GrantPoolCommand::Decide { terms, .. } = &mut command {
        terms.year = years.first().map(|y| y.year).unwrap_or(2021);
        terms.years = years;
        terms.duties = GrantText::parse_optional(Some("En ressourceperson 10-12 timer om ugen"))
            .expect("duties");
    }
    command
}

#[test]
fn a_partnership_agreement_reserves_each_of_its_years_against_that_years_budget() {
    let three = [(2021, 107_000), (2022, 107_000), (2023, 107_000)];
    let events = decided(
        &partnership(),
        agreement(facts(1, kroner(107_000)), &three, GrantOutcome::Full),
    );
    let state = state_after(&events);
    let ledger = state.ledger().expect("l");
    for year in 2021..=2023 {
        assert_eq!(ledger.committed(year), kroner(107_000), "{year}");
    }
    assert!(
        matches!(events.last(), Some(GrantPoolEvent::Decided(d)) if d.duties.is_some() && d.by_year().len() == 3)
    );
    // Six more fit every year (7 × 107.000 = 749.000 of 750.000); the eighth's last year does not.
    let mut events = events;
    for n in 2..=7 {
        events = decided(
            &events,
            agreement(facts(n, kroner(107_000)), &three, GrantOutcome::Full),
        );
    }
    let refused = refusal(
        &events,
        agreement(facts(8, kroner(107_000)), &three, GrantOutcome::Full),
    );
    assert!(
        refused
            .to_string()
            .contains("budget for 2021 has 1.000,00 kr. left"),
        "{refused}"
    );
    // A later year is checked like the first: 2023 alone is full when only it is over.
    let mut tight = partnership();
    tight.push(GrantPoolEvent::BudgetChanged(PoolBudgetChanged {
        id: grant_pool_id(),
        year: 2023,
        amount: kroner(100_000),
        previous: kroner(750_000),
        reason: Justification::parse("Besparelse").expect("reason"),
        by: staff("admin"),
        at: at(2021, 2, 1),
    }));
    let refused = refusal(
        &tight,
        agreement(facts(9, kroner(107_000)), &three, GrantOutcome::Full),
    );
    assert!(refused.to_string().contains("budget for 2023"), "{refused}");
    // A complaint releases every year.
    let reopened = decided(
        &events,
        GrantPoolCommand::Reopen {
            application: facts(1, kroner(107_000)).application,
            reason: Justification::parse("Klage").expect("why"),
            by: staff("caseworker"),
            at: at(2021, 6, 1),
        },
    );
    assert_eq!(
        state_after(&reopened).ledger().expect("l").committed(2023),
        kroner(642_000)
    );
}

#[test]
fn an_agreements_years_follow_each_other_and_fit_its_outcome_and_only_a_partnership_has_them() {
    let case = || facts(1, kroner(107_000));
    let rule = |command| refusal(&partnership(), command);
    assert!(
        rule(agreement(case(), &[(2021, 107_000)], GrantOutcome::Full)).is_rule("years"),
        "one year"
    );
    assert!(
        rule(agreement(
            case(),
            &[(2021, 107_000), (2023, 107_000)],
            GrantOutcome::Full
        ))
        .is_rule("years"),
        "a gap"
    );
    assert!(
        rule(agreement(
            case(),
            &[(2021, 107_000), (2022, 100_000)],
            GrantOutcome::Full
        ))
        .is_rule("years"),
        "not in full"
    );
    assert!(
        rule(agreement(
            case(),
            &[(2021, 107_000), (2022, 107_000)],
            GrantOutcome::Partial
        ))
        .is_rule("years"),
        "not in part"
    );
    assert!(
        rule(agreement(
            case(),
            &[(2021, 108_000), (2022, 100_000)],
            GrantOutcome::Partial
        ))
        .is_rule("years"),
        "above a year's"
    );
    assert!(
        GrantPool::decide(
            &state_after(&partnership()),
            &agreement(
                case(),
                &[(2021, 107_000), (2022, 50_000)],
                GrantOutcome::Partial
            )
        )
        .is_ok()
    );
    let mut total_off = agreement(
        case(),
        &[(2021, 107_000), (2022, 107_000)],
        GrantOutcome::Full,
    );
    if let GrantPoolCommand::Decide { terms, .. } = &mut total_off {
        terms.amount = kroner(1);
    }
    assert!(rule(total_off).is_rule("amount"));
    // A pool in rounds grants from one year.
    let years = agreement(
        case(),
        &[(2026, 107_000), (2027, 107_000)],
        GrantOutcome::Full,
    );
    assert!(refusal(&created(), years).is_rule("years"));
}

#[test]
fn a_case_is_kept_while_open_and_five_years_after_the_year_it_closed() {
    let retention = |events: &[GrantPoolEvent], app| {
        state_after(events)
            .ledger()
            .expect("created")
            .retention(app)
    };
    let kept_until = |year| CaseRetention::KeptUntil(date(year, 12, 31));
    // Undecided: open.
    let granted = facts(1, kroner(15_000));
    let app = granted.application;
    assert_eq!(retention(&created(), app), CaseRetention::Open);
    // A refusal closes the case the day it is decided (2026): kept to the end of 2031.
    let refused = facts(2, kroner(1_000));
    let events = decided(
        &created(),
        decide(refused.clone(), GrantOutcome::Refused, Amount::ZERO),
    );
    assert_eq!(retention(&events, refused.application), kept_until(2031));
    // ... and a complaint reopens it.
    let reopened = decided(
        &events,
        GrantPoolCommand::Reopen {
            application: refused.application,
            reason: Justification::parse("Klage over afslaget").expect("why"),
            by: staff("caseworker"),
            at: at(2026, 5, 1),
        },
    );
    assert_eq!(
        retention(&reopened, refused.application),
        CaseRetention::Open
    );
    // A grant stays open through its follow-up: paid, reported, approved with 3.000 kr. to
    // repay; closed by the repayment in 2027, so kept to the end of 2032.
    let mut events = decided(&events, decide(granted, GrantOutcome::Full, kroner(15_000)));
    for (step, amount) in [("pay", 15_000), ("report", 12_000), ("approve", 0)] {
        assert_eq!(
            retention(&events, app),
            CaseRetention::Open,
            "before {step}"
        );
        events = decided(&events, follow(app, step, kroner(amount)));
    }
    assert_eq!(retention(&events, app), CaseRetention::Open, "not repaid");
    let events = decided(&events, follow(app, "repay", kroner(3_000)));
    assert_eq!(retention(&events, app), kept_until(2032));
    assert!(!kept_until(2032).expired_on(date(2032, 12, 31)));
    assert!(kept_until(2032).expired_on(date(2033, 1, 1)));
    // A withdrawal closes the case on its day.
    let withdrawn = facts(3, kroner(2_000));
    let events = decided(
        &events,
        GrantPoolCommand::Withdraw {
            case: withdrawn.clone(),
            by: staff("org"),
            at: at(2028, 6, 1),
        },
    );
    assert_eq!(retention(&events, withdrawn.application), kept_until(2033));
}
