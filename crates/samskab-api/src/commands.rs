//! The command path: load the entity's history, decide (pure domain code), append.
//!
//! One function serves every entity, because each is a `Decider`. What differs per route is
//! only how the request becomes a command (see `routes/`).

use std::fmt;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samskab_domain::{Decider, DomainError, DomainEvent, EntityKind, TenantId};
use samskab_eventlog::{
    AppendError, Appended, CommandMeta, EntityRef, EventLog, History, LoadError, NewEvent,
    StoredCommand,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::{instrument, warn};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Principal;
use crate::decisions::{DecisionCache, Known};
use crate::ownership::PathTenant;
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

/// Everything a command route needs from its request besides the body: who asks (the tenant
/// comes from the token), the `Idempotency-Key`, and what was asked (method and path, for the
/// idempotency fingerprint and the `Location` of a created entity). A route then parses its
/// body into a domain command and ends with `cmd.create::<D>(..)` or `cmd.change::<D>(..)`.
/// Whether the principal may call the route at all was decided before, by `access::ACCESS`.
pub struct CommandRequest {
    state: AppState,
    pub principal: Principal,
    /// Where the entity the path names lives: the caller's municipality, or the one where a
    /// volunteer's match is (`ownership::PathTenant`).
    path_tenant: TenantId,
    idempotency_key: Option<String>,
    method: Method,
    path: String,
}

impl FromRequestParts<AppState> for CommandRequest {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let path_tenant = match parts.extensions.get::<PathTenant>() {
            Some(PathTenant(elsewhere)) => elsewhere.clone(),
            None => principal.tenant.clone(),
        };
        let idempotency_key = idempotency_key(&parts.headers)?;
        Ok(Self {
            state: state.clone(),
            principal,
            path_tenant,
            idempotency_key,
            method: parts.method.clone(),
            path: parts.uri.path().to_string(),
        })
    }
}

/// A command without a body (`POST /volunteers/{id}/consent/withdraw`): its method and path
/// are all there is to fingerprint.
pub const NO_BODY: &str = "";

impl CommandRequest {
    /// The request's `Idempotency-Key`, if it has one.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }

    /// The id of an entity this command creates. With an `Idempotency-Key` it is derived from
    /// the tenant, the kind and the key (a UUID v8), so a retry addresses the same entity and
    /// the log answers it with the first attempt (see `samskab_eventlog::idempotency`);
    /// without one it is a fresh UUID v7, ordered by creation time.
    pub fn new_id<D: Decider>(&self) -> Uuid {
        match &self.idempotency_key {
            Some(key) => id_for_key(&self.principal.tenant, D::KIND, key),
            None => Uuid::now_v7(),
        }
    }

    /// Creates entity `id` of `D` in the caller's municipality: 201 with a `Location`.
    /// `body_digest` is the request body's digest (`JsonBody::digest`) or [`NO_BODY`].
    pub async fn create<D: Decider>(
        self,
        id: impl fmt::Display,
        body_digest: &str,
        command: D::Command,
    ) -> Result<Response, ApiError> {
        let tenant = self.principal.tenant.clone();
        self.create_in::<D>(&tenant, &id, body_digest, command)
            .await
    }

    /// Creates `D` under a tenant the command itself names: only `POST /municipalities`, which
    /// creates the tenant (platform administrators). The tenant is the entity's id too.
    pub async fn create_tenant<D: Decider>(
        self,
        tenant: &TenantId,
        body_digest: &str,
        command: D::Command,
    ) -> Result<Response, ApiError> {
        self.create_in::<D>(tenant, tenant, body_digest, command)
            .await
    }

    /// Creates entity `id` of `D` in `tenant`, another municipality than the caller's: only a
    /// volunteer's "I'm interested" in a need of a municipality they opted in to (the match is
    /// the need's municipality's). The caller checked the opt-in in the volunteer's own log.
    pub async fn create_in<D: Decider>(
        self,
        tenant: &TenantId,
        id: &impl fmt::Display,
        body_digest: &str,
        command: D::Command,
    ) -> Result<Response, ApiError> {
        let entity = self.entity::<D>(tenant.as_str(), id)?;
        let collection = self.path.trim_end_matches('/').to_string();
        self.run::<D>(entity, Creates::New, body_digest, command, Some(collection))
            .await
    }

    /// Changes the existing entity `id` of `D` in the municipality that holds it (the
    /// caller's, or where a volunteer's match is): 202.
    pub async fn change<D: Decider>(
        self,
        id: impl fmt::Display,
        body_digest: &str,
        command: D::Command,
    ) -> Result<Response, ApiError> {
        let entity = self.entity::<D>(self.path_tenant.as_str(), &id)?;
        self.run::<D>(entity, Creates::Existing, body_digest, command, None)
            .await
    }

