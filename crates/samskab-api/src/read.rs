//! The query side's shared pieces: query-string parsing with field errors, read-your-writes
//! waiting, and keyset pagination.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::problem::{ApiError, FieldError};
use crate::state::AppState;

pub use samskab_projection::ReadModel;
pub use samskab_projection::read_model::AUDIT;
/// The read model of municipalities, organisations and volunteers.
pub use samskab_projection::read_model::DIRECTORY;
pub use samskab_projection::read_model::GRANTS;
/// The read model of needs (and, later, what matching ranks).
pub use samskab_projection::read_model::MATCHING;
/// The versions the reports count (`samskab-reporting-worker`).
pub use samskab_projection::read_model::NOTIFY;
pub use samskab_projection::read_model::REPORTING;

/// A query string of type `T`; errors name the parameter.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        // Control characters (a NUL above all, which PostgreSQL refuses in text) never belong
        // in a filter; refuse them here rather than fail in the database (found by schemathesis).
        if let Some((key, _)) = form_urlencoded_parse(query)
            .find(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
        {
            return Err(ApiError::Malformed(vec![FieldError::new(
                key.into_owned(),
                "must not contain control characters",
            )]));
        }
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(deserializer)
            .map(QueryParams)
            .map_err(|err| {
                let inner = err.inner().to_string();
                let field = ["unknown field `", "missing field `"]
                    .iter()
                    .find_map(|m| inner.strip_prefix(m)?.split('`').next().map(str::to_string))
                    .unwrap_or_else(|| err.path().to_string());
                ApiError::Malformed(vec![FieldError::new(field, inner)])
            })
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// Read-your-writes: a client that got `position` from a command passes it as `min_position`,
/// and the query waits (bounded) until the read model has applied that position.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Consistency {
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// Waits until `read_model` has applied `min_position` (if given): the query names the read
/// model it reads, and waits for that projection only.
pub async fn wait_for(
    state: &AppState,
    read_model: ReadModel,
    min_position: Option<u64>,
) -> Result<(), ApiError> {
    let Some(position) = min_position else {
        return Ok(());
    };
    let schema = read_model.schema;
    if samskab_projection::wait_for_position(&state.pool, schema, position, Duration::ZERO).await? {
        return Ok(());
    }
    // A position the log has not reached will never be projected: say so now rather than
    // after the wait (found by schemathesis against /openapi.json).
    let newest = state
        .log
        .last_position()
        .await
        .map_err(|_| ApiError::Unavailable("the event log is unavailable".into()))?;
    if position > newest {
        return Err(ApiError::Malformed(vec![FieldError::new(
            "min_position",
            format!("is beyond the newest log position ({newest})"),
        )]));
    }
    let reached = samskab_projection::wait_for_position(
        &state.pool,
        schema,
        position,
        state.config.read_wait,
    )
    .await?;
    if reached {
        Ok(())
    } else {
        Err(ApiError::Unavailable(format!(
            "the read model has not reached position {position} within {:?}; try again",
            state.config.read_wait
        )))
    }
}

/// A filter value checked like the field it filters on (400 with the reason when it is not
/// one), normalised the way the read model stores it.
pub fn check_filter(
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<String, samskab_domain::InvalidValue>,
) -> Result<Option<String>, ApiError> {
    value
        .map(|v| parse(v).map_err(|e| ApiError::Malformed(vec![FieldError::new(field, e.0)])))
        .transpose()
}

/// One page of a list, ordered by id (UUID v7, so by creation time). `next_after` is the cursor
/// for the next page, absent on the last.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<Uuid>,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

pub fn check_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    check_limit_of(limit, DEFAULT_LIMIT, MAX_LIMIT)
}

/// A `limit` parameter: `default` when absent, else within `1..=max`.
pub fn check_limit_of(limit: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::Malformed(vec![FieldError::new(
            "limit",
            format!("must be between 1 and {max}"),
        )])),
    }
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
pub fn page<T>(mut rows: Vec<T>, limit: i64, id_of: impl Fn(&T) -> Uuid) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_after = if more { rows.last().map(&id_of) } else { None };
    Page {
        items: rows,
        next_after,
    }
}

/// A query value outside what the document allows: 400 with its reason, as every query's.
pub fn bad_query(field: &str, reason: &str) -> ApiError {
    ApiError::Malformed(vec![FieldError::new(field, reason)])
}

/// The instant a query asks things as of (`as_of`, in 2000 to 2100); absent: now. What the
/// audit exports and the reports take.
pub fn as_of_instant(
    as_of: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    let at = as_of.unwrap_or_else(chrono::Utc::now);
    if !crate::routes::grant_pools::YEARS.contains(&chrono::Datelike::year(&at)) {
        return Err(bad_query("as_of", "must be in 2000 to 2100"));
    }
    Ok(at)
}
