//! `reporting.need_version`, `match_version` and `match_hours` against a real PostgreSQL: a
//! match's life as versions, the minutes as logged, a redelivery that changes no row, and, for
//! any sequence of a need's or a match's events, the standing version says what `evolve`
//! folds from them.

use std::collections::BTreeMap;

use proptest::prelude::*;
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_testkit::projection::{migrated_database, time_at};
use serde_json::{Value, json};

mod support;
use support::{REPORTING, all_rows, recorded, standing_follows_state, versions};

/// Each month's latest minutes of the match, as `{month: minutes}`.
const LATEST_MINUTES: &str = ", 'minutes', (
    SELECT coalesce(jsonb_object_agg(month, minutes), '{}') FROM (
        SELECT DISTINCT ON (month) month, minutes FROM reporting.match_hours h
        WHERE h.tenant = v.tenant AND h.match_id = v.match_id
        ORDER BY month, from_position DESC, from_index DESC) latest)";

/// What the standing version says of a match's folded state: its stage (and, proposed, who has
/// accepted; started, its first day; ended, the day), and the minutes of each month as
/// `evolve` keeps them.
fn stage_of(state: &MatchState) -> Option<Value> {
    let no_minutes = BTreeMap::new();
    let ended_on = match state {
        MatchState::Ended { at, .. } => Some(calendar::danish_date(*at)),
        _ => None,
    };
    let (stage, started_on, minutes) = match state {
        MatchState::NotProposed => return None,
        MatchState::Proposed {
            volunteer_accepted,
            counterpart_accepted,
            ..
        } => {
            return Some(
                json!({ "stage": "proposed", "volunteer_accepted": volunteer_accepted,
                                "counterpart_accepted": counterpart_accepted, "minutes": {} }),
            );
        }
        MatchState::Agreed { .. } => ("agreed", None, &no_minutes),
        MatchState::Active {
            started_on,
            minutes,
            ..
        } => ("active", Some(*started_on), minutes),
        MatchState::Paused {
            started_on,
            minutes,
            ..
        } => ("paused", Some(*started_on), minutes),
        MatchState::Declined { .. } => ("declined", None, &no_minutes),
        MatchState::Ended {
            started_on,
            minutes,
            ..
        } => ("ended", *started_on, minutes),
    };
    let minutes: serde_json::Map<String, Value> = minutes
        .iter()
        .map(|(month, m)| (month.to_string(), json!(m.get())))
        .collect();
    Some(
        json!({ "stage": stage, "started_on": started_on, "ended_on": ended_on,
                 "minutes": minutes }),
    )
}

#[test]
fn a_matchs_standing_version_is_its_folded_state() -> anyhow::Result<()> {
    standing_follows_state::<Match>(
        "match_version",
        "match_id",
        LATEST_MINUTES,
        |id| {
            let id = MatchId::from_uuid(id);
            prop_oneof![
                1 => proptest::collection::vec(arb_match_event(id), 1..8),
                3 => arb_match_life(id),
            ]
            .boxed()
        },
        stage_of,
    )
}

#[test]
fn a_needs_standing_version_is_its_folded_state() -> anyhow::Result<()> {
    standing_follows_state::<Need>(
        "need_version",
        "need_id",
        "",
        |id| proptest::collection::vec(arb_need_event(NeedId::from_uuid(id)), 1..8).boxed(),
        |state| match state {
            NeedState::NotPosted => None,
            NeedState::Open(_) => Some(json!({ "status": "open" })),
            NeedState::Closed { .. } => Some(json!({ "status": "closed" })),
        },
    )
}

