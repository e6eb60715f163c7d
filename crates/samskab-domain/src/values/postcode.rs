//! Danish postcodes, the coarse location used for matching volunteers with local needs.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};

/// A Danish postcode: exactly 4 digits, 0800..=9990. Kept as text because of the leading zero
/// of 0800 (Høje Taastrup's business postcode).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let text = input.trim();
        if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("must be 4 digits"));
        }
        let number: u16 = text
            .parse()
            .map_err(|_| InvalidValue::new("must be 4 digits"))?;
        if !(800..=9990).contains(&number) {
            return Err(InvalidValue::new(
                "must be a Danish postcode between 0800 and 9990",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn as_u16(&self) -> u16 {
        self.0.parse().unwrap_or_default()
    }
}

string_newtype_impls!(Postcode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_postcodes() {
        for ok in ["0800", "2610", "4000", "8400", "9990"] {
            assert!(Postcode::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(Postcode::parse("2610").map(|p| p.as_u16()), Ok(2610));
        for bad in ["", "800", "0799", "9991", "26100", "26a0", "2 610"] {
            assert!(Postcode::parse(bad).is_err(), "{bad}");
        }
    }
}
