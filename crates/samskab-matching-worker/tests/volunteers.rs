//! The volunteers of the matching read model (`matching.volunteer`), against real servers: a
//! fresh PostgreSQL database per test, and for the first test a NATS server of its own with the
//! real projector (see samskab-testkit).
//!
//! Each test pins down one rule of `Volunteer::evolve` as the row shows it: registered, active
//! and not yet consenting to matching; consent to matching given and withdrawn; a profile
//! update; consent withdrawn and forgotten, after which nothing changes the row; a second
//! registration; events without a registration; redeliveries; one message of several events.
//! `row_follows_state.rs` checks the same against the folded state for any sequence.

use anyhow::Context;
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_testkit::projection::{micros, migrated_database, time_at};
use serde_json::{Value, json};
use sqlx::PgPool;

mod support;
use support::*;

// ---------------------------------------------------------------------------------------------
// Fixtures (the shared ones are `samskab_domain::fixtures`)
// ---------------------------------------------------------------------------------------------

/// Søren's registration: the canonical profile (`volunteer_profile`).
fn registered(id: VolunteerId) -> VolunteerEvent {
    volunteer_registered(id, "Søren Ærø Østergaard")
}

/// Søren's registration as a `.v1` event from before the workflow: with his approved
/// børneattest (`volunteer_certificate`, valid until 2027-02-01) in the profile.
fn registered_v1_with_approval(id: VolunteerId) -> VolunteerEvent {
    VolunteerEvent::RegisteredV1(VolunteerRegisteredV1 {
        id,
        personal: Some(volunteer_personal("Søren Ærø Østergaard")),
        profile: VolunteerProfileV1 {
            profile: volunteer_profile(),
            child_certificate: volunteer_certificate(),
        },
        consent: volunteer_consent(),
    })
}

/// Another profile than the canonical one in every column matching keeps: elsewhere, other
/// skills, languages, target groups and times, and no børneattest.
fn other_profile() -> VolunteerProfile {
    VolunteerProfile {
        postcode: Postcode::parse("2650").expect("valid postcode"),
        skills: Tag::parse_list(["Madlavning"]).expect("valid tags"),
        languages: vec![language("en")],
        availability: Availability::parse(
            [AvailabilitySlot {
                weekday: Weekday::Wed,
                part: DayPart::Afternoon,
            }],
            2,
        )
        .expect("valid availability"),
        target_groups: vec![TargetGroup::Elderly],
        max_travel_km: TravelKm::parse(30).ok(),
        ..volunteer_profile()
    }
}

fn registered_with(id: VolunteerId, profile: VolunteerProfile) -> VolunteerEvent {
    VolunteerEvent::Registered(VolunteerRegistered {
        id,
        personal: Some(volunteer_personal("Søren Ærø Østergaard")),
        profile,
        consent: volunteer_consent(),
    })
}

fn updated(id: VolunteerId, profile: VolunteerProfile) -> VolunteerEvent {
    VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
        id,
        personal: Some(volunteer_personal("Søren Østergaard")),
        profile,
    })
}

fn given(id: VolunteerId, purpose: Purpose) -> VolunteerEvent {
    VolunteerEvent::PurposeConsentGiven(VolunteerPurposeConsent {
        id,
        purpose,
        at: at(2025, 4, 1),
    })
}

fn taken_back(id: VolunteerId, purpose: Purpose) -> VolunteerEvent {
    VolunteerEvent::PurposeConsentWithdrawn(VolunteerPurposeConsent {
        id,
        purpose,
        at: at(2025, 5, 1),
    })
}

fn withdrawn(id: VolunteerId) -> VolunteerEvent {
    VolunteerEvent::ConsentWithdrawn(VolunteerConsentWithdrawn {
        id,
        at: at(2025, 6, 1),
    })
}

fn forgotten(id: VolunteerId) -> VolunteerEvent {
    VolunteerEvent::Forgotten(VolunteerForgotten {
        id,
        at: at(2025, 8, 1),
    })
}

fn certificate_consent(id: VolunteerId, requester: CertificateRequester) -> VolunteerEvent {
    VolunteerEvent::CertificateConsentGiven(VolunteerCertificateStep {
        id,
        requester,
        at: at(2025, 9, 1),
    })
}

fn certificate_requested(id: VolunteerId, requester: CertificateRequester) -> VolunteerEvent {
    VolunteerEvent::CertificateRequested(VolunteerCertificateStep {
        id,
        requester,
        at: at(2025, 9, 2),
    })
}

