//! Skills (faglighed) and personal resources, the vocabulary of the resource bank.

use super::text::{Lines, trimmed_text};
use crate::InvalidValue;
use serde::{Deserialize, Serialize};

/// A skill or personal resource as a short label: trimmed, 1..=60 characters, no control
/// characters, stored in lowercase (Unicode lowercase, so "Snedker" and "snedker" match and
/// "Græsslåning" keeps its æ). Lowercase in storage keeps matching a plain equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    pub const MAX_CHARS: usize = 60;
    /// The most tags one list (skills, resources) may hold.
    pub const MAX_PER_LIST: usize = 30;

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        // Counted as given, then lowercased: a few letters grow when lowercased ('İ'), and the
        // limit is what the client can check.
        trimmed_text(input, 1, Self::MAX_CHARS, Lines::Single).map(|t| Self(t.to_lowercase()))
    }

    /// At most `MAX_PER_LIST` items as given (a client can count them); duplicates after
    /// trimming and lowercasing are then dropped, first occurrence kept.
    pub fn parse_list<'a>(
        items: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Tag>, InvalidValue> {
        let mut tags: Vec<Tag> = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            if index >= Self::MAX_PER_LIST {
                return Err(InvalidValue::new(format!(
                    "must have at most {} items",
                    Self::MAX_PER_LIST
                )));
            }
            let tag = Tag::parse(item)
                .map_err(|e| InvalidValue::new(format!("item {}: {}", index + 1, e.0)))?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        Ok(tags)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Tag);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_lowercase_and_keep_danish_letters() {
        assert_eq!(
            Tag::parse("  Græsslåning ").map(|t| t.to_string()),
            Ok("græsslåning".into())
        );
        assert_eq!(Tag::parse("ÆØÅ").map(|t| t.to_string()), Ok("æøå".into()));
        assert!(Tag::parse("").is_err());
        assert!(Tag::parse(&"a".repeat(61)).is_err());
        assert!(Tag::parse("a\tb").is_err());
    }

    #[test]
    fn lists_are_deduplicated_and_bounded() {
        let tags = Tag::parse_list(["Snedker", "snedker", "Lektiehjælp"]).expect("valid list");
        assert_eq!(
            tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
            ["snedker", "lektiehjælp"]
        );
        let many: Vec<String> = (0..31).map(|i| format!("skill {i}")).collect();
        assert!(Tag::parse_list(many.iter().map(String::as_str)).is_err());
        assert!(Tag::parse_list(many.iter().take(30).map(String::as_str)).is_ok());
        assert_eq!(
            Tag::parse_list(["ok", " "]),
            Err(InvalidValue("item 2: must not be empty".into()))
        );
    }
}
