//! Matches (matchning): a volunteer paired with a need or with a person (a mentee, a family),
//! and the life of the pairing. Commands go to the `Match` decider, which keeps the rules of a
//! match's own life (who may accept, when it may start, which months hours are logged for);
//! queries read `matching.match`.
//!
//! What spans entities is checked here, against the log, before a match is proposed: the
//! volunteer is active and consented to matching; the need is open and, when an organisation
//! posted it, the organisation is active, or the person is registered and not forgotten; a
//! need or person with children under 15 asks for a børneattest approved and valid on the
//! need's first day (or today, if it has begun; for a person, today); and the volunteer is not
//! already matched to that need or person.
//!
//! "Not already matched" is kept by the log itself, not by a read model that may lag: the
//! matches of one volunteer and one counterpart have ids derived from the pair and a generation
//! (0, 1, 2, ...; see [`pair_match_id`]). A proposal goes to the first generation that is not a
//! declined or ended match; if that one is live, the volunteer is matched already. Two
//! proposals at once address the same id, and the log takes only one (expected sequence 0).

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use samskab_domain::calendar::danish_date;
use samskab_domain::{
    Counterpart, Match, MatchCommand, MatchDetails, MatchEndReason, MatchId, MatchNote, MatchSide,
    MatchState, MonthlyMinutes, Need, NeedId, NeedState, Organisation, OrganisationState, Person,
    PersonId, PersonState, PostedBy, ProposedBy, Purpose, TenantId, Volunteer, VolunteerState,
    YearMonth,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::Principal;
use crate::body::{JsonBody, whole};
use crate::commands::{CommandAccepted, CommandRequest, NO_BODY, uuid_from_digest};
use crate::fields::FieldCheck;
use crate::ownership::{self, PathTenant};
use crate::problem::ApiError;
use crate::read::{
    Consistency, DIRECTORY, MATCHING, Page, QueryParams, check_filter, check_limit, page, wait_for,
};
use crate::routes::{EntityId, current_in, entity_ref_in};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(propose_match, list_matches))
        .routes(routes!(get_match))
        .routes(routes!(accept_match))
        .routes(routes!(decline_match))
        .routes(routes!(start_match))
        .routes(routes!(log_hours))
        .routes(routes!(pause_match))
        .routes(routes!(resume_match))
        .routes(routes!(end_match))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchProposalInput {
    /// An active volunteer who consented to matching: of the caller's municipality, or of
    /// `volunteer_municipality` if they opted in to the caller's. For a need
    /// with children under 15: with a børneattest approved and valid on the need's first day
    /// (or today, if it has begun). Not already in a proposed, agreed, active or paused match
    /// to the need (409).
    pub volunteer_id: Uuid,
    /// The volunteer's municipality when it is another than the caller's (a candidate's
    /// `municipality`); null or absent: the caller's. Not for a volunteer's own token, which
    /// proposes in its own municipality.
    #[schema(schema_with = schema::tenant_slug_or_null)]
    pub volunteer_municipality: Option<String>,
    /// An open need of the caller's municipality (or of `need_municipality`), whose
    /// organisation (if one posted it) is active. Exactly one of `need_id` and `person_id`.
    pub need_id: Option<Uuid>,
    /// The need's municipality when it is another than the caller's (a suggestion's
    /// `municipality`): only for a volunteer's own token, saying "I'm interested" in a need of
    /// a municipality they opted in to. The match is then that municipality's. Null or absent:
    /// the caller's.
    #[schema(schema_with = schema::tenant_slug_or_null)]
    pub need_municipality: Option<String>,
    /// A registered person of the caller's municipality (a mentee, a family), not forgotten.
    /// Exactly one of `need_id` and `person_id`.
    pub person_id: Option<Uuid>,
    /// Whose side proposes, and so has accepted already: a coordinator speaks for the need,
    /// a volunteer says "I'm interested".
    #[schema(schema_with = schema::proposed_by)]
    pub proposed_by: String,
    /// Why these two. Blank or absent for none. Not the place for personal details: a match's
    /// events are not sealed.
    #[schema(schema_with = schema::match_note_or_null)]
    pub note: Option<String>,
}

