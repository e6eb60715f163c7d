//! `reporting.volunteer_version` against a real PostgreSQL: each change a version of its own,
//! closed by the next at the next event's time; a redelivery, a stale event and events out of
//! place change nothing; and, for any sequence of a volunteer's events, the standing version
//! says what `Volunteer::evolve` folds from them.

use proptest::prelude::*;
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_testkit::projection::{migrated_database, time_at};
use serde_json::{Value, json};
use sqlx::PgPool;

mod support;
use support::{REPORTING, TENANT, standing_follows_state};

fn recorded(id: VolunteerId, position: u64, event: &VolunteerEvent) -> RecordedEvent {
    support::recorded(id.as_uuid(), position, event)
}

/// A volunteer's versions, oldest first: what began each, its span (as positions of
/// `time_at`), status and counted profile.
async fn versions(pool: &PgPool, id: VolunteerId) -> anyhow::Result<Vec<Value>> {
    Ok(sqlx::query_scalar(
        "SELECT jsonb_build_object(
            'started_by', started_by, 'status', status,
            'from', extract(epoch FROM valid_from)::bigint - 1750000000,
            'to', extract(epoch FROM valid_to)::bigint - 1750000000,
            'registered', extract(epoch FROM registered_at)::bigint - 1750000000,
            'postcode', postcode, 'age_band', age_band, 'skills', skills,
            'target_groups', target_groups)
         FROM reporting.volunteer_version WHERE tenant = $1 AND volunteer_id = $2
         ORDER BY from_position, from_index",
    )
    .bind(TENANT)
    .bind(id.as_uuid())
    .fetch_all(pool)
    .await?)
}

async fn all_rows(pool: &PgPool) -> anyhow::Result<Value> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(jsonb_agg(to_jsonb(v) ORDER BY tenant, volunteer_id, from_position,
            from_index), '[]') FROM reporting.volunteer_version v",
    )
    .fetch_one(pool)
    .await?)
}

fn updated(id: VolunteerId, postcode: &str, skills: &[&str]) -> VolunteerEvent {
    let mut profile = volunteer_profile();
    profile.postcode = Postcode::parse(postcode).expect("postcode");
    profile.skills = Tag::parse_list(skills.iter().copied()).expect("tags");
    VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
        id,
        personal: None,
        profile,
    })
}

/// Søren's life: registered (1), moves and learns a skill (3), withdraws (5), forgotten (8).
fn life(id: VolunteerId) -> Vec<RecordedEvent> {
    vec![
        recorded(id, 1, &volunteer_registered(id, "Søren")),
        recorded(id, 3, &updated(id, "2650", &["Snedker", "Cykelreparation"])),
        recorded(
            id,
            5,
            &VolunteerEvent::ConsentWithdrawn(VolunteerConsentWithdrawn { id, at: time_at(5) }),
        ),
        recorded(
            id,
            8,
            &VolunteerEvent::Forgotten(VolunteerForgotten { id, at: time_at(8) }),
        ),
    ]
}

