//! CVR numbers: the Danish business register number of an organisation.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};

/// A CVR number: 8 digits whose weighted sum (weights 2,7,6,5,4,3,2,1) is divisible by 11.
///
/// Only CVR numbers: P-numbers (production units) follow a different rule and must not be parsed
/// with this type. Surrounding whitespace is trimmed; inner spaces are not accepted, so
/// "1374 8136" is turned away rather than guessed at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cvr(String);

impl Cvr {
    pub const WEIGHTS: [u32; 8] = [2, 7, 6, 5, 4, 3, 2, 1];

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let text = input.trim();
        if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("must be 8 digits"));
        }
        let sum: u32 = text
            .bytes()
            .zip(Self::WEIGHTS)
            .map(|(digit, weight)| u32::from(digit - b'0') * weight)
            .sum();
        if !sum.is_multiple_of(11) {
            return Err(InvalidValue::new(
                "is not a valid CVR number (the check digit does not match)",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The eighth digit that makes `first_seven` a valid CVR number, if there is one (for some
    /// prefixes the required remainder is 10, and no CVR number starts with them).
    /// Digits above 9 are refused with `None`.
    pub fn check_digit(first_seven: [u8; 7]) -> Option<u8> {
        if first_seven.iter().any(|d| *d > 9) {
            return None;
        }
        let sum: u32 = first_seven
            .iter()
            .zip(Self::WEIGHTS)
            .map(|(digit, weight)| u32::from(*digit) * weight)
            .sum();
        let check = (11 - sum % 11) % 11;
        u8::try_from(check).ok().filter(|d| *d <= 9)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Cvr);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_cvr_numbers() {
        assert!(Cvr::parse("13748136").is_ok());
        assert!(Cvr::parse("24256790").is_ok());
        assert_eq!(
            Cvr::parse("24256791"),
            Err(InvalidValue(
                "is not a valid CVR number (the check digit does not match)".into()
            ))
        );
        assert_eq!(
            Cvr::parse(" 24256790\n").map(|c| c.as_str().to_owned()),
            Ok("24256790".into())
        );
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for bad in [
            "",
            "1374813",
            "137481360",
            "1374 8136",
            "1374813a",
            "١٣٧٤٨١٣٦",
        ] {
            assert_eq!(
                Cvr::parse(bad),
                Err(InvalidValue("must be 8 digits".into()))
            );
        }
    }

    #[test]
    fn deserialisation_revalidates() {
        assert!(serde_json::from_value::<Cvr>(serde_json::json!("24256791")).is_err());
        assert!(serde_json::from_value::<Cvr>(serde_json::json!("24256790")).is_ok());
    }

    proptest! {
        #[test]
        fn seven_digits_and_their_check_digit_parse(first_seven in proptest::array::uniform7(0u8..=9)) {
            if let Some(check) = Cvr::check_digit(first_seven) {
                let text: String = first_seven
                    .iter()
                    .chain(std::iter::once(&check))
                    .map(|d| char::from(b'0' + d))
                    .collect();
                prop_assert!(Cvr::parse(&text).is_ok(), "{}", text);
            }
        }

        #[test]
        fn changing_one_digit_of_a_valid_cvr_makes_it_invalid(
            first_seven in proptest::array::uniform7(0u8..=9),
            position in 0usize..8,
            shift in 1u8..=9,
        ) {
            if let Some(check) = Cvr::check_digit(first_seven) {
                let mut digits: Vec<u8> = first_seven.to_vec();
                digits.push(check);
                digits[position] = (digits[position] + shift) % 10;
                let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
                prop_assert!(Cvr::parse(&text).is_err(), "{}", text);
            }
        }
    }
}
