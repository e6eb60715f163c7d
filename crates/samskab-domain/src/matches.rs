//! Matches (matchning): a volunteer paired with a need, and the life of that pairing as events:
//! proposed (by a coordinator, or by the volunteer's "I'm interested"), accepted or declined by
//! each side, started, hours logged per month, paused, resumed, ended with a reason. Retention
//! (how many matches last 3, 6, 12 months) follows from these events: see
//! [`MatchState::lasted_months`].
//!
//! A match names its two sides by id only, so it holds no natural person's data: its payloads
//! have no `personal` member and it has no `Forget` command. When the counterpart is a person
//! (a mentee, a refugee family), that person is an entity of their own (`Person`), with their
//! data sealed and forgettable as a volunteer's is, and the match holds only their id.
//!
//! Not here: whether the volunteer and the need exist and may be matched (the volunteer's
//! consent to matching, a valid, assessed børneattest when the need involves children under
//! 15, the need being open). Those span entities and are checked by whoever proposes, as an
//! organisation's existence is for a need. This decider keeps the rules of the match's own
//! life.

use std::collections::BTreeMap;

use crate::calendar::danish_date;
use crate::{
    Decider, DomainError, EntityKind, MatchEndReason, MatchId, MatchNote, MatchSide,
    MonthlyMinutes, NeedId, PersonId, ProposedBy, TenantId, VolunteerId, YearMonth,
};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The match decider.
pub struct Match;

/// The other side of a match, the one the volunteer's work is for: a need, or a person
/// registered by the municipality or an organisation (a young mentee, a refugee family; see
/// `person.rs`), named by id only.
///
/// JSON: `{"kind": "need", "id": "..."}` or `{"kind": "person", "id": "..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Counterpart {
    Need(NeedId),
    Person(PersonId),
}

/// A match as proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchDetails {
    pub id: MatchId,
    pub volunteer_id: VolunteerId,
    pub counterpart: Counterpart,
    /// Which side proposed: that side's acceptance is the proposal itself.
    pub proposed_by: ProposedBy,
    /// Why these two ("Tirsdag aften passer begge"); see [`MatchNote`] on what it must not hold.
    pub note: Option<MatchNote>,
    /// The volunteer's own municipality when it is another than the match's (the need's or
    /// the person's, where the match lives): they opted in to being matched there. `None`:
    /// the match's own. An optional member whose absence means what every earlier payload
    /// meant (ARCHITECTURE.md, "An event's payload is a contract").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volunteer_municipality: Option<TenantId>,
}

/// Payload of `dk.samskab.match.proposed.v1`: the details and when they were proposed, in one
/// flat object beside the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchProposed {
    #[serde(flatten)]
    pub details: MatchDetails,
    pub at: DateTime<Utc>,
}

/// A match's decision state. `Default` is "not yet proposed".
///
/// Every state after the proposal keeps it: who the sides are, and when it was proposed (a
/// match cannot start before that). A started match keeps its start date and the minutes
/// logged per month, which retention and the hours reports are counted from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MatchState {
    #[default]
    NotProposed,
    /// Waiting for a side's acceptance. The proposer's side has accepted by proposing, so one
    /// of the two is always `true`.
    Proposed {
        proposal: MatchProposed,
        volunteer_accepted: bool,
        counterpart_accepted: bool,
    },
    /// Both sides accepted; not started yet.
    Agreed { proposal: MatchProposed },
    Active {
        proposal: MatchProposed,
        started_on: NaiveDate,
        minutes: BTreeMap<YearMonth, MonthlyMinutes>,
    },
    /// Still a match (a summer break, an illness): hours may still be logged, for the months
    /// before the pause.
    Paused {
        proposal: MatchProposed,
        started_on: NaiveDate,
        minutes: BTreeMap<YearMonth, MonthlyMinutes>,
        since: DateTime<Utc>,
        reason: Option<MatchNote>,
    },
    /// A side said no to the proposal. Final: a new try is a new match.
    Declined {
        proposal: MatchProposed,
        by: MatchSide,
        reason: Option<MatchNote>,
        at: DateTime<Utc>,
    },
    /// Final. `started_on` is `None` for a match that ended after it was agreed, before it
    /// started.
    Ended {
        proposal: MatchProposed,
        started_on: Option<NaiveDate>,
        minutes: BTreeMap<YearMonth, MonthlyMinutes>,
        reason: MatchEndReason,
        at: DateTime<Utc>,
    },
}

impl MatchState {
    /// The proposal, which names the sides; `None` before there is one.
    pub fn proposal(&self) -> Option<&MatchProposed> {
        match self {
            MatchState::NotProposed => None,
            MatchState::Proposed { proposal, .. }
            | MatchState::Agreed { proposal }
            | MatchState::Active { proposal, .. }
            | MatchState::Paused { proposal, .. }
            | MatchState::Declined { proposal, .. }
            | MatchState::Ended { proposal, .. } => Some(proposal),
        }
    }

    /// The state's name, as refusals say it ("the match is paused; ...").
    pub fn stage(&self) -> &'static str {
        match self {
            MatchState::NotProposed => "not proposed",
            MatchState::Proposed { .. } => "proposed",
            MatchState::Agreed { .. } => "agreed",
            MatchState::Active { .. } => "active",
            MatchState::Paused { .. } => "paused",
            MatchState::Declined { .. } => "declined",
            MatchState::Ended { .. } => "ended",
        }
    }

    /// How many whole months the match has lasted: from the day it started to the day it
    /// ended, or to `on` while it is active or paused. A pause counts: retention asks whether
    /// the pair stayed together, and a summer break does not end that. A month is counted on
    /// the day of the month it started (or the month's last day, if shorter): started on
    /// 31 January, it has lasted one month on 28 February.
    ///
    /// `None` when it had not started by then: never started (proposed, agreed, declined, or
    /// ended before it started), or starting after `on` (or after the day it ended). Such a
    /// match is no part of retention.
    pub fn lasted_months(&self, on: NaiveDate) -> Option<u32> {
        let (started_on, until) = match self {
            MatchState::Active { started_on, .. } | MatchState::Paused { started_on, .. } => {
                (*started_on, on)
            }
            MatchState::Ended {
                started_on: Some(started_on),
                at,
                ..
            } => (*started_on, danish_date(*at)),
            MatchState::NotProposed
            | MatchState::Proposed { .. }
            | MatchState::Agreed { .. }
            | MatchState::Declined { .. }
            | MatchState::Ended {
                started_on: None, ..
            } => return None,
        };
        whole_months(started_on, until)
    }
}

/// How many whole months a match that started on `started_on` (and ended on `ended_on`, if it
/// has) had lasted as it stood on `on`: retention as of a day, for a report that may look back.
/// An end after `on` had not happened yet then. `None` if it had not started by `on`. Counted
/// as [`MatchState::lasted_months`] counts.
pub fn lasted_months_on(
    started_on: NaiveDate,
    ended_on: Option<NaiveDate>,
    on: NaiveDate,
) -> Option<u32> {
    if started_on > on {
        return None;
    }
    let until = ended_on.filter(|ended| *ended <= on).unwrap_or(on);
    whole_months(started_on, until)
}

/// Whole months from `from` to `until` (see [`MatchState::lasted_months`]); `None` if `until`
/// is before `from`.
fn whole_months(from: NaiveDate, until: NaiveDate) -> Option<u32> {
    use chrono::Datelike;
    if until < from {
        return None;
    }
    let months = (until.year() - from.year()) * 12 + until.month() as i32 - from.month() as i32;
    let months = u32::try_from(months).ok()?;
    // Months counted by the calendar; one less if the day of the month is not yet reached
    // (adding months keeps the day, or takes the month's last day if it has fewer).
    match from.checked_add_months(Months::new(months)) {
        Some(anniversary) if anniversary <= until => Some(months),
        _ => Some(months.saturating_sub(1)),
    }
}

