//! One batch: apply messages and advance the checkpoint in one transaction.
//!
//! The transaction is: advisory lock on the projection (serialises with a rebuild's swap), the
//! leader fence, `SET LOCAL search_path TO <schema>`, read the checkpoint, skip what is at or
//! below it (a redelivery after a crash between commit and ack), apply the rest, write the new
//! checkpoint, commit. The caller acks only after the commit.
//!
//! Failures of `apply()` are rare, so the batch is first applied without per-message savepoints
//! (one round trip fewer per message). If an event fails, that attempt is rolled back to a
//! batch savepoint and the batch is applied again with a savepoint per message: a failing
//! message is rolled back alone and parked, and the batch goes on. A failure of the database
//! itself (connection lost, serialisation failure, ...) is not the event's fault: it aborts the
//! batch unparked, to be retried.

use std::ops::Range;
use std::time::Instant;

use bytes::Bytes;
use samskab_eventlog::{
    EventLog, LoadError, RecordedEvent, decode_message, sealed_subjects, withhold_personal_data,
};
use sqlx::{PgConnection, PgPool};

use crate::park::{self, Parked};
use crate::{ApplyError, Projection, checkpoint};

/// One message of the log as the runtime handles it: where its events are in the batch
/// (decoded, personal data opened; see [`decode`]), and the message as stored, which is what a
/// parked event keeps (sealed: parking never writes personal data in plain text).
#[derive(Debug)]
pub(crate) struct LogMessage {
    pub seq: u64,
    pub subject: String,
    pub payload: Bytes,
    /// Its events' place in [`Batch::events`], or why it has none.
    events: Result<Range<usize>, LoadError>,
}

/// Delivered messages in log order, and all their events in one run, so the common case hands
/// them to [`Projection::apply_batch`] as they are, without a copy.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    messages: Vec<LogMessage>,
    events: Vec<RecordedEvent>,
}

impl std::ops::Deref for Batch {
    type Target = [LogMessage];
    fn deref(&self) -> &[LogMessage] {
        &self.messages
    }
}

impl Batch {
    /// Decodes messages (stream sequence, subject, payload), personal data still sealed.
    pub(crate) fn from_payloads(delivered: Vec<(u64, String, Bytes)>) -> Self {
        let mut batch = Batch::default();
        for (seq, subject, payload) in delivered {
            let events = decode_message(seq, &payload).map(|decoded| {
                let start = batch.events.len();
                batch.events.extend(decoded);
                start..batch.events.len()
            });
            batch.messages.push(LogMessage {
                seq,
                subject,
                payload,
                events,
            });
        }
        batch
    }

    /// A message's events, or why it has none.
    fn events_of<'a>(
        &'a self,
        message: &'a LogMessage,
    ) -> Result<&'a [RecordedEvent], &'a LoadError> {
        match &message.events {
            Ok(range) => Ok(&self.events[range.clone()]),
            Err(e) => Err(e),
        }
    }
}

/// Decodes delivered messages and opens the personal data of the entity kinds in
/// `personal_data_of` (the projection's [`Projection::personal_data_of`]; every other event's
/// is withheld, `null`), with one key-store request for the whole batch. A message that does
/// not decode or open keeps its error (it will be parked); an unreachable key store is an
/// error of the batch (retried, nothing parked).
pub(crate) async fn decode(
    log: &EventLog,
    delivered: Vec<(u64, String, Bytes)>,
    personal_data_of: &[&str],
) -> Result<Batch, LoadError> {
    let mut batch = Batch::from_payloads(delivered);
    for event in &mut batch.events {
        if !personal_data_of.contains(&event.envelope.entitykind.as_str()) {
            withhold_personal_data(event);
        }
    }
    let keys = log.opening_keys(sealed_subjects(&batch.events)).await?;
    for message in &mut batch.messages {
        if let Ok(range) = &message.events
            && let Err(e) = keys.open(&mut batch.events[range.clone()])
        {
            message.events = Err(e);
        }
    }
    Ok(batch)
}

