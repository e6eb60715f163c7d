//! The crate's macros: closed sets of wire names (`string_enum!`), validated string types
//! (`string_newtype_impls!`) and event enums (`domain_events!`), each written once so that
//! no list is kept in parallel by hand.

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
            pub const fn as_str(&self) -> &'static str {
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

/// A free text value type in one line: `struct X(String)`, trimmed, 1..=`max` characters, on
/// one line (`Single`) or several (`Multiple`), with `parse`, `parse_optional` (blank is no
/// value: a form field left empty), `as_str`, `MAX_CHARS` and the string impls. The doc
/// comment and any extra derive are passed through.
///
/// ```ignore
/// free_text! {
///     /// Why a need was closed.
///     pub struct ClosingReason, max 500, Multiple
/// }
/// ```
macro_rules! free_text {
    (
        $(#[$meta:meta])*
        pub struct $name:ident, max $max:expr, $lines:ident
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(input: &str) -> Result<Self, $crate::InvalidValue> {
                $crate::values::text::trimmed_text(
                    input,
                    1,
                    Self::MAX_CHARS,
                    $crate::values::text::Lines::$lines,
                )
                .map(Self)
            }

            /// `None`, empty or blank -> `Ok(None)`: nothing given.
            pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, $crate::InvalidValue> {
                match input.map(str::trim) {
                    None | Some("") => Ok(None),
                    Some(text) => Self::parse(text).map(Some),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        string_newtype_impls!($name);
    };
}

/// An entity's event enum from one list: each variant, its payload type, the constant naming
/// its versioned type and the type name itself. Generates the enum, the constants, `TYPES`,
/// and `DomainEvent` (`event_type`, `to_payload`, `from_payload`), so a new event is one line
/// and the four lists cannot disagree.
///
/// ```ignore
/// domain_events! {
///     /// What happens to a volunteer.
///     pub enum VolunteerEvent for EntityKind::Volunteer {
///         Registered(VolunteerRegistered) = REGISTERED_V1 => "dk.samskab.volunteer.registered.v1",
///     }
/// }
/// ```
macro_rules! domain_events {
    (
        $(#[$meta:meta])*
        pub enum $name:ident for $kind:path {
            $( $(#[$vmeta:meta])* $variant:ident($payload:ty) = $constant:ident => $type_name:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("`", $type_name, "`")] $variant($payload) ),+
        }

        impl $name {
            $( pub const $constant: &'static str = $type_name; )+
            /// Every event type this enum can decode.
            pub const TYPES: &'static [&'static str] = &[$($type_name),+];
        }

        impl $crate::DomainEvent for $name {
            const KIND: $crate::EntityKind = $kind;

            fn event_type(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $type_name ),+
                }
            }

            fn to_payload(&self) -> serde_json::Value {
                match self {
                    $( Self::$variant(e) => $crate::decider::payload_of(e) ),+
                }
            }

            fn from_payload(
                event_type: &str,
                payload: &serde_json::Value,
            ) -> Result<Self, $crate::EventDecodeError> {
                match event_type {
                    $( $type_name => $crate::decider::decode_payload(event_type, payload).map(Self::$variant), )+
                    other => Err($crate::EventDecodeError::UnknownType(other.to_owned())),
                }
            }
        }
    };
}
