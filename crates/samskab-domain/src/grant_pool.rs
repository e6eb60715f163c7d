//! Grant pools (puljer): the money a municipality sets aside for voluntary social work (§18 of
//! serviceloven, seeds 002–004), and the ledger of what it has decided to grant from it.
//!
//! **The pool's subject is the consistency boundary of its money.** Every decision on an
//! application of the pool (grant in full or in part, refuse), its second approval, a
//! complaint that reopens it, a withdrawal, and every change of budget is an event of the
//! pool, not of the application. So one subject holds all that commits the pool's budget, and
//! the log's expected-sequence check on that one subject is what keeps the granted amounts of
//! a pool-year within its budget under any number of concurrent decisions: a decision is made
//! on the pool's latest state or not at all. The application (its versions, its personal data,
//! its assessments) is an entity of its own (`grant-application`), read by the API before a
//! decision and described to the pool by [`CaseFacts`]; the decision records the version it
//! was made on.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::danish_date;

pub mod follow_up;
pub mod retention;
pub mod terms;

use crate::{
    Amount, ApplicantKind, Criterion, Decider, DomainError, EntityKind, GrantApplicationId,
    GrantOutcome, GrantPoolId, GrantRoundId, GrantText, GrantTitle, Justification, LegalBasis,
    OrganisationId, PoolKind, StaffMember,
};
pub use follow_up::{
    FollowUp, PoolFinalReport, PoolFinalReportApproved, PoolPayment, PoolRepayment, ReceivedReport,
    overdue_report, report_due,
};
pub use retention::{CASE_RETENTION_YEARS, CaseRetention};
pub use terms::{DecisionTerms, MAX_AGREEMENT_YEARS, YearlyAmount};

/// The grant pool decider.
pub struct GrantPool;

/// What a pool is. Set when it is created; its budget changes by events of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolDetails {
    pub id: GrantPoolId,
    pub name: GrantTitle,
    pub legal_basis: LegalBasis,
    pub purpose: GrantText,
    pub kind: PoolKind,
    /// Who may apply: at least one kind.
    pub applicants: Vec<ApplicantKind>,
    /// What an application is scored on; the weights add up to 100.
    pub criteria: Vec<Criterion>,
    /// A decision granting more than this needs a second approver, who is neither the one who
    /// decided nor an assessor of the application.
    pub second_approval_above: Amount,
    /// A final report of a grant above this needs audited accounts (e.g. 20.000 kr.).
    pub audited_accounts_above: Amount,
    /// The initiative (indsats) of the municipality's action plan the pool serves.
    pub initiative: Option<GrantTitle>,
    /// The strategic goal it serves.
    pub strategic_goal: Option<GrantTitle>,
}

/// The most criteria a pool may have.
pub const MAX_CRITERIA: usize = 12;

impl PoolDetails {
    /// The pool takes applications from `kind`.
    pub fn accepts(&self, kind: ApplicantKind) -> bool {
        self.applicants.contains(&kind)
    }

    fn check(&self) -> Result<(), DomainError> {
        if self.applicants.is_empty() {
            return Err(DomainError::rule(
                "applicants",
                "name at least one kind of applicant",
            ));
        }
        if self.criteria.is_empty() || self.criteria.len() > MAX_CRITERIA {
            return Err(DomainError::rule(
                "criteria",
                format!("name 1 to {MAX_CRITERIA} criteria"),
            ));
        }
        let keys: BTreeSet<_> = self.criteria.iter().map(|c| &c.key).collect();
        if keys.len() != self.criteria.len() {
            return Err(DomainError::rule(
                "criteria",
                "each criterion needs a key of its own",
            ));
        }
        if self
            .criteria
            .iter()
            .any(|c| c.weight == 0 || c.weight > 100)
        {
            return Err(DomainError::rule("criteria", "each weight is 1 to 100"));
        }
        let total: u32 = self.criteria.iter().map(|c| u32::from(c.weight)).sum();
        if total != 100 {
            return Err(DomainError::rule(
                "criteria",
                format!("the weights add up to {total}; they must add up to 100"),
            ));
        }
        Ok(())
    }
}

/// Who an application is from, as far as conflicts of interest go: an association by its
/// organisation's id; an informal group or a person by their application, which is all that
/// identifies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantRef {
    Organisation(OrganisationId),
    Application(GrantApplicationId),
}

/// An application round: applications are submitted from `opens_at` up to `deadline`
/// (instants; the API reads them as Danish local time), and decided around
/// `decision_expected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRound {
    pub id: GrantPoolId,
    pub round: GrantRoundId,
    pub title: GrantTitle,
    pub opens_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub decision_expected: NaiveDate,
}

