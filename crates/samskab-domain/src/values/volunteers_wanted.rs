//! How many volunteers a need asks for.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The number of volunteers a need asks for: 1..=100. More than a hundred is an event or a
/// campaign, not a need one coordinator follows match by match; zero is no need at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct VolunteersWanted(u8);

impl VolunteersWanted {
    pub const MAX: u16 = 100;

    /// Takes a `u16`, so that 300 from a form is this crate's reason, not a number overflow.
    pub fn parse(count: u16) -> Result<Self, InvalidValue> {
        match u8::try_from(count) {
            Ok(count) if (1..=Self::MAX).contains(&u16::from(count)) => Ok(Self(count)),
            _ => Err(InvalidValue::new(format!(
                "must be between 1 and {}",
                Self::MAX
            ))),
        }
    }

    pub fn get(&self) -> u8 {
        self.0
    }
}

impl TryFrom<u16> for VolunteersWanted {
    type Error = InvalidValue;
    fn try_from(value: u16) -> Result<Self, Self::Error> {
        VolunteersWanted::parse(value)
    }
}

impl From<VolunteersWanted> for u16 {
    fn from(value: VolunteersWanted) -> u16 {
        u16::from(value.0)
    }
}

impl fmt::Display for VolunteersWanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_a_hundred() {
        for ok in [1, 2, 100] {
            assert_eq!(
                VolunteersWanted::parse(ok).map(|v| u16::from(v.get())),
                Ok(ok)
            );
        }
        for bad in [0, 101, 256, 300, u16::MAX] {
            assert_eq!(
                VolunteersWanted::parse(bad),
                Err(InvalidValue("must be between 1 and 100".into())),
                "{bad}"
            );
        }
        assert_eq!(
            serde_json::to_value(VolunteersWanted::parse(2).expect("valid")).ok(),
            Some(serde_json::json!(2))
        );
        assert!(serde_json::from_value::<VolunteersWanted>(serde_json::json!(0)).is_err());
        assert!(serde_json::from_value::<VolunteersWanted>(serde_json::json!(-1)).is_err());
    }
}
