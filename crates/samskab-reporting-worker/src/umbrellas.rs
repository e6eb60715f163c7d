//! What an umbrella organisation's report is counted over: the tree of umbrellas and
//! districts (`umbrella`), each organisation's membership (`organisation_umbrella_version`) and
//! the umbrellas each municipality shares its figures with (`umbrella_share_version`), the last
//! two as versions, so that a report as of a past instant counts the members and the
//! municipalities of then. Each mirrors `evolve`: no membership before a registration, none
//! set on a deactivated organisation (nor counted from it), no sharing before the
//! municipality's registration. The volunteers counted are `volunteer_version`'s, by the
//! organisation each version names.

use samskab_domain::{MunicipalityEvent, OrganisationEvent, UmbrellaEvent, UmbrellaId};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;

/// A second registration keeps the first (as `evolve`); the parent never changes.
const REGISTER_UMBRELLA: &str = "\
INSERT INTO umbrella (id, parent_id, name, position) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO NOTHING";

const RENAME_UMBRELLA: &str = "\
UPDATE umbrella SET name = $2, position = $3 WHERE id = $1 AND position < $3";

/// An organisation's first membership version, at its registration (a second registration
/// keeps the first, as `evolve` does; a redelivery finds its own).
const FIRST_MEMBERSHIP: &str = "\
INSERT INTO organisation_umbrella_version (tenant, organisation_id, from_position, from_index,
    valid_from, umbrella_id, active)
SELECT $1, $2, $3, $4, $5, $6, true
WHERE NOT EXISTS (
    SELECT 1 FROM organisation_umbrella_version WHERE tenant = $1 AND organisation_id = $2)";

/// An update's record, umbrella included: the standing version closes and the next begins,
/// active or not as it was; an organisation with no version yet (an update whose registration
/// is not here, which `evolve` takes as the record) begins one. The guard on the standing
/// version makes a redelivery, or a stale event, change nothing.
const UPDATED_MEMBERSHIP: &str = "\
WITH closed AS (
    UPDATE organisation_umbrella_version SET valid_to = $5
    WHERE tenant = $1 AND organisation_id = $2 AND valid_to IS NULL
      AND (from_position, from_index) < ($3, $4)
    RETURNING active
)
INSERT INTO organisation_umbrella_version (tenant, organisation_id, from_position, from_index,
    valid_from, umbrella_id, active)
SELECT $1, $2, $3, $4, $5, $6, coalesce((SELECT active FROM closed), true)
WHERE EXISTS (SELECT 1 FROM closed)
   OR NOT EXISTS (
       SELECT 1 FROM organisation_umbrella_version WHERE tenant = $1 AND organisation_id = $2)";

/// A new membership, of an active organisation only (as in `evolve`).
const SET_MEMBERSHIP: &str = "\
WITH closed AS (
    UPDATE organisation_umbrella_version SET valid_to = $5
    WHERE tenant = $1 AND organisation_id = $2 AND valid_to IS NULL AND active
      AND (from_position, from_index) < ($3, $4)
    RETURNING 1
)
INSERT INTO organisation_umbrella_version (tenant, organisation_id, from_position, from_index,
    valid_from, umbrella_id, active)
SELECT $1, $2, $3, $4, $5, $6, true FROM closed";

/// A deactivation: the membership stays on record, inactive, so it no longer counts.
const DEACTIVATED_MEMBERSHIP: &str = "\
WITH closed AS (
    UPDATE organisation_umbrella_version SET valid_to = $5
    WHERE tenant = $1 AND organisation_id = $2 AND valid_to IS NULL AND active
      AND (from_position, from_index) < ($3, $4)
    RETURNING umbrella_id
)
INSERT INTO organisation_umbrella_version (tenant, organisation_id, from_position, from_index,
    valid_from, umbrella_id, active)
SELECT $1, $2, $3, $4, $5, umbrella_id, false FROM closed";

/// A municipality shares with no one from its registration on (as `evolve` has it).
const FIRST_SHARING: &str = "\
INSERT INTO umbrella_share_version (tenant, from_position, from_index, valid_from, umbrellas)
SELECT $1, $2, $3, $4, '{}'
WHERE NOT EXISTS (SELECT 1 FROM umbrella_share_version WHERE tenant = $1)";