/// When submissions are taken: from a round's opening up to its deadline; `None` for a pool
/// without rounds (always).
pub type SubmissionWindow = Option<(DateTime<Utc>, DateTime<Utc>)>;

/// At most this many rounds have their deadline in one (Danish) year: "one or two a year".
pub const MAX_ROUNDS_A_YEAR: usize = 2;

/// Payload of `budget_changed`: the budget of one year, with why it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolBudgetChanged {
    pub id: GrantPoolId,
    pub year: i32,
    pub amount: Amount,
    pub previous: Amount,
    pub reason: Justification,
    pub by: StaffMember,
    pub at: DateTime<Utc>,
}

/// Payload of `conflict_declared`: a staff member has declared a conflict of interest
/// (inhabilitet, forvaltningsloven § 3) with an applicant, so they can neither assess nor
/// decide its applications in this pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolConflictDeclared {
    pub id: GrantPoolId,
    pub member: StaffMember,
    pub applicant: ApplicantRef,
    pub reason: Option<Justification>,
    pub at: DateTime<Utc>,
}

/// Payload of `decided` (final) and `decision_proposed` (awaiting a second approver): what
/// was decided on which application, on which of its versions, by whom, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolDecision {
    pub id: GrantPoolId,
    pub application: GrantApplicationId,
    /// The submitted version decided on (1 is the first submission).
    pub version: u32,
    pub applicant: ApplicantRef,
    pub outcome: GrantOutcome,
    /// Granted, in øre; 0 for a refusal.
    pub amount: Amount,
    /// Applied for, in øre, as of the version decided on.
    pub requested: Amount,
    /// The budget year it is granted from.
    pub year: i32,
    /// Required for a refusal and a partial grant.
    pub justification: Option<Justification>,
    pub decided_by: StaffMember,
    /// Who assessed the application (none may be its second approver).
    pub assessed_by: Vec<StaffMember>,
    /// When the final report is due (a grant of more than 0 only).
    #[serde(default)]
    pub report_due: Option<NaiveDate>,
    /// A partnership's years, each with its amount (absent for a grant of one year).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<YearlyAmount>,
    /// What the grantee undertakes (a partnership's duties: "a resource person 10–12 hours a
    /// week").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duties: Option<GrantText>,
    pub at: DateTime<Utc>,
}

impl PoolDecision {
    /// What each budget year it commits: its years, or its one year.
    pub fn by_year(&self) -> Vec<YearlyAmount> {
        if self.years.is_empty() {
            vec![YearlyAmount {
                year: self.year,
                amount: self.amount,
            }]
        } else {
            self.years.clone()
        }
    }
}

/// Payload of `decision_approved`: the second approver's approval, which makes a proposed
/// decision final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolDecisionApproved {
    pub id: GrantPoolId,
    pub application: GrantApplicationId,
    pub approved_by: StaffMember,
    pub at: DateTime<Utc>,
}

/// Payload of `decision_reopened`: a complaint (klage) reopens a final decision, which is never
/// edited; the case is decided again, and its amount is no longer committed until then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolDecisionReopened {
    pub id: GrantPoolId,
    pub application: GrantApplicationId,
    pub reason: Justification,
    pub by: StaffMember,
    pub at: DateTime<Utc>,
}

/// Payload of `application_withdrawn`: the applicant withdrew a submitted application before it
/// was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolApplicationWithdrawn {
    pub id: GrantPoolId,
    pub application: GrantApplicationId,
    pub by: StaffMember,
    pub at: DateTime<Utc>,
}

