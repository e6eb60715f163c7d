//! What the reporting worker's tests share: the projection under test, the versions of one
//! thing as rows, and the property that the standing version is the folded state's, for any
//! sequence of events, with redeliveries.

#![allow(dead_code)] // each test file uses its own part

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use samskab_domain::{Decider, DomainEvent};
use samskab_eventlog::RecordedEvent;
use samskab_reporting_worker::ReportingProjection;
use samskab_testkit::projection::{ReadModelTest, migrated_database};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

pub const TENANT: &str = "rodovre";
pub const REPORTING: ReadModelTest<ReportingProjection> =
    ReadModelTest::new(ReportingProjection, "user:sagsbehandler-1");

/// `event` about entity `id` at `position`, as the runtime hands it over.
pub fn recorded<E: DomainEvent>(id: Uuid, position: u64, event: &E) -> RecordedEvent {
    REPORTING.recorded(TENANT, &id.to_string(), position, event)
}

/// The versions of `id` in `table` (keyed by `key`), oldest first, as `to_jsonb` shows them,
/// with `from` and `to` as the positions `time_at` gave their times (seconds past its epoch).
pub async fn versions(
    pool: &PgPool,
    table: &str,
    key: &str,
    id: Uuid,
) -> anyhow::Result<Vec<Value>> {
    versions_with(pool, table, key, id, "").await
}

/// As [`versions`], each with the members `extra` adds (`, 'name', <SQL over v>`).
async fn versions_with(
    pool: &PgPool,
    table: &str,
    key: &str,
    id: Uuid,
    extra: &str,
) -> anyhow::Result<Vec<Value>> {
    let sql = format!(
        "SELECT to_jsonb(v) || jsonb_build_object(
            'from', extract(epoch FROM valid_from)::bigint - 1750000000,
            'to', extract(epoch FROM valid_to)::bigint - 1750000000 {extra})
         FROM reporting.{table} v WHERE tenant = $1 AND {key} = $2
         ORDER BY from_position, from_index"
    );
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(TENANT)
        .bind(id)
        .fetch_all(pool)
        .await?)
}

/// Empties every table of the schema but the checkpoint.
async fn empty_every_table(pool: &PgPool) -> anyhow::Result<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
         WHERE table_schema = 'reporting' AND table_name <> 'checkpoint'",
    )
    .fetch_all(pool)
    .await?;
    let sql = format!("TRUNCATE {}", tables.join(", "));
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await?;
    Ok(())
}

/// Every row of `table`, for a before-and-after comparison.
pub async fn all_rows(pool: &PgPool, table: &str) -> anyhow::Result<Value> {
    let sql = format!(
        "SELECT coalesce(jsonb_agg(to_jsonb(v) ORDER BY to_jsonb(v)::text), '[]')
         FROM reporting.{table} v"
    );
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(pool)
        .await?)
}

/// For any sequence of an entity's events from `sequences` (any order: `evolve` copes with
/// events out of place, and so must the projection), delivered once and then all again in
/// reverse, the standing version of `table` (with the members `extra` adds, see
/// [`versions_with`]) has the members `expected` names with the values it gives for the folded
/// state (`None`: no version), and the versions tile time (each ends where the next begins).
/// Deterministic, so CI sees the same cases every time.
pub fn standing_follows_state<D: Decider>(
    table: &'static str,
    key: &'static str,
    extra: &'static str,
    sequences: fn(Uuid) -> BoxedStrategy<Vec<D::Event>>,
    expected: fn(&D::State) -> Option<Value>,
) -> anyhow::Result<()> {
    each_sequence::<D>(sequences, |runtime, pool, id, events| {
        let found = runtime.block_on(versions_with(pool, table, key, id, extra))?;
        let wanted = expected(&D::replay(events));
        let standing = found.iter().find(|v| v["to"].is_null());
        let picked = standing.map(|v| {
            let names = wanted.as_ref().and_then(Value::as_object);
            let names: Vec<&String> = names.map(|w| w.keys().collect()).unwrap_or_default();
            Value::Object(
                names
                    .into_iter()
                    .map(|k| (k.clone(), v[k].clone()))
                    .collect(),
            )
        });
        anyhow::ensure!(picked == wanted, "standing {picked:?}, folded {wanted:?}");
        for pair in found.windows(2) {
            anyhow::ensure!(
                pair[0]["to"] == pair[1]["from"],
                "a gap or overlap: {found:?}"
            );
        }
        Ok(())
    })
}

/// For any sequence of an entity's events from `sequences`, delivered as
/// [`standing_follows_state`] delivers them, `found_sql` (one `jsonb` of the tenant `$1` and
/// the entity `$2`) is what `expected` says of the folded state: for a read model whose rows
/// are not the entity's own versions (a pool's budgets and cases).
pub fn read_model_follows_state<D: Decider>(
    found_sql: &'static str,
    sequences: fn(Uuid) -> BoxedStrategy<Vec<D::Event>>,
    expected: fn(&D::State) -> Value,
) -> anyhow::Result<()> {
    each_sequence::<D>(sequences, |runtime, pool, id, events| {
        let found: Value = runtime.block_on(
            sqlx::query_scalar(found_sql)
                .bind(TENANT)
                .bind(id)
                .fetch_one(pool),
        )?;
        let wanted = expected(&D::replay(events));
        anyhow::ensure!(found == wanted, "read model {found}, folded {wanted}");
        Ok(())
    })
}

/// Runs `check` on each case of `sequences` after the events were delivered in order and then
/// all again in reverse, into emptied tables. Deterministic, so CI sees the same cases every
/// time.
fn each_sequence<D: Decider>(
    sequences: fn(Uuid) -> BoxedStrategy<Vec<D::Event>>,
    check: impl Fn(&tokio::runtime::Runtime, &PgPool, Uuid, &[D::Event]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pool = runtime.block_on(migrated_database())?;
    let config = Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = any::<u128>().prop_flat_map(move |n| {
        let id = Uuid::from_u128(n);
        (Just(id), sequences(id))
    });
    runner
        .run(&strategy, |(id, events)| {
            let delivered = runtime.block_on(async {
                // A case of its own: shrinking runs the same id again.
                empty_every_table(&pool).await?;
                let recorded: Vec<RecordedEvent> = events
                    .iter()
                    .enumerate()
                    .map(|(i, e)| recorded(id, i as u64 + 1, e))
                    .collect();
                let all: Vec<&RecordedEvent> = recorded.iter().collect();
                REPORTING.apply_all(&pool, &all).await?;
                let reversed: Vec<&RecordedEvent> = recorded.iter().rev().collect();
                REPORTING.apply_all(&pool, &reversed).await?;
                anyhow::Ok(())
            });
            delivered
                .and_then(|()| check(&runtime, &pool, id, &events))
                .map_err(|error: anyhow::Error| TestCaseError::fail(format!("{error:#}")))
        })
        .map_err(|error| anyhow::anyhow!("{error}"))
}
