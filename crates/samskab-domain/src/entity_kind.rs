//! The kinds of entity that have their own stream of events.

string_enum! {
    /// Which entity an event or an error is about. `as_str()` is used as a subject token
    /// (`samskab.ev.<tenant>.<kind>.<id>`), so it must stay lowercase ASCII, digits and `-`,
    /// without dots (checked below, and by the event log's `validate_token`).
    pub enum EntityKind {
        Municipality => "municipality",
        Organisation => "organisation",
        Volunteer => "volunteer",
        Need => "need",
        Match => "match",
        Person => "person",
        GrantPool => "grant-pool",
        GrantApplication => "grant-application",
        Notification => "notification",
        WebhookEndpoint => "webhook-endpoint",
        NotificationPreferences => "notification-preferences",
        Day => "day",
        Umbrella => "umbrella",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_name_is_the_same_as_as_str() {
        for kind in EntityKind::ALL {
            let json = serde_json::to_value(kind).expect("serialise");
            assert_eq!(json, serde_json::Value::String(kind.as_str().to_owned()));
        }
    }

    #[test]
    fn names_are_subject_tokens() {
        for kind in EntityKind::ALL {
            assert!(
                kind.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{kind}"
            );
        }
    }
}
