//! The matches of the matching read model (`matching.match`), against real servers: a fresh
//! PostgreSQL database per test, and for the first test a NATS server of its own with the real
//! projector (see samskab-testkit).
//!
//! Each test pins down one rule of `Match::evolve` as the row shows it: a whole life from the
//! coordinator's proposal to the end, with the minutes of each month (the latest figure wins);
//! the volunteer's "I'm interested", which waits for the counterpart; a decline, after which
//! nothing changes the row; an end before the start; a second proposal; events out of place or
//! without a proposal; redeliveries; one message of several events; a payload naming another
//! match. `row_follows_state.rs` checks the same against the folded state for any sequence.

use anyhow::Context;
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_projection::ApplyError;
use samskab_testkit::projection::{micros, migrated_database, time_at};
use serde_json::{Value, json};
use sqlx::PgPool;

mod support;
use support::*;

// ---------------------------------------------------------------------------------------------
// Fixtures (the shared ones are `samskab_domain::fixtures`): the canonical life of a match, as
// the domain's tests tell it. Proposed by the coordinator on 2025-09-03, accepted by Søren the
// next day, started on Tuesday 2025-09-09, hours logged for September and October, paused for
// Christmas on 2025-12-15, resumed on 2026-01-10, completed at the summer holidays.
// ---------------------------------------------------------------------------------------------

/// The canonical proposal: Søren and the homework help, by the organisation's coordinator.
fn proposed(id: MatchId) -> MatchEvent {
    match_proposed(id)
}

/// Søren's "I'm interested" in the homework help, without a note.
fn interested(id: MatchId) -> MatchEvent {
    MatchEvent::Proposed(MatchProposed {
        details: MatchDetails {
            proposed_by: ProposedBy::Volunteer,
            note: None,
            ..match_details(id)
        },
        at: at(2025, 9, 3),
    })
}

/// Another proposal of the same match: other sides, the other proposer, another note and day.
fn proposed_again(id: MatchId) -> MatchEvent {
    MatchEvent::Proposed(MatchProposed {
        details: MatchDetails {
            id,
            volunteer_id: VolunteerId::new_v7(),
            counterpart: Counterpart::Need(NeedId::new_v7()),
            proposed_by: ProposedBy::Volunteer,
            note: note("Et andet forslag"),
            volunteer_municipality: TenantId::parse("roskilde").ok(),
        },
        at: at(2025, 9, 20),
    })
}

fn note(text: &str) -> Option<MatchNote> {
    MatchNote::parse_optional(Some(text)).expect("valid note")
}

fn accepted(id: MatchId, side: MatchSide) -> MatchEvent {
    MatchEvent::Accepted(MatchAccepted {
        id,
        side,
        at: at(2025, 9, 4),
    })
}

fn declined(id: MatchId, side: MatchSide, reason: Option<&str>) -> MatchEvent {
    MatchEvent::Declined(MatchDeclined {
        id,
        side,
        reason: reason.and_then(note),
        at: at(2025, 9, 5),
    })
}

fn started(id: MatchId) -> MatchEvent {
    MatchEvent::Started(MatchStarted {
        id,
        on: date(2025, 9, 9),
        at: at(2025, 9, 5),
    })
}

fn hours(id: MatchId, period: &str, minutes: u32) -> MatchEvent {
    MatchEvent::HoursLogged(MatchHoursLogged {
        id,
        period: YearMonth::parse(period).expect("valid month"),
        minutes: MonthlyMinutes::parse(minutes).expect("valid minutes"),
        at: at(2025, 11, 1),
    })
}

fn paused(id: MatchId) -> MatchEvent {
    MatchEvent::Paused(MatchPaused {
        id,
        reason: note("Juleferie"),
        at: at(2025, 12, 15),
    })
}

fn resumed(id: MatchId) -> MatchEvent {
    MatchEvent::Resumed(MatchResumed {
        id,
        at: at(2026, 1, 10),
    })
}

fn ended(id: MatchId, reason: MatchEndReason) -> MatchEvent {
    MatchEvent::Ended(MatchEnded {
        id,
        reason,
        at: at(2026, 6, 30),
    })
}

