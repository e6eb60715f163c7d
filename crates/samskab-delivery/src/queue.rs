//! Step 1: the outbox rows beyond the cursor become deliveries, and the cursor moves past
//! them, in one statement (so one transaction): a row is queued once or not at all.

use std::sync::LazyLock;

use samskab_projection::read_model::NOTIFY;
use sqlx::PgPool;

/// Up to $1 messages' outbox rows beyond the cursor (all channels of each, so the cursor never
/// stops between two rows of one message) are queued, due now, and the cursor moves to the
/// greatest of them. The cursor's row is locked first: two senders queue one after the other.
static QUEUE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH cursor AS (SELECT message_id FROM delivery.cursor FOR UPDATE),
         ids AS (
             SELECT DISTINCT o.message_id FROM {notify}.outbox o, cursor
             WHERE o.message_id > cursor.message_id
             ORDER BY o.message_id LIMIT $1
         ),
         queued AS (
             INSERT INTO delivery.delivery (message_id, channel, tenant, recipient, status,
                 queued_at, next_attempt_at)
             SELECT o.message_id, o.channel, o.tenant, o.recipient, 'pending', now(), now()
             FROM {notify}.outbox o JOIN ids USING (message_id)
             ON CONFLICT DO NOTHING
             RETURNING 1
         ),
         moved AS (
             UPDATE delivery.cursor
             SET message_id = (SELECT message_id FROM ids ORDER BY message_id DESC LIMIT 1)
             WHERE EXISTS (SELECT 1 FROM ids)
             RETURNING 1
         )
         -- `moved` runs though nothing reads it, as every data-modifying WITH does.
         SELECT count(*) FROM queued",
        notify = NOTIFY.schema
    )
});

/// Queues the outbox rows of up to `messages` messages beyond the cursor; how many rows.
pub(crate) async fn queue(pool: &PgPool, messages: i64) -> Result<u64, sqlx::Error> {
    let queued: i64 = sqlx::query_scalar(QUEUE.as_str())
        .bind(messages)
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(queued).unwrap_or(0))
}