fn certificate_assessed(
    id: VolunteerId,
    requester: CertificateRequester,
    certificate: ChildCertificate,
) -> VolunteerEvent {
    VolunteerEvent::CertificateAssessed(VolunteerCertificateAssessed {
        id,
        requester,
        certificate: Some(certificate),
        at: at(2025, 9, 20),
    })
}

/// Approved on 2025-09-20, to be renewed by 2028-09-20.
fn approved_2025() -> ChildCertificate {
    ChildCertificate::parse(
        ChildCertificateStatus::Approved,
        Some(date(2025, 9, 20)),
        Some(date(2028, 9, 20)),
    )
    .expect("valid certificate")
}

/// The canonical profile (a registration brings no børneattest since `.v2`).
fn profile_without_certificate() -> VolunteerProfile {
    volunteer_profile()
}

/// Every event that could change a volunteer's row once it is there: after a withdrawal or a
/// forgetting, none of them may.
fn everything_after(id: VolunteerId) -> Vec<VolunteerEvent> {
    vec![
        registered_with(id, other_profile()),
        updated(id, other_profile()),
        given(id, Purpose::Matching),
        given(id, Purpose::Notifications),
        taken_back(id, Purpose::Matching),
        certificate_consent(id, PostedBy::Municipality),
        certificate_requested(id, PostedBy::Municipality),
        certificate_assessed(id, PostedBy::Municipality, approved_2025()),
        withdrawn(id),
    ]
}

/// The columns of `row` that `expected` names.
fn pick(row: &Value, expected: &Value) -> Value {
    let columns = expected.as_object().map(|o| o.keys()).into_iter().flatten();
    Value::Object(
        columns
            .map(|column| (column.clone(), row[column].clone()))
            .collect(),
    )
}

/// `row` without the columns every applied event moves (`updated_at`, `position`).
fn without_position(row: &Value) -> Value {
    let mut row = row.clone();
    if let Value::Object(columns) = &mut row {
        columns.remove("updated_at");
        columns.remove("position");
    }
    row
}

/// Applies `event` to volunteer `id` of Rødovre at `position`, and returns the row.
async fn apply_at(
    pool: &PgPool,
    id: VolunteerId,
    position: u64,
    event: &VolunteerEvent,
) -> anyhow::Result<Option<Value>> {
    let recorded = MATCHING.recorded("rodovre", &id.to_string(), position, event);
    MATCHING.apply_all(pool, &[&recorded]).await?;
    volunteer_row(pool, "rodovre", id.as_uuid()).await
}

/// Applies `events` to volunteer `id` of Rødovre, at positions 1, 2, ..., and returns the row.
async fn after(
    pool: &PgPool,
    id: VolunteerId,
    events: &[VolunteerEvent],
) -> anyhow::Result<Option<Value>> {
    let key = id.to_string();
    let recorded: Vec<_> = events
        .iter()
        .zip(1u64..)
        .map(|(event, position)| MATCHING.recorded("rodovre", &key, position, event))
        .collect();
    MATCHING
        .apply_all(pool, &recorded.iter().collect::<Vec<_>>())
        .await?;
    volunteer_row(pool, "rodovre", id.as_uuid()).await
}

// ---------------------------------------------------------------------------------------------
// Through the runtime
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_registration_is_an_active_row_with_every_column() -> anyhow::Result<()> {
    let mut h = MATCHING.start_projector().await?;
    let id = VolunteerId::new_v7();
    let position = h.append_domain("rodovre", id, &registered(id)).await?;
    h.caught_up().await?;

    let row = volunteer_row(&h.pool, "rodovre", id.as_uuid())
        .await?
        .context("registered volunteer")?;
    let times = h
        .envelope_times("rodovre", VolunteerEvent::KIND.as_str(), &id.to_string())
        .await?;
    // Every column, so a column added to the table without being written shows here. Consent
    // to matching is a purpose of its own, given after the registration.
    let expected = json!({
        "tenant": "rodovre",
        "id": id.to_string(),
        "postcode": "2610",
        "skills": ["snedker", "lektiehjælp"],
        "languages": ["da", "uk"],
        "target_groups": ["children", "refugees"],
        "slots": ["mon-morning", "tue-evening"],
        "hours_per_week": 5,
        "certificate_status": "not_required",
        "certificate_valid_until": null,
        "max_travel_km": null,
        "other_municipalities": [],
        "matching_consent": false,
        "status": "active",
        "updated_at": micros(times[0]),
        "position": position,
    });
    assert_eq!(row, expected);
    // The tests' rendering of a profile agrees with the literal row.
    let profile = profile_columns(&volunteer_profile());
    assert_eq!(pick(&row, &profile), profile);
    h.stop().await
}

