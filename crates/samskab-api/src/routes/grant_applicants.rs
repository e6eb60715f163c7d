//! An applicant who is a person, or an informal group's contact person: everything held about
//! their application exported (GDPR art. 15), and their personal data forgotten (art. 17) once
//! the grant case no longer has to be kept. A draft is no case and is forgotten at once; a
//! submitted case is kept while it is open and until the end of the fifth year after the year
//! it closed (`samskab_domain::grant_pool::retention`), and a request before then is a 409 that
//! says until when. Forgetting erases the application's data key, so the name and contact in
//! every event are gone; the case's amounts, decisions and follow-up stay, for the grant
//! history and the statistics.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use samskab_domain::{
    DomainEvent, GrantApplication, GrantApplicationCommand, GrantApplicationId,
    GrantApplicationState, GrantPool, GrantPoolEvent,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::Principal;
use crate::commands::{CommandAccepted, CommandRequest, fold};
use crate::export::{ExportedEvent, exported, history_of};
use crate::problem::ApiError;
use crate::routes::EntityId;
use crate::routes::grant_applications::case_of;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(forget_applicant))
        .routes(routes!(export_application))
}

/// Forget the applicant's personal data (a person applying, an informal group's contact
/// person): a draft's at once; a submitted case's only once it no longer has to be kept, which
/// the 409 before then dates. An association's application holds no personal data (409).
#[utoipa::path(post, path = "/grant-applications/{id}/forget", tag = "grants",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn forget_applicant(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    let application = GrantApplicationId::from(id);
    // The pool says where the case stands. A case that closed years ago sees no new event of
    // the pool, so reading it before the application's command decides is enough.
    let (_, ledger) = case_of(&state, &cmd.principal, id).await?;
    let command = GrantApplicationCommand::Forget {
        retention: ledger.retention(application),
        at: Utc::now(),
    };
    cmd.forget::<GrantApplication>(application, command).await
}

/// Everything held about an application and its applicant, decrypted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationExport {
    pub id: Uuid,
    /// Who applies, to which pool, with the latest content; `personal` (the name and contact)
    /// is null once forgotten.
    #[schema(value_type = Object)]
    pub application: serde_json::Value,
    /// Every submitted version, oldest first (none for a draft).
    #[schema(value_type = Vec<Object>)]
    pub versions: Vec<serde_json::Value>,
    /// Every assessment of it.
    #[schema(value_type = Vec<Object>)]
    pub assessments: Vec<serde_json::Value>,
    /// When the applicant was forgotten; null while kept.
    pub forgotten_at: Option<DateTime<Utc>>,
    /// The application's own events, oldest first.
    pub events: Vec<ExportedEvent>,
    /// The pool's events about the case: its decisions, approvals, complaints, withdrawal,
    /// payments, final report and repayments.
    pub case_events: Vec<ExportedEvent>,
    pub exported_at: DateTime<Utc>,
}

/// Everything held about the application and its applicant (GDPR art. 15), decrypted: the
/// application as it stands, its events, and the pool's events about the case.
#[utoipa::path(get, path = "/grant-applications/{id}/export", tag = "grants",
    params(("id" = Uuid, Path)), responses((status = 200, body = ApplicationExport)),
    security(("bearer" = [])))]
async fn export_application(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
) -> Result<axum::Json<ApplicationExport>, ApiError> {
    let history = history_of::<GrantApplication>(&state, &principal, id).await?;
    let folded = fold::<GrantApplication>(&history)?;
    let (application, forgotten_at) = match &folded {
        GrantApplicationState::Forgotten(forgotten) => (&forgotten.application, Some(forgotten.at)),
        other => (other, None),
    };
    let (draft, versions, assessments) = match application {
        GrantApplicationState::Draft(draft) => (to_json(&**draft)?, vec![], vec![]),
        GrantApplicationState::Submitted(s) => (
            to_json(&s.draft)?,
            s.versions.iter().map(to_json).collect::<Result<_, _>>()?,
            s.assessments
                .iter()
                .map(to_json)
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(ApiError::NotFound),
    };
    let pool = folded.draft().map(|d| d.pool).ok_or(ApiError::NotFound)?;
    let pool_history = history_of::<GrantPool>(&state, &principal, pool.as_uuid()).await?;
    // The pool's events about this case, as the domain says which case an event is about.
    let about_the_case = |e: &samskab_eventlog::RecordedEvent| {
        GrantPoolEvent::from_payload(&e.envelope.event_type, &e.envelope.data)
            .ok()
            .and_then(|event| event.case_event())
            .is_some_and(|(application, _)| application.as_uuid() == id)
    };
    let case_events = pool_history
        .events
        .into_iter()
        .filter(about_the_case)
        .collect();
    Ok(axum::Json(ApplicationExport {
        id,
        application: draft,
        versions,
        assessments,
        forgotten_at,
        events: exported(history.events),
        case_events: exported(case_events),
        exported_at: Utc::now(),
    }))
}

fn to_json(value: &impl Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(e.into()))
}
