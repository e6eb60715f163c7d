//! `directory.municipality`: one row per tenant, with the weights its matching ranks by.

use samskab_domain::MunicipalityEvent;
use samskab_domain::ranking::Weights;
use samskab_projection::ApplyError;
use sqlx::PgConnection;
use sqlx::types::Json;

use samskab_projection::EventContext;

/// `ON CONFLICT DO NOTHING`: the decider keeps the first registration (a second cannot have been
/// decided), and a repeat of the same event finds its own row.
/// A registration ranks by the installation's default weights, as `evolve` has it.
const REGISTER: &str = "\
INSERT INTO municipality (tenant, kommunekode, name, registered_at, registered_by, position,
                          matching_weights)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant) DO NOTHING";

/// Weights set before the registration change nothing (no row, as `evolve` stays
/// NotRegistered); the position guard keeps a stale redelivery from undoing a later setting.
const SET_WEIGHTS: &str = "\
UPDATE municipality SET matching_weights = $2, position = $3
WHERE tenant = $1 AND position <= $3";

/// The umbrellas it shares with, all of them; guarded as [`SET_WEIGHTS`].
const SHARE: &str = "\
UPDATE municipality SET shared_with = $2, position = $3
WHERE tenant = $1 AND position <= $3";

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
                .bind(Json(Weights::default()))
                .execute(conn)
                .await?;
        }
        MunicipalityEvent::MatchingWeightsSet(e) => {
            if e.tenant.as_str() != ctx.tenant || ctx.entity_id != ctx.tenant {
                return Err(ApplyError::Malformed(format!(
                    "weights of municipality {:?} appended under tenant {:?}, entity {:?}",
                    e.tenant.as_str(),
                    ctx.tenant,
                    ctx.entity_id
                )));
            }
            sqlx::query(SET_WEIGHTS)
                .bind(ctx.tenant)
                .bind(Json(e.weights))
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        MunicipalityEvent::UmbrellasShared(e) => {
            if e.tenant.as_str() != ctx.tenant || ctx.entity_id != ctx.tenant {
                return Err(ApplyError::Malformed(format!(
                    "sharing of municipality {:?} appended under tenant {:?}, entity {:?}",
                    e.tenant.as_str(),
                    ctx.tenant,
                    ctx.entity_id
                )));
            }
            let umbrellas: Vec<uuid::Uuid> = e.umbrellas.iter().map(|u| u.as_uuid()).collect();
            sqlx::query(SHARE)
                .bind(ctx.tenant)
                .bind(umbrellas)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}