    /// The entity's subject in the log, built from the decider's own kind.
    /// Forgets the person entity `id` of `D` is (GDPR art. 17): the command records it in the
    /// log, as an event without personal data, and then the person's data key is erased, so
    /// the personal data in every earlier event can never be read again (see
    /// `samskab_eventlog::EventLog::forget`). The answer comes after both. A repeat decides no
    /// event and erases again, so a retry after a failure between the two completes it.
    pub async fn forget<D: Decider>(
        self,
        id: impl fmt::Display,
        command: D::Command,
    ) -> Result<Response, ApiError> {
        let entity = self.entity::<D>(self.path_tenant.as_str(), &id)?;
        let log = self.state.log.clone();
        let response = self
            .run::<D>(entity.clone(), Creates::Existing, NO_BODY, command, None)
            .await?;
        log.forget(&entity).await.map_err(append_error)?;
        Ok(response)
    }

    fn entity<D: Decider>(
        &self,
        tenant: &str,
        id: &impl fmt::Display,
    ) -> Result<EntityRef, ApiError> {
        EntityRef::new(tenant, D::KIND.as_str(), &id.to_string())
            .map_err(|e| ApiError::Internal(e.into()))
    }

    async fn run<D: Decider>(
        self,
        entity: EntityRef,
        creates: Creates,
        body_digest: &str,
        command: D::Command,
        // Where a created entity is found (`Location`); none for a change.
        collection: Option<String>,
    ) -> Result<Response, ApiError> {
        let fingerprint = fingerprint(&self.method, &self.path, body_digest);
        let ctx = CommandContext {
            state: &self.state,
            principal: &self.principal,
            idempotency_key: self.idempotency_key,
            fingerprint,
        };
        let outcome = execute::<D>(ctx, &entity, creates, command).await?;
        let status = match creates {
            Creates::New => StatusCode::CREATED,
            Creates::Existing => StatusCode::ACCEPTED,
        };
        Ok(accepted(status, &entity, outcome, collection.as_deref()))
    }
}

/// The id of an entity of `kind` created with `key` in `tenant` (see `CommandRequest::new_id`):
/// the log's hash of tenant and key, narrowed to the kind.
pub fn id_for_key(tenant: &TenantId, kind: EntityKind, key: &str) -> Uuid {
    let mut hasher = Sha256::new();
    hasher.update(samskab_eventlog::idempotency::key_hash(
        tenant.as_str(),
        key,
    ));
    hasher.update([0]);
    hasher.update(kind.as_str());
    uuid_from_digest(hasher)
}

/// An id derived from what `hasher` was given (a UUID v8 of the first 128 bits of its SHA-256),
/// so every instance derives the same one: an entity created with an idempotency key, a pair's
/// match (`routes::matches::pair_match_id`).
pub fn uuid_from_digest(hasher: Sha256) -> Uuid {
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// What makes two requests "the same" for an `Idempotency-Key`: method, path and body.
fn fingerprint(method: &Method, path: &str, body_digest: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body_digest.as_bytes());
    format!("{:x}", hasher.finalize())
}

/// The answer to a command.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandAccepted {
    /// The entity the command addressed.
    pub id: String,
    /// Log position of the command's events. Pass it as `min_position` to a query to read your
    /// own write.
    pub position: u64,
    /// Ids of the appended events; empty when the command changed nothing.
    pub event_ids: Vec<Uuid>,
    /// True when this answers a retry with the same `Idempotency-Key`.
    pub replayed: bool,
}

