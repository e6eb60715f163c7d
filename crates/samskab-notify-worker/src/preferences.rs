//! `notify.preference`: each inbox's notification preferences, as their events have them. The
//! rules read them at each message's place in the log ([`of`]), so the same log always writes
//! the same message in the same language to the same channels, however often it is rebuilt.

use samskab_domain::{MailCadence, MessageLanguage, NotificationPreferencesEvent, Preferences};
use samskab_projection::{ApplyError, EventContext, Recipient};
use sqlx::PgConnection;

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &NotificationPreferencesEvent,
) -> Result<(), ApplyError> {
    let NotificationPreferencesEvent::Set(set) = event;
    let preferences = set.preferences;
    // A redelivery (its position not beyond the row's) changes nothing.
    sqlx::query(
        "INSERT INTO preference (tenant, id, recipient, email, language, cadence, updated_at,
             position)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tenant, id) DO UPDATE
         SET email = $4, language = $5, cadence = $6, updated_at = $7, position = $8
         WHERE preference.position < $8",
    )
    .bind(ctx.tenant)
    .bind(set.id.as_uuid())
    .bind(&set.recipient)
    .bind(preferences.email)
    .bind(preferences.language.as_str())
    .bind(preferences.cadence.as_str())
    .bind(ctx.time)
    .bind(ctx.position)
    .execute(conn)
    .await?;
    Ok(())
}

/// The preferences of `recipient`'s inbox as the log stands here: the defaults if none were
/// set.
pub(crate) async fn of(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    recipient: &Recipient,
) -> Result<Preferences, ApplyError> {
    let row: Option<(bool, String, String)> = sqlx::query_as(
        "SELECT email, language, cadence FROM preference WHERE tenant = $1 AND recipient = $2",
    )
    .bind(ctx.tenant)
    .bind(recipient.to_string())
    .fetch_optional(conn)
    .await?;
    let Some((email, language, cadence)) = row else {
        return Ok(Preferences::default());
    };
    // The table's CHECKs hold only what these parse.
    let malformed = |e: samskab_domain::InvalidValue| ApplyError::Malformed(e.to_string());
    Ok(Preferences {
        email,
        language: MessageLanguage::parse(&language).map_err(malformed)?,
        cadence: MailCadence::parse(&cadence).map_err(malformed)?,
    })
}

/// Forgotten: the volunteer's preferences go with their inbox.
pub(crate) async fn forget(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    recipient: &Recipient,
) -> Result<(), ApplyError> {
    sqlx::query("DELETE FROM preference WHERE tenant = $1 AND recipient = $2")
        .bind(ctx.tenant)
        .bind(recipient.to_string())
        .execute(conn)
        .await?;
    Ok(())
}
