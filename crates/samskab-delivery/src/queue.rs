//! Step 1: the outbox rows beyond the cursor become deliveries, and the cursor moves past
//! them, in one statement (so one transaction): a row is queued once or not at all.

use std::sync::LazyLock;

use samskab_projection::read_model::NOTIFY;
use sqlx::PgPool;

/// Up to $1 messages' outbox rows beyond the cursor (all channels of each, so the cursor never
/// stops between two rows of one message) are queued, and the cursor moves to the greatest of
/// them. Each is due now, but a digest's at the next $2 o'clock in Copenhagen (today's if it
/// is not past yet, else tomorrow's; DST as the time zone has it), when the recipient's
/// digests of the day go together. The cursor's row is locked first: two senders queue one
/// after the other.
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
             SELECT o.message_id, o.channel, o.tenant, o.recipient, 'pending', now(),
                 CASE WHEN o.channel = 'digest' THEN {next_digest} ELSE now() END
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
        notify = NOTIFY.schema,
        next_digest = next_digest("now()", "$2"),
    )
});

/// The first `hour` o'clock in Copenhagen after `now` (SQL expressions): the local time less
/// `hour` hours, to the day, plus a day and `hour` hours, back in UTC.
fn next_digest(now: &str, hour: &str) -> String {
    format!(
        "((date_trunc('day', ({now} AT TIME ZONE 'Europe/Copenhagen')
            - make_interval(hours => {hour})) + make_interval(days => 1, hours => {hour}))
            AT TIME ZONE 'Europe/Copenhagen')"
    )
}

/// Queues the outbox rows of up to `messages` messages beyond the cursor, digests due at
/// `digest_hour`; how many rows.
pub(crate) async fn queue(
    pool: &PgPool,
    messages: i64,
    digest_hour: i32,
) -> Result<u64, sqlx::Error> {
    let queued: i64 = sqlx::query_scalar(QUEUE.as_str())
        .bind(messages)
        .bind(digest_hour)
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(queued).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("a time")
    }

    /// 07:00 in Copenhagen, winter and summer and across the change to summer time; the hour
    /// itself is the next day's.
    #[tokio::test]
    async fn the_next_digest_is_the_next_morning_at_seven_danish_time() -> anyhow::Result<()> {
        let pool = samskab_testkit::projection::migrated_database().await?;
        let sql = format!("SELECT {}", super::next_digest("$1::timestamptz", "$2"));
        for (now, next) in [
            ("2026-12-03T05:59:00Z", "2026-12-03T06:00:00Z"),
            ("2026-12-03T06:00:00Z", "2026-12-04T06:00:00Z"),
            ("2026-12-03T22:30:00Z", "2026-12-04T06:00:00Z"),
            ("2026-07-01T04:30:00Z", "2026-07-01T05:00:00Z"),
            ("2026-03-28T22:00:00Z", "2026-03-29T05:00:00Z"),
        ] {
            let at: DateTime<Utc> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .bind(utc(now))
                .bind(7)
                .fetch_one(&pool)
                .await?;
            assert_eq!(at, utc(next), "after {now}");
        }
        Ok(())
    }
}
