//! Validated value types. Each has a `parse` constructor that returns
//! [`InvalidValue`](crate::InvalidValue) with an English reason; once a value exists, it is
//! valid, and deserialising one re-validates it.

/// A closed set of values with a fixed wire name each: generates the enum, `ALL`, `as_str`,
/// `parse`, `Display` and serde impls that use the same names, so the wire name is written once.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name, as used in JSON and query strings.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// Parse the wire name (exact, lowercase).
            pub fn parse(input: &str) -> Result<Self, $crate::InvalidValue> {
                match input {
                    $( $text => Ok($name::$variant), )+
                    _ => Err($crate::InvalidValue::new(format!(
                        "must be one of: {}",
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// For a `struct X(String)` with `parse(&str)` and `as_str()`: `Display`, `AsRef<str>`, and the
/// `TryFrom<String>`/`Into<String>` pair that `#[serde(try_from = "String", into = "String")]`
/// uses, so deserialising goes through `parse` again.
macro_rules! string_newtype_impls {
    ($name:ident) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::InvalidValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

mod age_band;
mod availability;
mod child_certificate;
mod consent;
mod contact;
mod cvr;
mod deactivation_reason;
mod ids;
mod language_code;
mod name;
mod organisation_kind;
mod postcode;
mod tag;
mod target_group;
mod tenant;
mod text;

pub use age_band::AgeBand;
pub use availability::{Availability, AvailabilitySlot, DayPart, Weekday};
pub use child_certificate::{ChildCertificate, ChildCertificateStatus};
pub use consent::{Consent, ConsentPurpose};
pub use contact::{Contact, Email, Phone};
pub use cvr::Cvr;
pub use deactivation_reason::DeactivationReason;
pub use ids::{OrganisationId, VolunteerId};
pub use language_code::LanguageCode;
pub use name::Name;
pub use organisation_kind::OrganisationKind;
pub use postcode::Postcode;
pub use tag::Tag;
pub use target_group::TargetGroup;
pub use tenant::{Kommunekode, TenantId};
