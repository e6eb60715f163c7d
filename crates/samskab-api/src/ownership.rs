//! What a party token reaches: only what is its own. A volunteer's token speaks for one
//! volunteer, an organisation's for one organisation (`auth::Party`); the access table
//! (`access::ACCESS`) says which routes a party role may call at all, and this module decides
//! whether what the route names is the party's:
//!
//! | what the route names | a volunteer's own | an organisation's own |
//! |---|---|---|
//! | `/volunteers/{id}` | itself | — |
//! | `/volunteers/{id}/child-certificate/…` | itself | a volunteer whose børneattest case names it (consented to its request, or requested by it) |
//! | `/organisations/{id}` | — | itself |
//! | `/needs/{id}` | — | a need it posted |
//! | `/persons/{id}` | — | a person it looks after |
//! | `/matches/{id}` | a match of theirs | a match to a need it posted or a person it looks after |
//! | `/grant-pools/{id}` | — | any pool of its municipality (pools are public to applicants) |
//! | `/grant-applications/{id}` | — | an application it made as an association |
//! | `/notifications/{id}` | a message to them | a message to it |
//! | `/webhook-endpoints/{id}` | — | an endpoint of its own |
//!
//! An umbrella's token (`umbrella`, of the platform tenant) owns `/umbrellas/{id}` of itself
//! only; its report takes the umbrella from the token, never from the request.
//!
//! The path's entity is checked here, by `access::enforce`, before any handler runs, against
//! the log (through the decision cache, which the command then finds warm). What a body or a
//! query names (the volunteer and need of a proposal, the side that accepts, the organisation
//! that posts, a list's filter) is checked by the handler with the functions below, each
//! called where the handler reads that field. An entity that is not the party's is 403; one
//! that does not exist is 404, as for staff.
//!
//! A volunteer's match may live in another municipality: one the volunteer opted in to, whose
//! need they were matched to (a match is its counterpart's municipality's, and names the
//! volunteer's as `volunteer_municipality`). Their token reaches it there; the check finds in
//! which municipality, and leaves it to the handler as [`PathTenant`]. That municipality is
//! never taken from the request: only from the volunteer's own opt-in, in their own log, or
//! (for a municipality they have left since) from the matches that name them.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use samskab_domain::{
    Counterpart, GrantApplication, Match, MatchSide, Need, Person, PostedBy, ProposedBy, TenantId,
    Volunteer, VolunteerState, WebhookEndpoint,
};
use uuid::Uuid;

use crate::auth::{Party, Principal};
use crate::problem::ApiError;
use crate::read::MATCHING;
use crate::routes::{current, current_in};
use crate::state::AppState;

const NOT_YOURS: &str = "a volunteer's or an organisation's token reaches only its own";

/// The municipality whose log and read models hold the entity the path names: the caller's,
/// unless `access::enforce` found a volunteer's match in another (see the module docs).
#[derive(Clone, Debug)]
pub struct PathTenant(pub TenantId);

impl FromRequestParts<AppState> for PathTenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(elsewhere) = parts.extensions.get::<PathTenant>() {
            return Ok(elsewhere.clone());
        }
        let principal = Principal::from_request_parts(parts, state).await?;
        Ok(PathTenant(principal.tenant))
    }
}

/// Checks that `id`, the `{id}` of `path` (the route as the access table spells it), is the
/// party's own. `Some(municipality)` when it is, in another municipality than the caller's.
pub async fn check_path(
    state: &AppState,
    principal: &Principal,
    party: Party,
    path: &str,
    id: Uuid,
) -> Result<Option<TenantId>, ApiError> {
    if let (Party::Volunteer(me), Some(Room::Matches)) = (party, room(path)) {
        let tenant = volunteers_match(state, principal, me, id).await?;
        return Ok((tenant != principal.tenant).then_some(tenant));
    }
    let own = match (party, room(path)) {
        (Party::Volunteer(me), Some(Room::Volunteers | Room::Certificates)) => id == me,
        (Party::Organisation(me), Some(Room::Organisations)) => id == me,
        (Party::Umbrella(me), Some(Room::Umbrellas)) => id == me,
        (Party::Organisation(me), Some(Room::Certificates)) => {
            certificate_bodies(state, principal, id)
                .await?
                .contains(&PostedBy::Organisation(me.into()))
        }
        (Party::Organisation(me), Some(Room::Needs)) => {
            need_poster(state, principal, id).await? == PostedBy::Organisation(me.into())
        }
        // Applicants read the pools they may apply to: all of the municipality's.
        (Party::Organisation(_), Some(Room::GrantPools)) => true,
        (Party::Organisation(me), Some(Room::GrantApplications)) => {
            current::<GrantApplication>(state, principal, id)
                .await?
                .draft()
                .ok_or(ApiError::NotFound)?
                .organisation
                == Some(me.into())
        }
        (Party::Organisation(me), Some(Room::Persons)) => {
            registrar(state, principal, id).await? == PostedBy::Organisation(me.into())
        }
        (Party::Organisation(me), Some(Room::Matches)) => {
            let counterpart = current::<Match>(state, principal, id)
                .await?
                .proposal()
                .ok_or(ApiError::NotFound)?
                .details
                .counterpart;
            speaker(state, principal, counterpart).await? == PostedBy::Organisation(me.into())
        }
        (Party::Organisation(me), Some(Room::WebhookEndpoints)) => {
            current::<WebhookEndpoint>(state, principal, id)
                .await?
                .details()
                .ok_or(ApiError::NotFound)?
                .organisation
                == me.into()
        }
        (_, Some(Room::Notifications)) => {
            crate::routes::notifications::is_recipient(state, principal, id)
                .await?
                .ok_or(ApiError::NotFound)?
        }
        _ => false,
    };
    if own {
        Ok(None)
    } else {
        Err(ApiError::Forbidden(NOT_YOURS))
    }
}