fn accepted(
    status: StatusCode,
    entity: &EntityRef,
    outcome: Outcome,
    collection: Option<&str>,
) -> Response {
    // A replayed answer names the entity of the first attempt, not the id this attempt drew.
    let (id, event_ids, replayed) = match outcome.appended {
        Some(a) => (a.entity_id, a.event_ids, a.replayed),
        None => (entity.id().to_string(), vec![], false),
    };
    // The created entity's URL: the collection the request was posted to, and its id.
    let location = collection.map(|c| format!("{c}/{id}"));
    let body = CommandAccepted {
        id,
        position: outcome.position,
        event_ids,
        replayed,
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(value) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
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
    let meta = CommandMeta {
        actor: ctx.principal.actor.clone(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        idempotency_key: ctx.idempotency_key.clone(),
        request_fingerprint: Some(ctx.fingerprint.clone()),
    };
    let decisions = &ctx.state.decisions;
    // One command per existing entity at a time in this process (a new one has no one to
    // wait for: its append expects sequence 0).
    let _turn = match creates {
        Creates::Existing => Some(decisions.turn(entity).await),
        Creates::New => None,
    };
    let mut attempts = 0;
    // The entity as last read: from the decision cache first, from the log when that is stale.
    let mut known = None;
    loop {
        let current = match creates {
            Creates::New => Known::new_entity(),
            Creates::Existing => match known.take() {
                Some(known) => known,
                None => decisions.read::<D>(log, entity).await?,
            },
        };
        if let Some(key) = &ctx.idempotency_key
            && let Some(first) = current.command_with_key(entity.tenant(), key)
        {
            let appended = first.replay(Some(&ctx.fingerprint)).map_err(append_error)?;
            return Ok(Outcome {
                position: appended.position,
                appended: Some(appended),
            });
        }
        let expected = current.last_position;
        let decided = D::decide(&current.state, &command);
        // Appending nothing (no change, or a refusal) is only as right as the state decided on:
        // a cached one is first checked against the log, and caught up if it is behind.
        let appends = matches!(&decided, Ok(events) if !events.is_empty());
        if !appends
            && !current.checked
            && log.entity_position(entity).await.map_err(load_error)? != expected
        {
            known = Some(decisions.catch_up::<D>(log, entity, current).await?);
            continue;
        }
        let events = decided.map_err(domain_error)?;
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
                remember_decided::<D>(log, decisions, entity, current, &events, &appended, &meta);
                return Ok(Outcome {
                    position: appended.position,
                    appended: Some(appended),
                });
            }
            Err(AppendError::Conflict { .. }) if creates == Creates::New => {
                return Err(domain_error(DomainError::AlreadyExists { kind: D::KIND }));
            }
            Err(AppendError::Conflict { .. }) if attempts < ctx.state.config.conflict_retries => {
                // Someone appended first (or the cached state was behind): decide again on the
                // events since.
                attempts += 1;
                known = Some(decisions.catch_up::<D>(log, entity, current).await?);
            }
            Err(e) => return Err(append_error(e)),
        }
    }
}

/// After an append, the state it led to is kept for the next command on the entity: the
/// decided events folded onto the state they were decided on (the expected sequence held, so
/// nothing came between).
fn remember_decided<D: Decider>(
    log: &EventLog,
    decisions: &DecisionCache,
    entity: &EntityRef,
    decided_on: Known<D::State>,
    events: &[D::Event],
    appended: &Appended,
    meta: &CommandMeta,
) {
    if appended.replayed {
        // The answer is an earlier attempt's: what it led to is not known here.
        decisions.forget(entity);
        return;
    }
    // The keyed commands are shared with the cache entry: copied only when one is added, so a
    // command without a key on an entity with many keyed ones copies nothing.
    let mut keyed = decided_on.keyed;
    if let Some(key) = &meta.idempotency_key {
        Arc::make_mut(&mut keyed).push(StoredCommand {
            key_hash: Some(samskab_eventlog::idempotency::key_hash(
                entity.tenant(),
                key,
            )),
            fingerprint: meta.request_fingerprint.clone(),
            appended: appended.clone(),
        });
    }
    let state = events.iter().fold(decided_on.state, D::evolve);
    decisions.remember::<D>(
        log,
        entity,
        &mut Known {
            state,
            last_position: appended.position,
            keyed,
            checked: true,
            unsaved: decided_on.unsaved + events.len(),
        },
    );
}

pub(crate) async fn load_history(
    state: &AppState,
    entity: &EntityRef,
) -> Result<History, ApiError> {
    state.log.load(entity).await.map_err(load_error)
}

pub(crate) fn load_error(e: LoadError) -> ApiError {
    match e {
        LoadError::Unavailable(_) => ApiError::Unavailable("the event log is unavailable".into()),
        other => ApiError::Internal(other.into()),
    }
}

/// Folds the entity's history into its decision state. An event the domain does not know is
/// reported (logged and answered 500): deciding on a partial history could break a rule.
pub(crate) fn fold<D: Decider>(history: &History) -> Result<D::State, ApiError> {
    fold_onto::<D>(D::State::default(), history)
}

/// `history`'s events folded onto `state` (see [`fold`]).
pub(crate) fn fold_onto<D: Decider>(
    state: D::State,
    history: &History,
) -> Result<D::State, ApiError> {
    let mut decision_state = state;
    for recorded in &history.events {
        let event = D::Event::from_payload(&recorded.envelope.event_type, &recorded.envelope.data)
            .map_err(|e| {
                warn!(position = recorded.position, error = %e, "history holds an event this version cannot read");
                ApiError::Internal(e.into())
            })?;
        decision_state = D::evolve(decision_state, &event);
    }
    Ok(decision_state)
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
        AppendError::Unavailable(_) => ApiError::Unavailable("the event log is unavailable".into()),
        AppendError::Empty => ApiError::Internal(anyhow::anyhow!("a command decided no events")),
    }
}
