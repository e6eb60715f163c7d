//! The matching projection against real servers: a NATS server of our own per test and a fresh
//! PostgreSQL database per test (see samskab-testkit).
//!
//! - Through the runtime: events are appended with `EventLog::append`, a `Projector` runs in a
//!   task, and the rows are read once the checkpoint has reached the last append.
//! - Direct: `MatchingProjection::apply` is called inside a transaction with `search_path` set,
//!   as the runtime does, to pin down idempotency and the guards event by event.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_projection::ApplyError;
use samskab_testkit::projection::{ProjectorHarness, micros, migrated_database, time_at};
use serde_json::{Value, json};
use sqlx::PgPool;

mod support;
use support::*;

// ---------------------------------------------------------------------------------------------
// Fixtures (the shared ones are `samskab_domain::fixtures`)
// ---------------------------------------------------------------------------------------------

/// The canonical need: homework help by the canonical organisation, in 2610, Tuesday evenings.
fn homework_help(id: NeedId) -> NeedDetails {
    need_details(id, "Lektiehjælp til ukrainske børn")
}

/// Danmark Spiser Sammen: posted by the municipality, remote (the sign-up calls), once.
fn eating_together(id: NeedId) -> NeedDetails {
    NeedDetails {
        posted_by: PostedBy::Municipality,
        title: NeedTitle::parse("Danmark Spiser Sammen – ring til ensomme ældre").expect("valid"),
        target_groups: vec![TargetGroup::Elderly, TargetGroup::Lonely],
        skills_required: Vec::new(),
        skills_nice_to_have: Tag::parse_list(["Telefonsamtaler"]).expect("valid tags"),
        languages: vec![language("da")],
        place: NeedPlace::Remote,
        schedule: NeedSchedule::OnDate {
            date: date(2025, 10, 4),
        },
        volunteers_wanted: VolunteersWanted::parse(12).expect("valid count"),
        starts_on: date(2025, 9, 15),
        ends_on: Some(date(2025, 10, 31)),
        children_under_15: false,
        ..homework_help(id)
    }
}

fn closed(id: NeedId, reason: Option<&str>, at: DateTime<Utc>) -> NeedEvent {
    NeedEvent::Closed(NeedClosed {
        id,
        reason: reason.map(|r| ClosingReason::parse(r).expect("valid reason")),
        at,
    })
}