#[tokio::test]
async fn each_change_is_a_version_valid_until_the_next() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = volunteer_id();
    let events = life(id);
    REPORTING
        .apply_all(&pool, &events.iter().collect::<Vec<_>>())
        .await?;
    let version = |started_by: &str,
                   status: &str,
                   from: i64,
                   to: Value,
                   place: &str,
                   skills: Value| {
        json!({ "started_by": started_by, "status": status, "from": from, "to": to, "registered": 1,
                "postcode": place, "age_band": "67_plus", "skills": skills,
                "target_groups": ["children", "refugees"] })
    };
    let moved = json!(["snedker", "cykelreparation"]);
    assert_eq!(
        versions(&pool, id).await?,
        vec![
            version(
                "registered",
                "active",
                1,
                json!(3),
                "2610",
                json!(["snedker", "lektiehjælp"])
            ),
            version(
                "profile_updated",
                "active",
                3,
                json!(5),
                "2650",
                moved.clone()
            ),
            // The withdrawn and the forgotten keep the last profile: still counted by postcode.
            version(
                "consent_withdrawn",
                "consent_withdrawn",
                5,
                json!(8),
                "2650",
                moved.clone()
            ),
            version("forgotten", "forgotten", 8, Value::Null, "2650", moved),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn events_out_of_place_change_nothing_as_in_evolve() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = volunteer_id();
    let withdrawn =
        VolunteerEvent::ConsentWithdrawn(VolunteerConsentWithdrawn { id, at: time_at(1) });
    // Before any registration: no version.
    REPORTING
        .apply_all(
            &pool,
            &[
                &recorded(id, 1, &withdrawn),
                &recorded(id, 2, &updated(id, "2650", &[])),
            ],
        )
        .await?;
    assert_eq!(versions(&pool, id).await?, Vec::<Value>::new());
    let events = [
        recorded(id, 3, &volunteer_registered(id, "Søren")),
        // A second registration keeps the first.
        recorded(id, 4, &volunteer_registered(id, "Søren igen")),
        recorded(id, 5, &withdrawn),
        // Withdrawn: no update changes the profile, and no second withdrawal.
        recorded(id, 6, &updated(id, "2650", &["Snedker"])),
        recorded(id, 7, &withdrawn),
    ];
    REPORTING
        .apply_all(&pool, &events.iter().collect::<Vec<_>>())
        .await?;
    let started: Vec<(Value, Value)> = versions(&pool, id)
        .await?
        .into_iter()
        .map(|v| (v["started_by"].clone(), v["from"].clone()))
        .collect();
    assert_eq!(
        started,
        vec![
            (json!("registered"), json!(3)),
            (json!("consent_withdrawn"), json!(5))
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_redelivery_changes_no_row() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = volunteer_id();
    let events = life(id);
    let all: Vec<&RecordedEvent> = events.iter().collect();
    REPORTING.apply_all(&pool, &all).await?;
    let once = all_rows(&pool).await?;
    REPORTING.apply_all(&pool, &all).await?;
    assert_eq!(all_rows(&pool).await?, once, "delivered again");
    for event in all.iter().rev() {
        REPORTING.apply_all(&pool, &[event]).await?;
        assert_eq!(
            all_rows(&pool).await?,
            once,
            "{} again",
            event.envelope.event_type
        );
    }
    // Each twice in a row through the batch path, on a fresh database: as once.
    let fresh = migrated_database().await?;
    let doubled: Vec<RecordedEvent> = events.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
    REPORTING.apply_batch_all(&fresh, &doubled).await?;
    assert_eq!(all_rows(&fresh).await?, once, "each twice in a row");
    Ok(())
}

/// What the standing version must say of a folded state: its status and, while active, the
/// profile's counted parts (each once); no version before a registration.
fn standing_of(state: &VolunteerState) -> Option<Value> {
    match state {
        VolunteerState::NotRegistered => None,
        VolunteerState::Active(details) => {
            let profile = details.profile.without_duplicates();
            Some(json!({
                "status": "active",
                "postcode": profile.postcode.as_str(),
                "age_band": profile.age_band.as_str(),
                "skills": profile.skills.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                "target_groups": profile.target_groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
                "organisation_id": profile.organisation.map(|o| o.as_uuid()),
            }))
        }
        VolunteerState::ConsentWithdrawn { .. } => Some(json!({ "status": "consent_withdrawn" })),
        VolunteerState::Forgotten { .. } => Some(json!({ "status": "forgotten" })),
    }
}

/// For any sequence of a volunteer's events, redelivered, the standing version is the folded
/// state's ([`standing_of`]) and the versions tile time.
#[test]
fn the_standing_version_is_the_folded_states() -> anyhow::Result<()> {
    standing_follows_state::<Volunteer>(
        "volunteer_version",
        "volunteer_id",
        "",
        |id| {
            proptest::collection::vec(arb_volunteer_event(VolunteerId::from_uuid(id)), 1..8).boxed()
        },
        standing_of,
    )
}
