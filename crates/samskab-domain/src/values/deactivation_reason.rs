//! Why an organisation was deactivated.

use super::text::{Lines, trimmed_text};
use crate::InvalidValue;
use serde::{Deserialize, Serialize};

/// A free-text reason, trimmed, 1..=500 characters; line breaks allowed. Use
/// [`DeactivationReason::parse_optional`] for a form field that may be left blank.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeactivationReason(String);

impl DeactivationReason {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        trimmed_text(input, 1, Self::MAX_CHARS, Lines::Multiple).map(Self)
    }

    /// `None`, empty or blank -> `Ok(None)`: no reason given.
    pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, InvalidValue> {
        match input.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Self::parse(text).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(DeactivationReason);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_reason() {
        assert_eq!(DeactivationReason::parse_optional(None), Ok(None));
        assert_eq!(DeactivationReason::parse_optional(Some("  ")), Ok(None));
        assert_eq!(
            DeactivationReason::parse_optional(Some(
                " Foreningen er nedlagt\nved generalforsamlingen "
            ))
            .map(|r| r.map(|r| r.to_string())),
            Ok(Some(
                "Foreningen er nedlagt\nved generalforsamlingen".into()
            ))
        );
        assert!(DeactivationReason::parse(&"x".repeat(501)).is_err());
    }
}
