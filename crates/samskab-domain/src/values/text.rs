//! Shared checks for free text fields, so every text type trims and counts the same way.

use crate::InvalidValue;

/// Whether line breaks are part of the text (a reason, a purpose) or not (a name, a tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lines {
    Single,
    Multiple,
}

/// Trim, then check the length in characters (not bytes: "Æblehaven" is 9 characters) and that
/// there are no control characters. Letters of any script are kept as they are.
pub(crate) fn trimmed_text(
    input: &str,
    min_chars: usize,
    max_chars: usize,
    lines: Lines,
) -> Result<String, InvalidValue> {
    let text = input.trim();
    if text.is_empty() {
        return Err(InvalidValue::new("must not be empty"));
    }
    let count = text.chars().count();
    if count < min_chars {
        return Err(InvalidValue::new(format!(
            "must be at least {min_chars} characters"
        )));
    }
    if count > max_chars {
        return Err(InvalidValue::new(format!(
            "must be at most {max_chars} characters"
        )));
    }
    let allowed = |c: char| lines == Lines::Multiple && c == '\n';
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(InvalidValue::new("must not contain control characters"));
    }
    Ok(text.to_owned())
}
