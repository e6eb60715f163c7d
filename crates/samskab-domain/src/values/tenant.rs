//! The municipality as a tenant: its slug (the tenant key) and its official code.

use crate::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The municipality's slug and tenant key, e.g. "rodovre", "lyngby-taarbaek".
///
/// It becomes a NATS subject token (`samskab.ev.<tenant>...`) and part of every read-model key,
/// so it is deliberately narrow: `^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`. It can never contain
/// `.`, `*`, `>` or whitespace, which would change the meaning of a subject. Input is not
/// trimmed or lowercased: a tenant key is typed by operators, not by citizens, and a silently
/// "fixed" key is how two tenants end up sharing data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub const MAX_LEN: usize = 40;

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let bytes = input.as_bytes();
        if bytes.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        if bytes.len() > Self::MAX_LEN {
            return Err(InvalidValue::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        if !bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        {
            return Err(InvalidValue::new(
                "must contain only lowercase letters a-z, digits and '-'",
            ));
        }
        if bytes.first() == Some(&b'-') || bytes.last() == Some(&b'-') {
            return Err(InvalidValue::new("must not start or end with '-'"));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(TenantId);

/// The official three-digit municipality code (kommunekode), 101 (København) ..= 860
/// (Hjørring), e.g. 175 Rødovre, 265 Roskilde, 706 Syddjurs. Used by national statistics to say
/// which municipality a figure comes from, independent of our slugs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct Kommunekode(u16);

impl Kommunekode {
    pub fn parse(code: u16) -> Result<Self, InvalidValue> {
        if (101..=860).contains(&code) {
            Ok(Self(code))
        } else {
            Err(InvalidValue::new(
                "must be a kommunekode between 101 and 860",
            ))
        }
    }

    pub fn as_u16(&self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for Kommunekode {
    type Error = InvalidValue;
    fn try_from(value: u16) -> Result<Self, Self::Error> {
        Kommunekode::parse(value)
    }
}

impl From<Kommunekode> for u16 {
    fn from(value: Kommunekode) -> u16 {
        value.0
    }
}

impl fmt::Display for Kommunekode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn municipality_slugs_from_the_seeds_are_tenant_ids() {
        for slug in [
            "rodovre",
            "roskilde",
            "syddjurs",
            "lyngby-taarbaek",
            "k",
            "a1",
        ] {
            assert!(TenantId::parse(slug).is_ok(), "{slug}");
        }
    }

    #[test]
    fn tenant_ids_that_would_break_a_subject_are_refused() {
        for bad in [
            "",
            "-rodovre",
            "rodovre-",
            "Rodovre",
            "rødovre",
            "rod.ovre",
            "rod*",
            "rod>",
            "rod ovre",
            " rodovre",
            &"a".repeat(41),
        ] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(TenantId::parse(&"a".repeat(40)).is_ok());
    }

    #[test]
    fn tenant_id_deserialisation_revalidates() {
        let err = serde_json::from_value::<TenantId>(serde_json::json!("Bad.Tenant"));
        assert!(err.is_err());
    }

    #[test]
    fn kommunekode_range() {
        assert!(Kommunekode::parse(100).is_err());
        assert!(Kommunekode::parse(861).is_err());
        for code in [101, 175, 265, 706, 173, 240, 860] {
            assert_eq!(Kommunekode::parse(code).map(|k| k.as_u16()), Ok(code));
        }
        assert!(serde_json::from_value::<Kommunekode>(serde_json::json!(42)).is_err());
    }

    proptest! {
        #[test]
        fn tenant_id_never_accepts_subject_syntax_whitespace_or_uppercase(
            prefix in "[a-z0-9-]{0,10}",
            bad in prop_oneof![
                Just('.'), Just('*'), Just('>'), Just(' '), Just('\t'), Just('\n'),
                Just('\u{a0}'), proptest::char::range('A', 'Z'),
            ],
            suffix in "[a-z0-9-]{0,10}",
        ) {
            let input = format!("{prefix}{bad}{suffix}");
            prop_assert!(TenantId::parse(&input).is_err());
        }

        #[test]
        fn any_string_tenant_id_is_subject_safe(input in "\\PC{0,45}") {
            if let Ok(tenant) = TenantId::parse(&input) {
                let s = tenant.as_str();
                prop_assert!(!s.is_empty() && s.len() <= 40);
                prop_assert!(!s.contains(['.', '*', '>']));
                prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_uppercase()));
            }
        }
    }
}
