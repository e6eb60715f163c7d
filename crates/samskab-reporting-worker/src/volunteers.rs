//! `reporting.volunteer_version`: a volunteer's profile and status, one version per event that
//! changes what the figures count (registered, profile updated, consent withdrawn, forgotten).
//! Consents to purposes, the børneattest and other municipalities change none of it and write
//! nothing here.
//!
//! Each write is one statement. A change closes the standing version at the event's time and
//! begins the next, in one `WITH … UPDATE … RETURNING` → `INSERT`: the new version copies what
//! the event does not change (a withdrawal keeps the profile, so the volunteer is still counted
//! by postcode among the withdrawn). The guard `(from_position, from_index) < (event)` on the
//! standing version makes a redelivery, or a stale event, change nothing.

use samskab_domain::{VolunteerEvent, VolunteerProfile};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;

/// The first version, unless the volunteer has one (a second registration keeps the first, as
/// `evolve` does; a redelivery finds its own).
const REGISTER: &str = "\
INSERT INTO volunteer_version (tenant, volunteer_id, from_position, from_index, started_by,
    valid_from, status, registered_at, postcode, age_band, skills, target_groups,
    organisation_id)
SELECT $1, $2, $3, $4, 'registered', $5, 'active', $5, $6, $7, $8, $9, $10
WHERE NOT EXISTS (SELECT 1 FROM volunteer_version WHERE tenant = $1 AND volunteer_id = $2)";

/// A new profile for an active volunteer: the standing version closes, the next begins.
const UPDATE_PROFILE: &str = "\
WITH closed AS (
    UPDATE volunteer_version SET valid_to = $5
    WHERE tenant = $1 AND volunteer_id = $2 AND valid_to IS NULL AND status = 'active'
      AND (from_position, from_index) < ($3, $4)
    RETURNING registered_at
)
INSERT INTO volunteer_version (tenant, volunteer_id, from_position, from_index, started_by,
    valid_from, status, registered_at, postcode, age_band, skills, target_groups,
    organisation_id)
SELECT $1, $2, $3, $4, 'profile_updated', $5, 'active', registered_at, $6, $7, $8, $9, $10
FROM closed";

/// A change of status ($6: `consent_withdrawn` from `active`; `forgotten` from either), the
/// profile kept.
const CHANGE_STATUS: &str = "\
WITH closed AS (
    UPDATE volunteer_version SET valid_to = $5
    WHERE tenant = $1 AND volunteer_id = $2 AND valid_to IS NULL AND status = ANY($7)
      AND (from_position, from_index) < ($3, $4)
    RETURNING registered_at, postcode, age_band, skills, target_groups, organisation_id
)
INSERT INTO volunteer_version (tenant, volunteer_id, from_position, from_index, started_by,
    valid_from, status, registered_at, postcode, age_band, skills, target_groups,
    organisation_id)
SELECT $1, $2, $3, $4, $6, $5, $6, registered_at, postcode, age_band, skills, target_groups,
    organisation_id
FROM closed";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    index: i32,
    event: &VolunteerEvent,
) -> Result<(), ApplyError> {
    let id = event.id().as_uuid();
    ctx.check_entity(id)?;
    match event {
        VolunteerEvent::Registered(e) => {
            write_profile(conn, REGISTER, ctx, index, id, &e.profile).await?;
        }
        VolunteerEvent::RegisteredV1(e) => {
            let (e, _) = e.upcast();
            write_profile(conn, REGISTER, ctx, index, id, &e.profile).await?;
        }
        VolunteerEvent::ProfileUpdated(e) => {
            write_profile(conn, UPDATE_PROFILE, ctx, index, id, &e.profile).await?;
        }
        VolunteerEvent::ProfileUpdatedV1(e) => {
            let (e, _) = e.upcast();
            write_profile(conn, UPDATE_PROFILE, ctx, index, id, &e.profile).await?;
        }
        VolunteerEvent::ConsentWithdrawn(_) => {
            change_status(conn, ctx, index, id, "consent_withdrawn", &["active"]).await?;
        }
        VolunteerEvent::Forgotten(_) => {
            let from = ["active", "consent_withdrawn"];
            change_status(conn, ctx, index, id, "forgotten", &from).await?;
        }
        VolunteerEvent::PurposeConsentGiven(_)
        | VolunteerEvent::PurposeConsentWithdrawn(_)
        | VolunteerEvent::CertificateConsentGiven(_)
        | VolunteerEvent::CertificateRequested(_)
        | VolunteerEvent::CertificateAssessed(_)
        | VolunteerEvent::CertificateAssessedV1(_)
        | VolunteerEvent::OtherMunicipalitiesSet(_) => {}
    }
    Ok(())
}

/// Runs [`REGISTER`] or [`UPDATE_PROFILE`]: key, time, and the profile's counted parts, each
/// list once per item (a repeated skill counts once).
async fn write_profile(
    conn: &mut PgConnection,
    statement: &'static str,
    ctx: &EventContext<'_>,
    index: i32,
    id: uuid::Uuid,
    profile: &VolunteerProfile,
) -> Result<(), sqlx::Error> {
    let profile = profile.without_duplicates();
    let skills: Vec<&str> = profile.skills.iter().map(|t| t.as_str()).collect();
    let groups: Vec<&str> = profile.target_groups.iter().map(|g| g.as_str()).collect();
    sqlx::query(statement)
        .bind(ctx.tenant)
        .bind(id)
        .bind(ctx.position)
        .bind(index)
        .bind(ctx.time)
        .bind(profile.postcode.as_str())
        .bind(profile.age_band.as_str())
        .bind(skills)
        .bind(groups)
        .bind(profile.organisation.map(|o| o.as_uuid()))
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs [`CHANGE_STATUS`]: to `status`, from a standing version in one of `from`.
async fn change_status(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    index: i32,
    id: uuid::Uuid,
    status: &str,
    from: &[&str],
) -> Result<(), sqlx::Error> {
    sqlx::query(CHANGE_STATUS)
        .bind(ctx.tenant)
        .bind(id)
        .bind(ctx.position)
        .bind(index)
        .bind(ctx.time)
        .bind(status)
        .bind(from)
        .execute(conn)
        .await?;
    Ok(())
}
