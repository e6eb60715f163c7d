//! `matching.need`: one row per need, closed ones included (matches and statistics refer to
//! them).
//!
//! Every guard is `position <= $position`, not `<`: a command may append several events in one
//! message, and they share its position, so the second must still find the row the first wrote.
//! A repeat of an event at the row's own position is kept harmless by the status conditions
//! (only an open row closes, only a closed row reopens) and, for an update, by writing the same
//! values again.

use samskab_domain::{NeedDetails, NeedEvent, NeedPlace, NeedSchedule, PostedBy};
use samskab_projection::ApplyError;
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;
use sqlx::types::Json;

use samskab_projection::EventContext;

/// `schedule_kind`'s values; [`REOPEN`] names them in SQL too.
const ON_DATE: &str = "on_date";
const WEEKLY: &str = "weekly";

/// A second publication keeps what we have (as `evolve` does), so `DO NOTHING`; a repeat of the
/// same event finds its own row and changes nothing.
const PUBLISH: &str = "\
INSERT INTO need (tenant, id, posted_by, organisation_id, title, description,
                  target_groups, skills_required, skills_nice_to_have, languages,
                  postcode, remote, schedule_kind, schedule_date, slots, hours_per_week,
                  volunteers_wanted, starts_on, ends_on, children_under_15,
                  status, closed_at, closing_reason, published_at, updated_at, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, 'open', NULL, NULL, $21, $21, $22)
ON CONFLICT (tenant, id) DO NOTHING";

/// An update carries the whole record, so (like `evolve`) it is enough to create the row when
/// the publication is missing; `published_at` is then the best we know. It never touches the
/// status, nor when and why the need was closed: an update of a closed need (not decided, but
/// the newest record) leaves it closed. The position guard keeps a stale redelivery from rolling
/// the row back past a newer event.
const UPDATE: &str = "\
INSERT INTO need (tenant, id, posted_by, organisation_id, title, description,
                  target_groups, skills_required, skills_nice_to_have, languages,
                  postcode, remote, schedule_kind, schedule_date, slots, hours_per_week,
                  volunteers_wanted, starts_on, ends_on, children_under_15,
                  status, closed_at, closing_reason, published_at, updated_at, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, 'open', NULL, NULL, $21, $21, $22)
ON CONFLICT (tenant, id) DO UPDATE SET
    posted_by = EXCLUDED.posted_by,
    organisation_id = EXCLUDED.organisation_id,
    title = EXCLUDED.title,
    description = EXCLUDED.description,
    target_groups = EXCLUDED.target_groups,
    skills_required = EXCLUDED.skills_required,
    skills_nice_to_have = EXCLUDED.skills_nice_to_have,
    languages = EXCLUDED.languages,
    postcode = EXCLUDED.postcode,
    remote = EXCLUDED.remote,
    schedule_kind = EXCLUDED.schedule_kind,
    schedule_date = EXCLUDED.schedule_date,
    slots = EXCLUDED.slots,
    hours_per_week = EXCLUDED.hours_per_week,
    volunteers_wanted = EXCLUDED.volunteers_wanted,
    starts_on = EXCLUDED.starts_on,
    ends_on = EXCLUDED.ends_on,
    children_under_15 = EXCLUDED.children_under_15,
    updated_at = EXCLUDED.updated_at,
    position = EXCLUDED.position
WHERE need.position <= EXCLUDED.position";

/// Only an open need is closed: the first closing (its time and reason) stands, as in `evolve`,
/// and a repeat matches no row. Without a row there is nothing to close (`evolve` stays
/// NotPosted too). The position guard keeps a stale redelivery of a closing that once found no
/// row (or a closed one) from closing the row a later event created or reopened.
const CLOSE: &str = "\
UPDATE need SET
    status = 'closed',
    closed_at = $3,
    closing_reason = $4,
    updated_at = $5,
    position = $6
WHERE tenant = $1 AND id = $2 AND status = 'open' AND position <= $6";

