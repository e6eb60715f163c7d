//! How far a volunteer will travel.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};

/// How far a volunteer will travel to a need, in whole kilometres between postcodes: 1 to
/// [`TravelKm::MAX`]. Ranking gives the distance criterion full points at 0 km, falling to none
/// at this distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct TravelKm(u16);

impl TravelKm {
    /// Denmark is about 450 km from end to end; further is a typo.
    pub const MAX: u16 = 500;

    pub fn parse(km: u16) -> Result<Self, InvalidValue> {
        if km == 0 || km > Self::MAX {
            return Err(InvalidValue::new(format!(
                "must be 1 to {} kilometres",
                Self::MAX
            )));
        }
        Ok(Self(km))
    }

    pub fn km(&self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for TravelKm {
    type Error = InvalidValue;
    fn try_from(km: u16) -> Result<Self, InvalidValue> {
        Self::parse(km)
    }
}

impl From<TravelKm> for u16 {
    fn from(km: TravelKm) -> u16 {
        km.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_five_hundred_kilometres() {
        assert!(TravelKm::parse(0).is_err());
        assert_eq!(TravelKm::parse(1).map(|k| k.km()), Ok(1));
        assert_eq!(TravelKm::parse(500).map(|k| k.km()), Ok(500));
        assert!(TravelKm::parse(501).is_err());
        assert!(serde_json::from_str::<TravelKm>("0").is_err());
        assert_eq!(serde_json::to_string(&TravelKm(30)).ok(), Some("30".into()));
    }
}