fn reopened(id: NeedId, last_day: Option<NaiveDate>) -> NeedEvent {
    NeedEvent::Reopened(NeedReopened {
        id,
        at: at(2026, 8, 20),
        last_day,
    })
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

// ---------------------------------------------------------------------------------------------
// Harness: NATS + PostgreSQL + a running projector (`MATCHING.start_projector()`)
// ---------------------------------------------------------------------------------------------

/// The envelope times of the need's events, in log order, as [`micros`].
async fn need_times(h: &ProjectorHarness, tenant: &str, id: NeedId) -> anyhow::Result<Vec<Value>> {
    let times = h
        .envelope_times(tenant, NeedEvent::KIND.as_str(), &id.to_string())
        .await?;
    Ok(times.into_iter().map(micros).collect())
}

// ---------------------------------------------------------------------------------------------
// Through the runtime
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_published_need_is_a_row_with_every_column() -> anyhow::Result<()> {
    let mut h = MATCHING.start_projector().await?;
    let id = NeedId::new_v7();
    let position = h
        .append_domain("rodovre", id, &NeedEvent::Published(homework_help(id)))
        .await?;
    h.caught_up().await?;

    let row = need_row(&h.pool, "rodovre", id.as_uuid())
        .await?
        .context("published need")?;
    let published_at = need_times(&h, "rodovre", id).await?[0].clone();
    // Every column, so a column added to the table without being written shows here.
    let expected = json!({
        "tenant": "rodovre",
        "id": id.to_string(),
        "posted_by": "organisation",
        "organisation_id": org_id().to_string(),
        "title": "Lektiehjælp til ukrainske børn",
        "description": homework_help(id).description.as_str(),
        "target_groups": ["children", "refugees"],
        "skills_required": ["lektiehjælp"],
        "skills_nice_to_have": ["matematik", "dansk som andetsprog"],
        "languages": ["da", "uk"],
        "postcode": "2610",
        "remote": false,
        "schedule_kind": "weekly",
        "schedule_date": null,
        "slots": [{"weekday": "tue", "part": "evening"}],
        "hours_per_week": 2,
        "volunteers_wanted": 2,
        "starts_on": "2025-09-02",
        "ends_on": "2026-06-30",
        "children_under_15": true,
        "status": "open",
        "closed_at": null,
        "closing_reason": null,
        "published_at": published_at,
        "updated_at": published_at,
        "position": position,
    });
    assert_eq!(row, expected);
    // The tests' rendering of details agrees with the literal row.
    assert_eq!(
        pick(&row, &details_columns(&homework_help(id))),
        details_columns(&homework_help(id))
    );
    h.stop().await
}

#[tokio::test]
async fn an_update_replaces_the_details_of_an_open_and_of_a_closed_need() -> anyhow::Result<()> {
    let mut h = MATCHING.start_projector().await?;
    let id = NeedId::new_v7();
    h.append_domain("rodovre", id, &NeedEvent::Published(homework_help(id)))
        .await?;

    // Open: a full replacement, by the municipality now, remote and on a date.
    let replaced = eating_together(id);
    let update_position = h
        .append_domain("rodovre", id, &NeedEvent::Updated(replaced.clone()))
        .await?;
    h.caught_up().await?;
    let row = need_row(&h.pool, "rodovre", id.as_uuid())
        .await?
        .context("updated need")?;
    let literal = json!({
        "posted_by": "municipality",
        "organisation_id": null,
        "title": "Danmark Spiser Sammen – ring til ensomme ældre",
        "target_groups": ["elderly", "lonely"],
        "skills_required": [],
        "skills_nice_to_have": ["telefonsamtaler"],
        "languages": ["da"],
        "postcode": null,
        "remote": true,
        "schedule_kind": "on_date",
        "schedule_date": "2025-10-04",
        "slots": null,
        "hours_per_week": null,
        "volunteers_wanted": 12,
        "starts_on": "2025-09-15",
        "ends_on": "2025-10-31",
        "children_under_15": false,
        "status": "open",
        "position": update_position,
    });
    assert_eq!(pick(&row, &literal), literal);
    assert_eq!(
        pick(&row, &details_columns(&replaced)),
        details_columns(&replaced)
    );
    let times = need_times(&h, "rodovre", id).await?;
    assert_eq!(row["published_at"], times[0]);
    assert_eq!(row["updated_at"], times[1]);

    // Closed: the details are replaced, and it stays closed as it was closed.
    h.append_domain(
        "rodovre",
        id,
        &closed(id, Some("Vi har fundet frivillige nok"), at(2025, 12, 1)),
    )
    .await?;
    let back = homework_help(id);
    let position = h
        .append_domain("rodovre", id, &NeedEvent::Updated(back.clone()))
        .await?;
    h.caught_up().await?;
    let row = need_row(&h.pool, "rodovre", id.as_uuid())
        .await?
        .context("closed need")?;
    assert_eq!(pick(&row, &details_columns(&back)), details_columns(&back));
    assert_eq!(row["status"], "closed");
    assert_eq!(row["closed_at"], micros(at(2025, 12, 1)));
    assert_eq!(row["closing_reason"], "Vi har fundet frivillige nok");
    assert_eq!(row["position"], json!(position));
    let times = need_times(&h, "rodovre", id).await?;
    assert_eq!(row["published_at"], times[0]);
    assert_eq!(row["updated_at"], times[3]);
    h.stop().await
}

// ---------------------------------------------------------------------------------------------
// Direct: apply inside a transaction, as the runtime does
// ---------------------------------------------------------------------------------------------

/// Applies `events` to need `id` of Rødovre, at positions 1, 2, ..., and returns its row.
async fn after(pool: &PgPool, id: NeedId, events: &[NeedEvent]) -> anyhow::Result<Option<Value>> {
    let key = id.to_string();
    let recorded: Vec<_> = events
        .iter()
        .zip(1u64..)
        .map(|(event, position)| MATCHING.recorded("rodovre", &key, position, event))
        .collect();
    MATCHING
        .apply_all(pool, &recorded.iter().collect::<Vec<_>>())
        .await?;
    need_row(pool, "rodovre", id.as_uuid()).await
}

#[tokio::test]
async fn a_second_publication_keeps_the_first() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = NeedId::new_v7();
    let row = after(
        &pool,
        id,
        &[
            NeedEvent::Published(homework_help(id)),
            NeedEvent::Published(eating_together(id)),
        ],
    )
    .await?
    .context("row")?;
    let first = details_columns(&homework_help(id));
    assert_eq!(pick(&row, &first), first);
    assert_eq!(row["position"], 1);
    assert_eq!(row["updated_at"], micros(time_at(1)));
    Ok(())
}

