//! GDPR consent: volunteers' personal data is only kept with consent for a stated purpose.

use super::text::{Lines, trimmed_text};
use crate::InvalidValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the volunteer consented to, in the words they were shown: trimmed, 3..=500 characters,
/// line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConsentPurpose(String);

impl ConsentPurpose {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        trimmed_text(input, 3, Self::MAX_CHARS, Lines::Multiple).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(ConsentPurpose);

/// A consent given at a moment, for a purpose. The moment also serves as "now" for the rules of
/// a registration (e.g. the age band check), which keeps `decide` free of a clock.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Consent {
    pub purpose: ConsentPurpose,
    pub given_at: DateTime<Utc>,
}

string_enum! {
    /// A use of a volunteer's data that needs a consent of its own, given and withdrawn apart
    /// from the consent to be registered at all (GDPR art. 6(1)(a): consent per purpose).
    pub enum Purpose {
        /// Being matched to needs and proposed to organisations.
        Matching => "matching",
        /// Organisations may contact the volunteer directly.
        Contact => "contact",
        /// Mails and messages from the resource bank.
        Notifications => "notifications",
    }
}