/// The canonical match (proposed by the coordinator, 1), accepted by the volunteer (2: agreed),
/// started (3), September logged (4) and corrected (6), paused (5), resumed (7), ended (9);
/// an hours figure after the end (10) is not the match's.
fn life(id: MatchId) -> Vec<RecordedEvent> {
    let uuid = id.as_uuid();
    let september = YearMonth::parse("2025-09").expect("month");
    let hours = |minutes: u32, position: u64| {
        MatchEvent::HoursLogged(MatchHoursLogged {
            id,
            period: september,
            minutes: MonthlyMinutes::parse(minutes).expect("minutes"),
            at: time_at(position),
        })
    };
    vec![
        recorded(uuid, 1, &match_proposed(id)),
        recorded(
            uuid,
            2,
            &MatchEvent::Accepted(MatchAccepted {
                id,
                side: MatchSide::Volunteer,
                at: time_at(2),
            }),
        ),
        recorded(
            uuid,
            3,
            &MatchEvent::Started(MatchStarted {
                id,
                on: date(2025, 9, 9),
                at: time_at(3),
            }),
        ),
        recorded(uuid, 4, &hours(120, 4)),
        recorded(
            uuid,
            5,
            &MatchEvent::Paused(MatchPaused {
                id,
                reason: None,
                at: time_at(5),
            }),
        ),
        recorded(uuid, 6, &hours(90, 6)),
        recorded(
            uuid,
            7,
            &MatchEvent::Resumed(MatchResumed { id, at: time_at(7) }),
        ),
        recorded(
            uuid,
            9,
            &MatchEvent::Ended(MatchEnded {
                id,
                reason: MatchEndReason::Completed,
                at: time_at(9),
            }),
        ),
        recorded(uuid, 10, &hours(30, 10)),
    ]
}

#[tokio::test]
async fn a_matchs_life_is_a_version_per_move_and_its_minutes_as_logged() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = match_id();
    let events = life(id);
    REPORTING
        .apply_all(&pool, &events.iter().collect::<Vec<_>>())
        .await?;
    let moves: Vec<Value> = versions(&pool, "match_version", "match_id", id.as_uuid())
        .await?
        .into_iter()
        .map(|v| {
            json!([
                v["started_by"],
                v["stage"],
                v["from"],
                v["to"],
                v["agreed_at"].is_string(),
                v["started_on"]
            ])
        })
        .collect();
    assert_eq!(
        moves,
        vec![
            json!(["proposed", "proposed", 1, 2, false, null]),
            json!(["accepted", "agreed", 2, 3, true, null]),
            json!(["started", "active", 3, 5, true, "2025-09-09"]),
            json!(["paused", "paused", 5, 7, true, "2025-09-09"]),
            json!(["resumed", "active", 7, 9, true, "2025-09-09"]),
            json!(["ended", "ended", 9, null, true, "2025-09-09"]),
        ]
    );
    let minutes: Vec<(String, i32)> =
        sqlx::query_as("SELECT month, minutes FROM reporting.match_hours ORDER BY from_position")
            .fetch_all(&pool)
            .await?;
    // Both figures as logged, the correction last; nothing after the end.
    assert_eq!(
        minutes,
        vec![("2025-09".to_string(), 120), ("2025-09".to_string(), 90)]
    );
    Ok(())
}

#[tokio::test]
async fn a_redelivery_changes_no_row_of_needs_matches_or_minutes() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let need = need_id();
    let mut events = vec![
        recorded(
            need.as_uuid(),
            11,
            &NeedEvent::Published(need_details(need, "Lektiehjælp")),
        ),
        recorded(
            need.as_uuid(),
            12,
            &NeedEvent::Closed(NeedClosed {
                id: need,
                reason: None,
                at: time_at(12),
            }),
        ),
        recorded(
            need.as_uuid(),
            13,
            &NeedEvent::Reopened(NeedReopened {
                id: need,
                at: time_at(13),
                last_day: None,
            }),
        ),
    ];
    events.extend(life(match_id()));
    let all: Vec<&RecordedEvent> = events.iter().collect();
    let tables = ["need_version", "match_version", "match_hours"];
    REPORTING.apply_all(&pool, &all).await?;
    let mut once = Vec::new();
    for table in tables {
        once.push(all_rows(&pool, table).await?);
    }
    REPORTING.apply_all(&pool, &all).await?;
    for event in all.iter().rev() {
        REPORTING.apply_all(&pool, &[event]).await?;
    }
    for (table, before) in tables.iter().zip(&once) {
        assert_eq!(&all_rows(&pool, table).await?, before, "{table}");
    }
    Ok(())
}