/// Every event a match has, other than a proposal, for `id`: once a match is declined or
/// ended, none of them may change its row; without a proposal, none may create one.
fn every_other_event(id: MatchId) -> Vec<MatchEvent> {
    vec![
        accepted(id, MatchSide::Volunteer),
        accepted(id, MatchSide::Counterpart),
        declined(id, MatchSide::Volunteer, Some("Passer ikke alligevel")),
        declined(id, MatchSide::Counterpart, None),
        started(id),
        hours(id, "2025-09", 60),
        paused(id),
        resumed(id),
        ended(id, MatchEndReason::Other),
    ]
}

/// The columns the canonical proposal of match `id` determines.
fn proposal_of(id: MatchId) -> Value {
    let MatchEvent::Proposed(proposal) = proposed(id) else {
        unreachable!("a proposal")
    };
    proposal_columns(&proposal)
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

/// Applies `event` to match `id` of Rødovre at `position`, and returns the row.
async fn apply_at(
    pool: &PgPool,
    id: MatchId,
    position: u64,
    event: &MatchEvent,
) -> anyhow::Result<Option<Value>> {
    let recorded = MATCHING.recorded("rodovre", &id.to_string(), position, event);
    MATCHING.apply_all(pool, &[&recorded]).await?;
    match_row(pool, "rodovre", id.as_uuid()).await
}

/// Applies `events` to match `id` of Rødovre, at positions 1, 2, ..., and returns the row.
async fn after(pool: &PgPool, id: MatchId, events: &[MatchEvent]) -> anyhow::Result<Option<Value>> {
    let key = id.to_string();
    let recorded: Vec<_> = events
        .iter()
        .zip(1u64..)
        .map(|(event, position)| MATCHING.recorded("rodovre", &key, position, event))
        .collect();
    MATCHING
        .apply_all(pool, &recorded.iter().collect::<Vec<_>>())
        .await?;
    match_row(pool, "rodovre", id.as_uuid()).await
}

// ---------------------------------------------------------------------------------------------
// Through the runtime
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_proposal_is_a_proposed_row_with_every_column() -> anyhow::Result<()> {
    let mut h = MATCHING.start_projector().await?;
    let id = MatchId::new_v7();
    let position = h.append_domain("rodovre", id, &proposed(id)).await?;
    h.caught_up().await?;

    let row = match_row(&h.pool, "rodovre", id.as_uuid())
        .await?
        .context("proposed match")?;
    let times = h
        .envelope_times("rodovre", MatchEvent::KIND.as_str(), &id.to_string())
        .await?;
    // Every column, so a column added to the table without being written shows here. The
    // coordinator's proposal is the counterpart's acceptance.
    let expected = json!({
        "tenant": "rodovre",
        "id": id.to_string(),
        "volunteer_id": volunteer_id().to_string(),
        "volunteer_municipality": null,
        "need_id": need_id().to_string(),
        "person_id": null,
        "proposed_by": "coordinator",
        "note": "Tirsdag aften passer begge parter, og der er brug for en, der taler ukrainsk.",
        "proposed_at": micros(at(2025, 9, 3)),
        "status": "proposed",
        "volunteer_accepted": false,
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
        "updated_at": micros(times[0]),
        "position": position,
    });
    assert_eq!(row, expected);
    // The tests' rendering of a proposal agrees with the literal row.
    assert_eq!(pick(&row, &proposal_of(id)), proposal_of(id));
    h.stop().await
}

// ---------------------------------------------------------------------------------------------
// Direct: one rule at a time
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_whole_life_from_the_coordinators_proposal_to_the_end() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = MatchId::new_v7();
    let proposal = apply_at(&pool, id, 1, &proposed(id))
        .await?
        .context("row")?;
    assert_eq!(proposal["status"], "proposed");
    assert_eq!(
        (
            &proposal["volunteer_accepted"],
            &proposal["counterpart_accepted"]
        ),
        (&json!(false), &json!(true))
    );

    // The volunteer accepts: both sides have, so it is agreed.
    let agreed = apply_at(&pool, id, 2, &accepted(id, MatchSide::Volunteer))
        .await?
        .context("row")?;
    let literal = json!({
        "status": "agreed",
        "volunteer_accepted": true,
        "counterpart_accepted": true,
        "started_on": null,
        "minutes": {},
        "position": 2,
        "updated_at": micros(time_at(2)),
    });
    assert_eq!(pick(&agreed, &literal), literal);
    // The proposal stays as it was proposed.
    assert_eq!(pick(&agreed, &proposal_of(id)), proposal_of(id));

    let active = apply_at(&pool, id, 3, &started(id)).await?.context("row")?;
    let literal = json!({
        "status": "active",
        "started_on": "2025-09-09",
        "minutes": {},
        "position": 3,
    });
    assert_eq!(pick(&active, &literal), literal);

    // September twice (the latest figure wins), October once.
    apply_at(&pool, id, 4, &hours(id, "2025-09", 240)).await?;
    let corrected = apply_at(&pool, id, 5, &hours(id, "2025-09", 300))
        .await?
        .context("row")?;
    assert_eq!(corrected["minutes"], json!({"2025-09": 300}));
    let logged = apply_at(&pool, id, 6, &hours(id, "2025-10", 120))
        .await?
        .context("row")?;
    assert_eq!(logged["minutes"], json!({"2025-09": 300, "2025-10": 120}));
    assert_eq!(logged["status"], "active");
    assert_eq!(logged["position"], 6);
    assert_eq!(logged["updated_at"], micros(time_at(6)));

    let on_pause = apply_at(&pool, id, 7, &paused(id)).await?.context("row")?;
    let literal = json!({
        "status": "paused",
        "paused_since": timestamptz_json(at(2025, 12, 15)),
        "pause_reason": "Juleferie",
        "started_on": "2025-09-09",
        "minutes": {"2025-09": 300, "2025-10": 120},
    });
    assert_eq!(pick(&on_pause, &literal), literal);
    // The literal text PostgreSQL renders, and what the tests render.
    assert_eq!(on_pause["paused_since"], "2025-12-15T10:00:00+00:00");

    // Resumed: no pause any more; the rest is as it was before the pause.
    let resumed_row = apply_at(&pool, id, 8, &resumed(id)).await?.context("row")?;
    assert_eq!(without_position(&resumed_row), without_position(&logged));
    assert_eq!(resumed_row["paused_since"], Value::Null);
    assert_eq!(resumed_row["pause_reason"], Value::Null);
    assert_eq!(resumed_row["position"], 8);

    let end = apply_at(&pool, id, 9, &ended(id, MatchEndReason::Completed))
        .await?
        .context("row")?;
    let literal = json!({
        "status": "ended",
        "ended_at": micros(at(2026, 6, 30)),
        "end_reason": "completed",
        // It keeps its start and its minutes, which retention and the hours reports count.
        "started_on": "2025-09-09",
        "minutes": {"2025-09": 300, "2025-10": 120},
        "paused_since": null,
        "pause_reason": null,
        "volunteer_accepted": true,
        "counterpart_accepted": true,
        "declined_by": null,
        "declined_at": null,
        "decline_reason": null,
        "position": 9,
        "updated_at": micros(time_at(9)),
    });
    assert_eq!(pick(&end, &literal), literal);
    assert_eq!(pick(&end, &proposal_of(id)), proposal_of(id));

    // The row is the row of the state the decider folds from the same events.
    let events = [
        proposed(id),
        accepted(id, MatchSide::Volunteer),
        started(id),
        hours(id, "2025-09", 240),
        hours(id, "2025-09", 300),
        hours(id, "2025-10", 120),
        paused(id),
        resumed(id),
        ended(id, MatchEndReason::Completed),
    ];
    let MatchState::Ended {
        started_on,
        minutes,
        ..
    } = Match::replay(&events)
    else {
        panic!("the life ends ended");
    };
    assert_eq!(json!(started_on), end["started_on"]);
    assert_eq!(json!(minutes), end["minutes"]);

    // The first ending stands, and nothing else changes the row any more.
    let mut later = every_other_event(id);
    later.push(proposed_again(id));
    for (event, position) in later.iter().zip(10u64..) {
        let row = apply_at(&pool, id, position, event).await?.context("row")?;
        assert_eq!(row, end, "{}", event.event_type());
    }
    Ok(())
}