/// How many declined or ended matches of one pair a proposal looks past. A pair tried this
/// often is a data error, not a plan.
const MAX_GENERATIONS: u32 = 1_000;

/// The id of generation `generation` of the matches of `volunteer` and `counterpart` in
/// `tenant`: a UUID v8 from their hash, so every instance finds the same ids (see the module
/// docs). A need's pairs keep the derivation they had before persons could be counterparts.
pub fn pair_match_id(
    tenant: &str,
    counterpart: Counterpart,
    volunteer: Uuid,
    generation: u32,
) -> Uuid {
    let (domain, other): (&[u8], Uuid) = match counterpart {
        Counterpart::Need(need) => (b"samskab.match.pair.v1|", need.as_uuid()),
        Counterpart::Person(person) => (b"samskab.match.person-pair.v1|", person.as_uuid()),
    };
    let mut hasher = Sha256::new();
    hasher.update(domain);
    hasher.update(tenant.as_bytes());
    hasher.update(b"|");
    hasher.update(other.as_bytes());
    hasher.update(volunteer.as_bytes());
    hasher.update(generation.to_be_bytes());
    uuid_from_digest(hasher)
}

/// Propose a match of a volunteer and a need. The proposing side has accepted by proposing;
/// the match waits for the other side's acceptance.
#[utoipa::path(post, path = "/matches", tag = "matches", request_body = MatchProposalInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn propose_match(
    State(state): State<AppState>,
    cmd: CommandRequest,
    body: JsonBody<MatchProposalInput>,
) -> Result<Response, ApiError> {
    let input = &body.value;
    let mut f = FieldCheck::default();
    let proposed_by = f.check("proposed_by", ProposedBy::parse(&input.proposed_by));
    let note = f.check("note", MatchNote::parse_optional(input.note.as_deref()));
    let volunteer_municipality = f.optional(
        "volunteer_municipality",
        input.volunteer_municipality.as_deref(),
        TenantId::parse,
    );
    let need_municipality = f.optional(
        "need_municipality",
        input.need_municipality.as_deref(),
        TenantId::parse,
    );
    f.finish()?;
    let (Some(proposed_by), Some(note)) = (proposed_by, note) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let counterpart = match (input.need_id, input.person_id) {
        (Some(need), None) => Counterpart::Need(NeedId::from(need)),
        (None, Some(person)) => Counterpart::Person(PersonId::from(person)),
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::invalid(
                "need_id",
                "name exactly one of need_id and person_id",
            ));
        }
    };
    let sides = Sides::of(
        &cmd.principal,
        volunteer_municipality.flatten(),
        need_municipality.flatten(),
        counterpart,
    )?;
    // Two entities of the log, read at the same time; a refusal names the party's own first,
    // then the volunteer.
    let (volunteer, other) = tokio::join!(
        matchable_volunteer(&state, &sides, input.volunteer_id),
        read_counterpart(&state, &sides.match_tenant, counterpart),
    );
    let other = other?;
    ownership::check_proposal(
        &cmd.principal,
        input.volunteer_id,
        other.speaker(),
        proposed_by,
    )?;
    let volunteer = volunteer?;
    let other = matchable_counterpart(&state, &cmd.principal, &sides.match_tenant, other).await?;
    if let Some(day) = other.children_under_15_from {
        let day = danish_date(Utc::now()).max(day);
        if !volunteer.child_certificate.is_valid_on(day) {
            return Err(ApiError::invalid(
                "volunteer_id",
                format!(
                    "the {} involves regular contact with children under 15, and the \
                     volunteer has no børneattest approved and valid on {day}",
                    other.what
                ),
            ));
        }
    }
    let id = free_generation(
        &state,
        &cmd,
        &sides.match_tenant,
        counterpart,
        input.volunteer_id,
    )
    .await?;
    let command = MatchCommand::Propose {
        details: MatchDetails {
            id,
            volunteer_id: volunteer.id,
            counterpart,
            proposed_by,
            note,
            volunteer_municipality: sides.volunteer_elsewhere(),
        },
        at: Utc::now(),
    };
    let tenant = sides.match_tenant.clone();
    cmd.create_in::<Match>(&tenant, &id, &body.digest, command)
        .await
}

