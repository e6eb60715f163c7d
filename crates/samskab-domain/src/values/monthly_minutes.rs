//! How much volunteer work a match logged in a month.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Minutes of volunteer work in one month: 0..=18,000 (300 hours).
///
/// Minutes, an integer, because sums of floating-point hours drift and a report must add up;
/// minutes rather than tenths of an hour because volunteers log "three quarters of an hour",
/// which tenths cannot hold. At most 300 hours: a month has about 730, and 300 is already ten
/// hours every day; more is a typing error (minutes typed where hours were meant). Zero is a
/// figure too: it corrects a month logged by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct MonthlyMinutes(u16);

impl MonthlyMinutes {
    pub const MAX: u32 = 300 * 60;

    /// Takes a `u32`, so that 100,000 from a form is this crate's reason, not an overflow.
    pub fn parse(minutes: u32) -> Result<Self, InvalidValue> {
        match u16::try_from(minutes) {
            Ok(minutes) if u32::from(minutes) <= Self::MAX => Ok(Self(minutes)),
            _ => Err(InvalidValue::new(format!(
                "must be between 0 and {} minutes (300 hours)",
                Self::MAX
            ))),
        }
    }

    pub fn get(&self) -> u32 {
        u32::from(self.0)
    }
}

impl TryFrom<u32> for MonthlyMinutes {
    type Error = InvalidValue;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        MonthlyMinutes::parse(value)
    }
}

impl From<MonthlyMinutes> for u32 {
    fn from(value: MonthlyMinutes) -> u32 {
        value.get()
    }
}

impl fmt::Display for MonthlyMinutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_to_three_hundred_hours() {
        for ok in [0, 45, 90, 18_000] {
            assert_eq!(MonthlyMinutes::parse(ok).map(|m| m.get()), Ok(ok));
        }
        for bad in [18_001, 65_536, u32::MAX] {
            assert_eq!(
                MonthlyMinutes::parse(bad),
                Err(InvalidValue(
                    "must be between 0 and 18000 minutes (300 hours)".into()
                )),
                "{bad}"
            );
        }
        assert_eq!(
            serde_json::to_value(MonthlyMinutes::parse(90).expect("valid")).ok(),
            Some(serde_json::json!(90))
        );
        for bad in [
            serde_json::json!(18_001),
            serde_json::json!(-1),
            serde_json::json!(1.5),
        ] {
            assert!(
                serde_json::from_value::<MonthlyMinutes>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
