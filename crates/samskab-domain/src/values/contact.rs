//! How to reach an organisation or a volunteer.

use super::Name;
use crate::InvalidValue;
use serde::{Deserialize, Serialize};

/// An e-mail address, checked for sanity only: one '@', something before it, a domain with a
/// dot after it, no whitespace, at most 254 characters. Full RFC 5322 validation turns away real
/// addresses more often than it catches typos; the only real test is sending a mail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let text = input.trim();
        if text.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        // Counted as sent, so a client can check it (OpenAPI `maxLength`).
        if input.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidValue::new("must not contain whitespace"));
        }
        let mut parts = text.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(InvalidValue::new("must contain exactly one '@'"));
        };
        if local.is_empty() {
            return Err(InvalidValue::new("must have a name before the '@'"));
        }
        if !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(InvalidValue::new(
                "must have a domain with a dot after the '@'",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Email);

/// A phone number: digits with an optional leading '+', 8..=15 digits. Spaces are allowed when
/// typed ("+45 36 37 70 00") and stripped when stored ("+4536377000"), so the same number is
/// always stored the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let text = input.trim();
        let (plus, rest) = match text.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", text),
        };
        let digits: String = rest.chars().filter(|c| *c != ' ').collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(InvalidValue::new(
                "must contain only digits, spaces and an optional leading '+'",
            ));
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(InvalidValue::new("must have 8 to 15 digits"));
        }
        Ok(Self(format!("{plus}{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Phone);

/// Contact details: an e-mail address or a phone number (or both), and optionally the person to
/// ask for. At least one way to reach someone is required, otherwise the record is useless for
/// brokering.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ContactFields", into = "ContactFields")]
pub struct Contact {
    email: Option<Email>,
    phone: Option<Phone>,
    person: Option<Name>,
}

impl Contact {
    pub fn parse(
        email: Option<Email>,
        phone: Option<Phone>,
        person: Option<Name>,
    ) -> Result<Self, InvalidValue> {
        if email.is_none() && phone.is_none() {
            return Err(InvalidValue::new(
                "must have an e-mail address or a phone number",
            ));
        }
        Ok(Self {
            email,
            phone,
            person,
        })
    }

    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }

    pub fn person(&self) -> Option<&Name> {
        self.person.as_ref()
    }
}

/// The wire shape of [`Contact`]; deserialising goes through [`Contact::parse`].
#[derive(Serialize, Deserialize)]
struct ContactFields {
    email: Option<Email>,
    phone: Option<Phone>,
    person: Option<Name>,
}

impl TryFrom<ContactFields> for Contact {
    type Error = InvalidValue;
    fn try_from(fields: ContactFields) -> Result<Self, Self::Error> {
        Contact::parse(fields.email, fields.phone, fields.person)
    }
}

impl From<Contact> for ContactFields {
    fn from(contact: Contact) -> Self {
        ContactFields {
            email: contact.email,
            phone: contact.phone,
            person: contact.person,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "info@rodovre.dk",
            "anne.hansen+frivillig@roskilde.dk",
            "søren@æblehaven.dk",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "info",
            "info@",
            "@rodovre.dk",
            "info@rodovre",
            "a@b@rodovre.dk",
            "in fo@rodovre.dk",
            "info@.dk",
            "info@rodovre.",
            "info@rodovre..dk",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@rodovre.dk", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn phones_are_stored_without_spaces() {
        assert_eq!(
            Phone::parse(" +45 36 37 70 00 ").map(|p| p.to_string()),
            Ok("+4536377000".into())
        );
        assert_eq!(
            Phone::parse("36377000").map(|p| p.to_string()),
            Ok("36377000".into())
        );
        for bad in [
            "",
            "1234567",
            "+1234567890123456",
            "36-37-70-00",
            "++4536377000",
            "45+36377000",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn contact_needs_email_or_phone() {
        let person = Name::parse("Anne Hansen").ok();
        assert_eq!(
            Contact::parse(None, None, person.clone()),
            Err(InvalidValue(
                "must have an e-mail address or a phone number".into()
            ))
        );
        assert!(Contact::parse(Email::parse("a@b.dk").ok(), None, None).is_ok());
        assert!(Contact::parse(None, Phone::parse("36377000").ok(), person).is_ok());
        let bad = serde_json::json!({"email": null, "phone": null, "person": "Anne"});
        assert!(serde_json::from_value::<Contact>(bad).is_err());
        let ok = serde_json::json!({"phone": "36377000"});
        assert!(serde_json::from_value::<Contact>(ok).is_ok());
    }
}