/// Its sharing from now on: the standing version closes, the next begins (none before the
/// registration, as in `evolve`).
const NEXT_SHARING: &str = "\
WITH closed AS (
    UPDATE umbrella_share_version SET valid_to = $4
    WHERE tenant = $1 AND valid_to IS NULL AND (from_position, from_index) < ($2, $3)
    RETURNING 1
)
INSERT INTO umbrella_share_version (tenant, from_position, from_index, valid_from, umbrellas)
SELECT $1, $2, $3, $4, $5 FROM closed";

pub(crate) async fn apply_umbrella(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &UmbrellaEvent,
) -> Result<(), ApplyError> {
    let details = event.details();
    ctx.check_entity(details.id.as_uuid())?;
    let statement = match event {
        UmbrellaEvent::Registered(d) => sqlx::query(REGISTER_UMBRELLA)
            .bind(d.id.as_uuid())
            .bind(d.parent.map(|p| p.as_uuid()))
            .bind(d.name.as_str())
            .bind(ctx.position),
        UmbrellaEvent::Renamed(d) => sqlx::query(RENAME_UMBRELLA)
            .bind(d.id.as_uuid())
            .bind(d.name.as_str())
            .bind(ctx.position),
    };
    statement.execute(conn).await?;
    Ok(())
}

/// Membership versions: what `evolve` says of the organisation's umbrella after each event
/// that can change it. (A membership set on a deactivated organisation cannot have been
/// decided; `evolve` keeps what there is, and so would a version of the same umbrella.)
pub(crate) async fn apply_organisation(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    index: i32,
    event: &OrganisationEvent,
) -> Result<(), ApplyError> {
    let id = event.id().as_uuid();
    ctx.check_entity(id)?;
    // `None`: the statement keeps the standing version's umbrella (a deactivation).
    let (statement, umbrella): (&str, Option<Option<UmbrellaId>>) = match event {
        OrganisationEvent::Registered(d) | OrganisationEvent::RegisteredV1(d) => {
            (FIRST_MEMBERSHIP, Some(d.umbrella))
        }
        OrganisationEvent::Updated(d) | OrganisationEvent::UpdatedV1(d) => {
            (UPDATED_MEMBERSHIP, Some(d.umbrella))
        }
        OrganisationEvent::UmbrellaSet(e) => (SET_MEMBERSHIP, Some(e.umbrella)),
        OrganisationEvent::Deactivated(_) => (DEACTIVATED_MEMBERSHIP, None),
        OrganisationEvent::ContactForgotten(_) => return Ok(()),
    };
    let query = sqlx::query(statement)
        .bind(ctx.tenant)
        .bind(id)
        .bind(ctx.position)
        .bind(index)
        .bind(ctx.time);
    let query = match umbrella {
        Some(umbrella) => query.bind(umbrella.map(|u| u.as_uuid())),
        None => query,
    };
    query.execute(conn).await?;
    Ok(())
}

pub(crate) async fn apply_municipality(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    index: i32,
    event: &MunicipalityEvent,
) -> Result<(), ApplyError> {
    let e = match event {
        MunicipalityEvent::Registered(_) => {
            sqlx::query(FIRST_SHARING)
                .bind(ctx.tenant)
                .bind(ctx.position)
                .bind(index)
                .bind(ctx.time)
                .execute(conn)
                .await?;
            return Ok(());
        }
        MunicipalityEvent::MatchingWeightsSet(_) => return Ok(()),
        MunicipalityEvent::UmbrellasShared(e) => e,
    };
    if e.tenant.as_str() != ctx.tenant {
        return Err(ApplyError::Malformed(format!(
            "sharing of municipality {:?} appended under tenant {:?}",
            e.tenant.as_str(),
            ctx.tenant
        )));
    }
    let umbrellas: Vec<uuid::Uuid> = e.umbrellas.iter().map(|u| u.as_uuid()).collect();
    sqlx::query(NEXT_SHARING)
        .bind(ctx.tenant)
        .bind(ctx.position)
        .bind(index)
        .bind(ctx.time)
        .bind(umbrellas)
        .execute(conn)
        .await?;
    Ok(())
}