/// The municipalities of a proposal's two sides. The match is its counterpart's
/// municipality's. One side may be of another municipality, which the volunteer opted in to:
/// a coordinator names the volunteer's (`volunteer_municipality`), a volunteer's own token the
/// need's (`need_municipality`); the caller's is always one of the two, so the tenant still
/// comes from the token.
struct Sides {
    volunteer_tenant: TenantId,
    match_tenant: TenantId,
    /// Which side, if either, is of another municipality than the caller's.
    elsewhere: Elsewhere,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Elsewhere {
    Neither,
    /// The volunteer (`volunteer_municipality`, named by a coordinator).
    Volunteer,
    /// The need (`need_municipality`, named by a volunteer's own token).
    Need,
}

impl Elsewhere {
    /// The field a refusal about the other municipality names.
    fn field(self) -> &'static str {
        match self {
            Elsewhere::Neither | Elsewhere::Volunteer => "volunteer_municipality",
            Elsewhere::Need => "need_municipality",
        }
    }
}

impl Sides {
    fn of(
        principal: &Principal,
        volunteer_municipality: Option<TenantId>,
        need_municipality: Option<TenantId>,
        counterpart: Counterpart,
    ) -> Result<Self, ApiError> {
        // Naming the caller's own municipality is naming none.
        let own = |tenant: Option<TenantId>| tenant.filter(|t| *t != principal.tenant);
        let home = principal.tenant.clone();
        let volunteers_token = principal.volunteer().is_some();
        match (own(volunteer_municipality), own(need_municipality)) {
            (None, None) => Ok(Self {
                volunteer_tenant: home.clone(),
                match_tenant: home,
                elsewhere: Elsewhere::Neither,
            }),
            (Some(_), _) if volunteers_token => Err(ApiError::invalid(
                "volunteer_municipality",
                "a volunteer's token speaks for its own volunteer, of its own municipality \
                 (another municipality's need: name it in need_municipality)",
            )),
            (Some(volunteer_tenant), None) => Ok(Self {
                volunteer_tenant,
                match_tenant: home,
                elsewhere: Elsewhere::Volunteer,
            }),
            (_, Some(_)) if !volunteers_token => Err(ApiError::invalid(
                "need_municipality",
                "only a volunteer's own token proposes to another municipality's need; a \
                 coordinator proposes to the needs of their own",
            )),
            (_, Some(_)) if !matches!(counterpart, Counterpart::Need(_)) => Err(ApiError::invalid(
                "need_municipality",
                "names the municipality of a need (need_id); a person is matched in their own",
            )),
            (_, Some(match_tenant)) => Ok(Self {
                volunteer_tenant: home,
                match_tenant,
                elsewhere: Elsewhere::Need,
            }),
        }
    }

    /// The volunteer's municipality, as the match records it: when it is not the match's own.
    fn volunteer_elsewhere(&self) -> Option<TenantId> {
        (self.volunteer_tenant != self.match_tenant).then(|| self.volunteer_tenant.clone())
    }
}