domain_events! {
    /// What happens to a pool and the money it commits.
    pub enum GrantPoolEvent for EntityKind::GrantPool {
        Created(PoolDetails) = CREATED_V1 => "dk.samskab.grant_pool.created.v1",
        BudgetChanged(PoolBudgetChanged) = BUDGET_CHANGED_V1 => "dk.samskab.grant_pool.budget_changed.v1",
        RoundOpened(PoolRound) = ROUND_OPENED_V1 => "dk.samskab.grant_pool.round_opened.v1",
        ConflictDeclared(PoolConflictDeclared) = CONFLICT_DECLARED_V1 => "dk.samskab.grant_pool.conflict_declared.v1",
        DecisionProposed(PoolDecision) = DECISION_PROPOSED_V1 => "dk.samskab.grant_pool.decision_proposed.v1",
        Decided(PoolDecision) = DECIDED_V1 => "dk.samskab.grant_pool.decided.v1",
        DecisionApproved(PoolDecisionApproved) = DECISION_APPROVED_V1 => "dk.samskab.grant_pool.decision_approved.v1",
        DecisionReopened(PoolDecisionReopened) = DECISION_REOPENED_V1 => "dk.samskab.grant_pool.decision_reopened.v1",
        ApplicationWithdrawn(PoolApplicationWithdrawn) = APPLICATION_WITHDRAWN_V1 => "dk.samskab.grant_pool.application_withdrawn.v1",
        PaymentRecorded(PoolPayment) = PAYMENT_RECORDED_V1 => "dk.samskab.grant_pool.payment_recorded.v1",
        FinalReportReceived(PoolFinalReport) = FINAL_REPORT_RECEIVED_V1 => "dk.samskab.grant_pool.final_report_received.v1",
        FinalReportApproved(PoolFinalReportApproved) = FINAL_REPORT_APPROVED_V1 => "dk.samskab.grant_pool.final_report_approved.v1",
        RepaymentRecorded(PoolRepayment) = REPAYMENT_RECORDED_V1 => "dk.samskab.grant_pool.repayment_recorded.v1",
    }
}

/// Where one application stands in the pool's ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Decided above the pool's threshold; awaits a second approver. Its amount is committed.
    Proposed,
    /// Decided, final. Its amount is committed.
    Decided,
    /// Reopened by a complaint: awaits a new decision; nothing committed.
    Reopened,
    /// Withdrawn by the applicant before a decision.
    Withdrawn,
}

/// One application in the pool's ledger: its status and the decision standing or proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseLedger {
    pub status: CaseStatus,
    pub decision: Option<PoolDecision>,
    /// Payments, the final report and repayments since the decision.
    #[serde(default)]
    pub follow_up: FollowUp,
    /// When the pool's last event about the case happened: how long it is kept runs from
    /// there (`retention`).
    pub last_event_at: DateTime<Utc>,
}

/// A created pool: what it is, its budgets and rounds, the conflicts declared, and every
/// application it has decided, proposed, reopened or seen withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PoolLedger {
    pub details: Option<PoolDetails>,
    pub budgets: BTreeMap<i32, Amount>,
    /// The amounts of proposed and final decisions, per budget year.
    pub committed: BTreeMap<i32, Amount>,
    pub rounds: Vec<PoolRound>,
    pub conflicts: BTreeSet<(StaffMember, ApplicantRef)>,
    /// A persistent map (shared structure): the decision cache hands each command on the pool
    /// a copy of the ledger, and a pool has a case per application, so a copy must not cost
    /// one per case. Cloned in O(1); an event changes O(log n) of it.
    pub cases: imbl::OrdMap<GrantApplicationId, CaseLedger>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GrantPoolState {
    #[default]
    NotCreated,
    Created(Box<PoolLedger>),
}

impl GrantPoolState {
    pub fn ledger(&self) -> Option<&PoolLedger> {
        match self {
            GrantPoolState::NotCreated => None,
            GrantPoolState::Created(ledger) => Some(ledger),
        }
    }
}

impl PoolLedger {
    pub fn details(&self) -> Result<&PoolDetails, DomainError> {
        self.details.as_ref().ok_or(DomainError::NotFound {
            kind: EntityKind::GrantPool,
        })
    }

    pub fn budget(&self, year: i32) -> Option<Amount> {
        self.budgets.get(&year).copied()
    }

    pub fn committed(&self, year: i32) -> Amount {
        self.committed.get(&year).copied().unwrap_or_default()
    }

    pub fn round(&self, round: GrantRoundId) -> Option<&PoolRound> {
        self.rounds.iter().find(|r| r.round == round)
    }

    /// Whether `member` has declared a conflict of interest with `applicant` in this pool.
    pub fn is_conflicted(&self, member: &StaffMember, applicant: ApplicantRef) -> bool {
        self.conflicts.contains(&(member.clone(), applicant))
    }

    /// Refuses `member` where they declared a conflict of interest with the applicant: they
    /// can neither assess nor decide nor approve (forvaltningsloven § 3).
    pub fn check_not_conflicted(
        &self,
        member: &StaffMember,
        applicant: ApplicantRef,
    ) -> Result<(), DomainError> {
        if self.is_conflicted(member, applicant) {
            return Err(DomainError::conflict(
                "you have declared a conflict of interest (inhabilitet) with this applicant, \
                 so you can neither assess nor decide its applications",
            ));
        }
        Ok(())
    }

