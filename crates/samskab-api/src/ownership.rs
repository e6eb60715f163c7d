//! What a party token reaches: only what is its own. A volunteer's token speaks for one
//! volunteer, an organisation's for one organisation (`auth::Party`); the access table
//! (`access::ACCESS`) says which routes a party role may call at all, and this module decides
//! whether what the route names is the party's:
//!
//! | what the route names | a volunteer's own | an organisation's own |
//! |---|---|---|
//! | `/volunteers/{id}` | itself | — |
//! | `/organisations/{id}` | — | itself |
//! | `/needs/{id}` | — | a need it posted |
//! | `/persons/{id}` | — | a person it looks after |
//! | `/matches/{id}` | a match of theirs | a match to a need it posted or a person it looks after |
//!
//! The path's entity is checked here, by `access::enforce`, before any handler runs, against
//! the log (through the decision cache, which the command then finds warm). What a body or a
//! query names (the volunteer and need of a proposal, the side that accepts, the organisation
//! that posts, a list's filter) is checked by the handler with the functions below, each
//! called where the handler reads that field. An entity that is not the party's is 403; one
//! that does not exist is 404, as for staff.

use samskab_domain::{Counterpart, Match, MatchSide, Need, Person, PostedBy, ProposedBy};
use uuid::Uuid;

use crate::auth::{Party, Principal};
use crate::problem::ApiError;
use crate::routes::current;
use crate::state::AppState;

const NOT_YOURS: &str = "a volunteer's or an organisation's token reaches only its own";

/// Checks that `id`, the `{id}` of `path` (the route as the access table spells it), is the
/// party's own.
pub async fn check_path(
    state: &AppState,
    principal: &Principal,
    party: Party,
    path: &str,
    id: Uuid,
) -> Result<(), ApiError> {
    let own = match (party, room(path)) {
        (Party::Volunteer(me), Some(Room::Volunteers)) => id == me,
        (Party::Organisation(me), Some(Room::Organisations)) => id == me,
        (Party::Organisation(me), Some(Room::Needs)) => {
            need_poster(state, principal, id).await? == PostedBy::Organisation(me.into())
        }
        (Party::Organisation(me), Some(Room::Persons)) => {
            registrar(state, principal, id).await? == PostedBy::Organisation(me.into())
        }
        (party, Some(Room::Matches)) => {
            let (volunteer, counterpart) = match_sides(state, principal, id).await?;
            match party {
                Party::Volunteer(me) => volunteer == me,
                Party::Organisation(me) => {
                    speaker(state, principal, counterpart).await?
                        == PostedBy::Organisation(me.into())
                }
            }
        }
        _ => false,
    };
    if own {
        Ok(())
    } else {
        Err(ApiError::Forbidden(NOT_YOURS))
    }
}

enum Room {
    Volunteers,
    Organisations,
    Needs,
    Persons,
    Matches,
}

fn room(path: &str) -> Option<Room> {
    let first = path.trim_start_matches('/').split('/').next()?;
    match first {
        "volunteers" => Some(Room::Volunteers),
        "organisations" => Some(Room::Organisations),
        "needs" => Some(Room::Needs),
        "persons" => Some(Room::Persons),
        "matches" => Some(Room::Matches),
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

/// The volunteer and the counterpart of match `id`; 404 if it was never proposed.
async fn match_sides(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<(Uuid, Counterpart), ApiError> {
    let state = current::<Match>(state, principal, id).await?;
    let proposal = state.proposal().ok_or(ApiError::NotFound)?;
    Ok((
        proposal.details.volunteer_id.as_uuid(),
        proposal.details.counterpart,
    ))
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
/// (`coordinator`).
pub async fn check_proposal(
    state: &AppState,
    principal: &Principal,
    volunteer: Uuid,
    counterpart: Counterpart,
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
        Some(Party::Organisation(me)) if proposed_by == ProposedBy::Coordinator => {
            // An unknown need or person is the handler's 422, as for staff.
            match speaker(state, principal, counterpart).await {
                Ok(speaker) if speaker != PostedBy::Organisation(me.into()) => {
                    Err(ApiError::Forbidden(NOT_YOURS))
                }
                Ok(_) | Err(ApiError::NotFound) => Ok(()),
                Err(other) => Err(other),
            }
        }
        Some(Party::Organisation(_)) => Err(ApiError::Forbidden(
            "an organisation's token proposes for its own needs and persons, as proposed_by coordinator",
        )),
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
