//! Needs (behov): what the municipality or one of its organisations asks volunteers to do, the
//! other half of the resource bank's matching. Commands go to the `Need` decider; queries read
//! the matching read model (`matching.need`).

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use samskab_domain::{
    ClosingReason, Need, NeedCommand, NeedDescription, NeedDetails, NeedId, NeedPlace,
    NeedSchedule, NeedTitle, Postcode, PostedBy, Tag, TargetGroup, VolunteersWanted,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::Principal;
use crate::body::{JsonBody, whole};
use crate::commands::{CommandAccepted, CommandRequest};
use crate::fields::FieldCheck;
use crate::ownership;
use crate::problem::ApiError;
use crate::read::{
    Consistency, MATCHING, Page, QueryParams, check_filter, check_limit, page, wait_for,
};
use crate::routes::matches::ACTIVE_SQL;
use crate::routes::volunteers::{AvailabilityInput, parse_availability, parse_languages};
use crate::routes::{EntityId, current, municipality_or_organisation};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(publish_need, list_needs))
        .routes(routes!(get_need, update_need))
        .routes(routes!(close_need))
        .routes(routes!(reopen_need))
}

/// A need as its poster writes it. One type for publishing and updating; the document shows
/// the two apart (`NeedPublication` has `organisation_id`, `NeedUpdate` has not: who posted a
/// need never changes).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedInput {
    /// The organisation that posts the need: a registered, active organisation of the caller's
    /// municipality. Absent or null: the municipality posts it.
    pub organisation_id: Option<Uuid>,
    #[schema(schema_with = schema::need_title)]
    pub title: String,
    #[schema(schema_with = schema::need_description)]
    pub description: String,
    #[serde(default)]
    #[schema(schema_with = schema::target_groups)]
    pub target_groups: Vec<String>,
    /// Skills a volunteer must have. Tags, trimmed and lowercased; duplicates count once.
    #[serde(default)]
    #[schema(schema_with = schema::tags)]
    pub skills_required: Vec<String>,
    /// Skills that help. None of them may also be required (compared trimmed and lowercased).
    #[serde(default)]
    #[schema(schema_with = schema::tags)]
    pub skills_nice_to_have: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = schema::languages)]
    pub languages: Vec<String>,
    /// Where the work is done. Absent or null: remotely.
    #[schema(schema_with = schema::postcode_or_null)]
    pub postcode: Option<String>,
    /// A one-off need's date: on or after `starts_on`, not after `ends_on`, and (to publish or
    /// reopen) not before today. Give `date` or `weekly`, not both.
    pub date: Option<NaiveDate>,
    /// A recurring need's weekly slots and hours. Give `date` or `weekly`, not both.
    pub weekly: Option<AvailabilityInput>,
    #[serde(deserialize_with = "whole::u16")]
    #[schema(value_type = u16, minimum = 1, maximum = 100)]
    pub volunteers_wanted: u16,
    /// In 1900 or later, and at most 10 years from now.
    pub starts_on: NaiveDate,
    /// Not before `starts_on`, at most 10 years from now, and (for a weekly need, to publish
    /// it) not before today. Absent or null: until the need is closed.
    pub ends_on: Option<NaiveDate>,
    /// The work involves direct, regular contact with children under 15: only volunteers with
    /// a valid børneattest are matched to it.
    pub children_under_15: bool,
}