/// The volunteer, if they may be matched: active, and consented to matching; to a match of
/// another municipality than their own only if they opted in to it (asked of their own log).
async fn matchable_volunteer(
    state: &AppState,
    sides: &Sides,
    id: Uuid,
) -> Result<samskab_domain::VolunteerDetails, ApiError> {
    let elsewhere = sides.elsewhere != Elsewhere::Neither;
    let known = current_in::<Volunteer>(state, sides.volunteer_tenant.as_str(), &id).await?;
    let why = match known {
        VolunteerState::Active(details)
            if elsewhere && !details.other_municipalities.contains(&sides.match_tenant) =>
        {
            return Err(ApiError::invalid(
                sides.elsewhere.field(),
                format!(
                    "the volunteer has not opted in to being matched in {}",
                    sides.match_tenant
                ),
            ));
        }
        VolunteerState::Active(details) if details.purposes.contains_key(&Purpose::Matching) => {
            return Ok(details);
        }
        VolunteerState::Active(_) => "the volunteer has not consented to matching",
        VolunteerState::ConsentWithdrawn { .. } => "the volunteer withdrew their consent",
        VolunteerState::Forgotten { .. } => "the volunteer was forgotten at their request",
        VolunteerState::NotRegistered if sides.elsewhere == Elsewhere::Volunteer => {
            "no volunteer with this id in that municipality"
        }
        VolunteerState::NotRegistered => {
            "no volunteer with this id in your municipality (one of another municipality: name \
             it in volunteer_municipality)"
        }
    };
    Err(ApiError::invalid("volunteer_id", why))
}

/// What a proposal needs to know of its counterpart, once it may be matched.
struct MatchableCounterpart {
    /// "need" or "person", for a refusal's reason.
    what: &'static str,
    /// With children under 15 from this day on (a need's first day; a person's is the day of
    /// the proposal): a børneattest valid then is required.
    children_under_15_from: Option<NaiveDate>,
}

/// A proposal's counterpart as the log has it, read once: who speaks for it (for the party's
/// check) and whether it may be matched (see [`matchable_counterpart`]).
enum CounterpartState {
    Need(NeedState),
    Person(PersonState),
}

impl CounterpartState {
    /// Who posted the need or registered the person; `None` if neither exists.
    fn speaker(&self) -> Option<PostedBy> {
        match self {
            CounterpartState::Need(need) => need.details().map(|n| n.posted_by),
            CounterpartState::Person(person) => person.details().map(|p| p.registered_by),
        }
    }
}

async fn read_counterpart(
    state: &AppState,
    tenant: &TenantId,
    counterpart: Counterpart,
) -> Result<CounterpartState, ApiError> {
    Ok(match counterpart {
        Counterpart::Need(id) => {
            CounterpartState::Need(current_in::<Need>(state, tenant.as_str(), &id.as_uuid()).await?)
        }
        Counterpart::Person(id) => CounterpartState::Person(
            current_in::<Person>(state, tenant.as_str(), &id.as_uuid()).await?,
        ),
    })
}

/// The counterpart, if a volunteer may be matched to it: a need that is open and whose
/// organisation (if one posted it) is active, or a person registered and not forgotten.
async fn matchable_counterpart(
    state: &AppState,
    principal: &Principal,
    tenant: &TenantId,
    counterpart: CounterpartState,
) -> Result<MatchableCounterpart, ApiError> {
    let here = if *tenant == principal.tenant {
        "your municipality".to_string()
    } else {
        tenant.to_string()
    };
    match counterpart {
        CounterpartState::Need(NeedState::Open(need)) => {
            if let PostedBy::Organisation(organisation) = need.posted_by
                && !matches!(
                    current_in::<Organisation>(state, tenant.as_str(), &organisation.as_uuid())
                        .await?,
                    OrganisationState::Active(_)
                )
            {
                return Err(ApiError::invalid(
                    "need_id",
                    "the organisation that posted the need is deactivated",
                ));
            }
            Ok(MatchableCounterpart {
                what: "need",
                children_under_15_from: need.children_under_15.then_some(need.starts_on),
            })
        }
        CounterpartState::Need(NeedState::Closed { .. }) => Err(ApiError::invalid(
            "need_id",
            "the need is closed; reopen it first",
        )),
        CounterpartState::Need(NeedState::NotPosted) => Err(ApiError::invalid(
            "need_id",
            format!("no need with this id in {here}"),
        )),
        CounterpartState::Person(PersonState::Registered(person)) => Ok(MatchableCounterpart {
            what: "person",
            children_under_15_from: person.children_under_15.then(|| danish_date(Utc::now())),
        }),
        CounterpartState::Person(PersonState::Forgotten { .. }) => Err(ApiError::invalid(
            "person_id",
            "the person was forgotten at their request",
        )),
        CounterpartState::Person(PersonState::NotRegistered) => Err(ApiError::invalid(
            "person_id",
            "no person with this id in your municipality",
        )),
    }
}

