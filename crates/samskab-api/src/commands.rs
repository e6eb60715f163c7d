//! The command path: load the entity's history, decide (pure domain code), append.
//!
//! One function serves every entity, because each is a `Decider`. What differs per route is
//! only how the request becomes a command (see `routes/`).

use axum::http::HeaderMap;
use samskab_domain::{Decider, DomainError, DomainEvent};
use samskab_eventlog::{AppendError, Appended, CommandMeta, EntityRef, LoadError, NewEvent};
use tracing::{instrument, warn};
use uuid::Uuid;

use crate::auth::Principal;
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;

/// Whether the command creates its entity. A new entity (server-chosen UUID v7) has no
/// history, so its history is not loaded: the append expects subject sequence 0, and should
/// the entity exist after all, the server refuses it as a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creates {
    New,
    Existing,
}

/// The outcome of a command for the HTTP answer.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub appended: Option<Appended>,
    /// The log position the client may wait for: the append's, or the entity's last when the
    /// command changed nothing.
    pub position: u64,
}

/// The request's `Idempotency-Key` header, checked: 1 to 200 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()));
    match key {
        Some(key) => Ok(Some(key.to_string())),
        None => Err(ApiError::Malformed(vec![FieldError::new(
            "Idempotency-Key",
            "must be 1 to 200 visible ASCII characters",
        )])),
    }
}

pub struct CommandContext<'a> {
    pub state: &'a AppState,
    pub principal: &'a Principal,
    pub idempotency_key: Option<String>,
    pub fingerprint: String,
}

// Spans on the per-command path are at debug: at info they cost a measurable share of a
// registration's CPU (formatting fields for every request).
#[instrument(level = "debug", skip_all, fields(entity = %entity, kind = D::KIND.as_str()))]
pub async fn execute<D: Decider>(
    ctx: CommandContext<'_>,
    entity: &EntityRef,
    creates: Creates,
    command: D::Command,
) -> Result<Outcome, ApiError> {
    let log = &ctx.state.log;
    if let Some(key) = &ctx.idempotency_key
        && let Some(done) = log
            .idempotent_result(entity.tenant(), key, Some(&ctx.fingerprint))
            .await
            .map_err(append_error)?
    {
        return Ok(Outcome {
            position: done.position,
            appended: Some(done),
        });
    }
    let meta = CommandMeta {
        actor: ctx.principal.actor.clone(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        idempotency_key: ctx.idempotency_key.clone(),
        request_fingerprint: Some(ctx.fingerprint.clone()),
    };
    let mut attempts = 0;
    loop {
        let (decision_state, expected) = match creates {
            Creates::New => (D::State::default(), 0),
            Creates::Existing => load_state::<D>(ctx.state, entity).await?,
        };
        let events = D::decide(&decision_state, &command).map_err(domain_error)?;
        if events.is_empty() {
            return Ok(Outcome {
                appended: None,
                position: expected,
            });
        }
        let new_events = events
            .iter()
            .map(|e| NewEvent {
                event_type: e.event_type().to_string(),
                data: e.to_payload(),
            })
            .collect();
        match log.append(entity, expected, &meta, new_events).await {
            Ok(appended) => {
                return Ok(Outcome {
                    position: appended.position,
                    appended: Some(appended),
                });
            }
            Err(AppendError::Conflict { .. }) if creates == Creates::New => {
                return Err(domain_error(DomainError::AlreadyExists { kind: D::KIND }));
            }
            // Someone else changed the entity between our read and our append: decide again on
            // the newer state, a few times, then give the client the conflict.
            Err(AppendError::Conflict { .. }) if attempts < ctx.state.config.conflict_retries => {
                attempts += 1;
            }
            Err(e) => return Err(append_error(e)),
        }
    }
}

/// Folds the entity's history into its decision state. An event the domain does not know is
/// reported (logged and answered 500): deciding on a partial history could break a rule.
pub async fn load_state<D: Decider>(
    state: &AppState,
    entity: &EntityRef,
) -> Result<(D::State, u64), ApiError> {
    let history = state.log.load(entity).await.map_err(|e| match e {
        LoadError::Unavailable(_) => ApiError::Unavailable("the event log is unavailable".into()),
        other => ApiError::Internal(other.into()),
    })?;
    let mut decision_state = D::State::default();
    for recorded in &history.events {
        let event = D::Event::from_payload(&recorded.envelope.event_type, &recorded.envelope.data)
            .map_err(|e| {
                warn!(position = recorded.position, error = %e, "history holds an event this version cannot read");
                ApiError::Internal(e.into())
            })?;
        decision_state = D::evolve(decision_state, &event);
    }
    Ok((decision_state, history.last_position))
}

pub fn domain_error(e: DomainError) -> ApiError {
    match e {
        DomainError::NotFound { .. } => ApiError::NotFound,
        DomainError::AlreadyExists { kind } => {
            ApiError::Conflict(format!("the {kind} already exists"))
        }
        DomainError::Conflict { reason } => ApiError::Conflict(reason),
        DomainError::Rule { field, reason } => {
            ApiError::Invalid(vec![FieldError::new(field.unwrap_or_default(), reason)])
        }
    }
}

pub fn append_error(e: AppendError) -> ApiError {
    match e {
        AppendError::Conflict { .. } => ApiError::Conflict(
            "the entity was changed by someone else at the same time; try again".into(),
        ),
        AppendError::KeyReused => ApiError::IdempotencyKeyReused,
        AppendError::InProgress => {
            ApiError::Conflict("a command with this Idempotency-Key is still in progress".into())
        }
        AppendError::Unavailable(_) => ApiError::Unavailable("the event log is unavailable".into()),
        AppendError::Empty => ApiError::Internal(anyhow::anyhow!("a command decided no events")),
    }
}
