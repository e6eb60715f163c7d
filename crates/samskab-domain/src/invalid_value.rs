//! The one error every value type's `parse` returns.

use std::fmt;

/// A value was turned away at the edge. The string is an English, human-readable reason
/// ("must be 8 digits") that the API can show next to the field it came from; the field name is
/// added by the caller, which is the one that knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }

    /// The reason, without any field name.
    pub fn reason(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidValue {}