/// The id a new proposal of this pair takes: the first generation that is not a declined or
/// ended match. 409 when that one is live (the pair is matched already), unless it is the
/// match this request's `Idempotency-Key` proposed (then the proposal is answered again).
async fn free_generation(
    state: &AppState,
    cmd: &CommandRequest,
    tenant: &TenantId,
    counterpart: Counterpart,
    volunteer: Uuid,
) -> Result<MatchId, ApiError> {
    let tenant = tenant.as_str();
    for generation in 0..MAX_GENERATIONS {
        let id = pair_match_id(tenant, counterpart, volunteer, generation);
        let entity = entity_ref_in::<Match>(tenant, &id)?;
        let known = state
            .decisions
            .checked::<Match>(&state.log, &entity)
            .await?;
        let retried = cmd
            .idempotency_key()
            .is_some_and(|key| known.command_with_key(tenant, key).is_some());
        match known.state {
            _ if retried => return Ok(MatchId::from(id)),
            MatchState::NotProposed => return Ok(MatchId::from(id)),
            MatchState::Declined { .. } | MatchState::Ended { .. } => continue,
            live @ (MatchState::Proposed { .. }
            | MatchState::Agreed { .. }
            | MatchState::Active { .. }
            | MatchState::Paused { .. }) => {
                return Err(ApiError::Conflict(format!(
                    "the volunteer is already matched to this {}: match {id} is {}; \
                     decline or end it first",
                    match counterpart {
                        Counterpart::Need(_) => "need",
                        Counterpart::Person(_) => "person",
                    },
                    live.stage()
                )));
            }
        }
    }
    Err(ApiError::Conflict(format!(
        "this volunteer and counterpart were matched {MAX_GENERATIONS} times already"
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    /// The side that accepts: the volunteer, or the counterpart (the need's poster). The side
    /// that proposed has accepted already.
    #[schema(schema_with = schema::match_side)]
    pub side: String,
}

/// A side accepts a proposed match; when both have, the match is agreed.
#[utoipa::path(post, path = "/matches/{id}/accept", tag = "matches", request_body = AcceptInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn accept_match(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<AcceptInput>,
) -> Result<Response, ApiError> {
    let mut f = FieldCheck::default();
    let side = f.check("side", MatchSide::parse(&body.value.side));
    f.finish()?;
    let Some(side) = side else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    ownership::check_side(&cmd.principal, side)?;
    let command = MatchCommand::Accept {
        side,
        at: Utc::now(),
    };
    cmd.change::<Match>(MatchId::from(id), &body.digest, command)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineInput {
    /// The side that says no (also one that accepted and changed its mind).
    #[schema(schema_with = schema::match_side)]
    pub side: String,
    /// Why. Blank or absent for none.
    #[schema(schema_with = schema::match_note_or_null)]
    pub reason: Option<String>,
}

/// A side declines a proposed match. Final: a new try is a new proposal.
#[utoipa::path(post, path = "/matches/{id}/decline", tag = "matches", request_body = DeclineInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn decline_match(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<DeclineInput>,
) -> Result<Response, ApiError> {
    let mut f = FieldCheck::default();
    let side = f.check("side", MatchSide::parse(&body.value.side));
    let reason = f.check(
        "reason",
        MatchNote::parse_optional(body.value.reason.as_deref()),
    );
    f.finish()?;
    let (Some(side), Some(reason)) = (side, reason) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    ownership::check_side(&cmd.principal, side)?;
    let command = MatchCommand::Decline {
        side,
        reason,
        at: Utc::now(),
    };
    cmd.change::<Match>(MatchId::from(id), &body.digest, command)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartInput {
    /// The first day the pair meet: not before the match was proposed, and at most a year
    /// from today (in Denmark).
    pub on: NaiveDate,
}

/// An agreed match starts.
#[utoipa::path(post, path = "/matches/{id}/start", tag = "matches", request_body = StartInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn start_match(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<StartInput>,
) -> Result<Response, ApiError> {
    let command = MatchCommand::Start {
        on: body.value.on,
        at: Utc::now(),
    };
    cmd.change::<Match>(MatchId::from(id), &body.digest, command)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursInput {
    /// The month, `YYYY-MM`: this month or an earlier one, and not before the month the match
    /// started.
    #[schema(schema_with = schema::year_month)]
    pub period: String,
    /// Minutes of volunteer work in the month; logged again, the new figure replaces the old
    /// (0 corrects a month logged by mistake).
    #[serde(deserialize_with = "whole::u16")]
    #[schema(value_type = u16, minimum = 0, maximum = 18000)]
    pub minutes: u16,
}

/// Log a month's hours of an active or paused match.
#[utoipa::path(post, path = "/matches/{id}/hours", tag = "matches", request_body = HoursInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn log_hours(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<HoursInput>,
) -> Result<Response, ApiError> {
    let mut f = FieldCheck::default();
    let period = f.check("period", YearMonth::parse(&body.value.period));
    let minutes = f.check(
        "minutes",
        MonthlyMinutes::parse(u32::from(body.value.minutes)),
    );
    f.finish()?;
    let (Some(period), Some(minutes)) = (period, minutes) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let command = MatchCommand::LogHours {
        period,
        minutes,
        at: Utc::now(),
    };
    cmd.change::<Match>(MatchId::from(id), &body.digest, command)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseInput {
    /// Why (a summer break, an illness). Blank or absent for none.
    #[schema(schema_with = schema::match_note_or_null)]
    pub reason: Option<String>,
}

/// Pause an active match. It is still a match: hours may be logged for the months before.
#[utoipa::path(post, path = "/matches/{id}/pause", tag = "matches", request_body = PauseInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn pause_match(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<PauseInput>,
) -> Result<Response, ApiError> {
    let mut f = FieldCheck::default();
    let reason = f.check(
        "reason",
        MatchNote::parse_optional(body.value.reason.as_deref()),
    );
    f.finish()?;
    let command = MatchCommand::Pause {
        reason: reason.flatten(),
        at: Utc::now(),
    };
    cmd.change::<Match>(MatchId::from(id), &body.digest, command)
        .await
}

/// Resume a paused match.
#[utoipa::path(post, path = "/matches/{id}/resume", tag = "matches",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn resume_match(cmd: CommandRequest, EntityId(id): EntityId) -> Result<Response, ApiError> {
    let command = MatchCommand::Resume { at: Utc::now() };
    cmd.change::<Match>(MatchId::from(id), NO_BODY, command)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndInput {
    /// Why it ended; retention reports count matches by it.
    #[schema(schema_with = schema::match_end_reason)]
    pub reason: String,
}

/// End an agreed, active or paused match. Final.
#[utoipa::path(post, path = "/matches/{id}/end", tag = "matches", request_body = EndInput,
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn end_match(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<EndInput>,
) -> Result<Response, ApiError> {
    let mut f = FieldCheck::default();
    let reason = f.check("reason", MatchEndReason::parse(&body.value.reason));
    f.finish()?;
    let Some(reason) = reason else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let command = MatchCommand::End {
        reason,
        at: Utc::now(),
    };
    cmd.change::<Match>(MatchId::from(id), &body.digest, command)
        .await
}

/// A match as the matching read model holds it. The sides are named by id only.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct MatchView {
    pub id: Uuid,
    /// The municipality whose match it is: its counterpart's. Another than the caller's only
    /// for a volunteer's own token, matched to a need of a municipality they opted in to.
    pub municipality: String,
    pub volunteer_id: Uuid,
    /// The volunteer's municipality when it is another than the match's (they opted in to
    /// it); null: the match's own.
    pub volunteer_municipality: Option<String>,
    /// The counterpart: a need, or (`person_id`) a person; one of the two is null.
    pub need_id: Option<Uuid>,
    pub person_id: Option<Uuid>,
    /// coordinator or volunteer
    pub proposed_by: String,
    pub note: Option<String>,
    pub proposed_at: DateTime<Utc>,
    /// proposed, agreed, active, paused, declined or ended
    pub status: String,
    pub volunteer_accepted: bool,
    pub counterpart_accepted: bool,
    /// volunteer or counterpart, when declined.
    pub declined_by: Option<String>,
    pub declined_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub paused_since: Option<DateTime<Utc>>,
    pub pause_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    /// Minutes logged per month: `{"2026-11": 240}`.
    #[schema(value_type = Object)]
    pub minutes: serde_json::Value,
    /// All minutes logged.
    pub total_minutes: i64,
    pub updated_at: DateTime<Utc>,
    /// Log position of the last change.
    pub position: i64,
}

const MATCH_COLUMNS: &str = "id, tenant AS municipality, volunteer_id, volunteer_municipality, need_id, person_id, proposed_by, note, proposed_at, status, \
    volunteer_accepted, counterpart_accepted, declined_by, declined_at, decline_reason, \
    started_on, paused_since, pause_reason, ended_at, end_reason, minutes, \
    (SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each_text(minutes))::int8 AS total_minutes, \
    updated_at, position";

/// In SQL, the stages of a match that still pairs its volunteer with the need: a volunteer in
/// one is no candidate for it, and it is not suggested to them.
pub(crate) const LIVE_SQL: &str = "('proposed', 'agreed', 'active', 'paused')";
/// In SQL, the stages of a match that fills one of the need's places: started and not ended.
pub(crate) const ACTIVE_SQL: &str = "('active', 'paused')";

/// A match's stages, as `matching.match.status` has them.
const MATCH_STATUSES: [&str; 6] = [
    "proposed", "agreed", "active", "paused", "declined", "ended",
];

fn match_status_or_null() -> utoipa::openapi::Schema {
    schema::enum_or_null(&MATCH_STATUSES)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MatchFilter {
    /// A need's matches.
    pub need_id: Option<Uuid>,
    /// A volunteer's matches.
    pub volunteer_id: Option<Uuid>,
    /// A person's matches.
    pub person_id: Option<Uuid>,
    #[param(schema_with = match_status_or_null)]
    pub status: Option<String>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// The municipality's matches, by id. A volunteer's own token lists theirs, and with them
/// those of the municipalities they were matched in as a volunteer of another (each names its
/// `municipality`).
#[utoipa::path(get, path = "/matches", tag = "matches", params(MatchFilter),
    responses((status = 200, body = Page<MatchView>)), security(("bearer" = [])))]
async fn list_matches(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<MatchFilter>,
) -> Result<axum::Json<Page<MatchView>>, ApiError> {
    let limit = check_limit(filter.limit)?;
    let status = check_filter("status", filter.status.as_deref(), |s| {
        MATCH_STATUSES
            .contains(&s)
            .then(|| s.to_string())
            .ok_or_else(|| {
                samskab_domain::InvalidValue(format!(
                    "must be one of {}",
                    MATCH_STATUSES.join(", ")
                ))
            })
    })?;
    // A party's token sees its own matches only: a volunteer's, or those of an organisation's
    // needs.
    let volunteer = ownership::narrowed(principal.volunteer(), filter.volunteer_id)?;
    wait_for(&state, MATCHING, filter.min_position).await?;
    if principal.organisation().is_some() {
        // Which persons the organisation looks after is the directory's.
        wait_for(&state, DIRECTORY, filter.min_position).await?;
    }
    let rows: Vec<MatchView> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql()))
        .bind(principal.tenant.as_str())
        .bind(filter.need_id)
        .bind(volunteer)
        .bind(status)
        .bind(filter.after)
        .bind(limit + 1)
        .bind(principal.organisation())
        .bind(filter.person_id)
        .bind(principal.volunteer().is_some())
        .fetch_all(&state.pool)
        .await?;
    Ok(axum::Json(page(rows, limit, |m| m.id)))
}