/// The envelope of one event as stored (personal data sealed), for the parked-event table.
fn stored_envelope(message: &LogMessage, index: usize) -> serde_json::Value {
    decode_message(message.seq, &message.payload)
        .ok()
        .and_then(|events| events.into_iter().nth(index))
        .and_then(|event| serde_json::to_value(&event.envelope).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// Where a batch goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// Projection name: checkpoint key and advisory lock key.
    pub name: &'a str,
    /// Schema to write (validated): the live one, or `<schema>_rebuild`.
    pub schema: &'a str,
    /// Take the projection's advisory lock. The live worker does; the rebuild's replay into
    /// its own schema does not (it would pause the live worker for nothing).
    pub lock: bool,
    /// The leader's epoch, when the batch runs under leadership: the transaction checks that
    /// no other copy has taken over since, before it writes anything (`leader.rs`).
    pub fence: Option<i64>,
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Outcome {
    /// Messages applied (not skipped, not parked).
    pub messages: u64,
    pub events: u64,
    /// Messages at or below the checkpoint: already applied.
    pub skipped: u64,
    /// Events parked.
    pub parked: u64,
    /// The checkpoint after the batch.
    pub position: u64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum BatchError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Another copy has taken over (the leader connection was gone): stop and re-elect.
    #[error("lost the leader lock")]
    Fenced,
}

/// Applies `messages` (in log order) to `target` in one transaction and commits.
pub(crate) async fn apply_batch<P: Projection>(
    pool: &PgPool,
    projection: &P,
    target: Target<'_>,
    messages: &Batch,
) -> Result<Outcome, BatchError> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    begin_batch(&mut tx, target).await?;
    let outcome = apply_messages(&mut tx, projection, target.name, messages).await?;
    tx.commit().await?;
    tracing::debug!(
        projection = target.name,
        schema = target.schema,
        events = outcome.events,
        skipped = outcome.skipped,
        parked = outcome.parked,
        position = outcome.position,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "batch committed"
    );
    Ok(outcome)
}

/// The head of every batch transaction: lock, fence, search_path. The lock comes first so that
/// everything after it (search_path resolution included) sees the schemas as they are after a
/// concurrent swap has committed.
pub(crate) async fn begin_batch(
    conn: &mut PgConnection,
    target: Target<'_>,
) -> Result<(), BatchError> {
    crate::ident::validate("schema", target.schema)?;
    if target.lock {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(target.name)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(epoch) = target.fence
        && !crate::leader::still_held(&mut *conn, target.name, epoch).await?
    {
        return Err(BatchError::Fenced);
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET LOCAL search_path TO {}",
        target.schema
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Applies messages inside an open batch transaction (after [`begin_batch`]) and writes the
/// checkpoint. Used by [`apply_batch`] and by the rebuild's swap, which catches up inside the
/// swap transaction.
pub(crate) async fn apply_messages<P: Projection>(
    conn: &mut PgConnection,
    projection: &P,
    name: &str,
    messages: &Batch,
) -> Result<Outcome, BatchError> {
    let from = checkpoint::read(&mut *conn, name).await?;
    sqlx::raw_sql("SAVEPOINT samskab_batch")
        .execute(&mut *conn)
        .await?;
    let outcome = match fast_attempt(conn, projection, name, messages, from).await? {
        Some(outcome) => {
            sqlx::raw_sql("RELEASE SAVEPOINT samskab_batch")
                .execute(&mut *conn)
                .await?;
            outcome
        }
        None => {
            sqlx::raw_sql("ROLLBACK TO SAVEPOINT samskab_batch")
                .execute(&mut *conn)
                .await?;
            isolated_attempt(conn, projection, name, messages, from).await?
        }
    };
    if outcome.position > from {
        checkpoint::write(&mut *conn, name, outcome.position).await?;
    }
    Ok(outcome)
}

/// The batch again after [`fast_attempt`] failed: a savepoint per message, so a failing
/// message is rolled back alone and parked, and the others are applied.
async fn isolated_attempt<P: Projection>(
    conn: &mut PgConnection,
    projection: &P,
    name: &str,
    messages: &Batch,
    from: u64,
) -> Result<Outcome, BatchError> {
    let mut outcome = Outcome {
        position: from,
        ..Outcome::default()
    };
    for message in messages.iter() {
        if message.seq <= from {
            outcome.skipped += 1;
            continue;
        }
        outcome.position = outcome.position.max(message.seq);
        let events = match messages.events_of(message) {
            Ok(events) => events,
            Err(e) => {
                park_undecodable(&mut *conn, name, message, e).await?;
                outcome.parked += 1;
                continue;
            }
        };
        sqlx::raw_sql("SAVEPOINT samskab_message")
            .execute(&mut *conn)
            .await?;
        let mut failure = None;
        for event in events {
            if let Err(e) = projection.apply(&mut *conn, event).await {
                failure = Some((event.index, e));
                break;
            }
        }
        let Some((failed_index, error)) = failure else {
            sqlx::raw_sql("RELEASE SAVEPOINT samskab_message")
                .execute(&mut *conn)
                .await?;
            outcome.messages += 1;
            outcome.events += events.len() as u64;
            continue;
        };
        let error = match error {
            ApplyError::Database(e) if is_not_the_events_fault(&e) => {
                return Err(BatchError::Database(e));
            }
            other => other,
        };
        // The message's writes are undone together: a command's events are applied all or
        // none, so the read model never shows half a command. All of them are parked, the
        // failing one with its error, so none disappears.
        sqlx::raw_sql("ROLLBACK TO SAVEPOINT samskab_message")
            .execute(&mut *conn)
            .await?;
        let error = error.to_string();
        for event in events {
            let note;
            let reason = if event.index == failed_index {
                error.as_str()
            } else {
                note = format!(
                    "not applied: event {failed_index} of the same command failed: {error}"
                );
                note.as_str()
            };
            park::park(
                &mut *conn,
                Parked {
                    projection: name,
                    position: message.seq,
                    event_index: i32::try_from(event.index).unwrap_or(i32::MAX),
                    subject: &message.subject,
                    event_type: &event.envelope.event_type,
                    error: reason,
                    payload: stored_envelope(message, event.index),
                },
            )
            .await?;
            outcome.parked += 1;
        }
    }
    Ok(outcome)
}

/// The common case, no failures: decode every message above the checkpoint and hand all their
/// events to [`Projection::apply_batch`] at once. `Ok(None)` on an apply failure (the caller
/// rolls back and retries isolated, message by message).
async fn fast_attempt<P: Projection>(
    conn: &mut PgConnection,
    projection: &P,
    name: &str,
    messages: &Batch,
    from: u64,
) -> Result<Option<Outcome>, BatchError> {
    let mut outcome = Outcome {
        position: from,
        ..Outcome::default()
    };
    // Messages come in log order, so those above the checkpoint are the batch's tail, and
    // their events the tail of its run of events.
    let mut first_event = messages.events.len();
    for message in messages.iter() {
        if message.seq <= from {
            outcome.skipped += 1;
            continue;
        }
        outcome.position = outcome.position.max(message.seq);
        match &message.events {
            Ok(range) => {
                outcome.messages += 1;
                outcome.events += range.len() as u64;
                first_event = first_event.min(range.start);
            }
            Err(e) => {
                park_undecodable(&mut *conn, name, message, e).await?;
                outcome.parked += 1;
            }
        }
    }
    match projection
        .apply_batch(&mut *conn, &messages.events[first_event..])
        .await
    {
        Ok(()) => Ok(Some(outcome)),
        Err(ApplyError::Database(e)) if is_not_the_events_fault(&e) => Err(BatchError::Database(e)),
        Err(_) => Ok(None),
    }
}

/// A message that is not a CloudEvents batch wrote nothing, so it is parked as it is (its
/// bytes as text, event index -1) without a savepoint.
async fn park_undecodable(
    conn: &mut PgConnection,
    name: &str,
    message: &LogMessage,
    error: &samskab_eventlog::LoadError,
) -> Result<(), sqlx::Error> {
    park::park(
        conn,
        Parked {
            projection: name,
            position: message.seq,
            event_index: -1,
            subject: &message.subject,
            event_type: "",
            error: &error.to_string(),
            payload: serde_json::Value::String(
                String::from_utf8_lossy(&message.payload).into_owned(),
            ),
        },
    )
    .await
}

/// A database error that says nothing about the event: the connection or the server is in
/// trouble, the transaction lost a race, or the projection's own SQL is wrong for the schema.
/// Retrying the batch later is right; parking is not (parking would move the checkpoint past
/// every event of that type until someone noticed). Everything else (bad data in the event, a
/// constraint the event breaks) is the event's and would fail again on every retry, so the
/// event is parked.
pub(crate) fn is_not_the_events_fault(error: &sqlx::Error) -> bool {
    is_infrastructure_fault(error) || is_projection_fault(error)
}

/// The connection or the server is in trouble, or the transaction lost a race.
fn is_infrastructure_fault(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // 08 connection exception, 40 transaction rollback (serialisation, deadlock),
        // 53 insufficient resources, 57 operator intervention (shutdown), 58 system error.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            ["08", "40", "53", "57", "58"]
                .iter()
                .any(|c| code.starts_with(c))
        }),
        _ => false,
    }
}

/// The projection's SQL does not fit the database: 42 (an undefined table or column, a type
/// mismatch, no privilege) or 55 (a lock not available, an object in use). A deployment or
/// code bug that someone must fix; retried, and logged as an error, never parked.
pub(crate) fn is_projection_fault(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("42") || code.starts_with("55")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    //! The batch on its own, against a real database: a batch committed but never acked comes
    //! back (redelivery) and must have no second effect.
    use super::*;
    use samskab_eventlog::{EventEnvelope, RecordedEvent};

    struct Rows;

    impl Projection for Rows {
        fn name(&self) -> &'static str {
            "rows"
        }
        fn schema(&self) -> &'static str {
            "rows"
        }
        async fn apply(
            &self,
            conn: &mut PgConnection,
            event: &RecordedEvent,
        ) -> Result<(), ApplyError> {
            sqlx::query("INSERT INTO row_per_event (event_id) VALUES ($1)")
                .bind(event.envelope.id)
                .execute(conn)
                .await?;
            Ok(())
        }
    }

    fn batch(seqs: std::ops::RangeInclusive<u64>) -> Batch {
        Batch::from_payloads(seqs.map(message).collect())
    }

    fn message(seq: u64) -> (u64, String, Bytes) {
        let id = uuid_for(seq);
        let envelope = EventEnvelope {
            specversion: "1.0".into(),
            id,
            source: "/samskab/t".into(),
            event_type: "dk.samskab.test.row.v1".into(),
            subject: "thing/x".into(),
            time: chrono_now(),
            datacontenttype: "application/json".into(),
            tenant: "t".into(),
            entitykind: "thing".into(),
            entityid: "x".into(),
            actor: "user:test".into(),
            correlationid: id,
            causationid: None,
            data: serde_json::json!({}),
        };
        let payload = Bytes::from(serde_json::to_vec(&[envelope]).expect("serialises"));
        (seq, "samskab.ev.t.thing.x".into(), payload)
    }

    fn uuid_for(seq: u64) -> uuid::Uuid {
        uuid::Uuid::from_u128(u128::from(seq))
    }

    fn chrono_now() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }

    #[tokio::test]
    async fn a_redelivered_batch_is_skipped() -> anyhow::Result<()> {
        let db = samskab_testkit::TestDatabase::create().await?;
        let pool = db.pool().await?;
        crate::MIGRATOR.run(&pool).await?;
        sqlx::raw_sql(
            "CREATE SCHEMA rows;
             CREATE TABLE rows.checkpoint (projection text PRIMARY KEY, position bigint NOT NULL);
             CREATE TABLE rows.row_per_event (event_id uuid PRIMARY KEY);",
        )
        .execute(&pool)
        .await?;
        let target = Target {
            name: "rows",
            schema: "rows",
            lock: true,
            fence: None,
        };
        let first = batch(1..=3);
        let outcome = apply_batch(&pool, &Rows, target, &first).await?;
        assert_eq!(
            (outcome.events, outcome.skipped, outcome.position),
            (3, 0, 3)
        );

        // Committed, then the process died before the ack: the server redelivers 1..3, now
        // together with 4 and 5.
        let again = batch(1..=5);
        let outcome = apply_batch(&pool, &Rows, target, &again).await?;
        assert_eq!(
            (outcome.events, outcome.skipped, outcome.position),
            (2, 3, 5)
        );
        assert_eq!(outcome.parked, 0, "no primary-key violation was parked");

        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM rows.row_per_event")
            .fetch_one(&pool)
            .await?;
        assert_eq!(rows, 5);
        assert_eq!(crate::checkpoint(&pool, "rows").await?, 5);
        Ok(())
    }

    #[test]
    fn connection_failures_are_transient_and_data_errors_are_not() {
        assert!(is_not_the_events_fault(&sqlx::Error::PoolTimedOut));
        assert!(is_not_the_events_fault(&sqlx::Error::Io(
            std::io::Error::other("reset")
        )));
        assert!(!is_not_the_events_fault(&sqlx::Error::RowNotFound));
    }
}
