//! `reporting.need_version`: a need open or closed, a version per publication, closing and
//! reopening, mirroring `Need::evolve`. An update changes nothing counted (who posted a need
//! cannot change), so it writes nothing, except that an update with no publication before it
//! makes the need known, as `evolve` has it.

use samskab_domain::{NeedDetails, NeedEvent, PostedBy};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;

/// The first version, unless the need has one: published ($5 `published`), or known from an
/// update (`updated`).
const KNOWN: &str = "\
INSERT INTO need_version (tenant, need_id, from_position, from_index, started_by, valid_from,
    status, published_at, posted_by)
SELECT $1, $2, $3, $4, $5, $6, 'open', $6, $7
WHERE NOT EXISTS (SELECT 1 FROM need_version WHERE tenant = $1 AND need_id = $2)";

/// Closed from open ($5 `closed`, $7 `open`) or reopened from closed ($5 `reopened`, $7
/// `closed`): the standing version closes, the next begins with status $8.
const CHANGE_STATUS: &str = "\
WITH closed AS (
    UPDATE need_version SET valid_to = $6
    WHERE tenant = $1 AND need_id = $2 AND valid_to IS NULL AND status = $7
      AND (from_position, from_index) < ($3, $4)
    RETURNING published_at, posted_by
)
INSERT INTO need_version (tenant, need_id, from_position, from_index, started_by, valid_from,
    status, published_at, posted_by)
SELECT $1, $2, $3, $4, $5, $6, $8, published_at, posted_by FROM closed";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    index: i32,
    event: &NeedEvent,
) -> Result<(), ApplyError> {
    let id = event.id().as_uuid();
    ctx.check_entity(id)?;
    match event {
        NeedEvent::Published(details) => known(conn, ctx, index, "published", details).await?,
        NeedEvent::Updated(details) => known(conn, ctx, index, "updated", details).await?,
        NeedEvent::Closed(_) => {
            change_status(conn, ctx, index, id, "closed", "open", "closed").await?;
        }
        NeedEvent::Reopened(_) | NeedEvent::ReopenedV1(_) => {
            change_status(conn, ctx, index, id, "reopened", "closed", "open").await?;
        }
    }
    Ok(())
}

async fn known(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    index: i32,
    started_by: &str,
    details: &NeedDetails,
) -> Result<(), sqlx::Error> {
    let posted_by = match details.posted_by {
        PostedBy::Municipality => "municipality",
        PostedBy::Organisation(_) => "organisation",
    };
    sqlx::query(KNOWN)
        .bind(ctx.tenant)
        .bind(details.id.as_uuid())
        .bind(ctx.position)
        .bind(index)
        .bind(started_by)
        .bind(ctx.time)
        .bind(posted_by)
        .execute(conn)
        .await?;
    Ok(())
}

async fn change_status(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    index: i32,
    id: uuid::Uuid,
    started_by: &str,
    from: &str,
    to: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(CHANGE_STATUS)
        .bind(ctx.tenant)
        .bind(id)
        .bind(ctx.position)
        .bind(index)
        .bind(started_by)
        .bind(ctx.time)
        .bind(from)
        .bind(to)
        .execute(conn)
        .await?;
    Ok(())
}
