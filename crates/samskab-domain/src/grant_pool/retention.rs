//! How long a grant case is kept, and so when the personal data of an applicant who is a
//! person (or an informal group's contact person) may be erased (GDPR art. 17(3)(b): not while
//! a legal obligation requires the data to be kept).
//!
//! **The rule** (a product decision, written down in ARCHITECTURE.md, "Grants"):
//! - a draft never submitted is no case: it may be forgotten at once;
//! - a submitted case is kept while it is open: undecided, proposed, reopened by a complaint,
//!   or granted with its final report not yet approved or its repayment not yet made;
//! - a closed case (refused, withdrawn, or granted with the report approved and the repayment
//!   made) is kept until the end of the [`CASE_RETENTION_YEARS`]th calendar year after the year
//!   of its last event (Danish calendar). Municipal accounts run by calendar year, and
//!   bogføringsloven § 10 keeps accounting material for five years from the end of the
//!   financial year it concerns; the case file that justifies a payment goes with it. A refused
//!   case is kept as long, for a complaint and for the municipality's own audit.
//!
//! The application decider applies the rule ([`crate::GrantApplicationCommand::Forget`]); the
//! pool, which holds the case's decisions and follow-up, tells it where the case stands.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{CaseLedger, CaseStatus, PoolLedger};
use crate::calendar::danish_date;
use crate::{Amount, GrantApplicationId};

/// Whole calendar years a closed case is kept after the year of its last event.
pub const CASE_RETENTION_YEARS: i32 = 5;

/// Where a case stands for keeping its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "until", rename_all = "snake_case")]
pub enum CaseRetention {
    /// Being handled (or never decided): kept.
    Open,
    /// Closed, and kept until the end of this day.
    KeptUntil(NaiveDate),
}

impl CaseRetention {
    /// The retention of a closed case whose last event was at `last_event_at`.
    pub fn closed_after(last_event_at: DateTime<Utc>) -> Self {
        let year = danish_date(last_event_at).year() + CASE_RETENTION_YEARS;
        match NaiveDate::from_ymd_opt(year, 12, 31) {
            Some(day) => CaseRetention::KeptUntil(day),
            // Beyond chrono's calendar: kept.
            None => CaseRetention::Open,
        }
    }

    /// Whether the file may be erased on `today` (Danish date).
    pub fn expired_on(&self, today: NaiveDate) -> bool {
        match self {
            CaseRetention::Open => false,
            CaseRetention::KeptUntil(day) => today > *day,
        }
    }
}

impl CaseLedger {
    /// Whether nothing more is to happen in the case (see the module's rule).
    pub fn is_closed(&self) -> bool {
        match self.status {
            CaseStatus::Withdrawn => true,
            CaseStatus::Proposed | CaseStatus::Reopened => false,
            CaseStatus::Decided => match &self.decision {
                None => false,
                Some(decision) if decision.amount == Amount::ZERO => true,
                Some(_) => {
                    let approved = self.follow_up.report.as_ref().is_some_and(|r| r.approved);
                    let due = self.follow_up.repayment_due.unwrap_or_default();
                    approved && self.follow_up.repaid >= due
                }
            },
        }
    }
}

impl PoolLedger {
    /// How long the pool keeps the case of `application`: open while it has no decision or
    /// withdrawal here, or is not closed.
    pub fn retention(&self, application: GrantApplicationId) -> CaseRetention {
        let Some(case) = self.cases.get(&application) else {
            return CaseRetention::Open;
        };
        if !case.is_closed() {
            return CaseRetention::Open;
        }
        CaseRetention::closed_after(case.last_event_at)
    }
}
