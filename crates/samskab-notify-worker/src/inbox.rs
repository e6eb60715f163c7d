//! `notify.message`: each recipient's messages, and what the recipient did with them.

use samskab_domain::{MailCadence, NotificationEvent, NotificationId};
use samskab_projection::{ApplyError, EventContext, Recipient};
use sqlx::PgConnection;

use crate::preferences;
use crate::rules::Rule;
use crate::wording::Wording;

/// Where in the log the event that makes a message is: the message's id is derived from it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub position: u64,
    pub index: u32,
}

/// A message for one recipient, in the words of each language.
pub(crate) struct Message {
    pub recipient: Recipient,
    pub rule: Rule,
    pub wording: Wording,
    pub link: String,
}

/// Puts `message` in its recipient's inbox, unless it is there (a redelivery, or a rebuild
/// that finds the recipient's own events already: the same id), in the language the
/// recipient's preferences choose here in the log. `n` tells the recipients of one event
/// apart (an event's rule numbers them, always the same way).
pub(crate) async fn deliver(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    at: Place,
    n: u16,
    message: &Message,
) -> Result<(), ApplyError> {
    let id = NotificationId::of(at.position, at.index, n);
    let preferences = preferences::of(conn, ctx, &message.recipient).await?;
    let text = message.wording.in_language(preferences.language);
    // The message, and with it its rows in the outbox: to be mailed if the recipient's
    // preferences say so (channel `email`, or `digest`: in the morning's mail of the day's
    // messages), and posted to each webhook endpoint the recipient has enabled now
    // (at this place in the log). A message that is there already (a redelivery) makes no
    // second row; a rebuild's rows the sender has passed are not sent again
    // (samskab-delivery's cursor).
    sqlx::query(
        "WITH made AS (
             INSERT INTO message (tenant, id, recipient, rule, subject, body, link, created_at,
                 from_position, from_index, language)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT DO NOTHING
             RETURNING tenant, id, recipient
         )
         INSERT INTO outbox (tenant, message_id, channel, recipient)
         SELECT tenant, id, $14, recipient FROM made WHERE $13
         UNION ALL
         SELECT made.tenant, made.id, 'webhook:' || e.id, made.recipient
         FROM made JOIN webhook_endpoint e
           ON e.tenant = made.tenant AND e.enabled AND e.organisation_id = $12
         ON CONFLICT DO NOTHING",
    )
    .bind(ctx.tenant)
    .bind(id.as_uuid())
    .bind(message.recipient.to_string())
    .bind(message.rule.as_str())
    .bind(&text.subject)
    .bind(&text.body)
    .bind(&message.link)
    .bind(ctx.time)
    .bind(ctx.position)
    .bind(i32::try_from(at.index).unwrap_or(i32::MAX))
    .bind(preferences.language.as_str())
    .bind(message.recipient.organisation())
    .bind(preferences.email)
    .bind(match preferences.cadence {
        MailCadence::Immediate => "email",
        MailCadence::DailyDigest => "digest",
    })
    .execute(conn)
    .await?;
    Ok(())
}

/// The recipient's own events: read (the first time stays, as the decider has it).
pub(crate) async fn recipient_did(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &NotificationEvent,
) -> Result<(), ApplyError> {
    match event {
        NotificationEvent::Read(e) => {
            sqlx::query(
                "UPDATE message SET read_at = $3
                 WHERE tenant = $1 AND id = $2 AND read_at IS NULL",
            )
            .bind(ctx.tenant)
            .bind(e.id.as_uuid())
            .bind(e.at)
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}