/// What a coordinator or a volunteer asks of a match. In each, `at` is "now", passed in so
/// that `decide` stays pure; it is also the moment the event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchCommand {
    Propose {
        details: MatchDetails,
        at: DateTime<Utc>,
    },
    Accept {
        side: MatchSide,
        at: DateTime<Utc>,
    },
    /// While proposed, either side may decline, also a side that accepted (the volunteer
    /// changed their mind, the coordinator withdraws the proposal).
    Decline {
        side: MatchSide,
        reason: Option<MatchNote>,
        at: DateTime<Utc>,
    },
    /// The first day the pair meet: not before the proposal, at most a year from `at`.
    Start {
        on: NaiveDate,
        at: DateTime<Utc>,
    },
    /// The minutes of volunteer work in `period`; logged again, the new figure replaces the old.
    LogHours {
        period: YearMonth,
        minutes: MonthlyMinutes,
        at: DateTime<Utc>,
    },
    Pause {
        reason: Option<MatchNote>,
        at: DateTime<Utc>,
    },
    Resume {
        at: DateTime<Utc>,
    },
    End {
        reason: MatchEndReason,
        at: DateTime<Utc>,
    },
}

domain_events! {
    /// What happens to a match.
    pub enum MatchEvent for EntityKind::Match {
        Proposed(MatchProposed) = PROPOSED_V1 => "dk.samskab.match.proposed.v1",
        Accepted(MatchAccepted) = ACCEPTED_V1 => "dk.samskab.match.accepted.v1",
        Declined(MatchDeclined) = DECLINED_V1 => "dk.samskab.match.declined.v1",
        Started(MatchStarted) = STARTED_V1 => "dk.samskab.match.started.v1",
        HoursLogged(MatchHoursLogged) = HOURS_LOGGED_V1 => "dk.samskab.match.hours_logged.v1",
        Paused(MatchPaused) = PAUSED_V1 => "dk.samskab.match.paused.v1",
        Resumed(MatchResumed) = RESUMED_V1 => "dk.samskab.match.resumed.v1",
        Ended(MatchEnded) = ENDED_V1 => "dk.samskab.match.ended.v1",
    }
}

