//! The generic part of "a read model agrees with its decider": for any sequence of an entity's
//! events, the row after projecting them equals the row built from the state `evolve` folds
//! from the same events. That is what lets the API answer queries from the read model and
//! decide commands on the folded state without the two ever telling a different story.
//!
//! The sequences are any order of any events (the worker passes the domain's `arb_*_event`),
//! not only what `decide` would append, because `evolve` and the projection both promise to
//! cope with events out of place. Each sequence is applied either event by event or through the
//! batch path the runtime uses, some events twice in a row (a redelivery), and at the end one
//! earlier event again at its old position (a stale redelivery); none of that may change the
//! outcome.
//!
//! A row holds more than the state (times and positions from the envelope, ...); the comparison
//! covers the columns the expected row names.

use std::sync::Arc;

use anyhow::Context;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use samskab_domain::Decider;
use samskab_eventlog::RecordedEvent;
use samskab_projection::Projection;
use serde_json::{Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::{ReadModelTest, migrated_database, with_micros};

/// Whose row a case is about: the subject's tenant and entity id, and the row's key.
#[derive(Debug, Clone)]
pub struct Key {
    pub tenant: String,
    pub entity_id: String,
    /// `None` for a table keyed by the tenant alone (e.g. the municipality).
    pub row_id: Option<Uuid>,
}

impl Key {
    /// An entity of `tenant`, keyed by its id.
    pub fn entity(tenant: &str, id: Uuid) -> Self {
        Self {
            tenant: tenant.to_owned(),
            entity_id: id.to_string(),
            row_id: Some(id),
        }
    }

    /// Any entity of `tenant` (any id), keyed by its id.
    pub fn any_entity(tenant: &'static str) -> impl Strategy<Value = Self> {
        any::<u128>().prop_map(move |n| Self::entity(tenant, Uuid::from_u128(n)))
    }

    /// The row's id, for a table keyed by id.
    pub fn id(&self) -> Uuid {
        self.row_id.expect("keyed by id")
    }
}

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

/// Runs `case` on generated values against one migrated database. Deterministic, so CI sees the
/// same cases every time; a failure shows the minimal sequence proptest shrank it to.
fn check<S: Strategy>(
    strategy: S,
    case: impl AsyncFn(&PgPool, S::Value) -> anyhow::Result<()>,
) -> anyhow::Result<()>
where
    S::Value: Clone + std::fmt::Debug,
{
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
        .run(&strategy, |value| {
            runtime
                .block_on(case(&pool, value))
                .map_err(|error| TestCaseError::fail(format!("{error:#}")))
        })
        .map_err(|error| anyhow::anyhow!("{error}"))
}

/// The row's columns that `expected` has; the whole row when nothing or no row is expected.
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

impl<P: Projection + Clone> ReadModelTest<P> {
    /// The property for one kind of entity: for any 1..8 of its events (from `events`, given
    /// the key), delivered event by event or batched, some twice in a row, and one earlier event
    /// again at the end, the row in `table` (of the projection's schema) is the one
    /// `expected_row` builds from the folded state (`None`: no row). `expected_row` names the
    /// columns compared; its `*_at` values are [`micros`](super::micros).
    pub fn rows_follow_state<D: Decider>(
        &self,
        table: &'static str,
        keys: impl Strategy<Value = Key> + 'static,
        events: impl Fn(&Key) -> BoxedStrategy<D::Event> + 'static,
        expected_row: fn(&D::State) -> Option<Value>,
    ) -> anyhow::Result<()> {
        self.rows_follow_state_of_sequences::<D>(
            table,
            keys,
            move |key| proptest::collection::vec(events(key), 1..8).boxed(),
            expected_row,
        )
    }

    /// [`rows_follow_state`](Self::rows_follow_state) for sequences drawn whole (`sequences`,
    /// given the key): for an entity whose interesting states lie behind several events in
    /// order (an active match: proposed, accepted, started), which independent draws rarely
    /// reach.
    pub fn rows_follow_state_of_sequences<D: Decider>(
        &self,
        table: &'static str,
        keys: impl Strategy<Value = Key> + 'static,
        sequences: impl Fn(&Key) -> BoxedStrategy<Vec<D::Event>> + 'static,
        expected_row: fn(&D::State) -> Option<Value>,
    ) -> anyhow::Result<()> {
        let sequences = Arc::new(sequences);
        let strategy = keys.prop_flat_map(move |key| (sequences(&key), Just(key), arb_delivery()));
        check(strategy, async |pool, (events, key, delivery)| {
            // While shrinking, proptest tries many sequences for the same key.
            self.clear(pool, table, &key).await?;
            let recorded: Vec<_> = events
                .iter()
                .zip(1u64..)
                .map(|(event, position)| {
                    self.recorded(&key.tenant, &key.entity_id, position, event)
                })
                .collect();
            self.project(pool, &recorded, &delivery).await?;
            let expected = expected_row(&D::replay(&events));
            let row = self.row(pool, table, &key.tenant, key.row_id).await?;
            let actual = picked(row.map(with_micros).transpose()?, &expected)?;
            anyhow::ensure!(
                actual == expected,
                "row {actual:#?}\nstate says {expected:#?}"
            );
            Ok(())
        })
    }

    /// Projects `events` as `delivery` says.
    async fn project(
        &self,
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
            self.apply_batch_all(pool, &delivered).await?;
        } else {
            self.apply_all(pool, &delivered.iter().collect::<Vec<_>>())
                .await?;
        }
        if !events.is_empty() {
            self.apply_all(pool, &[delivery.stale.get(events)]).await?;
        }
        Ok(())
    }

    /// Removes the row of `key` that an earlier case left.
    async fn clear(&self, pool: &PgPool, table: &str, key: &Key) -> anyhow::Result<()> {
        let sql = format!(
            "DELETE FROM {}.{table} WHERE tenant = $1 {}",
            self.projection.schema(),
            if key.row_id.is_some() {
                "AND id = $2"
            } else {
                ""
            }
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&key.tenant);
        if let Some(id) = key.row_id {
            query = query.bind(id);
        }
        query.execute(pool).await?;
        Ok(())
    }
}
