//! The vocabulary of §18 grants: what a pool is, who may apply, how an application is judged
//! and what a decision can say.

use super::text::{Lines, trimmed_text};
use crate::InvalidValue;
use serde::{Deserialize, Serialize};

string_enum! {
    /// The law a pool grants under. §18 of serviceloven (cooperation with voluntary social
    /// work) is what most pools are; `other` is a pool of the municipality's own.
    pub enum LegalBasis {
        ServicelovenParagraph18 => "serviceloven-18",
        Other => "other",
    }
}

string_enum! {
    /// How a pool decides: in application rounds with a deadline (one or two a year), on a
    /// rolling basis (løbende: decided as applications arrive), or as multi-year partnership
    /// agreements.
    pub enum PoolKind {
        Rounds => "rounds",
        Rolling => "rolling",
        Partnership => "partnership",
    }
}

string_enum! {
    /// Who applies: an association (a registered organisation), an informal group of
    /// citizens, or one person (seed 004's "new volunteers outside associations").
    pub enum ApplicantKind {
        Association => "association",
        InformalGroup => "informal_group",
        Person => "person",
    }
}

string_enum! {
    /// What a decision grants.
    pub enum GrantOutcome {
        /// The amount applied for.
        Full => "full",
        /// Less than applied for: needs a justification.
        Partial => "partial",
        /// Nothing: needs a justification.
        Refused => "refused",
    }
}

free_text! {
    /// A pool's or a round's name ("§18-puljen 2026, forårsrunden"): trimmed, 1..=200
    /// characters, one line.
    pub struct GrantTitle, max 200, Single
}

free_text! {
    /// A longer text of a grant case: a pool's purpose, an application's activities, an
    /// assessor's note. Trimmed, 1..=5000 characters, line breaks allowed.
    pub struct GrantText, max 5000, Multiple
}

free_text! {
    /// Why (begrundelse, forvaltningsloven §§ 22–24): the reasons for a refusal or a partial
    /// grant, a complaint, a change of budget. Trimmed, 1..=5000 characters, line breaks
    /// allowed.
    pub struct Justification, max 5000, Multiple
}

/// What a criterion is called in scores ("reach", "volunteers"): 1..=40 characters of `a-z`,
/// `0-9` and `-`, so a score names its criterion unambiguously.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CriterionKey(String);

impl CriterionKey {
    pub const MAX_CHARS: usize = 40;

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let ok = !input.is_empty()
            && input.len() <= Self::MAX_CHARS
            && input
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(InvalidValue::new(
                "must be 1 to 40 characters of a-z, 0-9 and -",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(CriterionKey);

/// One criterion an application is judged by, with its weight in the total (the weights of a
/// pool add up to 100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub key: CriterionKey,
    pub title: GrantTitle,
    /// 1..=100.
    pub weight: u8,
}

/// A score of one criterion: 0 (not met) to 5 (fully met).
pub const MAX_SCORE: u8 = 5;

/// Who did something in a grant case: the token's actor (`user:<sub>`), as the event's
/// envelope has it. Kept in the payload too, because the rules compare them (the second
/// approver is neither the first nor the assessor).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StaffMember(String);

impl StaffMember {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        trimmed_text(input, 1, 200, Lines::Single)
            .and_then(|t| {
                if t == input {
                    Ok(t)
                } else {
                    Err(InvalidValue::new("must not have surrounding spaces"))
                }
            })
            .map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(StaffMember);