    /// Whether the applicant may still change the application (amend it; a case worker
    /// assess it): not once it is decided, proposed or withdrawn. A reopened case may be
    /// assessed again, not amended.
    pub fn check_case_open(
        &self,
        application: GrantApplicationId,
        reopened_counts_as_open: bool,
    ) -> Result<(), DomainError> {
        match self.cases.get(&application).map(|c| c.status) {
            None => Ok(()),
            Some(CaseStatus::Reopened) if reopened_counts_as_open => Ok(()),
            Some(CaseStatus::Reopened) => Err(DomainError::conflict(
                "the application was decided and is reopened by a complaint; it is decided \
                 again on the version it has",
            )),
            Some(CaseStatus::Proposed | CaseStatus::Decided) => Err(DomainError::conflict(
                "the application is decided; a complaint (klage) reopens it",
            )),
            Some(CaseStatus::Withdrawn) => {
                Err(DomainError::conflict("the application was withdrawn"))
            }
        }
    }

    /// The window submissions to `round` are taken in, and the round named in the first place:
    /// a pool in rounds takes an application only for one of its rounds, another pool for none.
    pub fn submission_window(
        &self,
        round: Option<GrantRoundId>,
    ) -> Result<SubmissionWindow, DomainError> {
        let details = self.details()?;
        match (details.kind, round) {
            (PoolKind::Rounds, Some(round)) => match self.round(round) {
                Some(r) => Ok(Some((r.opens_at, r.deadline))),
                None => Err(DomainError::rule(
                    "round_id",
                    "the pool has no such application round",
                )),
            },
            (PoolKind::Rounds, None) => Err(DomainError::rule(
                "round_id",
                "the pool decides in application rounds: name the round",
            )),
            (_, Some(_)) => Err(DomainError::rule(
                "round_id",
                "the pool has no application rounds; leave the round out",
            )),
            (_, None) => Ok(None),
        }
    }

    /// What is left of the budget of `year`.
    pub fn available(&self, year: i32) -> Amount {
        self.budget(year)
            .unwrap_or_default()
            .saturating_sub(self.committed(year))
    }
}

/// What the pool is told of an application before it decides on it, read from the
/// application's own log by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub application: GrantApplicationId,
    /// The version as submitted last; 0 if it never was.
    pub version: u32,
    pub applicant: ApplicantRef,
    pub applicant_kind: ApplicantKind,
    pub requested: Amount,
    /// Everyone who has assessed it (the latest assessment of each).
    pub assessed_by: Vec<StaffMember>,
    /// The last day of the period applied for (a final report is due after it).
    pub period_to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantPoolCommand {
    Create(PoolDetails),
    ChangeBudget {
        year: i32,
        amount: Amount,
        reason: Justification,
        by: StaffMember,
        at: DateTime<Utc>,
    },
    OpenRound {
        round: GrantRoundId,
        title: GrantTitle,
        opens_at: DateTime<Utc>,
        deadline: DateTime<Utc>,
        decision_expected: NaiveDate,
    },
    DeclareConflict {
        member: StaffMember,
        applicant: ApplicantRef,
        reason: Option<Justification>,
        at: DateTime<Utc>,
    },
    /// `today` is the date in Denmark (for overdue final reports); `overdue_elsewhere` names
    /// the due day of a final report the applicant has overdue in another pool of the
    /// municipality, as the caller found it.
    Decide {
        case: CaseFacts,
        terms: DecisionTerms,
        by: StaffMember,
        at: DateTime<Utc>,
        today: NaiveDate,
        overdue_elsewhere: Option<NaiveDate>,
    },
    Approve {
        application: GrantApplicationId,
        by: StaffMember,
        at: DateTime<Utc>,
    },
    Reopen {
        application: GrantApplicationId,
        reason: Justification,
        by: StaffMember,
        at: DateTime<Utc>,
    },
    Withdraw {
        case: CaseFacts,
        by: StaffMember,
        at: DateTime<Utc>,
    },
    RecordPayment {
        application: GrantApplicationId,
        amount: Amount,
        paid_on: NaiveDate,
        reference: GrantTitle,
        by: StaffMember,
        at: DateTime<Utc>,
    },
    ReceiveFinalReport {
        application: GrantApplicationId,
        spent: Amount,
        narrative: GrantText,
        audited: bool,
        received_on: NaiveDate,
        by: StaffMember,
        at: DateTime<Utc>,
    },
    ApproveFinalReport {
        application: GrantApplicationId,
        by: StaffMember,
        at: DateTime<Utc>,
    },
    RecordRepayment {
        application: GrantApplicationId,
        amount: Amount,
        repaid_on: NaiveDate,
        reference: GrantTitle,
        by: StaffMember,
        at: DateTime<Utc>,
    },
}