#[tokio::test]
async fn a_volunteers_interest_waits_for_the_counterpart() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = MatchId::new_v7();
    let interest = apply_at(&pool, id, 1, &interested(id))
        .await?
        .context("row")?;
    let literal = json!({
        "proposed_by": "volunteer",
        "note": null,
        "status": "proposed",
        "volunteer_accepted": true,
        "counterpart_accepted": false,
    });
    assert_eq!(pick(&interest, &literal), literal);

    // The volunteer accepting again changes nothing (their interest was their acceptance).
    let again = apply_at(&pool, id, 2, &accepted(id, MatchSide::Volunteer))
        .await?
        .context("row")?;
    assert_eq!(again, interest);
    // Nor do a start, hours, a pause, a resumption or an end of a proposal.
    for (event, position) in [
        started(id),
        hours(id, "2025-09", 60),
        paused(id),
        resumed(id),
        ended(id, MatchEndReason::Completed),
    ]
    .iter()
    .zip(3u64..)
    {
        let row = apply_at(&pool, id, position, event).await?.context("row")?;
        assert_eq!(row, interest, "{}", event.event_type());
    }

    let agreed = apply_at(&pool, id, 8, &accepted(id, MatchSide::Counterpart))
        .await?
        .context("row")?;
    assert_eq!(agreed["status"], "agreed");
    assert_eq!(agreed["volunteer_accepted"], true);
    assert_eq!(agreed["counterpart_accepted"], true);
    assert_eq!(agreed["position"], 8);
    Ok(())
}

