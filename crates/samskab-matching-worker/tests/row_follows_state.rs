//! The read model agrees with the deciders: for any sequence of a need's events, the
//! `matching.need` row after projecting them equals the row built from the state `Need::evolve`
//! folds from the same events (no row for NotPosted); likewise a volunteer's `matching.volunteer`
//! row and `Volunteer::evolve` (no row for NotRegistered), and a match's `matching.match` row and
//! `Match::evolve` (no row for NotProposed). That is what lets the API answer
//! queries from the read model and decide commands on the folded state without the two ever
//! telling a different story.
//!
//! The sequences are any order of any events (`samskab_domain::fixtures::arb_*_event`), not
//! only what `decide` would append, because `evolve` and the projection both promise to cope
//! with events out of place. Each sequence is applied either event by event or through the batch
//! path the runtime uses, some events twice in a row (a redelivery), and at the end one earlier
//! event again at its old position (a stale redelivery); none of that may change the outcome.
//!
//! A row holds more than the state (times and positions from the envelope); the comparison
//! covers every column the state determines. The harness is `samskab_testkit::projection`
//! (`ReadModelTest::rows_follow_state`), the directory worker's too; what is the matching
//! worker's is here: the table, the strategy, and the row each state implies.

use proptest::prelude::*;
use samskab_domain::fixtures::{
    arb_datetime, arb_match_event, arb_match_life, arb_need_event, arb_volunteer_event,
    arb_volunteer_registered,
};
use samskab_domain::{
    Match, MatchId, MatchState, Need, NeedId, NeedState, ProposedBy, Purpose, Volunteer,
    VolunteerEvent, VolunteerId, VolunteerPurposeConsent, VolunteerRegistered, VolunteerState,
};
use samskab_testkit::projection::{Key, micros};
use serde_json::{Value, json};

mod support;
use support::*;

const TENANT: &str = "rodovre";

/// The `matching.need` row a need's state implies, or `None` for no row. When it is closed,
/// the time and reason are the closing event's, which the state keeps.
fn need_row_of(state: &NeedState) -> Option<Value> {
    let (details, status, closed_at, reason) = match state {
        NeedState::NotPosted => return None,
        NeedState::Open(details) => (details, "open", Value::Null, None),
        NeedState::Closed {
            details,
            closed_at,
            reason,
        } => (details, "closed", micros(*closed_at), reason.as_ref()),
    };
    let mut row = details_columns(details);
    row["status"] = json!(status);
    row["closed_at"] = closed_at;
    row["closing_reason"] = json!(reason.map(|r| r.as_str()));
    Some(row)
}

/// For any 1..8 of a need's events, delivered event by event or batched, some twice in a row, and
/// one earlier event again at the end, the row is the one [`need_row_of`] builds from the folded
/// state. Deterministic, so CI sees the same cases every time; a failure shows the minimal
/// sequence proptest shrank it to.
#[test]
fn a_needs_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    MATCHING.rows_follow_state::<Need>(
        "need",
        Key::any_entity(TENANT),
        |key| arb_need_event(NeedId::from_uuid(key.id())).boxed(),
        need_row_of,
    )
}

/// The `matching.volunteer` row a volunteer's state implies, or `None` for no row. Withdrawn or
/// forgotten, the row keeps the last profile, which the state no longer holds: what the state
/// says then is the status, and that the volunteer is no candidate.
fn volunteer_row_of(state: &VolunteerState) -> Option<Value> {
    match state {
        VolunteerState::NotRegistered => None,
        VolunteerState::Active(details) => {
            let mut row = profile_columns(&details.profile);
            let certificate = certificate_columns(&details.child_certificate);
            row["certificate_status"] = certificate["certificate_status"].clone();
            row["certificate_valid_until"] = certificate["certificate_valid_until"].clone();
            row["matching_consent"] = json!(details.purposes.contains_key(&Purpose::Matching));
            row["other_municipalities"] = json!(details.other_municipalities);
            row["status"] = json!("active");
            Some(row)
        }
        // The børneattest's assessment is personal data, blanked with the rest.
        VolunteerState::ConsentWithdrawn { .. } => Some(json!({
            "certificate_status": null,
            "certificate_valid_until": null,
            "matching_consent": false,
            "status": "consent_withdrawn",
        })),
        VolunteerState::Forgotten { .. } => Some(json!({
            "certificate_status": null,
            "certificate_valid_until": null,
            "matching_consent": false,
            "status": "forgotten",
        })),
    }
}