// ---------------------------------------------------------------------------------------------
// Direct: one rule at a time
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn consent_to_matching_is_given_and_withdrawn_and_other_purposes_change_nothing()
-> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let row = apply_at(&pool, id, 1, &registered(id))
        .await?
        .context("row")?;
    assert_eq!(row["matching_consent"], false);

    let consenting = apply_at(&pool, id, 2, &given(id, Purpose::Matching))
        .await?
        .context("row")?;
    assert_eq!(consenting["matching_consent"], true);
    assert_eq!(consenting["status"], "active");
    assert_eq!(consenting["position"], 2);
    assert_eq!(consenting["updated_at"], micros(time_at(2)));
    let profile = profile_columns(&volunteer_profile());
    assert_eq!(pick(&consenting, &profile), profile);

    // Another purpose, given or withdrawn, moves only the position.
    let mut position = 2;
    for event in [
        given(id, Purpose::Notifications),
        given(id, Purpose::Contact),
        taken_back(id, Purpose::Notifications),
    ] {
        position += 1;
        let row = apply_at(&pool, id, position, &event)
            .await?
            .context("row")?;
        assert_eq!(
            without_position(&row),
            without_position(&consenting),
            "{}",
            event.event_type()
        );
        assert_eq!(row["position"], position);
        assert_eq!(row["updated_at"], micros(time_at(position)));
    }

    let withdrawn_matching = apply_at(&pool, id, 6, &taken_back(id, Purpose::Matching))
        .await?
        .context("row")?;
    assert_eq!(withdrawn_matching["matching_consent"], false);
    assert_eq!(withdrawn_matching["status"], "active");
    assert_eq!(withdrawn_matching["position"], 6);

    // Without consent to matching, another purpose does not give it either.
    let row = apply_at(&pool, id, 7, &given(id, Purpose::Notifications))
        .await?
        .context("row")?;
    assert_eq!(row["matching_consent"], false);
    // And given again, it holds again.
    let row = apply_at(&pool, id, 8, &given(id, Purpose::Matching))
        .await?
        .context("row")?;
    assert_eq!(row["matching_consent"], true);
    Ok(())
}

#[tokio::test]
async fn a_profile_update_of_an_active_volunteer_replaces_the_profile() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let row = after(
        &pool,
        id,
        &[
            registered(id),
            given(id, Purpose::Matching),
            updated(id, other_profile()),
        ],
    )
    .await?
    .context("row")?;
    let literal = json!({
        "postcode": "2650",
        "skills": ["madlavning"],
        "languages": ["en"],
        "target_groups": ["elderly"],
        "slots": ["wed-afternoon"],
        "hours_per_week": 2,
        "max_travel_km": 30,
    });
    assert_eq!(pick(&row, &literal), literal);
    assert_eq!(profile_columns(&other_profile()), literal);
    // The børneattest is not the profile's: the update leaves it.
    assert_eq!(row["certificate_status"], "not_required");
    // The update changes the profile only: still active, still consenting.
    assert_eq!(row["matching_consent"], true);
    assert_eq!(row["status"], "active");
    assert_eq!(row["position"], 3);
    assert_eq!(row["updated_at"], micros(time_at(3)));

    // And back, so that a second update is not mistaken for the first.
    let row = apply_at(&pool, id, 4, &updated(id, volunteer_profile()))
        .await?
        .context("row")?;
    let profile = profile_columns(&volunteer_profile());
    assert_eq!(pick(&row, &profile), profile);
    assert_eq!(row["position"], 4);
    Ok(())
}

#[tokio::test]
async fn a_withdrawal_ends_matching_and_nothing_changes_the_row_after_it() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let row = after(
        &pool,
        id,
        &[registered(id), given(id, Purpose::Matching), withdrawn(id)],
    )
    .await?
    .context("row")?;
    assert_eq!(row["status"], "consent_withdrawn");
    assert_eq!(row["matching_consent"], false);
    assert_eq!(row["position"], 3);
    assert_eq!(row["updated_at"], micros(time_at(3)));
    // The last profile stays (not personal data; statistics may count it).
    let profile = profile_columns(&volunteer_profile());
    assert_eq!(pick(&row, &profile), profile);

    // No later update, purpose consent, registration or withdrawal changes it.
    let mut position = 3;
    for event in everything_after(id) {
        position += 1;
        let later = apply_at(&pool, id, position, &event)
            .await?
            .context("row")?;
        assert_eq!(later, row, "{}", event.event_type());
    }
    Ok(())
}

