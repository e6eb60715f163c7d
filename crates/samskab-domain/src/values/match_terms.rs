//! The closed sets and the free text a match's commands carry.

string_enum! {
    /// Who proposed a match. Which person it was (the case worker, the organisation's
    /// coordinator, the volunteer) is the event's actor, in its envelope; this says which side
    /// they spoke for, and so whose acceptance the proposal already is.
    pub enum ProposedBy {
        /// A case worker of the municipality or an organisation's coordinator, speaking for the
        /// counterpart (the need's poster, later the mentee or family they look after).
        Coordinator => "coordinator",
        /// The volunteer's "I'm interested".
        Volunteer => "volunteer",
    }
}

string_enum! {
    /// One of the two sides of a match, each of which accepts or declines a proposal.
    pub enum MatchSide {
        Volunteer => "volunteer",
        /// The need's poster (later also the mentee or family, or who speaks for them).
        Counterpart => "counterpart",
    }
}

string_enum! {
    /// Why a match ended: a closed set, because retention reports count matches by it.
    pub enum MatchEndReason {
        /// It ran its course (the season, the mentoring period).
        Completed => "completed",
        VolunteerStopped => "volunteer_stopped",
        CounterpartStopped => "counterpart_stopped",
        /// The coordinator ended it: the pair did not work, or the need changed.
        NoLongerSuitable => "no_longer_suitable",
        Other => "other",
    }
}

free_text! {
    /// A short free text on a match: the proposal's note, why a side declined, why it is paused.
    /// Trimmed, 1..=500 characters, line breaks allowed. Use [`MatchNote::parse_optional`] for a
    /// form field that may be left blank.
    ///
    /// A match's events are not sealed (a match names people only by id), so a note is not the
    /// place for personal details about the volunteer or the counterpart ("the mother is ill"):
    /// those could not be forgotten with the person.
    pub struct MatchNote, max 500, Multiple
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        assert_eq!(
            ProposedBy::ALL
                .iter()
                .map(ProposedBy::as_str)
                .collect::<Vec<_>>(),
            ["coordinator", "volunteer"]
        );
        assert_eq!(
            MatchSide::ALL
                .iter()
                .map(MatchSide::as_str)
                .collect::<Vec<_>>(),
            ["volunteer", "counterpart"]
        );
        assert_eq!(
            MatchEndReason::ALL
                .iter()
                .map(MatchEndReason::as_str)
                .collect::<Vec<_>>(),
            [
                "completed",
                "volunteer_stopped",
                "counterpart_stopped",
                "no_longer_suitable",
                "other"
            ]
        );
        assert!(MatchEndReason::parse("Completed").is_err());
        assert!(serde_json::from_value::<MatchSide>(serde_json::json!("both")).is_err());
    }

    #[test]
    fn an_optional_note() {
        assert_eq!(MatchNote::parse_optional(None), Ok(None));
        assert_eq!(MatchNote::parse_optional(Some(" \n ")), Ok(None));
        assert_eq!(
            MatchNote::parse_optional(Some(" Tirsdage passer ikke længere\nefter jul "))
                .map(|n| n.map(|n| n.to_string())),
            Ok(Some("Tirsdage passer ikke længere\nefter jul".into()))
        );
        assert!(MatchNote::parse(&"æ".repeat(500)).is_ok());
        assert!(MatchNote::parse(&"æ".repeat(501)).is_err());
        assert!(serde_json::from_value::<MatchNote>(serde_json::json!("a\u{7}b")).is_err());
    }
}