/// One match of the caller's municipality (for a volunteer's own token: one of theirs, in
/// whichever municipality).
#[utoipa::path(get, path = "/matches/{id}", tag = "matches", params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = MatchView)), security(("bearer" = [])))]
async fn get_match(
    State(state): State<AppState>,
    PathTenant(tenant): PathTenant,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<MatchView>, ApiError> {
    wait_for(&state, MATCHING, consistency.min_position).await?;
    let row: Option<MatchView> = sqlx::query_as(sqlx::AssertSqlSafe(get_sql()))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    row.map(axum::Json).ok_or(ApiError::NotFound)
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /matches", list_sql()),
        ("GET /matches/{id}", get_sql()),
        (
            "a volunteer's match in a municipality they left",
            ownership::match_elsewhere_sql(),
        ),
    ]
}

fn list_sql() -> String {
    format!(
        "SELECT {MATCH_COLUMNS} FROM {schema}.match
     WHERE ((tenant = $1 AND NOT ($9::bool AND volunteer_municipality IS NOT NULL))
            OR ($9::bool AND volunteer_municipality = $1))
       AND ($2::uuid IS NULL OR need_id = $2)
       AND ($3::uuid IS NULL OR volunteer_id = $3)
       AND ($4::text IS NULL OR status = $4)
       AND ($5::uuid IS NULL OR id > $5)
       AND ($7::uuid IS NULL
            OR need_id IN (SELECT n.id FROM {schema}.need n
                           WHERE n.tenant = $1 AND n.organisation_id = $7)
            OR person_id IN (SELECT p.id FROM {directory}.person p
                             WHERE p.tenant = $1 AND p.organisation_id = $7))
       AND ($8::uuid IS NULL OR person_id = $8)
     ORDER BY id LIMIT $6",
        schema = MATCHING.schema,
        directory = DIRECTORY.schema,
    )
}

