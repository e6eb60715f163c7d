//! Whose inbox a notification is in, spelled one way for every read model and process that
//! names it (`notify.message.recipient`, the outbox, the sender's address lookup, the API's
//! inbox routes).

use uuid::Uuid;

/// Whose inbox a message is in, as `notify.message.recipient` (and the outbox) spell it:
/// `organisation:<id>`, `volunteer:<id>`, or a member of staff's own actor name (a token's
/// subject, which never takes either prefix: staff are no party).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recipient {
    Organisation(Uuid),
    Volunteer(Uuid),
    Staff(String),
}

impl Recipient {
    /// The prefix of an organisation's inbox (without its `:`), for SQL that tells them apart.
    pub const ORGANISATION: &'static str = "organisation";
    /// The prefix of a volunteer's inbox (without its `:`).
    pub const VOLUNTEER: &'static str = "volunteer";

    /// The recipient a stored name spells: a prefix with a UUID after it is a party's inbox,
    /// anything else a member of staff's.
    pub fn parse(text: &str) -> Self {
        let party = text.split_once(':').and_then(|(kind, id)| {
            let id = Uuid::parse_str(id).ok()?;
            match kind {
                Self::ORGANISATION => Some(Recipient::Organisation(id)),
                Self::VOLUNTEER => Some(Recipient::Volunteer(id)),
                _ => None,
            }
        });
        party.unwrap_or_else(|| Recipient::Staff(text.to_string()))
    }

    /// The organisation whose inbox this is, if it is one's.
    pub fn organisation(&self) -> Option<Uuid> {
        match self {
            Recipient::Organisation(id) => Some(*id),
            _ => None,
        }
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::Organisation(id) => write!(f, "{}:{id}", Self::ORGANISATION),
            Recipient::Volunteer(id) => write!(f, "{}:{id}", Self::VOLUNTEER),
            Recipient::Staff(actor) => f.write_str(actor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipient_reads_back_as_it_is_spelled() {
        let id = Uuid::from_u128(7);
        for recipient in [
            Recipient::Organisation(id),
            Recipient::Volunteer(id),
            Recipient::Staff("sagsbehandler@rodovre".into()),
            Recipient::Staff("organisation:not-a-uuid".into()),
        ] {
            assert_eq!(Recipient::parse(&recipient.to_string()), recipient);
        }
        assert_eq!(
            Recipient::Organisation(id).to_string(),
            "organisation:00000000-0000-0000-0000-000000000007"
        );
        assert_eq!(
            Recipient::Volunteer(id).to_string(),
            "volunteer:00000000-0000-0000-0000-000000000007"
        );
    }
}
