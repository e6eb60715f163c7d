//! Names of organisations, people and municipalities.

use super::text::{Lines, trimmed_text};
use crate::InvalidValue;
use serde::{Deserialize, Serialize};

/// A name as people write it: trimmed, 1..=200 characters, no control characters.
///
/// Nothing else is filtered: "Rødovre Frivilligcenter – Æblehaven", "Røde Kors" and names in
/// any script are kept exactly as typed. Escaping for HTML or SQL is the job of the code that
/// writes HTML or SQL, not of the domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        trimmed_text(input, 1, Self::MAX_CHARS, Lines::Single).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Name);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_letters_and_punctuation_are_kept_intact() {
        let text = "Rødovre Frivilligcenter – Æblehaven";
        assert_eq!(
            Name::parse(text).map(|n| n.as_str().to_owned()),
            Ok(text.to_owned())
        );
        assert_eq!(
            Name::parse("  Lyngby-Taarbæk Kommune ").map(|n| n.to_string()),
            Ok("Lyngby-Taarbæk Kommune".to_owned())
        );
        assert!(Name::parse("Ærø Øster Åby").is_ok());
        assert!(Name::parse("Людмила Петренко").is_ok());
    }

    #[test]
    fn empty_long_and_control_characters_are_refused() {
        assert_eq!(
            Name::parse("   "),
            Err(InvalidValue("must not be empty".into()))
        );
        assert!(Name::parse(&"æ".repeat(200)).is_ok());
        assert_eq!(
            Name::parse(&"æ".repeat(201)),
            Err(InvalidValue("must be at most 200 characters".into()))
        );
        assert_eq!(
            Name::parse("Røde\nKors"),
            Err(InvalidValue("must not contain control characters".into()))
        );
        assert!(Name::parse("Røde\u{0}Kors").is_err());
    }
}