#[tokio::test]
async fn an_update_without_a_publication_creates_an_open_row() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = NeedId::new_v7();
    let row = after(&pool, id, &[NeedEvent::Updated(eating_together(id))])
        .await?
        .context("row")?;
    let expected = details_columns(&eating_together(id));
    assert_eq!(pick(&row, &expected), expected);
    assert_eq!(row["status"], "open");
    assert_eq!(row["published_at"], micros(time_at(1)));
    assert_eq!(row["updated_at"], micros(time_at(1)));
    Ok(())
}

#[tokio::test]
async fn the_first_closing_stands() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = NeedId::new_v7();
    let row = after(
        &pool,
        id,
        &[
            NeedEvent::Published(homework_help(id)),
            closed(id, Some("Aktiviteten er aflyst"), at(2025, 12, 1)),
            closed(id, Some("Igen"), at(2026, 2, 1)),
            closed(id, None, at(2026, 3, 1)),
        ],
    )
    .await?
    .context("row")?;
    assert_eq!(row["status"], "closed");
    assert_eq!(row["closed_at"], micros(at(2025, 12, 1)));
    assert_eq!(row["closing_reason"], "Aktiviteten er aflyst");
    assert_eq!(row["updated_at"], micros(time_at(2)));
    assert_eq!(row["position"], 2);
    let kept = details_columns(&homework_help(id));
    assert_eq!(pick(&row, &kept), kept);

    // Without a reason; and nothing to close without a row.
    let other = NeedId::new_v7();
    let row = after(
        &pool,
        other,
        &[
            NeedEvent::Published(homework_help(other)),
            closed(other, None, at(2025, 12, 1)),
        ],
    )
    .await?
    .context("row")?;
    assert_eq!(row["closing_reason"], Value::Null);
    assert_eq!(row["status"], "closed");
    let missing = NeedId::new_v7();
    assert_eq!(
        after(&pool, missing, &[closed(missing, None, at(2025, 12, 1))]).await?,
        None
    );
    Ok(())
}

#[tokio::test]
async fn a_reopening_without_a_last_day_keeps_the_dates() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    for (details, v2) in [
        (homework_help as fn(NeedId) -> NeedDetails, false),
        (homework_help, true),
        (eating_together, false),
        (eating_together, true),
    ] {
        let id = NeedId::new_v7();
        let reopen = if v2 {
            reopened(id, None)
        } else {
            // As stored before a reopening could name a new last day.
            NeedEvent::ReopenedV1(NeedReopened {
                id,
                at: at(2026, 1, 5),
                last_day: None,
            })
        };
        let row = after(
            &pool,
            id,
            &[
                NeedEvent::Published(details(id)),
                closed(id, Some("Sommerferie"), at(2025, 12, 1)),
                reopen,
            ],
        )
        .await?
        .context("row")?;
        let expected = details_columns(&details(id));
        assert_eq!(pick(&row, &expected), expected);
        assert_eq!(row["status"], "open");
        assert_eq!(row["closed_at"], Value::Null);
        assert_eq!(row["closing_reason"], Value::Null);
        assert_eq!(row["updated_at"], micros(time_at(3)));
        assert_eq!(row["published_at"], micros(time_at(1)));
        assert_eq!(row["position"], 3);
    }
    Ok(())
}

