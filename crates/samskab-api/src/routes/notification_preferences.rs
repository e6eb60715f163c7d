//! The caller's notification preferences: whether their messages are mailed as well as put in
//! their inbox (an organisation with a webhook endpoint may want them posted only), in Danish
//! or English, and mailed at once or gathered in one mail each morning. Always the caller's
//! own: the inbox is the token's, and so are its preferences (no id in the path).

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use samskab_domain::{
    MailCadence, MessageLanguage, NotificationPreferences, NotificationPreferencesCommand,
    NotificationPreferencesId, Preferences,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::Principal;
use crate::body::JsonBody;
use crate::commands::{CommandAccepted, CommandRequest};
use crate::fields::FieldCheck;
use crate::problem::ApiError;
use crate::read::{Consistency, NOTIFY, QueryParams, wait_for};
use crate::routes::notifications::recipient_of;
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_preferences, set_preferences))
}

/// All of the caller's preferences (each is given: a PUT sets them all).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    /// Mailed as well as in the inbox (and posted to the organisation's webhook endpoints,
    /// whatever this says).
    pub email: bool,
    /// `da` or `en`.
    #[schema(schema_with = schema::message_language)]
    pub language: String,
    /// `immediate`, or `daily_digest`: the day's messages in one mail at 07:00 (Danish time).
    #[schema(schema_with = schema::mail_cadence)]
    pub cadence: String,
}

/// The preferences in force for the caller's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesView {
    pub email: bool,
    /// `da` or `en`.
    pub language: String,
    /// `immediate` or `daily_digest`.
    pub cadence: String,
    /// When they were last set; null: never (these are the defaults).
    pub updated_at: Option<DateTime<Utc>>,
}

fn parse_preferences(input: &PreferencesInput) -> Result<Preferences, ApiError> {
    let mut f = FieldCheck::default();
    let language = f.check("language", MessageLanguage::parse(&input.language));
    let cadence = f.check("cadence", MailCadence::parse(&input.cadence));
    f.finish()?;
    match (language, cadence) {
        (Some(language), Some(cadence)) => Ok(Preferences {
            email: input.email,
            language,
            cadence,
        }),
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        ))),
    }
}

/// Set the caller's preferences, all of them; from the next message on they hold. The same
/// again: nothing changes.
#[utoipa::path(put, path = "/notification-preferences", tag = "notifications",
    request_body = PreferencesInput,
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn set_preferences(
    cmd: CommandRequest,
    body: JsonBody<PreferencesInput>,
) -> Result<Response, ApiError> {
    let preferences = parse_preferences(&body.value)?;
    let recipient = recipient_of(&cmd.principal);
    let id = NotificationPreferencesId::of_recipient(&recipient);
    let command = NotificationPreferencesCommand::Set {
        id,
        recipient,
        preferences,
    };
    cmd.change::<NotificationPreferences>(id, &body.digest, command)
        .await
}

/// The caller's preferences: the defaults (mailed, Danish, at once) until they set any.
#[utoipa::path(get, path = "/notification-preferences", tag = "notifications",
    params(Consistency),
    responses((status = 200, body = PreferencesView)), security(("bearer" = [])))]
async fn get_preferences(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<PreferencesView>, ApiError> {
    wait_for(&state, NOTIFY, consistency.min_position).await?;
    let row: Option<(bool, String, String, DateTime<Utc>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(get_sql()))
            .bind(principal.tenant.as_str())
            .bind(recipient_of(&principal))
            .fetch_optional(&state.pool)
            .await?;
    Ok(axum::Json(match row {
        Some((email, language, cadence, updated_at)) => PreferencesView {
            email,
            language,
            cadence,
            updated_at: Some(updated_at),
        },
        None => {
            let defaults = Preferences::default();
            PreferencesView {
                email: defaults.email,
                language: defaults.language.as_str().into(),
                cadence: defaults.cadence.as_str().into(),
                updated_at: None,
            }
        }
    }))
}

fn get_sql() -> String {
    format!(
        "SELECT email, language, cadence, updated_at FROM {}.preference
         WHERE tenant = $1 AND recipient = $2",
        NOTIFY.schema
    )
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![("GET /notification-preferences", get_sql())]
}