/// The details as the decider takes them; `posted_by` is what the caller said, which an update
/// must repeat (the decider refuses a change).
fn parse_need(id: NeedId, posted_by: PostedBy, input: &NeedInput) -> Result<NeedDetails, ApiError> {
    let mut f = FieldCheck::default();
    let title = f.check("title", NeedTitle::parse(&input.title));
    let description = f.check("description", NeedDescription::parse(&input.description));
    let target_groups = f.list("target_groups", &input.target_groups, |t| {
        TargetGroup::parse(t)
    });
    let skills_required = f.check(
        "skills_required",
        Tag::parse_list(input.skills_required.iter().map(String::as_str)),
    );
    let skills_nice_to_have = f.check(
        "skills_nice_to_have",
        Tag::parse_list(input.skills_nice_to_have.iter().map(String::as_str)),
    );
    let languages = parse_languages(&mut f, &input.languages, NeedDetails::MAX_LANGUAGES);
    let place = match input.postcode.as_deref() {
        None => Some(NeedPlace::Remote),
        Some(p) => f
            .check("postcode", Postcode::parse(p))
            .map(NeedPlace::AtPostcode),
    };
    let schedule = match (&input.date, &input.weekly) {
        (Some(date), None) => Some(NeedSchedule::OnDate { date: *date }),
        (None, Some(weekly)) => {
            parse_availability(&mut f, "weekly", weekly).map(NeedSchedule::Weekly)
        }
        (Some(_), Some(_)) => {
            f.fail("weekly", "give a one-off date or weekly slots, not both");
            None
        }
        (None, None) => {
            f.fail("date", "give a one-off date or weekly slots");
            None
        }
    };
    let volunteers_wanted = f.check(
        "volunteers_wanted",
        VolunteersWanted::parse(input.volunteers_wanted),
    );
    f.finish()?;
    match (
        title,
        description,
        target_groups,
        skills_required,
        skills_nice_to_have,
        languages,
        place,
        schedule,
        volunteers_wanted,
    ) {
        (
            Some(title),
            Some(description),
            Some(target_groups),
            Some(skills_required),
            Some(skills_nice_to_have),
            Some(languages),
            Some(place),
            Some(schedule),
            Some(volunteers_wanted),
        ) => Ok(NeedDetails {
            id,
            posted_by,
            title,
            description,
            target_groups,
            skills_required,
            skills_nice_to_have,
            languages,
            place,
            schedule,
            volunteers_wanted,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            children_under_15: input.children_under_15,
        }),
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        ))),
    }
}

/// Publish a need in the caller's municipality: it is open for matching at once.
#[utoipa::path(post, path = "/needs", tag = "needs", request_body = NeedInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn publish_need(
    State(state): State<AppState>,
    cmd: CommandRequest,
    body: JsonBody<NeedInput>,
) -> Result<Response, ApiError> {
    let id = NeedId::from(cmd.new_id::<Need>());
    // Parsed first, so that a bad body is answered without a trip to the log.
    let details = parse_need(id, PostedBy::Municipality, &body.value)?;
    ownership::check_own_name(
        &cmd.principal,
        body.value.organisation_id,
        "an organisation's token posts needs in its own name only",
    )?;
    let posted_by = municipality_or_organisation(
        &state,
        &cmd.principal,
        body.value.organisation_id,
        "the organisation is deactivated and cannot post needs",
    )
    .await?;
    let command = NeedCommand::Publish {
        details: NeedDetails {
            posted_by,
            ..details
        },
        at: Utc::now(),
    };
    cmd.create::<Need>(id, &body.digest, command).await
}