/// Any of a volunteer's events (`arb_volunteer_event`), with consent to matching given or
/// withdrawn more often than there (one purpose event in three is about matching), so that the
/// sequences often reach a consenting volunteer and then withdraw or forget them: the
/// transitions that decide whether someone is a candidate.
fn arb_volunteer_event_for_matching(id: VolunteerId) -> BoxedStrategy<VolunteerEvent> {
    let matching = (any::<bool>(), arb_datetime()).prop_map(move |(given, at)| {
        let consent = VolunteerPurposeConsent {
            id,
            purpose: Purpose::Matching,
            at,
        };
        if given {
            VolunteerEvent::PurposeConsentGiven(consent)
        } else {
            VolunteerEvent::PurposeConsentWithdrawn(consent)
        }
    });
    prop_oneof![3 => arb_volunteer_event(id), 1 => matching].boxed()
}

/// As for needs: for any 1..8 of a volunteer's events, however delivered, the row is the one
/// [`volunteer_row_of`] builds from the folded state.
#[test]
fn a_volunteers_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    MATCHING.rows_follow_state::<Volunteer>(
        "volunteer",
        Key::any_entity(TENANT),
        |key| arb_volunteer_event_for_matching(VolunteerId::from_uuid(key.id())),
        volunteer_row_of,
    )
}

/// Any of a volunteer's events (`arb_volunteer_event`), with registrations and the
/// børneattest's steps drawn more often than there (a registration one draw in seven, a step
/// three in seven), so that the sequences often reach an active volunteer and then consent,
/// request, assess and renew. From `arb_volunteer_event` alone, 128 sequences requested a
/// børneattest of an active volunteer 9 times and renewed a refused one never; from this,
/// 31 and 3 times.
fn arb_volunteer_event_for_certificates(id: VolunteerId) -> BoxedStrategy<VolunteerEvent> {
    let step =
        arb_volunteer_event(id).prop_filter_map("a step of the børneattest", |event| match event {
            VolunteerEvent::CertificateConsentGiven(_)
            | VolunteerEvent::CertificateRequested(_)
            | VolunteerEvent::CertificateAssessed(_) => Some(event),
            _ => None,
        });
    let registration = arb_volunteer_registered()
        .prop_map(move |e| VolunteerEvent::Registered(VolunteerRegistered { id, ..e }));
    prop_oneof![3 => arb_volunteer_event(id), 1 => registration, 3 => step].boxed()
}

/// The same property, for sequences that reach the børneattest's workflow more often
/// ([`arb_volunteer_event_for_certificates`]).
#[test]
fn a_volunteers_row_follows_the_certificate_workflow() -> anyhow::Result<()> {
    MATCHING.rows_follow_state::<Volunteer>(
        "volunteer",
        Key::any_entity(TENANT),
        |key| arb_volunteer_event_for_certificates(VolunteerId::from_uuid(key.id())),
        volunteer_row_of,
    )
}

