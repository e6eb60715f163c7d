//! The read model agrees with the decider: for any sequence of a need's events, the
//! `matching.need` row after projecting them equals the row built from the state `Need::evolve`
//! folds from the same events (no row for NotPosted). That is what lets the API answer queries
//! from the read model and decide commands on the folded state without the two ever telling a
//! different story.
//!
//! The sequences are any order of any events (`samskab_domain::fixtures::arb_need_event`), not
//! only what `decide` would append, because `evolve` and the projection both promise to cope
//! with events out of place. Each sequence is applied either event by event or through the batch
//! path the runtime uses, some events twice in a row (a redelivery), and at the end one earlier
//! event again at its old position (a stale redelivery); none of that may change the outcome.
//!
//! The approach and the harness are the directory worker's (its `row_follows_state.rs`),
//! narrowed to the one entity this worker projects. A row holds more than the state (times and
//! positions from the envelope); the comparison covers every column the state determines.

use anyhow::Context;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use samskab_domain::fixtures::arb_need_event;
use samskab_domain::{Decider, Need, NeedId, NeedState};
use samskab_eventlog::RecordedEvent;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

mod support;
use support::*;

const TENANT: &str = "rodovre";

/// How a sequence reaches the projection.
#[derive(Debug, Clone)]
struct Delivery {
    /// Through `apply_batch` in one transaction, or one `apply` per event.
    batched: bool,
    /// Per event: delivered a second time right after itself.
    repeated: Vec<bool>,
    /// One earlier event delivered again after all the others, at its old position.
    stale: prop::sample::Index,
}

fn arb_delivery() -> impl Strategy<Value = Delivery> {
    (
        any::<bool>(),
        proptest::collection::vec(any::<bool>(), 8),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(batched, repeated, stale)| Delivery {
            batched,
            repeated,
            stale,
        })
}

/// Projects `events` as `delivery` says.
async fn project(
    pool: &PgPool,
    events: &[RecordedEvent],
    delivery: &Delivery,
) -> anyhow::Result<()> {
    let mut delivered = Vec::new();
    for (event, repeated) in events
        .iter()
        .zip(delivery.repeated.iter().chain(std::iter::repeat(&false)))
    {
        delivered.push(event.clone());
        if *repeated {
            delivered.push(event.clone());
        }
    }
    if delivery.batched {
        apply_batch_all(pool, &delivered).await?;
    } else {
        apply_all(pool, &delivered.iter().collect::<Vec<_>>()).await?;
    }
    if !events.is_empty() {
        apply_all(pool, &[delivery.stale.get(events)]).await?;
    }
    Ok(())
}

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

/// The row's columns that `expected` has.
fn picked(row: Option<Value>, expected: &Option<Value>) -> anyhow::Result<Option<Value>> {
    let (Some(Value::Object(all)), Some(Value::Object(wanted))) = (row.clone(), expected) else {
        return Ok(row);
    };
    let mut picked = Map::new();
    for column in wanted.keys() {
        let value = all.get(column).cloned().context("no such column")?;
        picked.insert(column.clone(), value);
    }
    Ok(Some(Value::Object(picked)))
}

/// For any 1..8 of a need's events, delivered as [`arb_delivery`] says, the row is the one
/// [`need_row_of`] builds from the folded state. Deterministic, so CI sees the same cases every
/// time; a failure shows the minimal sequence proptest shrank it to.
#[test]
fn a_needs_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    let strategy = any::<u128>().prop_flat_map(|n| {
        let id = NeedId::from_uuid(Uuid::from_u128(n));
        (
            proptest::collection::vec(arb_need_event(id), 1..8),
            Just(id),
            arb_delivery(),
        )
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pool = runtime.block_on(migrated_database())?;
    let config = Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    runner
        .run(&strategy, |(events, id, delivery)| {
            runtime
                .block_on(async {
                    // While shrinking, proptest tries many sequences for the same need.
                    sqlx::query("DELETE FROM matching.need WHERE tenant = $1 AND id = $2")
                        .bind(TENANT)
                        .bind(id.as_uuid())
                        .execute(&pool)
                        .await?;
                    let key = id.to_string();
                    let recorded: Vec<_> = events
                        .iter()
                        .zip(1u64..)
                        .map(|(event, position)| recorded(TENANT, &key, position, event))
                        .collect();
                    project(&pool, &recorded, &delivery).await?;
                    let expected = need_row_of(&Need::replay(&events));
                    let actual = picked(need_row(&pool, TENANT, id.as_uuid()).await?, &expected)?;
                    anyhow::ensure!(
                        actual == expected,
                        "row {actual:#?}\nstate says {expected:#?}"
                    );
                    Ok(())
                })
                .map_err(|error: anyhow::Error| TestCaseError::fail(format!("{error:#}")))
        })
        .map_err(|error| anyhow::anyhow!("{error}"))
}
