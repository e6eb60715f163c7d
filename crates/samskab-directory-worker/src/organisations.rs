//! `directory.organisation`: one row per organisation, deactivated ones included (grants and
//! history still refer to them).

use samskab_domain::{OrganisationDetails, OrganisationEvent};
use samskab_projection::ApplyError;
use sqlx::PgConnection;

use samskab_projection::EventContext;

/// A second registration keeps what we have (as the decider's `evolve` does), so `DO NOTHING`;
/// a repeat of the same event finds its own row and changes nothing.
const REGISTER: &str = "\
INSERT INTO organisation (tenant, id, name, cvr, kind, email, phone, contact_person,
                          active, deactivated_at, deactivation_reason,
                          registered_at, updated_at, position, umbrella_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, NULL, NULL, $9, $9, $10, $11)
ON CONFLICT (tenant, id) DO NOTHING";

/// An update carries the whole record, so (like `evolve`) it is enough to create the row when
/// the registration is missing; `registered_at` is then the best we know. It never touches
/// `active`: an update of a deactivated organisation leaves it deactivated. The position guard
/// keeps a stale re-delivery from rolling the row back past a newer event.
const UPDATE: &str = "\
INSERT INTO organisation (tenant, id, name, cvr, kind, email, phone, contact_person,
                          active, deactivated_at, deactivation_reason,
                          registered_at, updated_at, position, umbrella_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, NULL, NULL, $9, $9, $10, $11)
ON CONFLICT (tenant, id) DO UPDATE SET
    name = EXCLUDED.name,
    cvr = EXCLUDED.cvr,
    kind = EXCLUDED.kind,
    email = EXCLUDED.email,
    phone = EXCLUDED.phone,
    contact_person = EXCLUDED.contact_person,
    umbrella_id = EXCLUDED.umbrella_id,
    updated_at = EXCLUDED.updated_at,
    position = EXCLUDED.position
WHERE organisation.position <= EXCLUDED.position";

/// Only an active organisation is deactivated: the first deactivation (its time and reason)
/// stands, as in `evolve`, and a repeat matches no row. Without a row there is nothing to
/// deactivate (`evolve` stays NotRegistered too). The position guard keeps a stale redelivery
/// of a deactivation that once found no row from deactivating the row a later update created.
const DEACTIVATE: &str = "\
UPDATE organisation SET
    active = false,
    deactivated_at = $3,
    deactivation_reason = $4,
    updated_at = $3,
    position = $5
WHERE tenant = $1 AND id = $2 AND active AND position < $5";

/// Membership of an umbrella: of an active organisation only, as in `evolve`; the position
/// guard keeps a stale redelivery from undoing a later change.
const SET_UMBRELLA: &str = "\
UPDATE organisation SET umbrella_id = $3, updated_at = $4, position = $5
WHERE tenant = $1 AND id = $2 AND active AND position < $5";

/// GDPR art. 17 for the contact person: the contact columns are blanked, the organisation
/// stays. As in `evolve`, active or not; the position guard keeps a stale redelivery from
/// blanking a contact that a later update recorded.
const FORGET_CONTACT: &str = "\
UPDATE organisation SET
    email = NULL, phone = NULL, contact_person = NULL,
    updated_at = $3,
    position = $4
WHERE tenant = $1 AND id = $2 AND position < $4";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &OrganisationEvent,
) -> Result<(), ApplyError> {
    ctx.check_entity(event.id().as_uuid())?;
    match event {
        OrganisationEvent::Registered(details) | OrganisationEvent::RegisteredV1(details) => {
            upsert(conn, ctx, REGISTER, details).await?;
        }
        OrganisationEvent::Updated(details) | OrganisationEvent::UpdatedV1(details) => {
            upsert(conn, ctx, UPDATE, details).await?;
        }
        OrganisationEvent::ContactForgotten(e) => {
            sqlx::query(FORGET_CONTACT)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        OrganisationEvent::UmbrellaSet(e) => {
            sqlx::query(SET_UMBRELLA)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.umbrella.map(|u| u.as_uuid()))
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        OrganisationEvent::Deactivated(e) => {
            sqlx::query(DEACTIVATE)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(ctx.time)
                .bind(e.reason.as_ref().map(|r| r.as_str()))
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// `REGISTER` and `UPDATE` take the same parameters: the full record.
async fn upsert(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    statement: &'static str,
    details: &OrganisationDetails,
) -> Result<(), ApplyError> {
    // `None`: the contact was forgotten (or its key is gone), so the columns stay empty.
    let contact = details.contact.as_ref();
    sqlx::query(statement)
        .bind(ctx.tenant)
        .bind(details.id.as_uuid())
        .bind(details.name.as_str())
        .bind(details.cvr.as_ref().map(|c| c.as_str()))
        .bind(details.kind.as_str())
        .bind(contact.and_then(|c| c.email()).map(|e| e.as_str()))
        .bind(contact.and_then(|c| c.phone()).map(|p| p.as_str()))
        .bind(contact.and_then(|c| c.person()).map(|n| n.as_str()))
        .bind(ctx.time)
        .bind(ctx.position)
        .bind(details.umbrella.map(|u| u.as_uuid()))
        .execute(conn)
        .await?;
    Ok(())
}