#[tokio::test]
async fn a_weekly_need_reopened_with_a_last_day_ends_on_it() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let ongoing = |id| NeedDetails {
        ends_on: None,
        ..homework_help(id)
    };
    // Later than the end, earlier than it, and an end for an ongoing need.
    for (details, last_day) in [
        (
            homework_help as fn(NeedId) -> NeedDetails,
            date(2027, 6, 30),
        ),
        (homework_help, date(2026, 3, 31)),
        (ongoing, date(2026, 3, 31)),
    ] {
        let id = NeedId::new_v7();
        let row = after(
            &pool,
            id,
            &[
                NeedEvent::Published(details(id)),
                closed(id, None, at(2025, 12, 1)),
                reopened(id, Some(last_day)),
            ],
        )
        .await?
        .context("row")?;
        assert_eq!(row["ends_on"], json!(last_day));
        assert_eq!(row["schedule_kind"], "weekly");
        assert_eq!(row["schedule_date"], Value::Null);
        assert_eq!(row["starts_on"], "2025-09-02");
        let expected = details_columns(&details(id).with_last_day(last_day));
        assert_eq!(pick(&row, &expected), expected);
        assert_eq!(row["status"], "open");
        assert_eq!(row["closed_at"], Value::Null);
    }
    Ok(())
}

#[tokio::test]
async fn a_one_off_need_reopened_with_a_last_day_takes_place_on_it() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let unbounded = |id| NeedDetails {
        ends_on: None,
        ..eating_together(id)
    };
    // Published on 2025-10-04, ending 2025-10-31 (or not at all). Next year's date moves the
    // end along; a date within the end leaves it; without an end there is none to move.
    for (details, last_day, ends_on) in [
        (
            eating_together as fn(NeedId) -> NeedDetails,
            date(2026, 10, 3),
            Some(date(2026, 10, 3)),
        ),
        (
            eating_together,
            date(2025, 10, 20),
            Some(date(2025, 10, 31)),
        ),
        (unbounded, date(2026, 10, 3), None),
    ] {
        let id = NeedId::new_v7();
        let row = after(
            &pool,
            id,
            &[
                NeedEvent::Published(details(id)),
                closed(id, None, at(2025, 10, 5)),
                reopened(id, Some(last_day)),
            ],
        )
        .await?
        .context("row")?;
        assert_eq!(row["schedule_kind"], "on_date");
        assert_eq!(row["schedule_date"], json!(last_day));
        assert_eq!(row["ends_on"], json!(ends_on), "{last_day}");
        assert_eq!(row["slots"], Value::Null);
        assert_eq!(row["hours_per_week"], Value::Null);
        let expected = details_columns(&details(id).with_last_day(last_day));
        assert_eq!(pick(&row, &expected), expected);
        assert_eq!(row["status"], "open");
    }
    Ok(())
}

#[tokio::test]
async fn a_reopening_of_an_open_need_or_of_none_changes_nothing() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = NeedId::new_v7();
    let row = after(
        &pool,
        id,
        &[
            NeedEvent::Published(homework_help(id)),
            reopened(id, Some(date(2027, 6, 30))),
        ],
    )
    .await?
    .context("row")?;
    let expected = details_columns(&homework_help(id));
    assert_eq!(pick(&row, &expected), expected);
    assert_eq!(row["position"], 1);
    assert_eq!(row["updated_at"], micros(time_at(1)));

    let missing = NeedId::new_v7();
    assert_eq!(
        after(
            &pool,
            missing,
            &[reopened(missing, Some(date(2027, 6, 30)))]
        )
        .await?,
        None
    );
    Ok(())
}