fn not_found() -> DomainError {
    DomainError::NotFound {
        kind: EntityKind::GrantPool,
    }
}

impl Decider for GrantPool {
    const KIND: EntityKind = EntityKind::GrantPool;
    type State = GrantPoolState;
    // 2: each case keeps when its last event happened (`CaseLedger::last_event_at`).
    const STATE_VERSION: u32 = 2;
    type Command = GrantPoolCommand;
    type Event = GrantPoolEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        use GrantPoolCommand as C;
        use GrantPoolEvent as E;
        if let C::Create(details) = command {
            if state.ledger().is_some() {
                return Err(DomainError::AlreadyExists {
                    kind: EntityKind::GrantPool,
                });
            }
            details.check()?;
            return Ok(vec![E::Created(details.clone())]);
        }
        let ledger = state.ledger().ok_or_else(not_found)?;
        let details = ledger.details()?;
        let id = details.id;
        match command {
            C::Create(_) => unreachable!("handled above"),
            C::ChangeBudget {
                year,
                amount,
                reason,
                by,
                at,
            } => {
                let previous = ledger.budget(*year).unwrap_or_default();
                if ledger.budget(*year) == Some(*amount) {
                    return Ok(vec![]);
                }
                let committed = ledger.committed(*year);
                if *amount < committed {
                    return Err(DomainError::conflict(format!(
                        "{committed} of the budget of {year} is already granted; the budget \
                         cannot be less"
                    )));
                }
                Ok(vec![E::BudgetChanged(PoolBudgetChanged {
                    id,
                    year: *year,
                    amount: *amount,
                    previous,
                    reason: reason.clone(),
                    by: by.clone(),
                    at: *at,
                })])
            }
            C::OpenRound {
                round,
                title,
                opens_at,
                deadline,
                decision_expected,
            } => {
                if details.kind != PoolKind::Rounds {
                    return Err(DomainError::conflict(format!(
                        "a {} pool has no application rounds",
                        details.kind
                    )));
                }
                if ledger.round(*round).is_some() {
                    return Err(DomainError::conflict("the round is already open"));
                }
                if deadline <= opens_at {
                    return Err(DomainError::rule(
                        "deadline",
                        "must be after the round opens",
                    ));
                }
                if *decision_expected < danish_date(*deadline) {
                    return Err(DomainError::rule(
                        "decision_expected",
                        "must be on or after the deadline's day",
                    ));
                }
                let year = danish_date(*deadline).year();
                let that_year = ledger
                    .rounds
                    .iter()
                    .filter(|r| danish_date(r.deadline).year() == year)
                    .count();
                if that_year >= MAX_ROUNDS_A_YEAR {
                    return Err(DomainError::conflict(format!(
                        "the pool already has {MAX_ROUNDS_A_YEAR} rounds with a deadline in {year}"
                    )));
                }
                Ok(vec![E::RoundOpened(PoolRound {
                    id,
                    round: *round,
                    title: title.clone(),
                    opens_at: *opens_at,
                    deadline: *deadline,
                    decision_expected: *decision_expected,
                })])
            }
            C::DeclareConflict {
                member,
                applicant,
                reason,
                at,
            } => {
                if ledger.is_conflicted(member, *applicant) {
                    return Ok(vec![]);
                }
                Ok(vec![E::ConflictDeclared(PoolConflictDeclared {
                    id,
                    member: member.clone(),
                    applicant: *applicant,
                    reason: reason.clone(),
                    at: *at,
                })])
            }
            C::Decide {
                case,
                terms,
                by,
                at,
                today,
                overdue_elsewhere,
            } => {
                if terms.amount > Amount::ZERO {
                    let overdue = overdue_report(ledger, case.applicant, *today)
                        .into_iter()
                        .chain(*overdue_elsewhere)
                        .min();
                    if let Some(due) = overdue {
                        return Err(DomainError::conflict(format!(
                            "the applicant's final report due {due} is overdue: no new grant \
                             until it is received"
                        )));
                    }
                }
                let decision = decide_case(ledger, details, case, terms, by, *at)?;
                if decision.amount > details.second_approval_above {
                    Ok(vec![E::DecisionProposed(decision)])
                } else {
                    Ok(vec![E::Decided(decision)])
                }
            }
            C::Approve {
                application,
                by,
                at,
            } => {
                let case = ledger.cases.get(application);
                let proposal = match case {
                    Some(CaseLedger {
                        status: CaseStatus::Proposed,
                        decision: Some(proposal),
                        ..
                    }) => proposal,
                    Some(CaseLedger {
                        status: CaseStatus::Decided,
                        ..
                    }) => return Err(DomainError::conflict("the decision is already final")),
                    _ => {
                        return Err(DomainError::conflict(
                            "the application has no decision awaiting a second approver",
                        ));
                    }
                };
                if &proposal.decided_by == by {
                    return Err(DomainError::conflict(
                        "the second approver must be someone else than who decided",
                    ));
                }
                if proposal.assessed_by.contains(by) {
                    return Err(DomainError::conflict(
                        "the second approver must not have assessed the application",
                    ));
                }
                ledger.check_not_conflicted(by, proposal.applicant)?;
                Ok(vec![E::DecisionApproved(PoolDecisionApproved {
                    id,
                    application: *application,
                    approved_by: by.clone(),
                    at: *at,
                })])
            }
            C::Reopen {
                application,
                reason,
                by,
                at,
            } => match ledger.cases.get(application).map(|c| c.status) {
                Some(CaseStatus::Decided) => Ok(vec![E::DecisionReopened(PoolDecisionReopened {
                    id,
                    application: *application,
                    reason: reason.clone(),
                    by: by.clone(),
                    at: *at,
                })]),
                Some(CaseStatus::Reopened) => Err(DomainError::conflict(
                    "the decision is already reopened and awaits a new decision",
                )),
                _ => Err(DomainError::conflict(
                    "the application has no final decision to complain about",
                )),
            },
            C::RecordPayment {
                application,
                amount,
                paid_on,
                reference,
                by,
                at,
            } => {
                follow_up::check_payment(ledger, *application, *amount)?;
                Ok(vec![E::PaymentRecorded(PoolPayment {
                    id,
                    application: *application,
                    amount: *amount,
                    paid_on: *paid_on,
                    reference: reference.clone(),
                    by: by.clone(),
                    at: *at,
                })])
            }
            C::ReceiveFinalReport {
                application,
                spent,
                narrative,
                audited,
                received_on,
                by,
                at,
            } => {
                follow_up::check_report(ledger, *application, *audited)?;
                Ok(vec![E::FinalReportReceived(PoolFinalReport {
                    id,
                    application: *application,
                    spent: *spent,
                    narrative: narrative.clone(),
                    audited: *audited,
                    received_on: *received_on,
                    by: by.clone(),
                    at: *at,
                })])
            }
            C::ApproveFinalReport {
                application,
                by,
                at,
            } => match follow_up::approval(ledger, *application)? {
                None => Ok(vec![]),
                Some(repayment_due) => Ok(vec![E::FinalReportApproved(PoolFinalReportApproved {
                    id,
                    application: *application,
                    repayment_due,
                    by: by.clone(),
                    at: *at,
                })]),
            },
            C::RecordRepayment {
                application,
                amount,
                repaid_on,
                reference,
                by,
                at,
            } => {
                follow_up::check_repayment(ledger, *application, *amount)?;
                Ok(vec![E::RepaymentRecorded(PoolRepayment {
                    id,
                    application: *application,
                    amount: *amount,
                    repaid_on: *repaid_on,
                    reference: reference.clone(),
                    by: by.clone(),
                    at: *at,
                })])
            }
            C::Withdraw { case, by, at } => {
                if case.version == 0 {
                    return Err(DomainError::conflict(
                        "the application was never submitted; a draft needs no withdrawal",
                    ));
                }
                match ledger.cases.get(&case.application).map(|c| c.status) {
                    Some(CaseStatus::Withdrawn) => return Ok(vec![]),
                    Some(CaseStatus::Proposed | CaseStatus::Decided) => {
                        return Err(DomainError::conflict(
                            "the application is decided and can no longer be withdrawn",
                        ));
                    }
                    None | Some(CaseStatus::Reopened) => {}
                }
                Ok(vec![E::ApplicationWithdrawn(PoolApplicationWithdrawn {
                    id,
                    application: case.application,
                    by: by.clone(),
                    at: *at,
                })])
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        use GrantPoolEvent as E;
        let mut ledger = match (state, event) {
            (GrantPoolState::NotCreated, E::Created(details)) => {
                return GrantPoolState::Created(Box::new(PoolLedger {
                    details: Some(details.clone()),
                    ..PoolLedger::default()
                }));
            }
            // A second creation cannot have been decided.
            (state @ GrantPoolState::Created(_), E::Created(_)) => return state,
            (GrantPoolState::NotCreated, _) => return GrantPoolState::NotCreated,
            (GrantPoolState::Created(ledger), _) => ledger,
        };
        match event {
            E::Created(_) => {}
            E::BudgetChanged(e) => {
                ledger.budgets.insert(e.year, e.amount);
            }
            E::RoundOpened(round) => {
                if ledger.round(round.round).is_none() {
                    ledger.rounds.push(round.clone());
                }
            }
            E::ConflictDeclared(e) => {
                ledger.conflicts.insert((e.member.clone(), e.applicant));
            }
            E::DecisionProposed(decision) | E::Decided(decision) => {
                let status = match event {
                    E::DecisionProposed(_) => CaseStatus::Proposed,
                    _ => CaseStatus::Decided,
                };
                release(&mut ledger, decision.application);
                let follow_up = ledger
                    .cases
                    .get(&decision.application)
                    .map(|c| c.follow_up.clone())
                    .unwrap_or_default();
                for y in decision.by_year() {
                    let committed = ledger.committed(y.year);
                    ledger
                        .committed
                        .insert(y.year, committed.checked_add(y.amount).unwrap_or(committed));
                }
                ledger.cases.insert(
                    decision.application,
                    CaseLedger {
                        status,
                        decision: Some(decision.clone()),
                        follow_up,
                        last_event_at: decision.at,
                    },
                );
            }
            E::DecisionApproved(e) => {
                if let Some(case) = ledger.cases.get_mut(&e.application)
                    && case.status == CaseStatus::Proposed
                {
                    case.status = CaseStatus::Decided;
                }
            }
            E::DecisionReopened(e) => {
                release(&mut ledger, e.application);
                if let Some(case) = ledger.cases.get_mut(&e.application) {
                    case.status = CaseStatus::Reopened;
                }
            }
            E::ApplicationWithdrawn(e) => {
                release(&mut ledger, e.application);
                ledger.cases.insert(
                    e.application,
                    CaseLedger {
                        status: CaseStatus::Withdrawn,
                        decision: None,
                        follow_up: FollowUp::default(),
                        last_event_at: e.at,
                    },
                );
            }
            E::PaymentRecorded(p) => {
                if let Some(case) = ledger.cases.get_mut(&p.application) {
                    case.follow_up.paid = case
                        .follow_up
                        .paid
                        .checked_add(p.amount)
                        .unwrap_or(case.follow_up.paid);
                }
            }
            E::FinalReportReceived(r) => {
                if let Some(case) = ledger.cases.get_mut(&r.application) {
                    case.follow_up.report = Some(ReceivedReport {
                        spent: r.spent,
                        audited: r.audited,
                        received_on: r.received_on,
                        approved: false,
                    });
                }
            }
            E::FinalReportApproved(a) => {
                if let Some(case) = ledger.cases.get_mut(&a.application)
                    && let Some(report) = case.follow_up.report.as_mut()
                {
                    report.approved = true;
                    case.follow_up.repayment_due = Some(a.repayment_due);
                }
            }
            E::RepaymentRecorded(r) => {
                if let Some(case) = ledger.cases.get_mut(&r.application) {
                    case.follow_up.repaid = case
                        .follow_up
                        .repaid
                        .checked_add(r.amount)
                        .unwrap_or(case.follow_up.repaid);
                }
            }
        }
        if let Some((application, at)) = event.case_event()
            && let Some(case) = ledger.cases.get_mut(&application)
        {
            case.last_event_at = at;
        }
        GrantPoolState::Created(ledger)
    }
}

impl GrantPoolEvent {
    /// The pool the event is of.
    pub fn id(&self) -> GrantPoolId {
        use GrantPoolEvent as E;
        match self {
            E::Created(details) => details.id,
            E::BudgetChanged(e) => e.id,
            E::RoundOpened(round) => round.id,
            E::ConflictDeclared(e) => e.id,
            E::DecisionProposed(decision) | E::Decided(decision) => decision.id,
            E::DecisionApproved(e) => e.id,
            E::DecisionReopened(e) => e.id,
            E::ApplicationWithdrawn(e) => e.id,
            E::PaymentRecorded(e) => e.id,
            E::RepaymentRecorded(e) => e.id,
            E::FinalReportReceived(e) => e.id,
            E::FinalReportApproved(e) => e.id,
        }
    }