/// Payload of `dk.samskab.match.accepted.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchAccepted {
    pub id: MatchId,
    pub side: MatchSide,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.match.declined.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchDeclined {
    pub id: MatchId,
    pub side: MatchSide,
    pub reason: Option<MatchNote>,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.match.started.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchStarted {
    pub id: MatchId,
    /// The first day the pair meet, which may lie ahead of `at`.
    pub on: NaiveDate,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.match.hours_logged.v1`. The latest figure for a period is the
/// period's figure: a correction is the same event again, not a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchHoursLogged {
    pub id: MatchId,
    pub period: YearMonth,
    pub minutes: MonthlyMinutes,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.match.paused.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchPaused {
    pub id: MatchId,
    pub reason: Option<MatchNote>,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.match.resumed.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchResumed {
    pub id: MatchId,
    pub at: DateTime<Utc>,
}

/// Payload of `dk.samskab.match.ended.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchEnded {
    pub id: MatchId,
    pub reason: MatchEndReason,
    pub at: DateTime<Utc>,
}

impl MatchEvent {
    /// The entity this event is about.
    pub fn id(&self) -> MatchId {
        match self {
            MatchEvent::Proposed(e) => e.details.id,
            MatchEvent::Accepted(e) => e.id,
            MatchEvent::Declined(e) => e.id,
            MatchEvent::Started(e) => e.id,
            MatchEvent::HoursLogged(e) => e.id,
            MatchEvent::Paused(e) => e.id,
            MatchEvent::Resumed(e) => e.id,
            MatchEvent::Ended(e) => e.id,
        }
    }
}

/// A refusal because of the state the match is in, naming that state first.
fn refused(state: &MatchState, why: impl std::fmt::Display) -> DomainError {
    DomainError::conflict(format!("the match is {}; {why}", state.stage()))
}

/// The side a proposal still waits for.
fn waiting_for(volunteer_accepted: bool, counterpart_accepted: bool) -> &'static str {
    match (volunteer_accepted, counterpart_accepted) {
        (false, true) => "the volunteer",
        (true, false) => "the counterpart",
        _ => "both sides",
    }
}

/// When a step is recorded: at `at`, unless a clock behind the one that recorded the step
/// before (another API instance) says earlier; then at that step, never before it. The step
/// before is the pause for a paused match, and the proposal otherwise (the acceptances and the
/// start are not kept, and an order among them does not matter to any rule).
fn recorded_at(state: &MatchState, at: DateTime<Utc>) -> DateTime<Utc> {
    match state {
        MatchState::NotProposed => at,
        MatchState::Paused { since, .. } => at.max(*since),
        MatchState::Proposed { proposal, .. }
        | MatchState::Agreed { proposal }
        | MatchState::Active { proposal, .. }
        | MatchState::Declined { proposal, .. }
        | MatchState::Ended { proposal, .. } => at.max(proposal.at),
    }
}

/// The rules for the first day of a match: not before it was proposed (it would predate its
/// own agreement), and at most a year from now (further ahead is a typing error, not a plan).
fn check_start(
    on: NaiveDate,
    proposal: &MatchProposed,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let proposed_on = danish_date(proposal.at);
    if on < proposed_on {
        return Err(DomainError::rule(
            "on",
            format!("must not be before the match was proposed, on {proposed_on}"),
        ));
    }
    if let Some(limit) = danish_date(now).checked_add_months(Months::new(12))
        && on > limit
    {
        return Err(DomainError::rule(
            "on",
            format!("must be at most a year from today, on or before {limit}"),
        ));
    }
    Ok(())
}

/// Hours are logged for a month that has begun (this month, as the volunteer goes, or an
/// earlier one) and not before the month the match started. A month is all or nothing: the
/// month the match started in, and the month it was paused in, hold hours too.
fn check_period(
    period: YearMonth,
    started_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    if period.first_day() > danish_date(now) {
        return Err(DomainError::rule(
            "period",
            format!("{period} has not begun; hours are logged for this month or an earlier one"),
        ));
    }
    if period.first_day() < started_on && !period.contains(started_on) {
        return Err(DomainError::rule(
            "period",
            format!("must not be before the month the match started, {started_on}"),
        ));
    }
    Ok(())
}

impl Decider for Match {
    const KIND: EntityKind = EntityKind::Match;
    type State = MatchState;
    const STATE_VERSION: u32 = 1;
    type Command = MatchCommand;
    type Event = MatchEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        use MatchState::*;
        let not_found = DomainError::NotFound {
            kind: EntityKind::Match,
        };
        match command {
            MatchCommand::Propose { details, at } => match state {
                NotProposed => Ok(vec![MatchEvent::Proposed(MatchProposed {
                    details: details.clone(),
                    at: *at,
                })]),
                Proposed { .. }
                | Agreed { .. }
                | Active { .. }
                | Paused { .. }
                | Declined { .. }
                | Ended { .. } => Err(DomainError::AlreadyExists {
                    kind: EntityKind::Match,
                }),
            },
            MatchCommand::Accept { side, at } => match state {
                NotProposed => Err(not_found),
                Proposed {
                    proposal,
                    volunteer_accepted,
                    counterpart_accepted,
                } => {
                    let already = match side {
                        MatchSide::Volunteer => *volunteer_accepted,
                        MatchSide::Counterpart => *counterpart_accepted,
                    };
                    if already {
                        return Err(refused(
                            state,
                            format!("the {side} has already accepted it"),
                        ));
                    }
                    Ok(vec![MatchEvent::Accepted(MatchAccepted {
                        id: proposal.details.id,
                        side: *side,
                        at: recorded_at(state, *at),
                    })])
                }
                Declined { by, .. } => Err(refused(
                    state,
                    format!("the {by} declined it; propose a new match instead"),
                )),
                Agreed { .. } | Active { .. } | Paused { .. } | Ended { .. } => {
                    Err(refused(state, "only a proposed match can be accepted"))
                }
            },
            MatchCommand::Decline { side, reason, at } => match state {
                NotProposed => Err(not_found),
                Proposed { proposal, .. } => Ok(vec![MatchEvent::Declined(MatchDeclined {
                    id: proposal.details.id,
                    side: *side,
                    reason: reason.clone(),
                    at: recorded_at(state, *at),
                })]),
                Agreed { .. } | Active { .. } | Paused { .. } => Err(refused(
                    state,
                    "both sides have accepted it, so it is ended rather than declined",
                )),
                Declined { .. } | Ended { .. } => {
                    Err(refused(state, "only a proposed match can be declined"))
                }
            },
            MatchCommand::Start { on, at } => match state {
                NotProposed => Err(not_found),
                Agreed { proposal } => {
                    check_start(*on, proposal, *at)?;
                    Ok(vec![MatchEvent::Started(MatchStarted {
                        id: proposal.details.id,
                        on: *on,
                        at: recorded_at(state, *at),
                    })])
                }
                Proposed {
                    volunteer_accepted,
                    counterpart_accepted,
                    ..
                } => Err(refused(
                    state,
                    format!(
                        "it waits for {}'s acceptance before it can start",
                        waiting_for(*volunteer_accepted, *counterpart_accepted)
                    ),
                )),
                Active { .. } | Paused { .. } => Err(refused(state, "it has already started")),
                Declined { .. } | Ended { .. } => {
                    Err(refused(state, "only an agreed match can be started"))
                }
            },
            MatchCommand::LogHours {
                period,
                minutes,
                at,
            } => match state {
                NotProposed => Err(not_found),
                Active {
                    proposal,
                    started_on,
                    minutes: logged,
                }
                | Paused {
                    proposal,
                    started_on,
                    minutes: logged,
                    ..
                } => {
                    check_period(*period, *started_on, *at)?;
                    if logged.get(period) == Some(minutes) {
                        return Ok(vec![]);
                    }
                    Ok(vec![MatchEvent::HoursLogged(MatchHoursLogged {
                        id: proposal.details.id,
                        period: *period,
                        minutes: *minutes,
                        at: recorded_at(state, *at),
                    })])
                }
                Proposed { .. } | Agreed { .. } => {
                    Err(refused(state, "hours are logged once it has started"))
                }
                Declined { .. } | Ended { .. } => Err(refused(
                    state,
                    "hours are logged only while a match is active or paused",
                )),
            },
            MatchCommand::Pause { reason, at } => match state {
                NotProposed => Err(not_found),
                Active { proposal, .. } => Ok(vec![MatchEvent::Paused(MatchPaused {
                    id: proposal.details.id,
                    reason: reason.clone(),
                    at: recorded_at(state, *at),
                })]),
                Proposed { .. }
                | Agreed { .. }
                | Paused { .. }
                | Declined { .. }
                | Ended { .. } => Err(refused(state, "only an active match can be paused")),
            },
            MatchCommand::Resume { at } => match state {
                NotProposed => Err(not_found),
                Paused { proposal, .. } => Ok(vec![MatchEvent::Resumed(MatchResumed {
                    id: proposal.details.id,
                    at: recorded_at(state, *at),
                })]),
                Proposed { .. }
                | Agreed { .. }
                | Active { .. }
                | Declined { .. }
                | Ended { .. } => Err(refused(state, "only a paused match can be resumed")),
            },
            MatchCommand::End { reason, at } => match state {
                NotProposed => Err(not_found),
                Agreed { proposal } | Active { proposal, .. } | Paused { proposal, .. } => {
                    Ok(vec![MatchEvent::Ended(MatchEnded {
                        id: proposal.details.id,
                        reason: *reason,
                        at: recorded_at(state, *at),
                    })])
                }
                Proposed { .. } => Err(refused(
                    state,
                    "a proposal is declined by a side rather than ended",
                )),
                Declined { .. } | Ended { .. } => Err(refused(
                    state,
                    "only an agreed, active or paused match can be ended",
                )),
            },
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        use MatchEvent as E;
        use MatchState::*;
        match (state, event) {
            (NotProposed, E::Proposed(proposal)) => Proposed {
                proposal: proposal.clone(),
                volunteer_accepted: proposal.details.proposed_by == ProposedBy::Volunteer,
                counterpart_accepted: proposal.details.proposed_by == ProposedBy::Coordinator,
            },
            // A second proposal cannot have been decided; keep what we have.
            (
                state @ (Proposed { .. }
                | Agreed { .. }
                | Active { .. }
                | Paused { .. }
                | Declined { .. }
                | Ended { .. }),
                E::Proposed(_),
            ) => state,
            (
                Proposed {
                    proposal,
                    mut volunteer_accepted,
                    mut counterpart_accepted,
                },
                E::Accepted(e),
            ) => {
                match e.side {
                    MatchSide::Volunteer => volunteer_accepted = true,
                    MatchSide::Counterpart => counterpart_accepted = true,
                }
                if volunteer_accepted && counterpart_accepted {
                    Agreed { proposal }
                } else {
                    Proposed {
                        proposal,
                        volunteer_accepted,
                        counterpart_accepted,
                    }
                }
            }
            (Proposed { proposal, .. }, E::Declined(e)) => Declined {
                proposal,
                by: e.side,
                reason: e.reason.clone(),
                at: e.at,
            },
            (Agreed { proposal }, E::Started(e)) => Active {
                proposal,
                started_on: e.on,
                minutes: BTreeMap::new(),
            },
            // The latest figure for a period wins.
            (
                Active {
                    proposal,
                    started_on,
                    mut minutes,
                },
                E::HoursLogged(e),
            ) => {
                minutes.insert(e.period, e.minutes);
                Active {
                    proposal,
                    started_on,
                    minutes,
                }
            }
            (
                Paused {
                    proposal,
                    started_on,
                    mut minutes,
                    since,
                    reason,
                },
                E::HoursLogged(e),
            ) => {
                minutes.insert(e.period, e.minutes);
                Paused {
                    proposal,
                    started_on,
                    minutes,
                    since,
                    reason,
                }
            }
            (
                Active {
                    proposal,
                    started_on,
                    minutes,
                },
                E::Paused(e),
            ) => Paused {
                proposal,
                started_on,
                minutes,
                since: e.at,
                reason: e.reason.clone(),
            },
            (
                Paused {
                    proposal,
                    started_on,
                    minutes,
                    ..
                },
                E::Resumed(_),
            ) => Active {
                proposal,
                started_on,
                minutes,
            },
            (Agreed { proposal }, E::Ended(e)) => Ended {
                proposal,
                started_on: None,
                minutes: BTreeMap::new(),
                reason: e.reason,
                at: e.at,
            },
            (
                Active {
                    proposal,
                    started_on,
                    minutes,
                }
                | Paused {
                    proposal,
                    started_on,
                    minutes,
                    ..
                },
                E::Ended(e),
            ) => Ended {
                proposal,
                started_on: Some(started_on),
                minutes,
                reason: e.reason,
                at: e.at,
            },
            // Anything else cannot have been decided in that state (an acceptance after the
            // agreement, a start before it, hours before the start or after the end, a second
            // ending): the state stays as it was. In particular nothing changes a declined or
            // ended match, and nothing makes a match out of events without its proposal.
            (
                state @ (NotProposed
                | Agreed { .. }
                | Active { .. }
                | Paused { .. }
                | Declined { .. }
                | Ended { .. }),
                E::Accepted(_),
            )
            | (
                state @ (NotProposed
                | Agreed { .. }
                | Active { .. }
                | Paused { .. }
                | Declined { .. }
                | Ended { .. }),
                E::Declined(_),
            )
            | (
                state @ (NotProposed
                | Proposed { .. }
                | Active { .. }
                | Paused { .. }
                | Declined { .. }
                | Ended { .. }),
                E::Started(_),
            )
            | (
                state @ (NotProposed
                | Proposed { .. }
                | Agreed { .. }
                | Declined { .. }
                | Ended { .. }),
                E::HoursLogged(_),
            )
            | (
                state @ (NotProposed
                | Proposed { .. }
                | Agreed { .. }
                | Paused { .. }
                | Declined { .. }
                | Ended { .. }),
                E::Paused(_),
            )
            | (
                state @ (NotProposed
                | Proposed { .. }
                | Agreed { .. }
                | Active { .. }
                | Declined { .. }
                | Ended { .. }),
                E::Resumed(_),
            )
            | (
                state @ (NotProposed | Proposed { .. } | Declined { .. } | Ended { .. }),
                E::Ended(_),
            ) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::{DomainEvent, EventDecodeError};
    use proptest::prelude::*;

    // The canonical life of the match: proposed by the coordinator on 2025-09-03, accepted by
    // Søren the next day, started on Tuesday 2025-09-09, September's hours logged on 1
    // October, paused for Christmas on 2025-12-15, resumed on 2026-01-10, completed at the
    // summer holidays.

    fn details() -> MatchDetails {
        match_details(match_id())
    }

    fn proposed() -> MatchEvent {
        match_proposed(match_id())
    }

    fn proposal() -> MatchProposed {
        MatchProposed {
            details: details(),
            at: at(2025, 9, 3),
        }
    }

    /// Søren's "I'm interested", the other way a match begins.
    fn interested() -> MatchEvent {
        MatchEvent::Proposed(MatchProposed {
            details: MatchDetails {
                proposed_by: ProposedBy::Volunteer,
                note: None,
                ..details()
            },
            at: at(2025, 9, 3),
        })
    }

    fn accepted(side: MatchSide) -> MatchEvent {
        MatchEvent::Accepted(MatchAccepted {
            id: match_id(),
            side,
            at: at(2025, 9, 4),
        })
    }

    fn declined(side: MatchSide) -> MatchEvent {
        MatchEvent::Declined(MatchDeclined {
            id: match_id(),
            side,
            reason: None,
            at: at(2025, 9, 4),
        })
    }

    fn started() -> MatchEvent {
        MatchEvent::Started(MatchStarted {
            id: match_id(),
            on: date(2025, 9, 9),
            at: at(2025, 9, 5),
        })
    }

    fn hours(period: &str, minutes: u32, on: DateTime<Utc>) -> MatchEvent {
        MatchEvent::HoursLogged(MatchHoursLogged {
            id: match_id(),
            period: month(period),
            minutes: minutes_of(minutes),
            at: on,
        })
    }

    fn paused() -> MatchEvent {
        MatchEvent::Paused(MatchPaused {
            id: match_id(),
            reason: MatchNote::parse_optional(Some("Juleferie")).expect("valid"),
            at: at(2025, 12, 15),
        })
    }

    fn resumed() -> MatchEvent {
        MatchEvent::Resumed(MatchResumed {
            id: match_id(),
            at: at(2026, 1, 10),
        })
    }

    fn ended(reason: MatchEndReason) -> MatchEvent {
        MatchEvent::Ended(MatchEnded {
            id: match_id(),
            reason,
            at: at(2026, 6, 30),
        })
    }

    fn month(text: &str) -> YearMonth {
        YearMonth::parse(text).expect("valid month")
    }

    fn minutes_of(minutes: u32) -> MonthlyMinutes {
        MonthlyMinutes::parse(minutes).expect("valid minutes")
    }

    fn agreed_history() -> Vec<MatchEvent> {
        vec![proposed(), accepted(MatchSide::Volunteer)]
    }

    fn active_history() -> Vec<MatchEvent> {
        let mut history = agreed_history();
        history.push(started());
        history
    }

    fn paused_history() -> Vec<MatchEvent> {
        let mut history = active_history();
        history.push(paused());
        history
    }

    fn ended_history() -> Vec<MatchEvent> {
        let mut history = active_history();
        history.push(ended(MatchEndReason::Completed));
        history
    }

    // "Now" for the commands below, unless a test says otherwise: mid-October 2025.
    fn now() -> DateTime<Utc> {
        at(2025, 10, 15)
    }

    fn propose() -> MatchCommand {
        MatchCommand::Propose {
            details: details(),
            at: at(2025, 9, 3),
        }
    }

    fn accept(side: MatchSide) -> MatchCommand {
        MatchCommand::Accept { side, at: now() }
    }

    fn decline(side: MatchSide) -> MatchCommand {
        MatchCommand::Decline {
            side,
            reason: None,
            at: now(),
        }
    }

    fn start(on: NaiveDate) -> MatchCommand {
        MatchCommand::Start { on, at: now() }
    }

    fn log(period: &str, minutes: u32) -> MatchCommand {
        MatchCommand::LogHours {
            period: month(period),
            minutes: minutes_of(minutes),
            at: now(),
        }
    }

    fn pause() -> MatchCommand {
        MatchCommand::Pause {
            reason: None,
            at: now(),
        }
    }

    fn resume() -> MatchCommand {
        MatchCommand::Resume { at: now() }
    }

    fn end(reason: MatchEndReason) -> MatchCommand {
        MatchCommand::End { reason, at: now() }
    }

    fn rule_field(result: &Result<Vec<MatchEvent>, DomainError>) -> Option<&str> {
        match result {
            Err(DomainError::Rule { field, .. }) => field.as_deref(),
            _ => None,
        }
    }

    fn conflict_reason(result: &Result<Vec<MatchEvent>, DomainError>) -> Option<&str> {
        match result {
            Err(DomainError::Conflict { reason }) => Some(reason),
            _ => None,
        }
    }

    // --- Every state against every command ---

    /// What a command leads to, in the table below.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Outcome {
        /// Accepted, appending one event of this type.
        Appends(&'static str),
        NotFound,
        AlreadyExists,
        /// Refused as a conflict (409) whose reason names the state.
        Conflict,
    }

    #[test]
    fn every_command_in_every_state() {
        use MatchSide::{Counterpart, Volunteer};
        use Outcome::*;
        let states: [(&str, Vec<MatchEvent>); 8] = [
            ("not proposed", vec![]),
            ("proposed by the coordinator", vec![proposed()]),
            ("proposed by the volunteer", vec![interested()]),
            ("agreed", agreed_history()),
            ("active", active_history()),
            ("paused", paused_history()),
            ("declined", vec![proposed(), declined(Volunteer)]),
            ("ended", ended_history()),
        ];
        // Commands whose fields are valid in every state that allows them.
        let commands = [
            propose(),
            accept(Volunteer),
            accept(Counterpart),
            decline(Volunteer),
            decline(Counterpart),
            start(date(2025, 10, 20)),
            log("2025-10", 240),
            pause(),
            resume(),
            end(MatchEndReason::Completed),
        ];
        let c = Conflict;
        let nf = NotFound;
        let ae = AlreadyExists;
        let proposed = Appends(MatchEvent::PROPOSED_V1);
        let accepted = Appends(MatchEvent::ACCEPTED_V1);
        let declined = Appends(MatchEvent::DECLINED_V1);
        let started = Appends(MatchEvent::STARTED_V1);
        let logged = Appends(MatchEvent::HOURS_LOGGED_V1);
        let paused = Appends(MatchEvent::PAUSED_V1);
        let resumed = Appends(MatchEvent::RESUMED_V1);
        let ended = Appends(MatchEvent::ENDED_V1);
        #[rustfmt::skip]
        let expected: [[Outcome; 10]; 8] = [
            // propose  accept v  accept c  decline v decline c start    log     pause   resume   end
            [proposed,  nf,       nf,       nf,       nf,       nf,      nf,     nf,     nf,      nf],
            [ae,        accepted, c,        declined, declined, c,       c,      c,      c,       c],
            [ae,        c,        accepted, declined, declined, c,       c,      c,      c,       c],
            [ae,        c,        c,        c,        c,        started, c,      c,      c,       ended],
            [ae,        c,        c,        c,        c,        c,       logged, paused, c,       ended],
            [ae,        c,        c,        c,        c,        c,       logged, c,      resumed, ended],
            [ae,        c,        c,        c,        c,        c,       c,      c,      c,       c],
            [ae,        c,        c,        c,        c,        c,       c,      c,      c,       c],
        ];
        for ((name, history), row) in states.iter().zip(expected) {
            let stage = Match::replay(history).stage();
            for (command, want) in commands.iter().zip(row) {
                let result = when::<Match>(history, command);
                let got = match &result {
                    Ok(events) if events.len() == 1 => Appends(events[0].event_type()),
                    Err(DomainError::NotFound {
                        kind: EntityKind::Match,
                    }) => NotFound,
                    Err(DomainError::AlreadyExists {
                        kind: EntityKind::Match,
                    }) => AlreadyExists,
                    Err(DomainError::Conflict { reason })
                        if reason.starts_with(&format!("the match is {stage};")) =>
                    {
                        Conflict
                    }
                    _ => panic!("{name}, {command:?}: unexpected {result:?}"),
                };
                assert_eq!(got, want, "{name}, {command:?}: {result:?}");
                // What is appended is about this match, and moves it on.
                if let Ok(events) = &result {
                    assert!(events.iter().all(|e| e.id() == match_id()));
                    let after = history.iter().chain(events);
                    assert_ne!(
                        Match::replay(after),
                        Match::replay(history),
                        "{name}, {command:?}"
                    );
                }
            }
        }
    }

    // --- Propose ---

    #[test]
    fn a_coordinator_proposes_and_the_volunteer_accepts() {
        assert_eq!(when::<Match>(&[], &propose()), Ok(vec![proposed()]));
        assert_eq!(
            Match::replay(&[proposed()]),
            MatchState::Proposed {
                proposal: proposal(),
                volunteer_accepted: false,
                counterpart_accepted: true,
            },
            "the coordinator's proposal is the counterpart's acceptance"
        );
        let accept = MatchCommand::Accept {
            side: MatchSide::Volunteer,
            at: at(2025, 9, 4),
        };
        assert_eq!(
            when::<Match>(&[proposed()], &accept),
            Ok(vec![accepted(MatchSide::Volunteer)])
        );
        assert_eq!(
            Match::replay(&agreed_history()),
            MatchState::Agreed {
                proposal: proposal()
            }
        );
    }

    #[test]
    fn a_volunteers_interest_is_their_acceptance() {
        assert_eq!(
            Match::replay(&[interested()]),
            MatchState::Proposed {
                proposal: MatchProposed {
                    details: MatchDetails {
                        proposed_by: ProposedBy::Volunteer,
                        note: None,
                        ..details()
                    },
                    at: at(2025, 9, 3),
                },
                volunteer_accepted: true,
                counterpart_accepted: false,
            }
        );
        let result = when::<Match>(&[interested()], &accept(MatchSide::Volunteer));
        assert_eq!(
            conflict_reason(&result),
            Some("the match is proposed; the volunteer has already accepted it")
        );
        assert!(matches!(
            Match::replay(&[interested(), accepted(MatchSide::Counterpart)]),
            MatchState::Agreed { .. }
        ));
    }

    #[test]
    fn proposing_twice_is_already_exists() {
        for history in [vec![proposed()], ended_history()] {
            assert_eq!(
                when::<Match>(&history, &propose()),
                Err(DomainError::AlreadyExists {
                    kind: EntityKind::Match
                })
            );
        }
    }

    // --- Accept and decline ---

    #[test]
    fn a_side_cannot_accept_twice() {
        let result = when::<Match>(&[proposed()], &accept(MatchSide::Counterpart));
        assert_eq!(
            conflict_reason(&result),
            Some("the match is proposed; the counterpart has already accepted it")
        );
        let result = when::<Match>(&agreed_history(), &accept(MatchSide::Volunteer));
        assert_eq!(
            conflict_reason(&result),
            Some("the match is agreed; only a proposed match can be accepted")
        );
    }

    #[test]
    fn either_side_declines_a_proposal_with_or_without_a_reason() {
        let reason =
            MatchNote::parse_optional(Some("Tirsdag aften passer ikke længere")).expect("valid");
        let command = MatchCommand::Decline {
            side: MatchSide::Volunteer,
            reason: reason.clone(),
            at: at(2025, 9, 5),
        };
        let expected = MatchEvent::Declined(MatchDeclined {
            id: match_id(),
            side: MatchSide::Volunteer,
            reason: reason.clone(),
            at: at(2025, 9, 5),
        });
        assert_eq!(
            when::<Match>(&[proposed()], &command),
            Ok(vec![expected.clone()])
        );
        assert_eq!(
            Match::replay(&[proposed(), expected]),
            MatchState::Declined {
                proposal: proposal(),
                by: MatchSide::Volunteer,
                reason,
                at: at(2025, 9, 5),
            }
        );
        // The coordinator withdraws their own proposal: the counterpart's side declines.
        assert_eq!(
            when::<Match>(&[proposed()], &decline(MatchSide::Counterpart)).map(|e| e.len()),
            Ok(1)
        );
    }

    #[test]
    fn a_declined_match_says_who_declined_it() {
        let result = when::<Match>(
            &[proposed(), declined(MatchSide::Volunteer)],
            &accept(MatchSide::Volunteer),
        );
        assert_eq!(
            conflict_reason(&result),
            Some("the match is declined; the volunteer declined it; propose a new match instead")
        );
    }

    #[test]
    fn an_agreed_match_is_ended_not_declined() {
        for history in [agreed_history(), active_history(), paused_history()] {
            let result = when::<Match>(&history, &decline(MatchSide::Counterpart));
            assert!(
                conflict_reason(&result).is_some_and(|r| r.contains("ended rather than declined")),
                "{result:?}"
            );
        }
    }

    #[test]
    fn steps_timed_before_the_one_before_are_recorded_at_it() {
        // A clock behind the proposal's (another API instance).
        let early = at(2025, 9, 1);
        assert_eq!(
            when::<Match>(
                &[proposed()],
                &MatchCommand::Decline {
                    side: MatchSide::Volunteer,
                    reason: None,
                    at: early
                }
            ),
            Ok(vec![MatchEvent::Declined(MatchDeclined {
                id: match_id(),
                side: MatchSide::Volunteer,
                reason: None,
                at: at(2025, 9, 3),
            })])
        );
        assert_eq!(
            when::<Match>(&paused_history(), &MatchCommand::Resume { at: early }),
            Ok(vec![MatchEvent::Resumed(MatchResumed {
                id: match_id(),
                at: at(2025, 12, 15),
            })])
        );
    }

    // --- Start ---

    #[test]
    fn starting_an_agreed_match() {
        let command = MatchCommand::Start {
            on: date(2025, 9, 9),
            at: at(2025, 9, 5),
        };
        assert_eq!(
            when::<Match>(&agreed_history(), &command),
            Ok(vec![started()])
        );
        assert_eq!(
            Match::replay(&active_history()),
            MatchState::Active {
                proposal: proposal(),
                started_on: date(2025, 9, 9),
                minutes: BTreeMap::new(),
            }
        );
    }

    #[test]
    fn a_proposal_waits_for_the_other_sides_acceptance_before_it_starts() {
        let result = when::<Match>(&[proposed()], &start(date(2025, 10, 20)));
        assert_eq!(
            conflict_reason(&result),
            Some(
                "the match is proposed; it waits for the volunteer's acceptance before it can start"
            )
        );
        let result = when::<Match>(&[interested()], &start(date(2025, 10, 20)));
        assert!(
            conflict_reason(&result).is_some_and(|r| r.contains("the counterpart's acceptance")),
            "{result:?}"
        );
    }

    #[test]
    fn the_start_is_not_before_the_proposal_nor_more_than_a_year_ahead() {
        // Proposed on 2025-09-03; now is 2025-10-15.
        let history = agreed_history();
        for on in [date(2025, 9, 2), date(2026, 10, 16), date(20250, 1, 1)] {
            let result = when::<Match>(&history, &start(on));
            assert_eq!(rule_field(&result), Some("on"), "{on}: {result:?}");
        }
        // The day it was proposed, a day already past, and a year from today are all fine.
        for on in [date(2025, 9, 3), date(2025, 10, 1), date(2026, 10, 15)] {
            assert!(when::<Match>(&history, &start(on)).is_ok(), "{on}");
        }
        let result = when::<Match>(&history, &start(date(2025, 9, 2)));
        assert!(
            matches!(&result, Err(DomainError::Rule { reason, .. }) if reason.contains("2025-09-03")),
            "{result:?}"
        );
    }

    // --- Hours ---

    #[test]
    fn hours_are_logged_per_month_and_a_new_figure_replaces_the_old() {
        let september = hours("2025-09", 480, now());
        assert_eq!(
            when::<Match>(&active_history(), &log("2025-09", 480)),
            Ok(vec![september.clone()])
        );
        let mut history = active_history();
        history.push(september);
        // The same figure again changes nothing.
        assert_eq!(when::<Match>(&history, &log("2025-09", 480)), Ok(vec![]));
        // A correction, and the month under way.
        history.push(hours("2025-09", 450, now()));
        history.push(hours("2025-10", 90, now()));
        assert!(matches!(
            Match::replay(&history),
            MatchState::Active { minutes, .. }
                if minutes == BTreeMap::from([
                    (month("2025-09"), minutes_of(450)),
                    (month("2025-10"), minutes_of(90)),
                ])
        ));
        // Zero is a figure: it corrects a month logged by mistake.
        assert_eq!(
            when::<Match>(&history, &log("2025-10", 0)),
            Ok(vec![hours("2025-10", 0, now())])
        );
    }

    #[test]
    fn hours_are_logged_for_a_month_from_the_start_to_now() {
        // Started 2025-09-09; now is 2025-10-15.
        let history = active_history();
        for (period, field) in [
            ("2025-11", Some("period")),
            ("2025-08", Some("period")),
            ("2025-09", None),
            ("2025-10", None),
        ] {
            assert_eq!(
                rule_field(&when::<Match>(&history, &log(period, 60))),
                field,
                "{period}"
            );
        }
    }

    #[test]
    fn hours_in_a_paused_month_are_logged_afterwards() {
        // Paused on 2025-12-15: December's hours come in January, still paused.
        let command = MatchCommand::LogHours {
            period: month("2025-12"),
            minutes: minutes_of(360),
            at: at(2026, 1, 2),
        };
        let expected = hours("2025-12", 360, at(2026, 1, 2));
        assert_eq!(
            when::<Match>(&paused_history(), &command),
            Ok(vec![expected.clone()])
        );
        let mut history = paused_history();
        history.push(expected);
        history.push(resumed());
        assert!(matches!(
            Match::replay(&history),
            MatchState::Active { minutes, .. } if minutes.get(&month("2025-12")) == Some(&minutes_of(360))
        ));
    }

    #[test]
    fn hours_are_not_logged_before_the_start_or_after_the_end() {
        for (history, words) in [
            (agreed_history(), "once it has started"),
            (ended_history(), "only while a match is active or paused"),
        ] {
            let result = when::<Match>(&history, &log("2025-10", 60));
            assert!(
                conflict_reason(&result).is_some_and(|r| r.contains(words)),
                "{result:?}"
            );
        }
    }

    // --- Pause, resume ---

    #[test]
    fn pausing_and_resuming() {
        let command = MatchCommand::Pause {
            reason: MatchNote::parse_optional(Some("Juleferie")).expect("valid"),
            at: at(2025, 12, 15),
        };
        assert_eq!(
            when::<Match>(&active_history(), &command),
            Ok(vec![paused()])
        );
        assert_eq!(
            Match::replay(&paused_history()),
            MatchState::Paused {
                proposal: proposal(),
                started_on: date(2025, 9, 9),
                minutes: BTreeMap::new(),
                since: at(2025, 12, 15),
                reason: MatchNote::parse_optional(Some("Juleferie")).expect("valid"),
            }
        );
        let command = MatchCommand::Resume {
            at: at(2026, 1, 10),
        };
        assert_eq!(
            when::<Match>(&paused_history(), &command),
            Ok(vec![resumed()])
        );
        let mut history = paused_history();
        history.push(resumed());
        assert_eq!(Match::replay(&history), Match::replay(&active_history()));
    }

    #[test]
    fn pausing_twice_or_resuming_an_active_match_is_a_conflict() {
        assert_eq!(
            conflict_reason(&when::<Match>(&paused_history(), &pause())),
            Some("the match is paused; only an active match can be paused")
        );
        assert_eq!(
            conflict_reason(&when::<Match>(&active_history(), &resume())),
            Some("the match is active; only a paused match can be resumed")
        );
    }

    // --- End ---

    #[test]
    fn ending_an_agreed_active_or_paused_match() {
        let command = MatchCommand::End {
            reason: MatchEndReason::Completed,
            at: at(2026, 6, 30),
        };
        for history in [agreed_history(), active_history(), paused_history()] {
            assert_eq!(
                when::<Match>(&history, &command),
                Ok(vec![ended(MatchEndReason::Completed)])
            );
        }
        let mut history = paused_history();
        history.push(hours("2025-09", 480, now()));
        history.push(ended(MatchEndReason::VolunteerStopped));
        assert_eq!(
            Match::replay(&history),
            MatchState::Ended {
                proposal: proposal(),
                started_on: Some(date(2025, 9, 9)),
                minutes: BTreeMap::from([(month("2025-09"), minutes_of(480))]),
                reason: MatchEndReason::VolunteerStopped,
                at: at(2026, 6, 30),
            }
        );
        let mut never_started = agreed_history();
        never_started.push(ended(MatchEndReason::NoLongerSuitable));
        assert!(matches!(
            Match::replay(&never_started),
            MatchState::Ended {
                started_on: None,
                ..
            }
        ));
    }

    #[test]
    fn a_proposal_is_declined_not_ended_and_nothing_ends_twice() {
        let result = when::<Match>(&[proposed()], &end(MatchEndReason::Other));
        assert_eq!(
            conflict_reason(&result),
            Some("the match is proposed; a proposal is declined by a side rather than ended")
        );
        let result = when::<Match>(&ended_history(), &end(MatchEndReason::Other));
        assert_eq!(
            conflict_reason(&result),
            Some("the match is ended; only an agreed, active or paused match can be ended")
        );
    }

    #[test]
    fn commands_on_an_unknown_match_are_not_found() {
        for command in [
            accept(MatchSide::Volunteer),
            start(date(2025, 10, 20)),
            log("2025-10", 60),
            end(MatchEndReason::Completed),
        ] {
            assert_eq!(
                when::<Match>(&[], &command),
                Err(DomainError::NotFound {
                    kind: EntityKind::Match
                })
            );
        }
    }

    // --- Retention ---

    #[test]
    fn a_match_lasts_whole_months_from_its_start() {
        // Started 2025-09-09.
        let active = Match::replay(&active_history());
        for (on, months) in [
            (date(2025, 9, 8), None),
            (date(2025, 9, 9), Some(0)),
            (date(2025, 10, 8), Some(0)),
            (date(2025, 10, 9), Some(1)),
            (date(2025, 12, 9), Some(3)),
            (date(2026, 3, 8), Some(5)),
            (date(2026, 3, 9), Some(6)),
            (date(2026, 9, 9), Some(12)),
        ] {
            assert_eq!(active.lasted_months(on), months, "{on}");
        }
        // A pause counts.
        assert_eq!(
            Match::replay(&paused_history()).lasted_months(date(2026, 3, 9)),
            Some(6)
        );
    }

    #[test]
    fn an_ended_match_lasted_until_its_end() {
        // Started 2025-09-09, ended 2026-06-30: nine whole months, whenever asked.
        let ended = Match::replay(&ended_history());
        for on in [date(2026, 7, 1), date(2030, 1, 1), date(2025, 1, 1)] {
            assert_eq!(ended.lasted_months(on), Some(9), "{on}");
        }
    }

    #[test]
    fn retention_on_a_day_counts_what_had_happened_by_then() {
        let (started, ended) = (date(2025, 9, 9), Some(date(2026, 6, 30)));
        assert_eq!(lasted_months_on(started, ended, date(2025, 9, 8)), None);
        assert_eq!(lasted_months_on(started, ended, date(2025, 12, 8)), Some(2));
        assert_eq!(lasted_months_on(started, ended, date(2025, 12, 9)), Some(3));
        assert_eq!(lasted_months_on(started, ended, date(2030, 1, 1)), Some(9));
        assert_eq!(lasted_months_on(started, None, date(2026, 9, 9)), Some(12));
        // Ended the day it started: a match, of no month.
        assert_eq!(lasted_months_on(started, Some(started), started), Some(0));
        // As the state counts it, once the end is behind the day asked about.
        let state = Match::replay(&ended_history());
        assert_eq!(
            lasted_months_on(started, ended, date(2027, 1, 1)),
            state.lasted_months(date(2027, 1, 1))
        );
    }

    #[test]
    fn a_match_that_never_started_has_no_duration() {
        let mut ended_before_start = agreed_history();
        ended_before_start.push(ended(MatchEndReason::NoLongerSuitable));
        for history in [
            vec![],
            vec![proposed()],
            agreed_history(),
            vec![proposed(), declined(MatchSide::Volunteer)],
            ended_before_start,
        ] {
            assert_eq!(
                Match::replay(&history).lasted_months(date(2026, 9, 9)),
                None
            );
        }
        // Started on a day ahead that the end came before.
        let mut history = agreed_history();
        history.push(MatchEvent::Started(MatchStarted {
            id: match_id(),
            on: date(2026, 8, 1),
            at: at(2025, 9, 5),
        }));
        history.push(ended(MatchEndReason::NoLongerSuitable));
        assert_eq!(
            Match::replay(&history).lasted_months(date(2026, 9, 9)),
            None
        );
    }

    #[test]
    fn a_month_is_counted_on_the_same_day_or_the_months_last() {
        let months = |from, until| whole_months(from, until);
        assert_eq!(months(date(2025, 1, 31), date(2025, 2, 27)), Some(0));
        assert_eq!(months(date(2025, 1, 31), date(2025, 2, 28)), Some(1));
        assert_eq!(months(date(2024, 1, 31), date(2024, 2, 29)), Some(1));
        assert_eq!(months(date(2025, 1, 31), date(2025, 3, 30)), Some(1));
        assert_eq!(months(date(2025, 1, 31), date(2025, 3, 31)), Some(2));
        assert_eq!(months(date(2024, 12, 15), date(2025, 12, 14)), Some(11));
        assert_eq!(months(date(2024, 12, 15), date(2025, 12, 15)), Some(12));
        assert_eq!(months(date(2025, 6, 1), date(2025, 5, 31)), None);
    }

    // --- Evolve ---

    #[test]
    fn evolve_tolerates_events_out_of_place() {
        // Nothing makes a match without its proposal.
        for event in [
            accepted(MatchSide::Volunteer),
            declined(MatchSide::Volunteer),
            started(),
            hours("2025-09", 60, now()),
            paused(),
            resumed(),
            ended(MatchEndReason::Completed),
        ] {
            assert_eq!(Match::replay(&[event]), MatchState::NotProposed);
        }
        // A second proposal, an acceptance after the agreement, a start before it, hours
        // before the start: each keeps the state it meets.
        let mut history = vec![
            proposed(),
            interested(),
            started(),
            hours("2025-09", 60, now()),
        ];
        assert_eq!(Match::replay(&history), Match::replay(&[proposed()]));
        history.extend([
            accepted(MatchSide::Volunteer),
            accepted(MatchSide::Counterpart),
        ]);
        assert_eq!(Match::replay(&history), Match::replay(&agreed_history()));
        // Nothing changes a declined or an ended match.
        let mut declined_history = vec![proposed(), declined(MatchSide::Counterpart)];
        let before = Match::replay(&declined_history);
        declined_history.extend([accepted(MatchSide::Volunteer), started(), resumed()]);
        assert_eq!(Match::replay(&declined_history), before);
        let mut ended = ended_history();
        ended.extend([
            hours("2025-09", 60, now()),
            resumed(),
            paused(),
            ended_event_other(),
        ]);
        assert_eq!(Match::replay(&ended), Match::replay(&ended_history()));
    }

    fn ended_event_other() -> MatchEvent {
        MatchEvent::Ended(MatchEnded {
            id: match_id(),
            reason: MatchEndReason::Other,
            at: at(2027, 1, 1),
        })
    }

    // --- Payloads ---

    #[test]
    fn payload_shape_is_flat_snake_case_with_the_id() {
        let payload = proposed().to_payload();
        assert_eq!(
            payload,
            serde_json::json!({
                "id": match_id().to_string(),
                "volunteer_id": volunteer_id().to_string(),
                "counterpart": {"kind": "need", "id": need_id().to_string()},
                "proposed_by": "coordinator",
                "note": "Tirsdag aften passer begge parter, og der er brug for en, der taler ukrainsk.",
                "at": "2025-09-03T10:00:00Z",
            })
        );
        assert!(
            payload.get("personal").is_none(),
            "a match names people by id only"
        );
        assert_eq!(
            hours("2025-09", 450, now()).to_payload(),
            serde_json::json!({
                "id": match_id().to_string(),
                "period": "2025-09",
                "minutes": 450,
                "at": "2025-10-15T10:00:00Z",
            })
        );
        assert_eq!(
            started().to_payload()["on"],
            serde_json::json!("2025-09-09")
        );
        assert_eq!(
            ended(MatchEndReason::CounterpartStopped).to_payload()["reason"],
            serde_json::json!("counterpart_stopped")
        );
        assert_eq!(
            accepted(MatchSide::Counterpart).to_payload()["side"],
            serde_json::json!("counterpart")
        );
    }

    #[test]
    fn every_event_type_round_trips() {
        let events = [
            proposed(),
            interested(),
            accepted(MatchSide::Volunteer),
            declined(MatchSide::Counterpart),
            started(),
            hours("2025-09", 0, now()),
            hours("2025-10", MonthlyMinutes::MAX, now()),
            paused(),
            resumed(),
            ended(MatchEndReason::NoLongerSuitable),
        ];
        for event in events {
            assert_eq!(
                MatchEvent::from_payload(event.event_type(), &event.to_payload()),
                Ok(event)
            );
        }
        assert_eq!(
            MatchEvent::TYPES,
            [
                "dk.samskab.match.proposed.v1",
                "dk.samskab.match.accepted.v1",
                "dk.samskab.match.declined.v1",
                "dk.samskab.match.started.v1",
                "dk.samskab.match.hours_logged.v1",
                "dk.samskab.match.paused.v1",
                "dk.samskab.match.resumed.v1",
                "dk.samskab.match.ended.v1",
            ]
        );
        assert_eq!(<MatchEvent as DomainEvent>::KIND.as_str(), "match");
    }

    #[test]
    fn decoding_unknown_and_malformed_payloads() {
        assert_eq!(
            MatchEvent::from_payload("dk.samskab.match.agreed.v1", &serde_json::json!({})),
            Err(EventDecodeError::UnknownType(
                "dk.samskab.match.agreed.v1".into()
            ))
        );
        // Each value re-validates while decoding.
        let bad_proposals = [
            (
                "counterpart",
                serde_json::json!({"kind": "family", "id": need_id()}),
            ),
            (
                "counterpart",
                serde_json::json!({"kind": "person", "id": "x"}),
            ),
            (
                "counterpart",
                serde_json::json!({"kind": "need", "id": "x"}),
            ),
            ("proposed_by", serde_json::json!("municipality")),
            ("note", serde_json::json!(" ")),
            ("volunteer_id", serde_json::json!(null)),
            ("at", serde_json::json!("yesterday")),
        ];
        for (field, value) in bad_proposals {
            let mut payload = proposed().to_payload();
            payload[field] = value.clone();
            let result = MatchEvent::from_payload(MatchEvent::PROPOSED_V1, &payload);
            assert!(
                matches!(&result, Err(EventDecodeError::Malformed { event_type, .. }) if event_type == MatchEvent::PROPOSED_V1),
                "{field} = {value}: {result:?}"
            );
        }
        // The note is optional: absent reads as none.
        let mut payload = proposed().to_payload();
        payload.as_object_mut().map(|o| o.remove("note"));
        assert!(matches!(
            MatchEvent::from_payload(MatchEvent::PROPOSED_V1, &payload),
            Ok(MatchEvent::Proposed(MatchProposed {
                details: MatchDetails { note: None, .. },
                ..
            }))
        ));
        let bad_hours = [
            ("period", serde_json::json!("2025-13")),
            ("minutes", serde_json::json!(18_001)),
            ("minutes", serde_json::json!(1.5)),
        ];
        for (field, value) in bad_hours {
            let mut payload = hours("2025-09", 60, now()).to_payload();
            payload[field] = value.clone();
            assert!(
                matches!(
                    MatchEvent::from_payload(MatchEvent::HOURS_LOGGED_V1, &payload),
                    Err(EventDecodeError::Malformed { .. })
                ),
                "{field} = {value}"
            );
        }
        let mut payload = ended(MatchEndReason::Other).to_payload();
        payload["reason"] = serde_json::json!("bored");
        assert!(matches!(
            MatchEvent::from_payload(MatchEvent::ENDED_V1, &payload),
            Err(EventDecodeError::Malformed { .. })
        ));
    }

    /// Any command, with plausible fields around the canonical dates.
    fn arb_command() -> impl Strategy<Value = MatchCommand> {
        let when = (0i64..800).prop_map(|days| at(2025, 9, 1) + chrono::Duration::days(days));
        let day = (0i64..800).prop_map(|days| date(2025, 9, 1) + chrono::Duration::days(days));
        let side = proptest::sample::select(MatchSide::ALL);
        prop_oneof![
            (when.clone(), proptest::sample::select(ProposedBy::ALL)).prop_map(
                |(at, proposed_by)| MatchCommand::Propose {
                    details: MatchDetails {
                        proposed_by,
                        ..details()
                    },
                    at,
                }
            ),
            (side.clone(), when.clone()).prop_map(|(side, at)| MatchCommand::Accept { side, at }),
            (side, when.clone()).prop_map(|(side, at)| MatchCommand::Decline {
                side,
                reason: None,
                at
            }),
            (day.clone(), when.clone()).prop_map(|(on, at)| MatchCommand::Start { on, at }),
            (day, 0..=MonthlyMinutes::MAX, when.clone()).prop_map(|(d, minutes, at)| {
                MatchCommand::LogHours {
                    period: YearMonth::new(chrono::Datelike::year(&d), chrono::Datelike::month(&d))
                        .expect("in range"),
                    minutes: minutes_of(minutes),
                    at,
                }
            }),
            when.clone()
                .prop_map(|at| MatchCommand::Pause { reason: None, at }),
            when.clone().prop_map(|at| MatchCommand::Resume { at }),
            (proptest::sample::select(MatchEndReason::ALL), when)
                .prop_map(|(reason, at)| MatchCommand::End { reason, at }),
        ]
    }

    proptest! {
        #[test]
        fn any_event_round_trips(event in arb_match_event(match_id())) {
            let decoded = MatchEvent::from_payload(event.event_type(), &event.to_payload());
            prop_assert_eq!(decoded, Ok(event));
        }

        /// Whatever has happened, a command `decide` accepts appends events about this match
        /// that `evolve` does not ignore (so a decision always shows in the state), and the
        /// same command decided again at once is no longer the same step: refused, or nothing.
        #[test]
        fn what_decide_appends_evolve_applies(
            history in proptest::collection::vec(arb_match_event(match_id()), 0..10),
            commands in proptest::collection::vec(arb_command(), 1..12),
        ) {
            let mut state = Match::replay(&history);
            for command in &commands {
                if let Ok(events) = Match::decide(&state, command) {
                    prop_assert!(events.len() <= 1);
                    prop_assert!(events.iter().all(|e| e.id() == match_id()));
                    let after = events.iter().fold(state.clone(), Match::evolve);
                    if !events.is_empty() {
                        prop_assert_ne!(&after, &state, "{:?} appended {:?}", command, events);
                        let again = Match::decide(&after, command);
                        let repeats = matches!(&again, Ok(e) if !e.is_empty());
                        prop_assert!(!repeats, "{:?} again: {:?}", command, again);
                    }
                    state = after;
                }
            }
        }
    }
}