/// The municipality that holds match `id` of volunteer `me`: the caller's (a match of theirs
/// there names no `volunteer_municipality`), or one the volunteer opted in to, whose match
/// names the caller's. A municipality the volunteer has left since is found in the matching
/// read model (it holds their matches there from before). 403 for another's match in the
/// caller's municipality, 404 for one found nowhere.
async fn volunteers_match(
    state: &AppState,
    principal: &Principal,
    me: Uuid,
    id: Uuid,
) -> Result<TenantId, ApiError> {
    let home = &principal.tenant;
    if let Some(proposal) = current::<Match>(state, principal, id).await?.proposal() {
        let details = &proposal.details;
        return if details.volunteer_id.as_uuid() == me && details.volunteer_municipality.is_none() {
            Ok(home.clone())
        } else {
            Err(ApiError::Forbidden(NOT_YOURS))
        };
    }
    let theirs = |known: &samskab_domain::MatchState| {
        known.proposal().is_some_and(|p| {
            p.details.volunteer_id.as_uuid() == me
                && p.details.volunteer_municipality.as_ref() == Some(home)
        })
    };
    let opted_in = match current_in::<Volunteer>(state, home.as_str(), &me).await? {
        VolunteerState::Active(details) => details.other_municipalities,
        _ => Vec::new(),
    };
    let known = futures::future::try_join_all(
        opted_in
            .iter()
            .map(|tenant| current_in::<Match>(state, tenant.as_str(), &id)),
    )
    .await?;
    if let Some((tenant, _)) = opted_in.iter().zip(&known).find(|(_, k)| theirs(k)) {
        return Ok(tenant.clone());
    }
    let left: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(match_elsewhere_sql()))
        .bind(id)
        .bind(me)
        .bind(home.as_str())
        .fetch_optional(&state.pool)
        .await?;
    let tenant = left
        .and_then(|t| TenantId::parse(&t).ok())
        .ok_or(ApiError::NotFound)?;
    // The read model named it; the log decides.
    if theirs(&current_in::<Match>(state, tenant.as_str(), &id).await?) {
        Ok(tenant)
    } else {
        Err(ApiError::NotFound)
    }
}

enum Room {
    Volunteers,
    /// `/volunteers/{id}/child-certificate/…`: a volunteer's børneattest case, which an
    /// organisation it names reaches (no other route of the volunteer's).
    Certificates,
    Organisations,
    Needs,
    Persons,
    Matches,
    GrantPools,
    GrantApplications,
    Notifications,
    WebhookEndpoints,
    Umbrellas,
}

fn room(path: &str) -> Option<Room> {
    let mut segments = path.trim_start_matches('/').split('/');
    let first = segments.next()?;
    match first {
        "volunteers" if segments.nth(1) == Some("child-certificate") => Some(Room::Certificates),
        "volunteers" => Some(Room::Volunteers),
        "organisations" => Some(Room::Organisations),
        "needs" => Some(Room::Needs),
        "persons" => Some(Room::Persons),
        "matches" => Some(Room::Matches),
        "grant-pools" => Some(Room::GrantPools),
        "grant-applications" => Some(Room::GrantApplications),
        "notifications" => Some(Room::Notifications),
        "webhook-endpoints" => Some(Room::WebhookEndpoints),
        "umbrellas" => Some(Room::Umbrellas),
        _ => None,
    }
}

