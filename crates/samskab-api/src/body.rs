//! Reading a JSON body into a request type, with errors that name the field at fault.
//! axum's own `Json` rejects with a sentence; a case worker's form needs to know *which* field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::problem::{ApiError, FieldError};

/// A JSON request body of type `T`, plus a digest of its bytes (the idempotency fingerprint).
pub struct JsonBody<T> {
    pub value: T,
    pub fingerprint: String,
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
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::Malformed(vec![FieldError::new("", rejection.body_text())])
            }
        })?;
        let value = parse_json(&bytes)?;
        let mut hasher = Sha256::new();
        hasher.update(method.as_str());
        hasher.update(b" ");
        hasher.update(path.as_bytes());
        hasher.update(b"\n");
        hasher.update(&bytes);
        Ok(Self {
            value,
            fingerprint: format!("{:x}", hasher.finalize()),
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
