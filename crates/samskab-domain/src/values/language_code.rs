//! Languages a volunteer speaks, which matters when matching with e.g. refugee families.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};

/// An ISO 639-1 code: two ASCII letters, stored lowercase ("da", "en", "uk", "ar").
///
/// Only the shape is checked, not membership of the ISO list: a code that is well-formed but
/// unknown does no harm in matching, and the list changes more often than this crate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageCode(String);

impl LanguageCode {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let text = input.trim();
        if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(InvalidValue::new(
                "must be a two-letter ISO 639-1 language code",
            ));
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(LanguageCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_letter_codes() {
        assert_eq!(
            LanguageCode::parse("da").map(|l| l.to_string()),
            Ok("da".into())
        );
        assert_eq!(
            LanguageCode::parse("UK").map(|l| l.to_string()),
            Ok("uk".into())
        );
        for bad in ["", "d", "dan", "d1", "æø"] {
            assert!(LanguageCode::parse(bad).is_err(), "{bad}");
        }
    }
}