#[tokio::test]
async fn a_volunteer_is_forgotten_from_active_and_from_withdrawn() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    for withdrawn_first in [false, true] {
        let id = VolunteerId::new_v7();
        let mut events = vec![registered(id), given(id, Purpose::Matching)];
        if withdrawn_first {
            events.push(withdrawn(id));
        }
        events.push(forgotten(id));
        let position = u64::try_from(events.len())?;
        let row = after(&pool, id, &events).await?.context("row")?;
        assert_eq!(
            row["status"], "forgotten",
            "withdrawn first: {withdrawn_first}"
        );
        assert_eq!(row["matching_consent"], false);
        assert_eq!(row["position"], position);
        assert_eq!(row["updated_at"], micros(time_at(position)));
        let profile = profile_columns(&volunteer_profile());
        assert_eq!(pick(&row, &profile), profile);

        // The first forgetting stands, and nothing else changes the row any more.
        let mut later_events = everything_after(id);
        later_events.push(forgotten(id));
        for (event, later_position) in later_events.iter().zip(position + 1..) {
            let later = apply_at(&pool, id, later_position, event)
                .await?
                .context("row")?;
            assert_eq!(later, row, "{}", event.event_type());
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_child_certificate_is_requested_and_approved() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let organisation = PostedBy::Organisation(org_id());
    let registered = apply_at(
        &pool,
        id,
        1,
        &registered_with(id, profile_without_certificate()),
    )
    .await?
    .context("row")?;
    assert_eq!(registered["certificate_status"], "not_required");
    assert_eq!(registered["certificate_valid_until"], Value::Null);

    // The volunteer's consent to the request is the directory's to show; matching ranks on
    // the assessment, which it does not change.
    let row = apply_at(&pool, id, 2, &certificate_consent(id, organisation))
        .await?
        .context("row")?;
    assert_eq!(row, registered);

    let row = apply_at(&pool, id, 3, &certificate_requested(id, organisation))
        .await?
        .context("row")?;
    assert_eq!(row["certificate_status"], "requested");
    assert_eq!(row["certificate_valid_until"], Value::Null);
    assert_eq!(row["position"], 3);
    assert_eq!(row["updated_at"], micros(time_at(3)));

    let approved = apply_at(
        &pool,
        id,
        4,
        &certificate_assessed(id, organisation, approved_2025()),
    )
    .await?
    .context("row")?;
    assert_eq!(approved["certificate_status"], "approved");
    assert_eq!(approved["certificate_valid_until"], "2028-09-20");
    assert_eq!(approved["position"], 4);
    assert_eq!(approved["updated_at"], micros(time_at(4)));
    // The assessment changes nothing else: the profile, the status, consent to matching.
    let expected = profile_columns(&profile_without_certificate());
    assert_eq!(pick(&approved, &expected), expected);
    assert_eq!(approved["status"], "active");

    // The steps again, each at its own position: nothing rolls back.
    for (event, position) in [
        certificate_consent(id, organisation),
        certificate_requested(id, organisation),
        certificate_assessed(id, organisation, approved_2025()),
    ]
    .iter()
    .zip(2u64..)
    {
        let again = apply_at(&pool, id, position, event).await?.context("row")?;
        assert_eq!(again, approved, "{} again", event.event_type());
    }
    Ok(())
}

#[tokio::test]
async fn a_renewal_keeps_the_approval_until_the_new_assessment() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    // Søren's registration carries an approval (a `.v1` event, from before the workflow),
    // valid until 2027-02-01.
    let row = after(
        &pool,
        id,
        &[
            registered_v1_with_approval(id),
            given(id, Purpose::Matching),
            certificate_consent(id, PostedBy::Municipality),
            certificate_requested(id, PostedBy::Municipality),
        ],
    )
    .await?
    .context("row")?;
    assert_eq!(row["certificate_status"], "approved");
    assert_eq!(row["certificate_valid_until"], "2027-02-01");
    assert_eq!(row["matching_consent"], true);
    assert_eq!(row["position"], 4);

    // Not approved this time: no longer valid for children.
    let refused = ChildCertificate::parse(
        ChildCertificateStatus::NotApproved,
        Some(date(2025, 10, 1)),
        None,
    )?;
    let row = apply_at(
        &pool,
        id,
        5,
        &certificate_assessed(id, PostedBy::Municipality, refused),
    )
    .await?
    .context("row")?;
    assert_eq!(row["certificate_status"], "not_approved");
    assert_eq!(row["certificate_valid_until"], Value::Null);
    assert_eq!(row["position"], 5);

    // Requested again, the refusal stands until the new assessment too.
    apply_at(
        &pool,
        id,
        6,
        &certificate_consent(id, PostedBy::Municipality),
    )
    .await?;
    let row = apply_at(
        &pool,
        id,
        7,
        &certificate_requested(id, PostedBy::Municipality),
    )
    .await?
    .context("row")?;
    assert_eq!(row["certificate_status"], "not_approved");
    assert_eq!(row["position"], 7);
    Ok(())
}

