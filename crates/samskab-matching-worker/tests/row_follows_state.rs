//! The read model agrees with the deciders: for any sequence of a need's events, the
//! `matching.need` row after projecting them equals the row built from the state `Need::evolve`
//! folds from the same events (no row for NotPosted); likewise a volunteer's `matching.volunteer`
//! row and `Volunteer::evolve` (no row for NotRegistered). That is what lets the API answer
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
use samskab_domain::fixtures::{arb_datetime, arb_need_event, arb_volunteer_event};
use samskab_domain::{
    Need, NeedId, NeedState, Purpose, Volunteer, VolunteerEvent, VolunteerId,
    VolunteerPurposeConsent, VolunteerState,
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
            row["matching_consent"] = json!(details.purposes.contains_key(&Purpose::Matching));
            row["status"] = json!("active");
            Some(row)
        }
        VolunteerState::ConsentWithdrawn { .. } => Some(json!({
            "matching_consent": false,
            "status": "consent_withdrawn",
        })),
        VolunteerState::Forgotten { .. } => Some(json!({
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
