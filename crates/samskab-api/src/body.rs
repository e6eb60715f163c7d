//! Reading a JSON body into a request type, with errors that name the field at fault.
//! axum's own `Json` rejects with a sentence; a case worker's form needs to know *which* field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::problem::{ApiError, FieldError};

/// A JSON request body of type `T`, plus a digest of its bytes (part of the idempotency
/// fingerprint, see `commands::CommandRequest`).
pub struct JsonBody<T> {
    pub value: T,
    pub digest: String,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::Malformed(vec![FieldError::new("", rejection.body_text())])
            }
        })?;
        let value = parse_json(&bytes)?;
        Ok(Self {
            value,
            digest: format!("{:x}", Sha256::digest(&bytes)),
        })
    }
}

/// Deserialises and reports the JSON path of the first error: `contact.email`, `skills[3]`,
/// or the name of a missing or unknown field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let inner = err.inner().to_string();
        let mut path = err.path().to_string();
        if path == "." {
            path.clear();
        }
        // serde names missing and unknown fields in its message; report them as the field.
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|marker| inner.strip_prefix(marker)?.split('`').next());
        if let Some(name) = named
            && path != name
            && !path.ends_with(&format!(".{name}"))
        {
            path = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
        }
        ApiError::Malformed(vec![FieldError::new(path, without_position(&inner))])
    })
}

/// serde_json appends " at line 1 column 17"; the field name says more to a client.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Whole numbers as JSON Schema counts them: `426.0` is the integer 426 (found by
/// schemathesis). serde's own integer types refuse it; `#[serde(deserialize_with = ...)]`
/// with these accepts it and refuses a fraction or a number out of range, naming the range.
pub mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    fn number<'de, D: Deserializer<'de>>(d: D, max: u64) -> Result<u64, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        let whole = n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= max as f64)
                .map(|f| f as u64)
        });
        whole
            .filter(|w| *w <= max)
            .ok_or_else(|| D::Error::custom(format!("must be a whole number from 0 to {max}")))
    }

    pub fn u8<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
        number(d, u64::from(u8::MAX)).map(|n| n as u8)
    }

    pub fn u16<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        number(d, u64::from(u16::MAX)).map(|n| n as u16)
    }

    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        number(d, u64::from(u32::MAX)).map(|n| n as u32)
    }

    /// An amount in øre, 0 to `samskab_domain::Amount::MAX`.
    pub fn ore<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        number(d, samskab_domain::Amount::MAX as u64).map(|n| n as i64)
    }

    pub fn option_u16<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
        #[derive(Deserialize)]
        struct Whole(#[serde(deserialize_with = "u16")] u16);
        Ok(Option::<Whole>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        email: String,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        contact: Inner,
        skills: Vec<String>,
    }

    fn field_of(json: &str) -> String {
        match parse_json::<Outer>(json.as_bytes()) {
            Err(ApiError::Malformed(errors)) => errors[0].field.clone(),
            other => panic!("expected a malformed error, got {other:?}"),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Numbers {
        #[serde(deserialize_with = "whole::u8")]
        small: u8,
        #[serde(default, deserialize_with = "whole::option_u16")]
        year: Option<u16>,
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let n: Numbers = parse_json(br#"{"small": 8.0, "year": 1961.0}"#).expect("whole");
        assert_eq!((n.small, n.year), (8, Some(1961)));
        let n: Numbers = parse_json(br#"{"small": 8, "year": null}"#).expect("whole");
        assert_eq!((n.small, n.year), (8, None));
        for bad in [
            r#"{"small": 8.5}"#,
            r#"{"small": 256}"#,
            r#"{"small": -1}"#,
            r#"{"small": 1, "year": 70000}"#,
            r#"{"small": 1, "year": 1e300}"#,
        ] {
            assert!(parse_json::<Numbers>(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field_of(r#"{"contact":{"email":"a"},"skills":[]}"#), "name");
        assert_eq!(
            field_of(r#"{"name":"x","contact":{},"skills":[]}"#),
            "contact.email"
        );
        assert_eq!(
            field_of(r#"{"name":"x","contact":{"email":"a"},"skills":[1]}"#),
            "skills[0]"
        );
        assert_eq!(
            field_of(r#"{"name":"x","contact":{"email":"a"},"skills":[],"extra":1}"#),
            "extra"
        );
        assert_eq!(
            field_of(r#"{"name":"x","contact":{"email":"a","fax":1},"skills":[]}"#),
            "contact.fax"
        );
    }
}