#[tokio::test]
async fn a_second_registration_keeps_the_first() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let first = apply_at(&pool, id, 1, &registered(id))
        .await?
        .context("row")?;
    let row = apply_at(&pool, id, 2, &registered_with(id, other_profile()))
        .await?
        .context("row")?;
    assert_eq!(row, first);
    let profile = profile_columns(&volunteer_profile());
    assert_eq!(pick(&row, &profile), profile);
    assert_eq!(row["position"], 1);

    // Nor does one reset the consent to matching given in between.
    let consenting = apply_at(&pool, id, 3, &given(id, Purpose::Matching))
        .await?
        .context("row")?;
    let row = apply_at(&pool, id, 4, &registered(id))
        .await?
        .context("row")?;
    assert_eq!(row, consenting);
    assert_eq!(row["matching_consent"], true);
    Ok(())
}

#[tokio::test]
async fn events_of_an_unknown_volunteer_create_no_row() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    // Each alone, and all in a row: without a registration there is nothing to change.
    for event in [
        updated(id, other_profile()),
        given(id, Purpose::Matching),
        taken_back(id, Purpose::Matching),
        certificate_requested(id, PostedBy::Municipality),
        certificate_assessed(id, PostedBy::Municipality, approved_2025()),
        withdrawn(id),
        forgotten(id),
    ] {
        assert_eq!(
            apply_at(&pool, id, 1, &event).await?,
            None,
            "{}",
            event.event_type()
        );
    }
    assert_eq!(
        after(
            &pool,
            id,
            &[
                updated(id, other_profile()),
                given(id, Purpose::Matching),
                withdrawn(id),
                forgotten(id),
            ]
        )
        .await?,
        None
    );
    assert_eq!(MATCHING.rows(&pool, "volunteer").await?, json!([]));

    // A registration after them is an ordinary registration: they left nothing behind.
    let row = apply_at(&pool, id, 5, &registered(id))
        .await?
        .context("row")?;
    assert_eq!(row["status"], "active");
    assert_eq!(row["matching_consent"], false);
    let profile = profile_columns(&volunteer_profile());
    assert_eq!(pick(&row, &profile), profile);
    Ok(())
}

/// The life of a few volunteers, in log order: each kind of event, in each state.
fn lives() -> Vec<RecordedEvent> {
    let (a, b, c) = (
        VolunteerId::new_v7(),
        VolunteerId::new_v7(),
        VolunteerId::new_v7(),
    );
    let events = vec![
        registered(a),
        updated(b, other_profile()),
        registered_with(b, profile_without_certificate()),
        given(a, Purpose::Matching),
        given(b, Purpose::Notifications),
        certificate_consent(b, PostedBy::Municipality),
        certificate_requested(b, PostedBy::Municipality),
        certificate_assessed(b, PostedBy::Municipality, approved_2025()),
        certificate_consent(a, PostedBy::Municipality),
        certificate_requested(a, PostedBy::Municipality),
        registered_with(c, other_profile()),
        given(c, Purpose::Matching),
        updated(a, other_profile()),
        given(b, Purpose::Matching),
        taken_back(b, Purpose::Matching),
        withdrawn(a),
        updated(a, volunteer_profile()),
        given(a, Purpose::Matching),
        forgotten(a),
        forgotten(c),
        registered(c),
        given(b, Purpose::Matching),
    ];
    events
        .iter()
        .zip(1u64..)
        .map(|(event, position)| {
            MATCHING.recorded("rodovre", &event.id().to_string(), position, event)
        })
        .collect()
}

