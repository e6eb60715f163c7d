//! `notify.webhook_endpoint`: each organisation's webhook endpoints, as their events have
//! them. A message's outbox rows are written for the endpoints enabled for its recipient at
//! the message's place in the log (`inbox::deliver`), so the same log always posts the same
//! messages to the same endpoints, however often it is rebuilt.

use samskab_domain::WebhookEndpointEvent;
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &WebhookEndpointEvent,
) -> Result<(), ApplyError> {
    let id = event.id().as_uuid();
    match event {
        WebhookEndpointEvent::Registered(e) => {
            sqlx::query(
                "INSERT INTO webhook_endpoint (tenant, id, organisation_id, url, enabled,
                     registered_at, updated_at, position)
                 VALUES ($1, $2, $3, $4, true, $5, $5, $6)
                 ON CONFLICT (tenant, id) DO NOTHING",
            )
            .bind(ctx.tenant)
            .bind(id)
            .bind(e.organisation.as_uuid())
            .bind(e.url.as_str())
            .bind(ctx.time)
            .bind(ctx.position)
            .execute(conn)
            .await?;
        }
        WebhookEndpointEvent::UrlChanged(e) => {
            update(conn, ctx, id, Some(e.url.as_str()), None).await?;
        }
        WebhookEndpointEvent::Disabled(_) => update(conn, ctx, id, None, Some(false)).await?,
        WebhookEndpointEvent::Enabled(_) => update(conn, ctx, id, None, Some(true)).await?,
    }
    Ok(())
}

/// A new URL or a new `enabled` (whichever is given) for the row, unless the change is there
/// already (a redelivery: its position is not beyond the row's).
const UPDATE: &str = "UPDATE webhook_endpoint
     SET url = coalesce($5, url), enabled = coalesce($6, enabled), updated_at = $3,
         position = $4
     WHERE tenant = $1 AND id = $2 AND position < $4";

async fn update(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    id: uuid::Uuid,
    url: Option<&str>,
    enabled: Option<bool>,
) -> Result<(), ApplyError> {
    sqlx::query(UPDATE)
        .bind(ctx.tenant)
        .bind(id)
        .bind(ctx.time)
        .bind(ctx.position)
        .bind(url)
        .bind(enabled)
        .execute(conn)
        .await?;
    Ok(())
}