#[tokio::test]
async fn a_decline_keeps_who_when_and_why_and_nothing_changes_the_row_after_it()
-> anyhow::Result<()> {
    let pool = migrated_database().await?;
    // The volunteer says no to the coordinator's proposal, and the coordinator withdraws the
    // volunteer's own (a side that accepted may decline too).
    for (proposal, side, reason) in [
        (
            proposed as fn(MatchId) -> MatchEvent,
            MatchSide::Volunteer,
            Some("Jeg har ikke tid om tirsdagen alligevel"),
        ),
        (interested, MatchSide::Counterpart, None),
    ] {
        let id = MatchId::new_v7();
        let row = after(&pool, id, &[proposal(id), declined(id, side, reason)])
            .await?
            .context("row")?;
        let by_volunteer = side == MatchSide::Volunteer;
        let literal = json!({
            "status": "declined",
            "declined_by": side.as_str(),
            "declined_at": micros(at(2025, 9, 5)),
            "decline_reason": reason,
            // The acceptances as they were: the proposer's side only.
            "volunteer_accepted": !by_volunteer,
            "counterpart_accepted": by_volunteer,
            "started_on": null,
            "minutes": {},
            "position": 2,
            "updated_at": micros(time_at(2)),
        });
        assert_eq!(pick(&row, &literal), literal, "declined by the {side}");

        // Final: no acceptance, second decline, start, hours, pause, end or proposal changes it.
        let mut later = every_other_event(id);
        later.push(proposed_again(id));
        for (event, position) in later.iter().zip(3u64..) {
            let after_decline = apply_at(&pool, id, position, event).await?.context("row")?;
            assert_eq!(after_decline, row, "{}", event.event_type());
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_match_ended_before_it_started_has_no_start_and_no_minutes() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = MatchId::new_v7();
    let row = after(
        &pool,
        id,
        &[
            proposed(id),
            accepted(id, MatchSide::Volunteer),
            // Hours before the start are out of place: they leave nothing behind.
            hours(id, "2025-09", 60),
            ended(id, MatchEndReason::VolunteerStopped),
        ],
    )
    .await?
    .context("row")?;
    let literal = json!({
        "status": "ended",
        "started_on": null,
        "minutes": {},
        "ended_at": micros(at(2026, 6, 30)),
        "end_reason": "volunteer_stopped",
        "position": 4,
    });
    assert_eq!(pick(&row, &literal), literal);
    // A start after the end does not start it.
    let later = apply_at(&pool, id, 5, &started(id)).await?.context("row")?;
    assert_eq!(later, row);
    Ok(())
}

#[tokio::test]
async fn a_pause_ended_is_no_pause_and_hours_are_logged_while_paused() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = MatchId::new_v7();
    let row = after(
        &pool,
        id,
        &[
            proposed(id),
            accepted(id, MatchSide::Volunteer),
            started(id),
            paused(id),
            // A second pause keeps the first: when and why.
            MatchEvent::Paused(MatchPaused {
                id,
                reason: None,
                at: at(2026, 1, 2),
            }),
            hours(id, "2025-12", 90),
        ],
    )
    .await?
    .context("row")?;
    let literal = json!({
        "status": "paused",
        "paused_since": timestamptz_json(at(2025, 12, 15)),
        "pause_reason": "Juleferie",
        "minutes": {"2025-12": 90},
        "position": 6,
    });
    assert_eq!(pick(&row, &literal), literal);

    let end = apply_at(&pool, id, 7, &ended(id, MatchEndReason::CounterpartStopped))
        .await?
        .context("row")?;
    let literal = json!({
        "status": "ended",
        "paused_since": null,
        "pause_reason": null,
        "started_on": "2025-09-09",
        "minutes": {"2025-12": 90},
        "end_reason": "counterpart_stopped",
    });
    assert_eq!(pick(&end, &literal), literal);
    // A resumption after the end brings back neither the pause nor an active match.
    let later = apply_at(&pool, id, 8, &resumed(id)).await?.context("row")?;
    assert_eq!(later, end);
    Ok(())
}

#[tokio::test]
async fn a_second_proposal_keeps_the_first() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = MatchId::new_v7();
    let first = apply_at(&pool, id, 1, &proposed(id))
        .await?
        .context("row")?;
    let row = apply_at(&pool, id, 2, &proposed_again(id))
        .await?
        .context("row")?;
    assert_eq!(row, first);
    assert_eq!(pick(&row, &proposal_of(id)), proposal_of(id));

    // Nor does one take back the agreement reached in between.
    let agreed = apply_at(&pool, id, 3, &accepted(id, MatchSide::Volunteer))
        .await?
        .context("row")?;
    let row = apply_at(&pool, id, 4, &proposed(id))
        .await?
        .context("row")?;
    assert_eq!(row, agreed);
    assert_eq!(row["status"], "agreed");
    Ok(())
}

