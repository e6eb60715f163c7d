//! After a grant: payments (in instalments, never more than granted), the final report
//! (accounts and narrative; audited accounts above the pool's threshold) received and approved,
//! the unspent money to be repaid, and the rule that an applicant with an overdue final report
//! gets no new grant until it is received. Events of the pool, like the decision they follow:
//! they are money too.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{ApplicantRef, CaseLedger, CaseStatus, PoolLedger};
use crate::{
    Amount, DomainError, GrantApplicationId, GrantPoolId, GrantText, GrantTitle, StaffMember,
};

/// A final report is due this many months after the end of the period granted for.
pub const REPORT_DUE_MONTHS: u32 = 3;

/// The day a grant's final report is due: [`REPORT_DUE_MONTHS`] after its period ends.
pub fn report_due(period_to: NaiveDate) -> NaiveDate {
    period_to
        .checked_add_months(Months::new(REPORT_DUE_MONTHS))
        .unwrap_or(period_to)
}

/// Payload of `payment_recorded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolPayment {
    pub id: GrantPoolId,
    pub application: GrantApplicationId,
    pub amount: Amount,
    pub paid_on: NaiveDate,
    /// The payment's reference in the municipality's accounts.
    pub reference: GrantTitle,
    pub by: StaffMember,
    pub at: DateTime<Utc>,
}

/// Payload of `final_report_received`: what was spent (accounts) and what was done (narrative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolFinalReport {
    pub id: GrantPoolId,
    pub application: GrantApplicationId,
    pub spent: Amount,
    pub narrative: GrantText,
    /// The accounts are audited (required above the pool's threshold).
    pub audited: bool,
    pub received_on: NaiveDate,
    pub by: StaffMember,
    pub at: DateTime<Utc>,
}

/// Payload of `final_report_approved`: the report accepted, and what is to be repaid (what was
/// paid and not spent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolFinalReportApproved {
    pub id: GrantPoolId,
    pub application: GrantApplicationId,
    pub repayment_due: Amount,
    pub by: StaffMember,
    pub at: DateTime<Utc>,
}

/// Payload of `repayment_recorded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRepayment {
    pub id: GrantPoolId,
    pub application: GrantApplicationId,
    pub amount: Amount,
    pub repaid_on: NaiveDate,
    pub reference: GrantTitle,
    pub by: StaffMember,
    pub at: DateTime<Utc>,
}

/// What has happened to a grant since it was decided.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FollowUp {
    pub paid: Amount,
    pub report: Option<ReceivedReport>,
    /// Set when the report is approved: what was paid and not spent.
    pub repayment_due: Option<Amount>,
    pub repaid: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedReport {
    pub spent: Amount,
    pub audited: bool,
    pub received_on: NaiveDate,
    pub approved: bool,
}

/// The final grant the follow-up is about: a final decision granting more than 0.
fn granted(
    ledger: &PoolLedger,
    application: GrantApplicationId,
) -> Result<(&CaseLedger, Amount), DomainError> {
    match ledger.cases.get(&application) {
        Some(
            case @ CaseLedger {
                status: CaseStatus::Decided,
                decision: Some(decision),
                ..
            },
        ) if decision.amount > Amount::ZERO => Ok((case, decision.amount)),
        _ => Err(DomainError::conflict(
            "the application has no final grant to follow up",
        )),
    }
}

pub(super) fn check_payment(
    ledger: &PoolLedger,
    application: GrantApplicationId,
    amount: Amount,
) -> Result<(), DomainError> {
    let (case, granted) = granted(ledger, application)?;
    if amount == Amount::ZERO {
        return Err(DomainError::rule("amount", "must be more than 0"));
    }
    let paid = case.follow_up.paid;
    if paid.checked_add(amount).is_none_or(|total| total > granted) {
        return Err(DomainError::conflict(format!(
            "{paid} of the {granted} granted is paid; this payment would pay more than granted"
        )));
    }
    Ok(())
}

pub(super) fn check_report(
    ledger: &PoolLedger,
    application: GrantApplicationId,
    audited: bool,
) -> Result<(), DomainError> {
    let (case, granted) = granted(ledger, application)?;
    if case.follow_up.report.as_ref().is_some_and(|r| r.approved) {
        return Err(DomainError::conflict(
            "the final report is already approved",
        ));
    }
    let threshold = ledger.details()?.audited_accounts_above;
    if granted > threshold && !audited {
        return Err(DomainError::rule(
            "audited",
            format!("a grant above {threshold} needs audited accounts"),
        ));
    }
    Ok(())
}

/// What an approved report leaves to be repaid: what was paid and not spent.
pub(super) fn approval(
    ledger: &PoolLedger,
    application: GrantApplicationId,
) -> Result<Option<Amount>, DomainError> {
    let (case, _) = granted(ledger, application)?;
    match &case.follow_up.report {
        None => Err(DomainError::conflict("no final report has been received")),
        Some(report) if report.approved => Ok(None),
        Some(report) => Ok(Some(case.follow_up.paid.saturating_sub(report.spent))),
    }
}

pub(super) fn check_repayment(
    ledger: &PoolLedger,
    application: GrantApplicationId,
    amount: Amount,
) -> Result<(), DomainError> {
    let (case, _) = granted(ledger, application)?;
    let Some(due) = case.follow_up.repayment_due else {
        return Err(DomainError::conflict(
            "nothing is to be repaid before the final report is approved",
        ));
    };
    let left = due.saturating_sub(case.follow_up.repaid);
    if amount == Amount::ZERO || amount > left {
        return Err(DomainError::rule(
            "amount",
            format!("{left} is left to be repaid"),
        ));
    }
    Ok(())
}

/// An applicant with a final report overdue (its due day before `today`, not received) in this
/// pool: its first such report's due day.
pub fn overdue_report(
    ledger: &PoolLedger,
    applicant: ApplicantRef,
    today: NaiveDate,
) -> Option<NaiveDate> {
    ledger
        .cases
        .values()
        .filter(|case| case.status == CaseStatus::Decided && case.follow_up.report.is_none())
        .filter_map(|case| case.decision.as_ref())
        .filter(|decision| decision.applicant == applicant)
        .filter_map(|decision| decision.report_due)
        .filter(|due| *due < today)
        .min()
}