/// Replace a need's details (an open need; a closed one is reopened first).
#[utoipa::path(put, path = "/needs/{id}", tag = "needs", request_body = NeedInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn update_need(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<NeedInput>,
) -> Result<Response, ApiError> {
    if body.value.organisation_id.is_some() {
        return Err(ApiError::invalid(
            "organisation_id",
            "who posted a need cannot change; leave it out of an update",
        ));
    }
    let need = NeedId::from(id);
    // Who posted it is the need's own: taken from its history, so the body need not say it.
    let posted_by = match current::<Need>(&state, &cmd.principal, id).await? {
        samskab_domain::NeedState::NotPosted => return Err(ApiError::NotFound),
        samskab_domain::NeedState::Open(d)
        | samskab_domain::NeedState::Closed { details: d, .. } => d.posted_by,
    };
    let details = parse_need(need, posted_by, &body.value)?;
    let command = NeedCommand::Update {
        details,
        at: Utc::now(),
    };
    cmd.change::<Need>(need, &body.digest, command).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseNeedInput {
    /// Why; blank or absent for none.
    #[schema(schema_with = schema::closing_reason_or_null)]
    pub reason: Option<String>,
}

/// Close a need: it is no longer matched. It stays, with its matches, and may be reopened.
#[utoipa::path(post, path = "/needs/{id}/close", tag = "needs", request_body = CloseNeedInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn close_need(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<CloseNeedInput>,
) -> Result<Response, ApiError> {
    let mut f = FieldCheck::default();
    let reason = f.check(
        "reason",
        ClosingReason::parse_optional(body.value.reason.as_deref()),
    );
    f.finish()?;
    let command = NeedCommand::Close {
        reason: reason.flatten(),
        at: Utc::now(),
    };
    cmd.change::<Need>(NeedId::from(id), &body.digest, command)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenNeedInput {
    /// A new last day, for another season: a weekly need's end, a one-off need's date. Not
    /// before the need starts nor before today. Absent or null: the dates stay, and the need
    /// must not be over.
    pub last_day: Option<NaiveDate>,
}

/// Reopen a closed need.
#[utoipa::path(post, path = "/needs/{id}/reopen", tag = "needs", request_body = ReopenNeedInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn reopen_need(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<ReopenNeedInput>,
) -> Result<Response, ApiError> {
    let command = NeedCommand::Reopen {
        last_day: body.value.last_day,
        at: Utc::now(),
    };
    cmd.change::<Need>(NeedId::from(id), &body.digest, command)
        .await
}

/// A need as the matching read model holds it. No person's data.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct NeedView {
    pub id: Uuid,
    /// municipality or organisation
    pub posted_by: String,
    pub organisation_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub target_groups: Vec<String>,
    pub skills_required: Vec<String>,
    pub skills_nice_to_have: Vec<String>,
    pub languages: Vec<String>,
    /// Null when the work is remote.
    pub postcode: Option<String>,
    pub remote: bool,
    /// on_date or weekly
    pub schedule_kind: String,
    pub schedule_date: Option<NaiveDate>,
    /// A weekly need's slots: `[{"weekday": "tue", "part": "evening"}]`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub slots: Option<serde_json::Value>,
    pub hours_per_week: Option<i32>,
    pub volunteers_wanted: i32,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub children_under_15: bool,
    /// open or closed
    pub status: String,
    /// Matches of the need that have started and not ended (active or paused).
    pub active_matches: i32,
    /// As many matches are active as volunteers are wanted: suggestions leave the need out.
    pub filled: bool,
    pub closed_at: Option<DateTime<Utc>>,
    pub closing_reason: Option<String>,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Log position of the last change.
    pub position: i64,
}

const NEED_COLUMNS: &str = "id, posted_by, organisation_id, title, description, target_groups, \
    skills_required, skills_nice_to_have, languages, postcode, remote, schedule_kind, schedule_date, \
    slots, hours_per_week, volunteers_wanted, starts_on, ends_on, children_under_15, status, \
    active.matches AS active_matches, active.matches >= volunteers_wanted AS filled, \
    closed_at, closing_reason, published_at, updated_at, position";

/// The need with its count of active matches (`active`), for [`NEED_COLUMNS`].
fn need_with_active_matches() -> String {
    format!(
        "{schema}.need CROSS JOIN LATERAL (
            SELECT count(*)::int4 AS matches FROM {schema}.match m
            WHERE m.tenant = need.tenant AND m.need_id = need.id
              AND m.status IN {ACTIVE_SQL}) active",
        schema = MATCHING.schema
    )
}

const NEED_STATUSES: [&str; 2] = ["open", "closed"];

