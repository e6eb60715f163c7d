//! Parking: an event a projection cannot apply is recorded in `samskab_runtime.parked_event`
//! (in the batch transaction, so it is parked exactly when the batch commits), logged, and
//! passed over, so it neither vanishes nor blocks the events behind it.

use sqlx::PgConnection;
use sqlx::types::Json;
use tracing::warn;

use crate::checkpoint::to_i64;

pub(crate) struct Parked<'a> {
    pub projection: &'a str,
    pub position: u64,
    /// The event's index in its message; -1 when the message did not decode at all.
    pub event_index: i32,
    pub subject: &'a str,
    pub event_type: &'a str,
    pub error: &'a str,
    pub payload: serde_json::Value,
}

pub(crate) async fn park(conn: &mut PgConnection, parked: Parked<'_>) -> Result<(), sqlx::Error> {
    warn!(
        projection = parked.projection,
        position = parked.position,
        event_index = parked.event_index,
        subject = parked.subject,
        event_type = parked.event_type,
        error = parked.error,
        "event parked"
    );
    // DO NOTHING: a rebuild (or a redelivered batch) parks the same event again.
    sqlx::query(
        "INSERT INTO samskab_runtime.parked_event \
         (projection, position, event_index, subject, event_type, error, payload) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (projection, position, event_index) DO NOTHING",
    )
    .bind(parked.projection)
    .bind(to_i64(parked.position))
    .bind(parked.event_index)
    .bind(parked.subject)
    .bind(parked.event_type)
    .bind(parked.error)
    .bind(Json(parked.payload))
    .execute(conn)
    .await?;
    Ok(())
}

/// Parked events of one projection.
pub(crate) async fn count(pool: &sqlx::PgPool, projection: &str) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM samskab_runtime.parked_event WHERE projection = $1",
    )
    .bind(projection)
    .fetch_one(pool)
    .await?;
    Ok(crate::checkpoint::to_u64(n))
}