/// Only a closed need is reopened (as in `evolve`; an open one keeps its dates even when the
/// reopening names a new last day). A new last day changes the dates as
/// `NeedDetails::with_last_day` does: a weekly need ends on it; a one-off need takes place on
/// it, and its end, if it has one, moves along so that the date still lies within it. The end
/// needs its own NULL case because `greatest` skips NULLs, and an ongoing one-off need must stay
/// ongoing. The position guard keeps a stale redelivery of a reopening that once found the need
/// open from reopening it after a later closing.
const REOPEN: &str = "\
UPDATE need SET
    status = 'open',
    closed_at = NULL,
    closing_reason = NULL,
    schedule_date = CASE
        WHEN $3::date IS NOT NULL AND schedule_kind = 'on_date' THEN $3::date
        ELSE schedule_date
    END,
    ends_on = CASE
        WHEN $3::date IS NULL THEN ends_on
        WHEN schedule_kind = 'weekly' THEN $3::date
        WHEN ends_on IS NULL THEN NULL
        ELSE greatest(ends_on, $3::date)
    END,
    updated_at = $4,
    position = $5
WHERE tenant = $1 AND id = $2 AND status = 'closed' AND position <= $5";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &NeedEvent,
) -> Result<(), ApplyError> {
    ctx.check_entity(event.id().as_uuid())?;
    match event {
        NeedEvent::Published(details) => {
            bind_details(sqlx::query(PUBLISH), ctx, details)
                .execute(conn)
                .await?;
        }
        NeedEvent::Updated(details) => {
            bind_details(sqlx::query(UPDATE), ctx, details)
                .execute(conn)
                .await?;
        }
        NeedEvent::Closed(e) => {
            sqlx::query(CLOSE)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.at)
                .bind(e.reason.as_ref().map(|r| r.as_str()))
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        NeedEvent::Reopened(e) | NeedEvent::ReopenedV1(e) => {
            sqlx::query(REOPEN)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.last_day)
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// Binds [`PUBLISH`]'s and [`UPDATE`]'s $1..$22: key (tenant from the envelope), the whole
/// record, and the envelope's time and position.
fn bind_details<'q>(
    query: Query<'q, Postgres, PgArguments>,
    ctx: &EventContext<'_>,
    details: &NeedDetails,
) -> Query<'q, Postgres, PgArguments> {
    let (posted_by, organisation_id) = match details.posted_by {
        PostedBy::Municipality => ("municipality", None),
        PostedBy::Organisation(id) => ("organisation", Some(id.as_uuid())),
    };
    let (postcode, remote) = match &details.place {
        NeedPlace::AtPostcode(postcode) => (Some(postcode.as_str()), false),
        NeedPlace::Remote => (None, true),
    };
    // Slots in the domain's own serialisation ([{"weekday":"tue","part":"evening"}]), the shape
    // a volunteer's availability has, so that the two compare in SQL.
    let (schedule_kind, schedule_date, slots, hours_per_week) = match &details.schedule {
        NeedSchedule::OnDate { date } => (ON_DATE, Some(*date), None, None),
        NeedSchedule::Weekly(availability) => (
            WEEKLY,
            None,
            Some(Json(availability.slots())),
            Some(i32::from(availability.hours_per_week())),
        ),
    };
    query
        .bind(ctx.tenant)
        .bind(details.id.as_uuid())
        .bind(posted_by)
        .bind(organisation_id)
        .bind(details.title.as_str())
        .bind(details.description.as_str())
        // Lists as text[] of their wire names, so the GIN indexes can answer "needs for X".
        .bind(
            details
                .target_groups
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            details
                .skills_required
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            details
                .skills_nice_to_have
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            details
                .languages
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(postcode)
        .bind(remote)
        .bind(schedule_kind)
        .bind(schedule_date)
        .bind(slots)
        .bind(hours_per_week)
        .bind(i32::from(details.volunteers_wanted.get()))
        .bind(details.starts_on)
        .bind(details.ends_on)
        .bind(details.children_under_15)
        .bind(ctx.time)
        .bind(ctx.position)
}
