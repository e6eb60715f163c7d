//! `directory.activity`: one row per activity (an example, added to count the path).

use samskab_domain::ActivityEvent;
use samskab_projection::ApplyError;
use sqlx::PgConnection;

use crate::context::EventContext;

/// A second registration keeps the first, as `evolve` does.
const REGISTER: &str = "\
INSERT INTO activity (tenant, id, organisation, title, registered_at, position)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant, id) DO NOTHING";

/// A stale redelivery cannot roll the title back.
const RENAME: &str = "\
UPDATE activity SET title = $3, position = $4
WHERE tenant = $1 AND id = $2 AND position < $4";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &ActivityEvent,
) -> Result<(), ApplyError> {
    match event {
        ActivityEvent::Registered(e) => {
            ctx.check_entity(e.id.as_uuid())?;
            sqlx::query(REGISTER)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.organisation.as_uuid())
                .bind(e.title.as_str())
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        ActivityEvent::Renamed(e) => {
            ctx.check_entity(e.id.as_uuid())?;
            sqlx::query(RENAME)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.title.as_str())
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}
