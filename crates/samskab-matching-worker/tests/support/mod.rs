//! What the test files of the matching worker share: the projection under test and the actor
//! its events are recorded under, the columns a need's details, a volunteer's profile and a
//! match's proposal imply, and a need's, a volunteer's and a match's row. The helpers are
//! `samskab_testkit::projection`'s.

#![allow(dead_code)] // each test file uses its own part

use chrono::{DateTime, Utc};
use samskab_domain::ranking::slot_key;
use samskab_domain::{
    ChildCertificate, Counterpart, MatchProposed, NeedDetails, NeedPlace, NeedSchedule, PostedBy,
    VolunteerProfile,
};
use samskab_matching_worker::MatchingProjection;
use samskab_testkit::projection::{ReadModelTest, micros, with_micros};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

pub const ACTOR: &str = "user:koordinator-1";

pub const MATCHING: ReadModelTest<MatchingProjection> =
    ReadModelTest::new(MatchingProjection, ACTOR);

/// The columns of `matching.need` that a need's details determine, as `to_jsonb` shows them.
/// Written from the domain types, independently of the worker's binding code; `matching.rs`
/// pins it to literal values once.
pub fn details_columns(details: &NeedDetails) -> Value {
    let (posted_by, organisation_id) = match details.posted_by {
        PostedBy::Municipality => ("municipality", None),
        PostedBy::Organisation(id) => ("organisation", Some(id.as_uuid())),
    };
    let (postcode, remote) = match &details.place {
        NeedPlace::AtPostcode(postcode) => (Some(postcode.as_str()), false),
        NeedPlace::Remote => (None, true),
    };
    let (schedule_kind, schedule_date, slots, hours_per_week) = match &details.schedule {
        NeedSchedule::OnDate { date } => ("on_date", Some(*date), Value::Null, None),
        NeedSchedule::Weekly(availability) => (
            "weekly",
            None,
            json!(availability.slots()),
            Some(availability.hours_per_week()),
        ),
    };
    json!({
        "posted_by": posted_by,
        "organisation_id": organisation_id,
        "title": details.title.as_str(),
        "description": details.description.as_str(),
        "target_groups": details.target_groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "skills_required": details.skills_required.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "skills_nice_to_have":
            details.skills_nice_to_have.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "languages": details.languages.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "postcode": postcode,
        "remote": remote,
        "schedule_kind": schedule_kind,
        "schedule_date": schedule_date,
        "slots": slots,
        "hours_per_week": hours_per_week,
        "volunteers_wanted": details.volunteers_wanted.get(),
        "starts_on": details.starts_on,
        "ends_on": details.ends_on,
        "children_under_15": details.children_under_15,
    })
}

/// The need's row as JSON (every column, times as microseconds), or `None` when there is none.
pub async fn need_row(pool: &PgPool, tenant: &str, id: Uuid) -> anyhow::Result<Option<Value>> {
    let row = MATCHING.row(pool, "need", tenant, id).await?;
    row.map(with_micros).transpose()
}

/// The columns of `matching.volunteer` that a volunteer's profile determines, as `to_jsonb`
/// shows them: slots as `<weekday>-<part>` ([`slot_key`]). Written from the domain types,
/// independently of the worker's binding code; `volunteers.rs` pins it to literal values once.
pub fn profile_columns(profile: &VolunteerProfile) -> Value {
    json!({
        "postcode": profile.postcode.as_str(),
        "skills": profile.skills.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "languages": profile.languages.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "target_groups": profile.target_groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "slots": profile.availability.slots().iter().map(slot_key).collect::<Vec<_>>(),
        "hours_per_week": profile.availability.hours_per_week(),
        "max_travel_km": profile.max_travel_km.map(|km| km.km()),
    })
}

/// The columns of `matching.volunteer` that the børneattest's assessment determines (not the
/// profile's: its own events set it), as `to_jsonb` shows them.
pub fn certificate_columns(certificate: &ChildCertificate) -> Value {
    json!({
        "certificate_status": certificate.status().as_str(),
        "certificate_valid_until": certificate.valid_until(),
    })
}

/// The volunteer's row as JSON (every column, times as microseconds), or `None` when there is
/// none.
pub async fn volunteer_row(pool: &PgPool, tenant: &str, id: Uuid) -> anyhow::Result<Option<Value>> {
    let row = MATCHING.row(pool, "volunteer", tenant, id).await?;
    row.map(with_micros).transpose()
}

/// The columns of `matching.match` that a proposal determines, as `to_jsonb` shows them (with
/// [`with_micros`]). Written from the domain types, independently of the worker's binding code;
/// `matches.rs` pins it to literal values once.
pub fn proposal_columns(proposal: &MatchProposed) -> Value {
    let details = &proposal.details;
    let (need_id, person_id) = match details.counterpart {
        Counterpart::Need(need) => (Some(need.to_string()), None),
        Counterpart::Person(person) => (None, Some(person.to_string())),
    };
    json!({
        "id": details.id.to_string(),
        "volunteer_id": details.volunteer_id.to_string(),
        "volunteer_municipality": details.volunteer_municipality.as_ref().map(|t| t.as_str()),
        "need_id": need_id,
        "person_id": person_id,
        "proposed_by": details.proposed_by.as_str(),
        "note": details.note.as_ref().map(|n| n.as_str()),
        "proposed_at": micros(proposal.at),
    })
}

/// A `timestamptz` column whose name does not end in `_at` (so [`with_micros`] leaves it as
/// it is: `paused_since`), as `to_jsonb` renders it in a sqlx session: in UTC (sqlx sets the
/// session's `TimeZone`), to the microsecond PostgreSQL keeps (sqlx truncates), trailing zeros
/// of the fraction dropped.
pub fn timestamptz_json(time: DateTime<Utc>) -> Value {
    let mut text = time.format("%Y-%m-%dT%H:%M:%S").to_string();
    let fraction = time.timestamp_subsec_micros();
    if fraction != 0 {
        text.push_str(format!(".{fraction:06}").trim_end_matches('0'));
    }
    text.push_str("+00:00");
    json!(text)
}

/// The match's row as JSON (every column, `*_at` times as microseconds), or `None` when there
/// is none.
pub async fn match_row(pool: &PgPool, tenant: &str, id: Uuid) -> anyhow::Result<Option<Value>> {
    let row = MATCHING.row(pool, "match", tenant, id).await?;
    row.map(with_micros).transpose()
}