    /// The application an event of the pool is about, and when it happened; none for the
    /// pool's own events (its creation, budgets, rounds, conflicts).
    pub fn case_event(&self) -> Option<(GrantApplicationId, DateTime<Utc>)> {
        use GrantPoolEvent as E;
        match self {
            E::Created(_) | E::BudgetChanged(_) | E::RoundOpened(_) | E::ConflictDeclared(_) => {
                None
            }
            E::DecisionProposed(d) | E::Decided(d) => Some((d.application, d.at)),
            E::DecisionApproved(e) => Some((e.application, e.at)),
            E::DecisionReopened(e) => Some((e.application, e.at)),
            E::ApplicationWithdrawn(e) => Some((e.application, e.at)),
            E::PaymentRecorded(e) => Some((e.application, e.at)),
            E::FinalReportReceived(e) => Some((e.application, e.at)),
            E::FinalReportApproved(e) => Some((e.application, e.at)),
            E::RepaymentRecorded(e) => Some((e.application, e.at)),
        }
    }
}

/// Takes a case's committed amount off its year (its decision is replaced, reopened or
/// withdrawn).
fn release(ledger: &mut PoolLedger, application: GrantApplicationId) {
    let Some(CaseLedger {
        status: CaseStatus::Proposed | CaseStatus::Decided,
        decision: Some(decision),
        ..
    }) = ledger.cases.get(&application)
    else {
        return;
    };
    for y in decision.by_year() {
        let committed = ledger.committed(y.year).saturating_sub(y.amount);
        ledger.committed.insert(y.year, committed);
    }
}

/// The rules of a decision, in the order a case worker would want to hear them.
fn decide_case(
    ledger: &PoolLedger,
    details: &PoolDetails,
    case: &CaseFacts,
    terms: &DecisionTerms,
    by: &StaffMember,
    at: DateTime<Utc>,
) -> Result<PoolDecision, DomainError> {
    let (outcome, amount) = (terms.outcome, terms.amount);
    if case.version == 0 {
        return Err(DomainError::conflict(
            "the application has not been submitted",
        ));
    }
    if !details.accepts(case.applicant_kind) {
        return Err(DomainError::conflict(format!(
            "the pool does not take applications from a {}",
            case.applicant_kind
        )));
    }
    match ledger.cases.get(&case.application).map(|c| c.status) {
        None | Some(CaseStatus::Reopened) => {}
        Some(CaseStatus::Withdrawn) => {
            return Err(DomainError::conflict("the application was withdrawn"));
        }
        Some(CaseStatus::Proposed) => {
            return Err(DomainError::conflict(
                "the application's decision awaits a second approver",
            ));
        }
        Some(CaseStatus::Decided) => {
            return Err(DomainError::conflict(
                "the application is decided; a complaint (klage) reopens it",
            ));
        }
    }
    if case.assessed_by.is_empty() {
        return Err(DomainError::conflict(
            "the application has not been assessed; a decision stands on an assessment",
        ));
    }
    ledger.check_not_conflicted(by, case.applicant)?;
    let by_year = terms::amounts_by_year(details.kind, terms, case.requested)?;
    if outcome != GrantOutcome::Full && terms.justification.is_none() {
        return Err(DomainError::rule(
            "justification",
            "a refusal or a grant in part needs a justification (begrundelse)",
        ));
    }
    let paid = ledger
        .cases
        .get(&case.application)
        .map(|c| c.follow_up.paid)
        .unwrap_or_default();
    if amount < paid {
        return Err(DomainError::conflict(format!(
            "{paid} is already paid on this grant; a new decision cannot grant less"
        )));
    }
    for YearlyAmount { year, amount } in by_year.iter().filter(|y| y.amount > Amount::ZERO) {
        let Some(budget) = ledger.budget(*year) else {
            return Err(DomainError::rule(
                "year",
                format!("the pool has no budget for {year}"),
            ));
        };
        let left = budget.saturating_sub(ledger.committed(*year));
        if amount > &left {
            return Err(DomainError::conflict(format!(
                "the pool's budget for {year} has {left} left; this grant is {amount}"
            )));
        }
    }
    Ok(PoolDecision {
        id: details.id,
        application: case.application,
        version: case.version,
        applicant: case.applicant,
        outcome,
        amount,
        requested: case.requested,
        year: terms.year,
        justification: terms.justification.clone(),
        decided_by: by.clone(),
        assessed_by: case.assessed_by.clone(),
        report_due: (amount > Amount::ZERO).then(|| report_due(case.period_to)),
        years: if details.kind == PoolKind::Partnership {
            terms.years.clone()
        } else {
            vec![]
        },
        duties: terms.duties.clone(),
        at,
    })
}

#[cfg(test)]
mod tests;