#[tokio::test]
async fn applying_every_event_twice_leaves_the_same_rows() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    for event in &lives() {
        MATCHING.apply_all(&pool, &[event]).await?;
        let once = MATCHING.rows(&pool, "volunteer").await?;
        MATCHING.apply_all(&pool, &[event]).await?;
        assert_eq!(
            MATCHING.rows(&pool, "volunteer").await?,
            once,
            "{} applied twice",
            event.envelope.event_type
        );
    }
    let rows = MATCHING.rows(&pool, "volunteer").await?;
    let mut outcomes: Vec<(String, bool)> = rows
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            (
                row["status"].as_str().unwrap_or_default().to_owned(),
                row["matching_consent"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    outcomes.sort();
    let expected = [("active", true), ("forgotten", false), ("forgotten", false)];
    assert_eq!(
        outcomes,
        expected.map(|(status, consent)| (status.to_owned(), consent))
    );
    Ok(())
}

#[tokio::test]
async fn replaying_old_events_after_newer_ones_changes_nothing() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    // A redelivery of the whole history (a lost checkpoint), and one by one in reverse: nothing
    // rolls back (no update brings back an older profile, no purpose consent
    // an older consent).
    MATCHING
        .redelivery_changes_nothing(&pool, &lives(), "volunteer")
        .await?;
    Ok(())
}

#[tokio::test]
async fn events_of_one_message_share_its_position() -> anyhow::Result<()> {
    // A command may append several events in one message; the second must find the row the
    // first wrote, although both carry the same position.
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let key = id.to_string();
    let message = |position, events: &[VolunteerEvent]| -> Vec<RecordedEvent> {
        events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                let mut recorded = MATCHING.recorded("rodovre", &key, position, event);
                recorded.index = index;
                recorded
            })
            .collect()
    };

    // Registered and consenting to matching at once.
    let first = message(7, &[registered(id), given(id, Purpose::Matching)]);
    MATCHING
        .apply_all(&pool, &first.iter().collect::<Vec<_>>())
        .await?;
    let row = volunteer_row(&pool, "rodovre", id.as_uuid())
        .await?
        .context("row")?;
    assert_eq!(row["status"], "active");
    assert_eq!(row["matching_consent"], true);
    assert_eq!(row["position"], 7);

    // Purposes and the profile at once.
    let second = message(
        8,
        &[
            taken_back(id, Purpose::Matching),
            updated(id, other_profile()),
            given(id, Purpose::Matching),
        ],
    );
    MATCHING.apply_batch_all(&pool, &second).await?;
    let row = volunteer_row(&pool, "rodovre", id.as_uuid())
        .await?
        .context("row")?;
    assert_eq!(row["matching_consent"], true);
    let profile = profile_columns(&other_profile());
    assert_eq!(pick(&row, &profile), profile);
    assert_eq!(row["position"], 8);

    // Withdrawn and forgotten at once.
    let third = message(9, &[withdrawn(id), forgotten(id)]);
    MATCHING
        .apply_all(&pool, &third.iter().collect::<Vec<_>>())
        .await?;
    let row = volunteer_row(&pool, "rodovre", id.as_uuid())
        .await?
        .context("row")?;
    assert_eq!(row["status"], "forgotten");
    assert_eq!(row["matching_consent"], false);
    assert_eq!(row["position"], 9);

    // Every message delivered again changes nothing.
    let once = MATCHING.rows(&pool, "volunteer").await?;
    for recorded in [&first, &second, &third] {
        MATCHING
            .apply_all(&pool, &recorded.iter().collect::<Vec<_>>())
            .await?;
    }
    assert_eq!(MATCHING.rows(&pool, "volunteer").await?, once);
    Ok(())
}

#[tokio::test]
async fn the_table_holds_no_personal_data() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = 'matching' AND table_name = 'volunteer' ORDER BY ordinal_position",
    )
    .fetch_all(&pool)
    .await?;
    // The query does find the table.
    assert!(
        columns.iter().any(|c| c == "postcode"),
        "columns of matching.volunteer: {columns:?}"
    );
    let personal: Vec<&String> = columns
        .iter()
        .filter(|column| {
            ["name", "email", "phone", "birth", "contact", "address"]
                .iter()
                .any(|word| column.to_lowercase().contains(word))
        })
        .collect();
    assert!(personal.is_empty(), "personal data columns: {personal:?}");

    // Nor does any of it reach a row through another column.
    let id = VolunteerId::new_v7();
    let row = after(&pool, id, &[registered(id), updated(id, other_profile())])
        .await?
        .context("row")?;
    let text = row.to_string();
    for personal in ["Søren", "Østergaard", "soren@example.dk", "12 34 56 78"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    Ok(())
}
