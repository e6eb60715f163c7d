//! Money, always whole øre (1 krone = 100 øre), never floating point.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of Danish kroner in øre: 0 up to [`Amount::MAX`] (10 billion kr., more than any
/// municipality's whole social budget, so a typo of three zeros too many is refused rather than
/// committed). Serialised as a JSON integer of øre.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Amount(i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);
    /// 10,000,000,000 kr.
    pub const MAX: i64 = 1_000_000_000_000;

    pub fn from_ore(ore: i64) -> Result<Self, InvalidValue> {
        if ore < 0 {
            return Err(InvalidValue::new("must not be negative (øre)"));
        }
        if ore > Self::MAX {
            return Err(InvalidValue::new(format!(
                "must be at most {} øre",
                Self::MAX
            )));
        }
        Ok(Self(ore))
    }

    pub fn ore(&self) -> i64 {
        self.0
    }

    /// The sum, or `None` if it would pass [`Amount::MAX`].
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        Amount::from_ore(self.0.checked_add(other.0)?).ok()
    }

    /// What is left of `self` after `other`, never below zero.
    pub fn saturating_sub(self, other: Amount) -> Amount {
        Amount((self.0 - other.0).max(0))
    }
}

impl TryFrom<i64> for Amount {
    type Error = InvalidValue;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Amount::from_ore(value)
    }
}

impl From<Amount> for i64 {
    fn from(value: Amount) -> i64 {
        value.0
    }
}

/// Danish style, for messages people read: "12.345,67 kr.".
impl Amount {
    /// The kroner grouped in thousands by `separator`, and the øre.
    fn grouped(&self, separator: char) -> (String, i64) {
        let digits = (self.0 / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(separator);
            }
            grouped.push(c);
        }
        (grouped, self.0 % 100)
    }

    /// As an English text writes it: `DKK 40,000.00`.
    pub fn in_english(&self) -> String {
        let (kroner, ore) = self.grouped(',');
        format!("DKK {kroner}.{ore:02}")
    }
}

/// As a Danish text writes it: `40.000,00 kr.`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kroner, ore) = self.grouped('.');
        write!(f, "{kroner},{ore:02} kr.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_non_negative_ore_and_read_in_danish() {
        assert!(Amount::from_ore(-1).is_err());
        assert!(Amount::from_ore(Amount::MAX + 1).is_err());
        let amount = Amount::from_ore(75_000_000).expect("750.000 kr.");
        assert_eq!(amount.to_string(), "750.000,00 kr.");
        assert_eq!(amount.in_english(), "DKK 750,000.00");
        let small = Amount::from_ore(99_905).expect("999,05 kr.");
        assert_eq!(
            (small.to_string(), small.in_english()),
            ("999,05 kr.".into(), "DKK 999.05".into())
        );
        assert_eq!(
            Amount::from_ore(1_234_567).expect("ok").to_string(),
            "12.345,67 kr."
        );
        assert_eq!(Amount::ZERO.to_string(), "0,00 kr.");
        assert_eq!(serde_json::to_value(amount).expect("json"), 75_000_000);
        assert!(serde_json::from_value::<Amount>(serde_json::json!(-5)).is_err());
        let max = Amount::from_ore(Amount::MAX).expect("max");
        assert_eq!(max.checked_add(Amount::from_ore(1).expect("1")), None);
    }
}
