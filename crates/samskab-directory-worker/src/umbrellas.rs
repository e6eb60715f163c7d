//! `directory.umbrella`: one row per umbrella organisation or district, of the installation.

use samskab_domain::UmbrellaEvent;
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;

/// A second registration keeps the first (as `evolve` does); a repeat finds its own row.
const REGISTER: &str = "\
INSERT INTO umbrella (tenant, id, name, parent_id, registered_at, updated_at, position)
VALUES ($1, $2, $3, $4, $5, $5, $6)
ON CONFLICT (tenant, id) DO NOTHING";

/// A new name for a registered umbrella (`evolve` renames nothing before the registration);
/// the position guard keeps a stale redelivery from undoing a later name.
const RENAME: &str = "\
UPDATE umbrella SET name = $3, updated_at = $4, position = $5
WHERE tenant = $1 AND id = $2 AND position < $5";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &UmbrellaEvent,
) -> Result<(), ApplyError> {
    let details = event.details();
    ctx.check_entity(details.id.as_uuid())?;
    let statement = match event {
        UmbrellaEvent::Registered(d) => sqlx::query(REGISTER)
            .bind(ctx.tenant)
            .bind(d.id.as_uuid())
            .bind(d.name.as_str())
            .bind(d.parent.map(|p| p.as_uuid()))
            .bind(ctx.time)
            .bind(ctx.position),
        UmbrellaEvent::Renamed(d) => sqlx::query(RENAME)
            .bind(ctx.tenant)
            .bind(d.id.as_uuid())
            .bind(d.name.as_str())
            .bind(ctx.time)
            .bind(ctx.position),
    };
    statement.execute(conn).await?;
    Ok(())
}
