//! Why an organisation was deactivated.

free_text! {
    /// A free-text reason, trimmed, 1..=500 characters; line breaks allowed. Use
    /// [`DeactivationReason::parse_optional`] for a form field that may be left blank.
    pub struct DeactivationReason, max 500, Multiple
}

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
