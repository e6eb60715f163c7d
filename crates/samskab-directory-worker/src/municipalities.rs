//! `directory.municipality`: one row per tenant.

use samskab_domain::MunicipalityEvent;
use samskab_projection::ApplyError;
use sqlx::PgConnection;

use samskab_projection::EventContext;

/// `ON CONFLICT DO NOTHING`: the decider keeps the first registration (a second cannot have been
/// decided), and a repeat of the same event finds its own row.
const REGISTER: &str = "\
INSERT INTO municipality (tenant, kommunekode, name, registered_at, registered_by, position)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant) DO NOTHING";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &MunicipalityEvent,
) -> Result<(), ApplyError> {
    match event {
        MunicipalityEvent::Registered(e) => {
            // The municipality *is* the tenant: a payload naming another tenant than its subject
            // would register a municipality under someone else's key.
            if e.tenant.as_str() != ctx.tenant || ctx.entity_id != ctx.tenant {
                return Err(ApplyError::Malformed(format!(
                    "municipality {:?} appended under tenant {:?}, entity {:?}",
                    e.tenant.as_str(),
                    ctx.tenant,
                    ctx.entity_id
                )));
            }
            sqlx::query(REGISTER)
                .bind(ctx.tenant)
                .bind(i32::from(e.kommunekode.as_u16()))
                .bind(e.name.as_str())
                .bind(ctx.time)
                .bind(ctx.actor)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}
