//! What a decision grants, year by year. A pool in rounds or rolling grants from one budget
//! year; a **partnership** pool makes multi-year agreements (Roskilde, seed 002: an amount a
//! year for three years, with duties such as a resource person 10–12 hours a week), reserved
//! against each year's budget at once, so no later year is promised twice.

use serde::{Deserialize, Serialize};

use super::PoolKind;
use crate::{Amount, DomainError, GrantOutcome, GrantText, Justification};

/// One year of a multi-year agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearlyAmount {
    pub year: i32,
    pub amount: Amount,
}

/// The longest agreement a partnership pool makes, in years.
pub const MAX_AGREEMENT_YEARS: usize = 5;

/// What the decider is asked to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionTerms {
    pub outcome: GrantOutcome,
    /// Granted in all, in øre (a partnership: the sum of its years).
    pub amount: Amount,
    /// The budget year (a partnership: its first).
    pub year: i32,
    /// A partnership's years (2 to [`MAX_AGREEMENT_YEARS`], consecutive), each at most the
    /// amount applied for, which is a year's; empty for any other pool and for a refusal.
    pub years: Vec<YearlyAmount>,
    pub justification: Option<Justification>,
    /// What the grantee undertakes (a partnership's duties).
    pub duties: Option<GrantText>,
}

/// The amount of each budget year the terms commit: what the budget check and the ledger
/// count. Checks that the terms fit the pool's kind and the amount applied for (`requested`,
/// a year's for a partnership).
pub(super) fn amounts_by_year(
    kind: PoolKind,
    terms: &DecisionTerms,
    requested: Amount,
) -> Result<Vec<YearlyAmount>, DomainError> {
    let single = |amount| {
        vec![YearlyAmount {
            year: terms.year,
            amount,
        }]
    };
    if kind != PoolKind::Partnership || terms.outcome == GrantOutcome::Refused {
        if !terms.years.is_empty() {
            return Err(DomainError::rule(
                "years",
                "only a partnership pool's grant runs over several years",
            ));
        }
        check_amount(terms.outcome, terms.amount, requested)?;
        return Ok(single(terms.amount));
    }
    let years = &terms.years;
    if years.len() < 2 || years.len() > MAX_AGREEMENT_YEARS {
        return Err(DomainError::rule(
            "years",
            format!("a partnership agreement runs 2 to {MAX_AGREEMENT_YEARS} years, each named"),
        ));
    }
    if years[0].year != terms.year
        || years
            .windows(2)
            .any(|pair| pair[1].year != pair[0].year + 1)
    {
        return Err(DomainError::rule(
            "years",
            "the years follow each other, the first being the decision's year",
        ));
    }
    let total = years
        .iter()
        .try_fold(Amount::ZERO, |sum, y| sum.checked_add(y.amount));
    if total != Some(terms.amount) {
        return Err(DomainError::rule(
            "amount",
            "a partnership's amount is the sum of its years",
        ));
    }
    for y in years {
        if y.amount == Amount::ZERO || y.amount > requested {
            return Err(DomainError::rule(
                "years",
                format!(
                    "each year grants more than 0 and at most the {requested} applied for a year"
                ),
            ));
        }
    }
    let all_in_full = years.iter().all(|y| y.amount == requested);
    match terms.outcome {
        GrantOutcome::Full if !all_in_full => Err(DomainError::rule(
            "years",
            format!("a grant in full is the {requested} applied for, every year"),
        )),
        GrantOutcome::Partial if all_in_full => Err(DomainError::rule(
            "years",
            "a grant in part is less than applied for in at least one year",
        )),
        _ => Ok(years.clone()),
    }
}

/// One year's amount against its outcome.
fn check_amount(
    outcome: GrantOutcome,
    amount: Amount,
    requested: Amount,
) -> Result<(), DomainError> {
    match outcome {
        GrantOutcome::Full if amount != requested => Err(DomainError::rule(
            "amount",
            format!("a grant in full is the amount applied for, {requested}"),
        )),
        GrantOutcome::Partial if amount == Amount::ZERO || amount >= requested => {
            Err(DomainError::rule(
                "amount",
                format!(
                    "a grant in part is more than 0 and less than the amount applied for, {requested}"
                ),
            ))
        }
        GrantOutcome::Refused if amount != Amount::ZERO => {
            Err(DomainError::rule("amount", "a refusal grants 0"))
        }
        _ => Ok(()),
    }
}