#[tokio::test]
async fn events_of_one_message_share_its_position() -> anyhow::Result<()> {
    // A command may append several events in one message; the second must find the row the
    // first wrote, although both carry the same position.
    let pool = migrated_database().await?;
    let id = NeedId::new_v7();
    let key = id.to_string();
    let publish = MATCHING.recorded("rodovre", &key, 7, &NeedEvent::Published(homework_help(id)));
    let mut close = MATCHING.recorded("rodovre", &key, 7, &closed(id, None, at(2025, 12, 1)));
    close.index = 1;
    MATCHING.apply_all(&pool, &[&publish, &close]).await?;
    let row = need_row(&pool, "rodovre", id.as_uuid())
        .await?
        .context("row")?;
    assert_eq!(row["status"], "closed");
    assert_eq!(row["position"], 7);
    // The message delivered again changes nothing.
    let once = MATCHING.rows(&pool, "need").await?;
    MATCHING.apply_all(&pool, &[&publish, &close]).await?;
    assert_eq!(MATCHING.rows(&pool, "need").await?, once);
    Ok(())
}

/// The life of a few needs, in log order: each kind of event, and each reopening.
fn lives() -> Vec<RecordedEvent> {
    let weekly = NeedId::new_v7();
    let once = NeedId::new_v7();
    let (w, o) = (weekly.to_string(), once.to_string());
    let (w, o) = (w.as_str(), o.as_str());
    let events: Vec<(&str, NeedEvent)> = vec![
        (w, NeedEvent::Published(homework_help(weekly))),
        (o, NeedEvent::Updated(eating_together(once))),
        (
            w,
            NeedEvent::Updated(NeedDetails {
                volunteers_wanted: VolunteersWanted::parse(4).expect("valid"),
                ..homework_help(weekly)
            }),
        ),
        (o, closed(once, Some("Afholdt"), at(2025, 10, 5))),
        (w, closed(weekly, None, at(2025, 12, 1))),
        (w, NeedEvent::Updated(homework_help(weekly))),
        (o, reopened(once, Some(date(2026, 10, 3)))),
        (w, reopened(weekly, None)),
        (w, closed(weekly, Some("Sommerferie"), at(2026, 6, 30))),
        (
            w,
            NeedEvent::ReopenedV1(NeedReopened {
                id: weekly,
                at: at(2026, 8, 1),
                last_day: None,
            }),
        ),
    ];
    events
        .iter()
        .zip(1u64..)
        .map(|((key, event), position)| MATCHING.recorded("rodovre", key, position, event))
        .collect()
}

#[tokio::test]
async fn applying_an_event_twice_leaves_the_same_rows() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    for event in &lives() {
        MATCHING.apply_all(&pool, &[event]).await?;
        let once = MATCHING.rows(&pool, "need").await?;
        MATCHING.apply_all(&pool, &[event]).await?;
        assert_eq!(
            MATCHING.rows(&pool, "need").await?,
            once,
            "{} applied twice",
            event.envelope.event_type
        );
    }
    assert_eq!(
        MATCHING.rows(&pool, "need").await?.as_array().map(Vec::len),
        Some(2)
    );
    Ok(())
}

#[tokio::test]
async fn replaying_old_events_after_newer_ones_changes_nothing() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    // A redelivery of the whole history (a lost checkpoint), and one by one in reverse: nothing
    // rolls back (no closing closes the reopened needs again, no update brings
    // back older details).
    let final_rows = MATCHING
        .redelivery_changes_nothing(&pool, &lives(), "need")
        .await?;
    let statuses: Vec<&Value> = final_rows
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| &row["status"])
        .collect();
    assert_eq!(statuses, [&json!("open"), &json!("open")]);
    Ok(())
}

