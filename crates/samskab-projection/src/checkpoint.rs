//! The checkpoint: the log position a projection has applied up to, kept in the projection's own
//! schema (`<schema>.checkpoint (projection text primary key, position bigint not null)`) and
//! written in the same transaction as the rows. That is what makes redelivery harmless: a
//! message at or below the checkpoint has already had its effect.

use std::time::{Duration, Instant};

use sqlx::{PgConnection, PgPool};

use crate::ident;

/// Position (stream sequence) the projection in `projection_schema` has applied up to; 0 if
/// none. Each projection schema holds one projection, so the schema names it.
pub async fn checkpoint(pool: &PgPool, projection_schema: &str) -> Result<u64, sqlx::Error> {
    ident::validate("schema", projection_schema)?;
    let position: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT coalesce(max(position), 0)::bigint FROM {projection_schema}.checkpoint"
    )))
    .fetch_one(pool)
    .await?;
    Ok(to_u64(position))
}

/// The checkpoint of projection `name` in `schema`, qualified (outside a batch transaction).
pub(crate) async fn of(pool: &PgPool, schema: &str, name: &str) -> Result<u64, sqlx::Error> {
    ident::validate("schema", schema)?;
    let position: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT position FROM {schema}.checkpoint WHERE projection = $1"
    )))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    Ok(position.map_or(0, to_u64))
}

/// Inside a batch transaction, after `SET LOCAL search_path`: unqualified on purpose, so the
/// same statement reads the rebuild schema during a rebuild and the swapped-in schema after it.
pub(crate) async fn read(conn: &mut PgConnection, name: &str) -> Result<u64, sqlx::Error> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM checkpoint WHERE projection = $1")
            .bind(name)
            .fetch_optional(conn)
            .await?;
    Ok(position.map_or(0, to_u64))
}

pub(crate) async fn write(
    conn: &mut PgConnection,
    name: &str,
    position: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO checkpoint (projection, position) VALUES ($1, $2) \
         ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
    )
    .bind(name)
    .bind(to_i64(position))
    .execute(conn)
    .await?;
    Ok(())
}

/// Waits, bounded, until the projection's checkpoint >= `position` (read-your-writes).
/// `Ok(true)` when reached, `Ok(false)` on timeout.
///
/// Polls rather than LISTEN/NOTIFY: a poll is one primary-key read that borrows a pooled
/// connection for well under a millisecond, whereas LISTEN needs a connection held per waiter
/// (or a shared listener task), and NOTIFY in every batch transaction would take PostgreSQL's
/// global notify lock at commit, serialising the commits of all projections. The first check
/// is immediate (usually the projector is already there); then the interval grows from 2 ms
/// to 50 ms, so a waiter costs at most ~20 reads a second.
pub async fn wait_for_position(
    pool: &PgPool,
    projection_schema: &str,
    position: u64,
    timeout: Duration,
) -> Result<bool, sqlx::Error> {
    let deadline = Instant::now() + timeout;
    let mut interval = Duration::from_millis(2);
    loop {
        if checkpoint(pool, projection_schema).await? >= position {
            return Ok(true);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
        interval = (interval * 2).min(Duration::from_millis(50));
    }
}

// Stream sequences are u64, PostgreSQL has signed bigint; sequences never come near 2^63.
pub(crate) fn to_i64(position: u64) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(position: i64) -> u64 {
    u64::try_from(position).unwrap_or(0)
}