#[tokio::test]
async fn events_of_an_unknown_match_create_no_row() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = MatchId::new_v7();
    // Each alone, and all in a row: without a proposal there is nothing to change.
    for event in every_other_event(id) {
        assert_eq!(
            apply_at(&pool, id, 1, &event).await?,
            None,
            "{}",
            event.event_type()
        );
    }
    assert_eq!(after(&pool, id, &every_other_event(id)).await?, None);
    assert_eq!(MATCHING.rows(&pool, "match").await?, json!([]));

    // A proposal after them is an ordinary proposal: they left nothing behind.
    let row = apply_at(&pool, id, 10, &proposed(id))
        .await?
        .context("row")?;
    let literal = json!({
        "status": "proposed",
        "volunteer_accepted": false,
        "counterpart_accepted": true,
        "started_on": null,
        "minutes": {},
        "declined_by": null,
        "ended_at": null,
    });
    assert_eq!(pick(&row, &literal), literal);
    Ok(())
}

/// The life of a few matches, in log order: each kind of event, in and out of place.
fn lives() -> Vec<RecordedEvent> {
    let (a, b, c, d) = (
        MatchId::new_v7(),
        MatchId::new_v7(),
        MatchId::new_v7(),
        MatchId::new_v7(),
    );
    let events = vec![
        proposed(a),
        started(b),
        interested(b),
        accepted(a, MatchSide::Volunteer),
        proposed(c),
        hours(a, "2025-09", 240),
        started(a),
        hours(a, "2025-09", 240),
        declined(c, MatchSide::Counterpart, Some("Behovet er dækket")),
        accepted(b, MatchSide::Counterpart),
        hours(a, "2025-09", 300),
        accepted(c, MatchSide::Volunteer),
        paused(a),
        hours(a, "2025-10", 120),
        proposed(d),
        paused(a),
        resumed(a),
        accepted(d, MatchSide::Volunteer),
        ended(b, MatchEndReason::NoLongerSuitable),
        started(b),
        started(d),
        paused(d),
        ended(a, MatchEndReason::Completed),
        resumed(a),
        proposed_again(a),
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
        let once = MATCHING.rows(&pool, "match").await?;
        MATCHING.apply_all(&pool, &[event]).await?;
        assert_eq!(
            MATCHING.rows(&pool, "match").await?,
            once,
            "{} applied twice",
            event.envelope.event_type
        );
    }
    let rows = MATCHING.rows(&pool, "match").await?;
    let mut outcomes: Vec<(String, String)> = rows
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            (
                row["status"].as_str().unwrap_or_default().to_owned(),
                row["minutes"].to_string(),
            )
        })
        .collect();
    outcomes.sort();
    let mut expected = [
        ("declined", json!({})),
        ("ended", json!({"2025-09": 300, "2025-10": 120})),
        ("ended", json!({})),
        ("paused", json!({})),
    ]
    .map(|(status, minutes)| (status.to_owned(), minutes.to_string()));
    expected.sort();
    assert_eq!(outcomes, expected);
    Ok(())
}

