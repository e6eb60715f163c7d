//! `notify.volunteer`: whether a volunteer may be told anything, as `Volunteer::evolve` has it:
//! registered (a second registration keeps the first), consenting to notifications (a purpose
//! of its own, given and withdrawn apart from the registration), not withdrawn, not forgotten.
//! Forgetting also empties the volunteer's inbox: nothing is kept for a person who is gone.

use samskab_domain::{Purpose, VolunteerEvent};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;
use uuid::Uuid;

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    id: Uuid,
    event: &VolunteerEvent,
) -> Result<(), ApplyError> {
    use VolunteerEvent as E;
    let change = |sql: &'static str| {
        sqlx::query(sql)
            .bind(ctx.tenant)
            .bind(id)
            .bind(ctx.position)
    };
    match event {
        E::Registered(_) | E::RegisteredV1(_) => {
            change(
                "INSERT INTO volunteer (tenant, volunteer_id, status, notifications, position)
                 VALUES ($1, $2, 'active', false, $3)
                 ON CONFLICT DO NOTHING",
            )
            .execute(conn)
            .await?;
        }
        E::PurposeConsentGiven(e) | E::PurposeConsentWithdrawn(e)
            if e.purpose == Purpose::Notifications =>
        {
            let given = matches!(event, E::PurposeConsentGiven(_));
            change(
                "UPDATE volunteer SET notifications = $4, position = $3
                 WHERE tenant = $1 AND volunteer_id = $2 AND status = 'active' AND position < $3",
            )
            .bind(given)
            .execute(conn)
            .await?;
        }
        E::ConsentWithdrawn(_) => {
            change(
                "UPDATE volunteer SET status = 'consent_withdrawn', notifications = false,
                     position = $3
                 WHERE tenant = $1 AND volunteer_id = $2 AND status = 'active' AND position < $3",
            )
            .execute(conn)
            .await?;
        }
        E::Forgotten(_) => {
            change(
                "UPDATE volunteer SET status = 'forgotten', notifications = false, position = $3
                 WHERE tenant = $1 AND volunteer_id = $2 AND status <> 'forgotten'
                   AND position < $3",
            )
            .execute(&mut *conn)
            .await?;
            // Their messages and what was to be sent of them (the sender drops a delivery
            // whose message is gone), and their preferences.
            let recipient = samskab_projection::Recipient::Volunteer(id);
            sqlx::query(
                "WITH gone AS (DELETE FROM outbox WHERE tenant = $1 AND recipient = $2)
                 DELETE FROM message WHERE tenant = $1 AND recipient = $2",
            )
            .bind(ctx.tenant)
            .bind(recipient.to_string())
            .execute(&mut *conn)
            .await?;
            crate::preferences::forget(conn, ctx, &recipient).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Whether volunteer `id` may be told anything now (in the log's order).
pub(crate) async fn may_be_told(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    id: Uuid,
) -> Result<bool, ApplyError> {
    let told: Option<bool> = sqlx::query_scalar(
        "SELECT status = 'active' AND notifications FROM volunteer
         WHERE tenant = $1 AND volunteer_id = $2",
    )
    .bind(ctx.tenant)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(told.unwrap_or(false))
}