fn need_status_or_null() -> utoipa::openapi::Schema {
    schema::enum_or_null(&NEED_STATUSES)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NeedFilter {
    #[param(schema_with = need_status_or_null)]
    pub status: Option<String>,
    /// Needs that ask for this skill, required or nice to have (a tag; compared trimmed and
    /// lowercased).
    #[param(schema_with = schema::tag_query)]
    pub skill: Option<String>,
    #[param(schema_with = schema::target_group_or_null)]
    pub target_group: Option<String>,
    /// Needs at this postcode.
    #[param(schema_with = schema::postcode_query)]
    pub postcode: Option<String>,
    /// Only remote needs (true) or only needs at a place (false).
    pub remote: Option<bool>,
    /// Needs posted by this organisation.
    pub organisation_id: Option<Uuid>,
    /// Only needs with (true) or without (false) regular contact with children under 15.
    pub children_under_15: Option<bool>,
    /// Needs whose title contains this text (case-insensitive).
    #[param(schema_with = schema::query_text_or_null)]
    pub title: Option<String>,
    /// Only filled needs (true: as many active matches as volunteers wanted) or only needs
    /// with room (false).
    pub filled: Option<bool>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// Search the municipality's needs, oldest first.
#[utoipa::path(get, path = "/needs", tag = "needs", params(NeedFilter),
    responses((status = 200, body = Page<NeedView>)), security(("bearer" = [])))]
async fn list_needs(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<NeedFilter>,
) -> Result<axum::Json<Page<NeedView>>, ApiError> {
    let limit = check_limit(filter.limit)?;
    let status = check_filter("status", filter.status.as_deref(), |s| {
        NEED_STATUSES
            .contains(&s)
            .then(|| s.to_string())
            .ok_or_else(|| samskab_domain::InvalidValue("must be open or closed".into()))
    })?;
    let skill = check_filter("skill", filter.skill.as_deref(), |s| {
        Tag::parse(s).map(|t| t.to_string())
    })?;
    let target_group = check_filter("target_group", filter.target_group.as_deref(), |t| {
        TargetGroup::parse(t).map(|t| t.as_str().to_string())
    })?;
    let postcode = check_filter("postcode", filter.postcode.as_deref(), |p| {
        Postcode::parse(p).map(|p| p.to_string())
    })?;
    // An organisation's token sees its own needs only.
    let organisation = ownership::narrowed(principal.organisation(), filter.organisation_id)?;
    wait_for(&state, MATCHING, filter.min_position).await?;
    let rows: Vec<NeedView> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql()))
        .bind(principal.tenant.as_str())
        .bind(status)
        .bind(skill)
        .bind(target_group)
        .bind(postcode)
        .bind(filter.remote)
        .bind(organisation)
        .bind(filter.children_under_15)
        .bind(&filter.title)
        .bind(filter.filled)
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    Ok(axum::Json(page(rows, limit, |n| n.id)))
}

/// One need of the caller's municipality.
#[utoipa::path(get, path = "/needs/{id}", tag = "needs", params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = NeedView)), security(("bearer" = [])))]
async fn get_need(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<NeedView>, ApiError> {
    wait_for(&state, MATCHING, consistency.min_position).await?;
    let row: Option<NeedView> = sqlx::query_as(sqlx::AssertSqlSafe(get_sql()))
        .bind(principal.tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(axum::Json).ok_or(ApiError::NotFound)
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![("GET /needs", list_sql()), ("GET /needs/{id}", get_sql())]
}

fn list_sql() -> String {
    format!(
        "SELECT {NEED_COLUMNS} FROM {need}
     WHERE tenant = $1
       AND ($2::text IS NULL OR status = $2)
       AND ($3::text IS NULL OR skills_required @> ARRAY[$3] OR skills_nice_to_have @> ARRAY[$3])
       AND ($4::text IS NULL OR target_groups @> ARRAY[$4])
       AND ($5::text IS NULL OR postcode = $5)
       AND ($6::bool IS NULL OR remote = $6)
       AND ($7::uuid IS NULL OR organisation_id = $7)
       AND ($8::bool IS NULL OR children_under_15 = $8)
       AND ($9::text IS NULL OR strpos(lower(title), lower($9)) > 0)
       AND ($10::bool IS NULL OR (active.matches >= volunteers_wanted) = $10)
       AND ($11::uuid IS NULL OR id > $11)
     ORDER BY id LIMIT $12",
        need = need_with_active_matches()
    )
}

fn get_sql() -> String {
    format!(
        "SELECT {NEED_COLUMNS} FROM {need} WHERE tenant = $1 AND id = $2",
        need = need_with_active_matches()
    )
}