#[tokio::test]
async fn events_of_other_entity_kinds_change_nothing() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = NeedId::new_v7();
    MATCHING
        .apply_all(
            &pool,
            &[&MATCHING.recorded(
                "rodovre",
                &id.to_string(),
                1,
                &NeedEvent::Published(homework_help(id)),
            )],
        )
        .await?;
    let before = MATCHING.rows(&pool, "need").await?;

    // Volunteers and matches are this worker's business too (tests/volunteers.rs,
    // tests/matches.rs); organisations and municipalities are not, yet.
    let organisation = org_id();
    let others = [
        MATCHING.recorded(
            "rodovre",
            &organisation.to_string(),
            3,
            &OrganisationEvent::Deactivated(OrganisationDeactivated {
                id: organisation,
                reason: None,
            }),
        ),
        MATCHING.recorded(
            "rodovre",
            "rodovre",
            4,
            &municipality_registered("rodovre", 175, "Rødovre Kommune"),
        ),
        // Not even decodable: none of this worker's business, so not its error either.
        MATCHING.recorded_raw(
            "rodovre",
            "grant",
            &id.to_string(),
            6,
            "dk.samskab.grant.decided.v1",
            json!({"id": id, "anything": true}),
        ),
    ];
    MATCHING
        .apply_all(&pool, &others.iter().collect::<Vec<_>>())
        .await?;
    MATCHING.apply_batch_all(&pool, &others).await?;
    assert_eq!(MATCHING.rows(&pool, "need").await?, before);
    Ok(())
}

#[tokio::test]
async fn undecodable_events_and_foreign_ids_are_apply_errors() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = NeedId::new_v7();
    let key = id.to_string();

    let unknown = MATCHING.recorded_raw(
        "rodovre",
        "need",
        &key,
        1,
        "dk.samskab.need.filled.v1",
        json!({"id": key}),
    );
    assert!(matches!(
        MATCHING.apply_all(&pool, &[&unknown]).await,
        Err(ApplyError::UnknownEventType(t)) if t == "dk.samskab.need.filled.v1"
    ));

    let mut payload = NeedEvent::Published(homework_help(id)).to_payload();
    payload["volunteers_wanted"] = json!(0);
    let malformed =
        MATCHING.recorded_raw("rodovre", "need", &key, 2, NeedEvent::PUBLISHED_V1, payload);
    assert!(matches!(
        MATCHING.apply_all(&pool, &[&malformed]).await,
        Err(ApplyError::Malformed(_))
    ));

    // The payload names another need than the subject: writing it would put one need's
    // details into another's row.
    let other = NeedId::new_v7();
    for event in [
        NeedEvent::Published(homework_help(other)),
        closed(other, None, at(2025, 12, 1)),
        reopened(other, None),
    ] {
        let elsewhere = MATCHING.recorded("rodovre", &key, 3, &event);
        assert!(
            matches!(
                MATCHING.apply_all(&pool, &[&elsewhere]).await,
                Err(ApplyError::Malformed(_))
            ),
            "{}",
            event.event_type()
        );
    }
    assert_eq!(MATCHING.rows(&pool, "need").await?, json!([]));
    Ok(())
}

#[tokio::test]
async fn the_tenant_is_the_envelopes() -> anyhow::Result<()> {
    // The same need id under two tenants' subjects: two rows, each changed only by its own
    // tenant's events.
    let pool = migrated_database().await?;
    let id = NeedId::new_v7();
    let key = id.to_string();
    let events = [
        MATCHING.recorded("rodovre", &key, 1, &NeedEvent::Published(homework_help(id))),
        MATCHING.recorded(
            "roskilde",
            &key,
            2,
            &NeedEvent::Published(homework_help(id)),
        ),
        MATCHING.recorded("roskilde", &key, 3, &closed(id, None, at(2025, 12, 1))),
    ];
    MATCHING
        .apply_all(&pool, &events.iter().collect::<Vec<_>>())
        .await?;
    let rodovre = need_row(&pool, "rodovre", id.as_uuid())
        .await?
        .context("rodovre")?;
    let roskilde = need_row(&pool, "roskilde", id.as_uuid())
        .await?
        .context("roskilde")?;
    assert_eq!(rodovre["status"], "open");
    assert_eq!(roskilde["status"], "closed");
    Ok(())
}
