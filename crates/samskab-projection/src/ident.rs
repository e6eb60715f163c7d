//! Names that end up spliced into SQL (schemas) or NATS (consumer names). They cannot be bound as
//! parameters, so they are checked against a narrow alphabet instead, once, at the door.

/// `[a-z_][a-z0-9_]*`, at most 40 bytes: room for the `_rebuild` and `_old_<unix time>` suffixes
/// within PostgreSQL's 63-byte identifiers.
pub(crate) fn validate(kind: &str, name: &str) -> Result<(), sqlx::Error> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(sqlx::Error::InvalidArgument(format!(
            "{kind} {name:?} must match [a-z_][a-z0-9_]* (at most 40 bytes)"
        )))
    }
}

/// Quotes a table name read from the catalogue (it is not ours to restrict).
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_lowercase_identifiers_pass() {
        for good in ["directory", "counter_2", "_x"] {
            assert!(validate("schema", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Directory",
            "a;drop",
            "a.b",
            "2x",
            "a-b",
            &"x".repeat(41),
        ] {
            assert!(validate("schema", bad).is_err(), "{bad}");
        }
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