/// The `matching.match` row a match's state implies, or `None` for no row: every column but the
/// key's tenant, `updated_at` and `position` (the envelope's). A state names what it holds; the
/// rest of the row is NULL (no minutes: `{}`). Two columns the state does not spell out:
/// - the acceptances of an agreed, active, paused or ended match: both sides';
/// - the acceptances of a declined one: the proposer's side only. `Declined` does not keep
///   them, but a proposal never waits with both sides accepted (the second acceptance agrees
///   it), so whichever side declined, only the proposer's side had accepted.
fn match_row_of(state: &MatchState) -> Option<Value> {
    let proposal = state.proposal()?;
    let proposed_by = proposal.details.proposed_by;
    let mut row = proposal_columns(proposal);
    let blank = json!({
        "volunteer_accepted": true,
        "counterpart_accepted": true,
        "declined_by": null,
        "declined_at": null,
        "decline_reason": null,
        "started_on": null,
        "paused_since": null,
        "pause_reason": null,
        "ended_at": null,
        "end_reason": null,
        "minutes": {},
    });
    for (column, value) in blank.as_object().into_iter().flatten() {
        row[column] = value.clone();
    }
    match state {
        MatchState::NotProposed => return None,
        MatchState::Proposed {
            volunteer_accepted,
            counterpart_accepted,
            ..
        } => {
            row["status"] = json!("proposed");
            row["volunteer_accepted"] = json!(volunteer_accepted);
            row["counterpart_accepted"] = json!(counterpart_accepted);
        }
        MatchState::Agreed { .. } => row["status"] = json!("agreed"),
        MatchState::Active {
            started_on,
            minutes,
            ..
        } => {
            row["status"] = json!("active");
            row["started_on"] = json!(started_on);
            row["minutes"] = json!(minutes);
        }
        MatchState::Paused {
            started_on,
            minutes,
            since,
            reason,
            ..
        } => {
            row["status"] = json!("paused");
            row["started_on"] = json!(started_on);
            row["minutes"] = json!(minutes);
            row["paused_since"] = timestamptz_json(*since);
            row["pause_reason"] = json!(reason.as_ref().map(|r| r.as_str()));
        }
        MatchState::Declined { by, reason, at, .. } => {
            row["status"] = json!("declined");
            row["volunteer_accepted"] = json!(proposed_by == ProposedBy::Volunteer);
            row["counterpart_accepted"] = json!(proposed_by == ProposedBy::Coordinator);
            row["declined_by"] = json!(by.as_str());
            row["declined_at"] = micros(*at);
            row["decline_reason"] = json!(reason.as_ref().map(|r| r.as_str()));
        }
        MatchState::Ended {
            started_on,
            minutes,
            reason,
            at,
            ..
        } => {
            row["status"] = json!("ended");
            row["started_on"] = json!(started_on);
            row["minutes"] = json!(minutes);
            row["ended_at"] = micros(*at);
            row["end_reason"] = json!(reason.as_str());
        }
    }
    Some(row)
}

/// As for needs: for any 1..8 of a match's events (`arb_match_event`: any order, so also
/// acceptances after the agreement, hours before the start, anything after a decline or an
/// end), however delivered, the row is the one [`match_row_of`] builds from the folded state.
#[test]
fn a_matchs_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    MATCHING.rows_follow_state::<Match>(
        "match",
        Key::any_entity(TENANT),
        |key| arb_match_event(MatchId::from_uuid(key.id())).boxed(),
        match_row_of,
    )
}

// ---------------------------------------------------------------------------------------------
// Whole lives (`samskab_domain::fixtures::arb_match_life`)
// ---------------------------------------------------------------------------------------------

/// As [`a_matchs_row_is_the_row_of_its_folded_state`], for lives that reach the agreement, the
/// start, the hours of a month logged again, pauses and resumptions and ends
/// ([`arb_match_life`]), with events out of place among them.
#[test]
fn a_matchs_row_follows_its_state_through_whole_lives() -> anyhow::Result<()> {
    MATCHING.rows_follow_state_of_sequences::<Match>(
        "match",
        Key::any_entity(TENANT),
        |key| arb_match_life(MatchId::from_uuid(key.id())).boxed(),
        match_row_of,
    )
}
