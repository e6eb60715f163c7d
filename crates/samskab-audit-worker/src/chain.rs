//! Appending an event to its municipality's chain: the projection's one write.
//!
//! Unlike the other read models this one reads before it writes: a record's `seq` and
//! `prev_hash` are by definition what the chain holds before it (its head), and an
//! application's later events name no pool, so their pool is the one the application's earlier
//! record has. Both reads are safe: the runtime runs one applier per projection at a time (a
//! session advisory lock, plus `pg_advisory_xact_lock` per batch), and applies a batch in log
//! order in one transaction, so the head and the earlier records read here are exactly those of
//! every event before this one in the log, committed or earlier in the same batch. A rebuild
//! replays the same events in the same order, so it computes the same records.

use samskab_projection::{ApplyError, EventContext};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::canonical;
use crate::record::{self, GENESIS, Record};

/// The convention's member for a data subject's personal data (ARCHITECTURE.md, "Personal
/// data"), never kept in a record.
pub const PERSONAL: &str = "personal";

/// Where an event belongs, as its payload says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Belongs {
    /// `None` for an application's event that names no pool: the application's earlier
    /// record says.
    pub pool_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
}

/// The payload as a record keeps it, and whether it had a `personal` member.
///
/// `had_personal` says whether the member was *there*, not whether it held anything: once its
/// subject is forgotten, the log reads it as `null`, and a rebuild after a forgetting must
/// compute the same hash as before it. An application's events carry the member whoever
/// applies (`null` for an association), so the column says which payloads had data removed
/// that may have been personal, never whose.
pub fn without_personal(payload: &Value) -> (Value, bool) {
    let mut payload = payload.clone();
    let had_personal = match &mut payload {
        Value::Object(members) => members.remove(PERSONAL).is_some(),
        _ => false,
    };
    (payload, had_personal)
}

/// Appends one record for the event, unless it is recorded already (a redelivery).
pub(crate) async fn append(
    conn: &mut PgConnection,
    context: &EventContext<'_>,
    event: &samskab_eventlog::RecordedEvent,
    belongs: Belongs,
) -> Result<(), ApplyError> {
    let envelope = &event.envelope;
    let recorded: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM record WHERE tenant = $1 AND event_id = $2")
            .bind(context.tenant)
            .bind(envelope.id)
            .fetch_optional(&mut *conn)
            .await?;
    if recorded.is_some() {
        return Ok(());
    }

    let application_id = belongs.application_id;
    let pool_id = match (belongs.pool_id, application_id) {
        (Some(pool_id), _) => pool_id,
        (None, Some(application)) => {
            let pool: Option<Uuid> = sqlx::query_scalar(
                "SELECT pool_id FROM record WHERE tenant = $1 AND application_id = $2 \
                 ORDER BY seq DESC LIMIT 1",
            )
            .bind(context.tenant)
            .bind(application)
            .fetch_optional(&mut *conn)
            .await?;
            // Only a history that does not start with `drafted` lacks one: the decider never
            // appends such a history, so this is parked rather than recorded under a guess.
            pool.ok_or_else(|| {
                ApplyError::Malformed(format!(
                    "application {application} has no earlier record naming its pool"
                ))
            })?
        }
        (None, None) => {
            return Err(ApplyError::Malformed(
                "an event that names neither its pool nor its application".into(),
            ));
        }
    };

    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM head WHERE tenant = $1")
            .bind(context.tenant)
            .fetch_optional(&mut *conn)
            .await?;
    let (last_seq, prev_hash) = head.unwrap_or_else(|| (0, GENESIS.to_owned()));

    let (payload, had_personal) = without_personal(&envelope.data);
    let mut record = Record {
        tenant: context.tenant.to_owned(),
        seq: last_seq + 1,
        position: context.position,
        event_id: envelope.id,
        event_type: envelope.event_type.clone(),
        entity_kind: envelope.entitykind.clone(),
        entity_id: envelope.entityid.clone(),
        pool_id,
        application_id,
        occurred_at: record::to_micros(context.time),
        actor: context.actor.to_owned(),
        had_personal,
        payload,
        prev_hash,
        hash: String::new(),
    };
    let malformed = |error: canonical::CanonicalError| ApplyError::Malformed(error.to_string());
    canonical::integers_only(&record.payload).map_err(malformed)?;
    record.hash = record.compute_hash().map_err(malformed)?;
    let payload_text = canonical::to_string(&record.payload).map_err(malformed)?;

    sqlx::query(
        "INSERT INTO record (tenant, seq, position, event_id, event_type, entity_kind, \
         entity_id, pool_id, application_id, occurred_at, actor, had_personal, payload, \
         prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&record.tenant)
    .bind(record.seq)
    .bind(record.position)
    .bind(record.event_id)
    .bind(&record.event_type)
    .bind(&record.entity_kind)
    .bind(&record.entity_id)
    .bind(record.pool_id)
    .bind(record.application_id)
    .bind(record.occurred_at)
    .bind(&record.actor)
    .bind(record.had_personal)
    .bind(&payload_text)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO head (tenant, seq, hash) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash",
    )
    .bind(&record.tenant)
    .bind(record.seq)
    .bind(&record.hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_personal_member_is_removed_and_noted_even_when_null() {
        let (kept, had) = without_personal(&json!({"id": 1, "personal": {"name": "Mette"}}));
        assert_eq!((kept, had), (json!({"id": 1}), true));
        // Forgotten: the log reads it as null; the record is the same as before.
        let (kept, had) = without_personal(&json!({"id": 1, "personal": null}));
        assert_eq!((kept, had), (json!({"id": 1}), true));
        let (kept, had) = without_personal(&json!({"id": 1}));
        assert_eq!((kept, had), (json!({"id": 1}), false));
    }
}