#[tokio::test]
async fn replaying_old_events_after_newer_ones_changes_nothing() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    // A redelivery of the whole history (a lost checkpoint), and one by one in reverse: nothing
    // rolls back (no earlier figure replaces a later one, no pause comes back
    // after the resumption, no acceptance re-opens a declined match).
    MATCHING
        .redelivery_changes_nothing(&pool, &lives(), "match")
        .await?;
    Ok(())
}

#[tokio::test]
async fn events_of_one_message_share_its_position() -> anyhow::Result<()> {
    // A command may append several events in one message; the second must find the row the
    // first wrote, although both carry the same position.
    let pool = migrated_database().await?;
    let id = MatchId::new_v7();
    let key = id.to_string();
    let message = |position, events: &[MatchEvent]| -> Vec<RecordedEvent> {
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

    // Proposed and agreed at once.
    let first = message(7, &[proposed(id), accepted(id, MatchSide::Volunteer)]);
    MATCHING
        .apply_all(&pool, &first.iter().collect::<Vec<_>>())
        .await?;
    let row = match_row(&pool, "rodovre", id.as_uuid())
        .await?
        .context("row")?;
    assert_eq!(row["status"], "agreed");
    assert_eq!(row["position"], 7);

    // Started, a month logged and corrected, and paused at once.
    let second = message(
        8,
        &[
            started(id),
            hours(id, "2025-09", 240),
            hours(id, "2025-09", 180),
            paused(id),
        ],
    );
    MATCHING.apply_batch_all(&pool, &second).await?;
    let row = match_row(&pool, "rodovre", id.as_uuid())
        .await?
        .context("row")?;
    assert_eq!(row["status"], "paused");
    assert_eq!(row["minutes"], json!({"2025-09": 180}));
    assert_eq!(row["position"], 8);

    // Resumed and ended at once.
    let third = message(9, &[resumed(id), ended(id, MatchEndReason::Other)]);
    MATCHING
        .apply_all(&pool, &third.iter().collect::<Vec<_>>())
        .await?;
    let row = match_row(&pool, "rodovre", id.as_uuid())
        .await?
        .context("row")?;
    assert_eq!(row["status"], "ended");
    assert_eq!(row["paused_since"], Value::Null);
    assert_eq!(row["minutes"], json!({"2025-09": 180}));
    assert_eq!(row["position"], 9);

    // Every message delivered again changes nothing.
    let once = MATCHING.rows(&pool, "match").await?;
    for recorded in [&first, &second, &third] {
        MATCHING
            .apply_all(&pool, &recorded.iter().collect::<Vec<_>>())
            .await?;
    }
    assert_eq!(MATCHING.rows(&pool, "match").await?, once);
    Ok(())
}

#[tokio::test]
async fn a_payload_naming_another_match_is_an_apply_error() -> anyhow::Result<()> {
    // Writing it would put one match's data into another's row.
    let pool = migrated_database().await?;
    let id = MatchId::new_v7();
    let other = MatchId::new_v7();
    let mut events = every_other_event(other);
    events.push(proposed(other));
    for event in events {
        let elsewhere = MATCHING.recorded("rodovre", &id.to_string(), 1, &event);
        assert!(
            matches!(
                MATCHING.apply_all(&pool, &[&elsewhere]).await,
                Err(ApplyError::Malformed(_))
            ),
            "{}",
            event.event_type()
        );
    }
    assert_eq!(MATCHING.rows(&pool, "match").await?, json!([]));
    Ok(())
}
