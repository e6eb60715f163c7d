//! RFC 9457 problem details. Every error the API answers with goes through [`ApiError`], whose
//! variants map one-to-one to HTTP statuses; the mapping lives here and nowhere else.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A reason tied to one field of the request, e.g. `{"field": "cvr", "reason": "check digit does not match"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field in the request body or query, e.g. `contact.email` or `skills[2]`.
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The body of every error response (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body or query could not be read as the expected shape (syntax, types, unknown or missing fields).
    #[error("malformed request")]
    Malformed(Vec<FieldError>),
    /// The request is well-formed but values are invalid (an invalid CVR, a too-long name).
    #[error("invalid values")]
    Invalid(Vec<FieldError>),
    #[error("request body too large")]
    TooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("not authenticated: {0}")]
    Unauthenticated(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// The idempotency key was used before for a different request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// A dependency (NATS, PostgreSQL) is down, or a read model has not caught up in time.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure: logged with its chain, answered without detail.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, reason)])
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed-request",
            Self::Invalid(_) => "invalid-values",
            Self::TooLarge => "body-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound => "not-found",
            Self::Conflict(_) => "conflict",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (detail, errors) = match self {
            Self::Malformed(errors) | Self::Invalid(errors) => (None, errors.clone()),
            Self::Unauthenticated(d) | Self::Forbidden(d) => (Some(d.to_string()), vec![]),
            Self::Conflict(d) | Self::Unavailable(d) => (Some(d.clone()), vec![]),
            Self::TooLarge => (
                Some("the request body is over the size limit".into()),
                vec![],
            ),
            Self::IdempotencyKeyReused => (
                Some("this Idempotency-Key was already used for a different request".into()),
                vec![],
            ),
            _ => (None, vec![]),
        };
        Problem {
            problem_type: format!("https://samskab.dk/problems/{}", self.slug()),
            title: status.canonical_reason().unwrap_or("error").to_string(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(e) => tracing::error!(error = ?e, "internal error"),
            Self::Unavailable(d) => tracing::warn!(detail = %d, "unavailable"),
            _ => tracing::debug!(error = %self, "request refused"),
        }
        let status = self.status();
        let mut response = (status, axum::Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, Self::Unavailable(_)) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if matches!(self, Self::Unauthenticated(_)) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::Unavailable("the read-model database is unavailable".into())
            }
            other => Self::Internal(other.into()),
        }
    }
}
