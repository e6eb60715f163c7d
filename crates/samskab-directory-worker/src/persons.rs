//! `directory.person`: one row per person a volunteer is paired with (a mentee, a family),
//! forgotten ones included without their personal data (matches and statistics refer to them).

use samskab_domain::{PersonDetails, PersonEvent, PostedBy};
use samskab_projection::ApplyError;
use sqlx::PgConnection;

use samskab_projection::EventContext;

/// A second registration keeps what we have (as `evolve` does).
const REGISTER: &str = "\
INSERT INTO person (tenant, id, kind, organisation_id, name, email, phone, postcode, languages,
                    children_under_15, status, registered_at, forgotten_at, updated_at, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $12, 'registered', $10, NULL, $10, $11)
ON CONFLICT (tenant, id) DO NOTHING";

/// An update carries the whole record (who registered the person too, which the decider keeps
/// as it was), so (like `evolve`) it is taken whole and creates the row when the registration
/// is missing. Nothing changes a forgotten person; the position guard keeps a
/// stale redelivery from rolling the row back.
const UPDATE: &str = "\
INSERT INTO person (tenant, id, kind, organisation_id, name, email, phone, postcode, languages,
                    children_under_15, status, registered_at, forgotten_at, updated_at, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $12, 'registered', $10, NULL, $10, $11)
ON CONFLICT (tenant, id) DO UPDATE SET
    kind = EXCLUDED.kind,
    organisation_id = EXCLUDED.organisation_id,
    name = EXCLUDED.name,
    email = EXCLUDED.email,
    phone = EXCLUDED.phone,
    postcode = EXCLUDED.postcode,
    languages = EXCLUDED.languages,
    children_under_15 = EXCLUDED.children_under_15,
    updated_at = EXCLUDED.updated_at,
    position = EXCLUDED.position
WHERE person.status = 'registered' AND person.position <= EXCLUDED.position";

/// GDPR art. 17: the personal columns are blanked, the rest stays. Only a registered person
/// is forgotten (`evolve`: a forgotten one stays as it was, no row stays no row).
const FORGET: &str = "\
UPDATE person SET
    name = NULL, email = NULL, phone = NULL,
    status = 'forgotten', forgotten_at = $3,
    updated_at = $3,
    position = $4
WHERE tenant = $1 AND id = $2 AND status = 'registered' AND position < $4";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &PersonEvent,
) -> Result<(), ApplyError> {
    ctx.check_entity(event.id().as_uuid())?;
    match event {
        PersonEvent::Registered(details) => upsert(conn, ctx, REGISTER, details).await,
        PersonEvent::Updated(details) => upsert(conn, ctx, UPDATE, details).await,
        PersonEvent::Forgotten(e) => {
            sqlx::query(FORGET)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.at)
                .bind(ctx.position)
                .execute(conn)
                .await?;
            Ok(())
        }
    }
}

/// `REGISTER` and `UPDATE` take the same parameters: the full record.
async fn upsert(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    statement: &'static str,
    details: &PersonDetails,
) -> Result<(), ApplyError> {
    let organisation = match details.registered_by {
        PostedBy::Municipality => None,
        PostedBy::Organisation(id) => Some(id.as_uuid()),
    };
    // `None`: forgotten, or its key is gone; the personal columns stay empty.
    let personal = details.personal.as_ref();
    let contact = personal.and_then(|p| p.contact.as_ref());
    let languages: Vec<&str> = details.languages.iter().map(|l| l.as_str()).collect();
    sqlx::query(statement)
        .bind(ctx.tenant)
        .bind(details.id.as_uuid())
        .bind(details.kind.as_str())
        .bind(organisation)
        .bind(personal.map(|p| p.name.as_str()))
        .bind(contact.and_then(|c| c.email()).map(|e| e.as_str()))
        .bind(contact.and_then(|c| c.phone()).map(|p| p.as_str()))
        .bind(details.postcode.as_str())
        .bind(&languages)
        .bind(ctx.time)
        .bind(ctx.position)
        .bind(details.children_under_15)
        .execute(conn)
        .await?;
    Ok(())
}