fn get_sql() -> String {
    format!(
        "SELECT {MATCH_COLUMNS} FROM {schema}.match WHERE tenant = $1 AND id = $2",
        schema = MATCHING.schema
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pairs_ids_differ_by_generation_tenant_and_sides() {
        let need = Counterpart::Need(NeedId::from(Uuid::from_u128(1)));
        let volunteer = Uuid::from_u128(2);
        let first = pair_match_id("rodovre", need, volunteer, 0);
        assert_eq!(first, pair_match_id("rodovre", need, volunteer, 0));
        assert_ne!(first, pair_match_id("rodovre", need, volunteer, 1));
        assert_ne!(first, pair_match_id("aarhus", need, volunteer, 0));
        let swapped = Counterpart::Need(NeedId::from(volunteer));
        assert_ne!(
            first,
            pair_match_id("rodovre", swapped, Uuid::from_u128(1), 0)
        );
        // A person with the need's id is another counterpart.
        let person = Counterpart::Person(PersonId::from(Uuid::from_u128(1)));
        assert_ne!(first, pair_match_id("rodovre", person, volunteer, 0));
        // The derivation of a need's pairs is what it was before persons: stored ids stay.
        assert_eq!(
            first.to_string(),
            "8b20b20b-5a65-8d4f-8061-8db20c8393ef",
            "pinned"
        );
    }
}