/// Who posted need `id`; 404 if it was never posted.
async fn need_poster(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<PostedBy, ApiError> {
    current::<Need>(state, principal, id)
        .await?
        .details()
        .map(|need| need.posted_by)
        .ok_or(ApiError::NotFound)
}

/// The bodies volunteer `id`'s børneattest case names: the one they consented may request it,
/// and the one whose request awaits its assessment. 404 if they were never registered.
async fn certificate_bodies(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<Vec<PostedBy>, ApiError> {
    match current::<Volunteer>(state, principal, id).await? {
        VolunteerState::Active(details) => {
            let case = details.certificate_case;
            Ok(case
                .consent_for
                .into_iter()
                .chain(case.request.map(|request| request.by))
                .collect())
        }
        VolunteerState::NotRegistered => Err(ApiError::NotFound),
        VolunteerState::ConsentWithdrawn { .. } | VolunteerState::Forgotten { .. } => Ok(vec![]),
    }
}

/// Who registered person `id` (the municipality, or the organisation that looks after them);
/// 404 if they were never registered.
async fn registrar(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<PostedBy, ApiError> {
    current::<Person>(state, principal, id)
        .await?
        .details()
        .map(|person| person.registered_by)
        .ok_or(ApiError::NotFound)
}

/// The municipality of match $1 of volunteer $2 of municipality $3, in another municipality.
pub(crate) fn match_elsewhere_sql() -> String {
    format!(
        "SELECT tenant FROM {schema}.match
     WHERE id = $1 AND volunteer_id = $2 AND volunteer_municipality = $3",
        schema = MATCHING.schema
    )
}

/// Who speaks for a counterpart: who posted the need, or who registered the person.
async fn speaker(
    state: &AppState,
    principal: &Principal,
    counterpart: Counterpart,
) -> Result<PostedBy, ApiError> {
    match counterpart {
        Counterpart::Need(need) => need_poster(state, principal, need.as_uuid()).await,
        Counterpart::Person(person) => registrar(state, principal, person.as_uuid()).await,
    }
}

/// An organisation acts in its own name only: it posts needs and registers persons with its
/// own `organisation_id`, never another's or the municipality's (none). `refusal` says which
/// act was refused.
pub fn check_own_name(
    principal: &Principal,
    organisation: Option<Uuid>,
    refusal: &'static str,
) -> Result<(), ApiError> {
    match principal.organisation() {
        Some(me) if organisation != Some(me) => Err(ApiError::Forbidden(refusal)),
        _ => Ok(()),
    }
}

/// A proposal by a party: a volunteer says "I'm interested" for themself; an organisation
/// proposes a volunteer for a need it posted or a person it looks after, as that side
/// (`coordinator`). `speaker` is who posted the need or registered the person (`None`: there
/// is no such need or person, which is the handler's 422, as for staff).
pub fn check_proposal(
    principal: &Principal,
    volunteer: Uuid,
    speaker: Option<PostedBy>,
    proposed_by: ProposedBy,
) -> Result<(), ApiError> {
    match principal.party {
        None => Ok(()),
        Some(Party::Volunteer(me)) if volunteer == me && proposed_by == ProposedBy::Volunteer => {
            Ok(())
        }
        Some(Party::Volunteer(_)) => Err(ApiError::Forbidden(
            "a volunteer's token proposes only themself, as proposed_by volunteer",
        )),
        Some(Party::Organisation(me)) if proposed_by == ProposedBy::Coordinator => match speaker {
            Some(speaker) if speaker != PostedBy::Organisation(me.into()) => {
                Err(ApiError::Forbidden(NOT_YOURS))
            }
            _ => Ok(()),
        },
        Some(Party::Organisation(_)) => Err(ApiError::Forbidden(
            "an organisation's token proposes for its own needs and persons, as proposed_by coordinator",
        )),
        Some(Party::Umbrella(_)) => {
            Err(ApiError::Forbidden("an umbrella's token proposes no match"))
        }
    }
}

/// A party accepts or declines for its own side only: a volunteer for the volunteer, an
/// organisation for the need (the counterpart).
pub fn check_side(principal: &Principal, side: MatchSide) -> Result<(), ApiError> {
    match (principal.party, side) {
        (None, _)
        | (Some(Party::Volunteer(_)), MatchSide::Volunteer)
        | (Some(Party::Organisation(_)), MatchSide::Counterpart) => Ok(()),
        (Some(Party::Volunteer(_)), MatchSide::Counterpart) => Err(ApiError::Forbidden(
            "a volunteer's token speaks for the volunteer's side only",
        )),
        (Some(Party::Organisation(_)), MatchSide::Volunteer) => Err(ApiError::Forbidden(
            "an organisation's token speaks for the need's side (counterpart) only",
        )),
        (Some(Party::Umbrella(_)), _) => Err(ApiError::Forbidden(
            "an umbrella's token speaks for no side of a match",
        )),
    }
}

/// A list filter a party may not widen: its own id, or 403 when the request names another.
pub fn narrowed(own: Option<Uuid>, asked: Option<Uuid>) -> Result<Option<Uuid>, ApiError> {
    match (own, asked) {
        (Some(me), Some(other)) if me != other => Err(ApiError::Forbidden(NOT_YOURS)),
        (Some(me), _) => Ok(Some(me)),
        (None, asked) => Ok(asked),
    }
}
