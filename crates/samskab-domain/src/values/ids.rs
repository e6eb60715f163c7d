//! Entity identifiers. UUID v7, so ids sort by creation time and index well in PostgreSQL.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parse the hyphenated text form from a URL path or a JSON body.
            pub fn parse(input: &str) -> Result<Self, InvalidValue> {
                Uuid::try_parse(input.trim())
                    .map(Self)
                    .map_err(|_| InvalidValue::new("must be a UUID"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

uuid_id!(
    /// Identifies an organisation (forening, organisation) within its tenant.
    OrganisationId
);
uuid_id!(
    /// Identifies a volunteer (frivillig) within their tenant.
    VolunteerId
);
uuid_id!(
    /// Identifies a need (behov, opgave) within its tenant.
    NeedId
);
uuid_id!(
    /// Identifies a person (a mentee, a family) paired with a volunteer, within their tenant.
    PersonId
);
uuid_id!(
    /// Identifies a match between a volunteer and a need (later also a person) within its
    /// tenant.
    MatchId
);

uuid_id!(
    /// Identifies a grant pool (pulje) within its municipality.
    GrantPoolId
);
uuid_id!(
    /// Identifies an application round of a pool.
    GrantRoundId
);
uuid_id!(
    /// Identifies an application for a grant, and with it the grant case.
    GrantApplicationId
);
uuid_id!(
    /// Identifies an organisation's webhook endpoint: where its notifications are posted.
    WebhookEndpointId
);
uuid_id!(
    /// Identifies a recipient's notification preferences: derived from the recipient's name
    /// ([`NotificationPreferencesId::of_recipient`]), so each inbox has exactly one.
    NotificationPreferencesId
);

uuid_id!(
    /// Identifies an umbrella organisation or one of its districts ([`crate::Umbrella`]).
    UmbrellaId
);

uuid_id!(
    /// Identifies a municipality's day ([`crate::Day`]): derived from its date.
    DayId
);

impl DayId {
    /// The day `date`'s id: its days since 1970 in a UUID (version 8), so each date has one
    /// and the ids sort as the dates do.
    pub fn of(date: chrono::NaiveDate) -> Self {
        let days = date
            .signed_duration_since(chrono::NaiveDate::default())
            .num_days();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(b"samskday");
        bytes[8..].copy_from_slice(&days.to_be_bytes());
        Self::from_uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }
}

impl NotificationPreferencesId {
    /// The preferences of the inbox named `recipient` (`organisation:<id>`, `volunteer:<id>`,
    /// or a member of staff's actor name): always the same id for the same name, and another
    /// for another. A name-based UUID (version 8): the first 16 bytes of SHA-256 over a label
    /// of our own and the name.
    pub fn of_recipient(recipient: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"samskab notification preferences\0")
            .chain_update(recipient.as_bytes())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self::from_uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_display_and_parse_round_trip() {
        let id = VolunteerId::new_v7();
        assert_eq!(VolunteerId::parse(&id.to_string()), Ok(id));
        assert_eq!(id.as_uuid().get_version_num(), 7);
        assert!(OrganisationId::parse("not-a-uuid").is_err());
    }
}
