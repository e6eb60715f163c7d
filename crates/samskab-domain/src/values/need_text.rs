//! A need's free texts: its title, its description, and why it was closed.

free_text! {
    /// What a need is called where volunteers look for one ("Lektiehjælp til ukrainske børn"):
    /// trimmed, 1..=200 characters, one line. Kept as typed, as a [`Name`](crate::Name) is.
    #[derive(PartialOrd, Ord)]
    pub struct NeedTitle, max 200, Single
}

free_text! {
    /// What the volunteer would do, where and with whom: trimmed, 1..=5000 characters, line breaks
    /// allowed. Long enough for the texts associations post on frivilligjob.dk, short enough that
    /// a list of needs stays a list.
    pub struct NeedDescription, max 5000, Multiple
}

free_text! {
    /// Why a need was closed ("Vi har fundet frivillige nok", "Aktiviteten er aflyst"): trimmed,
    /// 1..=500 characters, line breaks allowed. Use [`ClosingReason::parse_optional`] for a form
    /// field that may be left blank.
    pub struct ClosingReason, max 500, Multiple
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InvalidValue;

    #[test]
    fn a_title_is_one_trimmed_line_of_at_most_200_characters() {
        assert_eq!(
            NeedTitle::parse("  Lektiehjælp til ukrainske børn ").map(|t| t.to_string()),
            Ok("Lektiehjælp til ukrainske børn".into())
        );
        assert!(NeedTitle::parse(&"æ".repeat(200)).is_ok());
        assert_eq!(
            NeedTitle::parse(&"æ".repeat(201)),
            Err(InvalidValue("must be at most 200 characters".into()))
        );
        assert_eq!(
            NeedTitle::parse(" \n "),
            Err(InvalidValue("must not be empty".into()))
        );
        assert_eq!(
            NeedTitle::parse("Lektiehjælp\ntirsdag"),
            Err(InvalidValue("must not contain control characters".into()))
        );
    }

    #[test]
    fn a_description_keeps_its_lines() {
        let text = "Vi søger frivillige til lektiehjælp.\nDet er en fordel at tale ukrainsk.";
        assert_eq!(
            NeedDescription::parse(&format!("\n{text}\n")).map(|d| d.to_string()),
            Ok(text.to_owned())
        );
        assert!(NeedDescription::parse(&"x".repeat(5000)).is_ok());
        assert_eq!(
            NeedDescription::parse(&"x".repeat(5001)),
            Err(InvalidValue("must be at most 5000 characters".into()))
        );
        assert!(NeedDescription::parse("").is_err());
        assert!(NeedDescription::parse("Tirsdag\taften").is_err());
    }

    #[test]
    fn an_optional_closing_reason() {
        assert_eq!(ClosingReason::parse_optional(None), Ok(None));
        assert_eq!(ClosingReason::parse_optional(Some("  ")), Ok(None));
        assert_eq!(
            ClosingReason::parse_optional(Some(" Vi har fundet frivillige nok "))
                .map(|r| r.map(|r| r.to_string())),
            Ok(Some("Vi har fundet frivillige nok".into()))
        );
        assert!(ClosingReason::parse(&"x".repeat(501)).is_err());
    }

    #[test]
    fn deserialisation_revalidates() {
        assert!(serde_json::from_value::<NeedTitle>(serde_json::json!("   ")).is_err());
        assert!(serde_json::from_value::<NeedDescription>(serde_json::json!("")).is_err());
        assert!(serde_json::from_value::<ClosingReason>(serde_json::json!("a\u{0}b")).is_err());
    }
}
