//! `matching.volunteer`: what matching knows of each volunteer, one row each, mirroring
//! `Volunteer::evolve`. Name, contact and birth year stay in the directory; matching ranks on
//! the profile and checks consent and the børneattest. The børneattest's assessment is the one
//! personal datum here (the hard rule needs it): opened from its sealed event, and blanked on
//! withdrawal and forgetting.
//!
//! A withdrawn or forgotten volunteer's row stays, with its status, so that (as in `evolve`)
//! no later event brings them back; only `active` rows with `matching_consent` are candidates.
//! Guards are `position <= $position`, as for needs: a command's events share its position.

use samskab_domain::ranking::slot_key;
use samskab_domain::{ChildCertificate, Purpose, VolunteerEvent, VolunteerProfile};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;

/// A second registration keeps what we have (`DO NOTHING`), as `evolve` does. Consent to
/// matching is a purpose of its own, given after the registration.
const REGISTER: &str = "\
INSERT INTO volunteer (tenant, id, postcode, skills, languages, target_groups, slots,
                       hours_per_week, certificate_status, certificate_valid_until,
                       matching_consent, status, updated_at, position, max_travel_km)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, false, 'active', $11, $12, $13)
ON CONFLICT (tenant, id) DO NOTHING";

/// Only an active volunteer's profile changes; without a row (no registration) nothing does.
/// The børneattest is not the profile's: a `.v2` update leaves it as it is ($9 and $10 NULL),
/// and a `.v1` update sets it ($9 its status).
const UPDATE_PROFILE: &str = "\
UPDATE volunteer SET
    postcode = $3, skills = $4, languages = $5, target_groups = $6, slots = $7,
    hours_per_week = $8,
    certificate_status = COALESCE($9, certificate_status),
    certificate_valid_until = CASE WHEN $9::text IS NULL THEN certificate_valid_until ELSE $10 END,
    updated_at = $11, position = $12, max_travel_km = $13
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $12";

/// Consent to matching given ($3 true) or withdrawn ($3 false); other purposes only move the
/// row's position. Only an active volunteer has purposes.
const SET_MATCHING_CONSENT: &str = "\
UPDATE volunteer SET
    matching_consent = CASE WHEN $3::bool IS NULL THEN matching_consent ELSE $3 END,
    updated_at = $4, position = $5
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $5";

/// Withdrawn: no longer a candidate, ever, and the assessment is blanked with the rest of the
/// personal data. Only an active volunteer withdraws.
const WITHDRAW: &str = "\
UPDATE volunteer SET status = 'consent_withdrawn', matching_consent = false,
    certificate_status = NULL, certificate_valid_until = NULL,
    updated_at = $3, position = $4
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $4";

/// The børneattest requested: a first request makes it `requested`; a renewal (approved or not
/// approved) keeps the standing assessment until the new one is recorded, as in `evolve`.
/// Only an active volunteer's børneattest changes.
const REQUEST_CERTIFICATE: &str = "\
UPDATE volunteer SET
    certificate_status = CASE certificate_status
        WHEN 'not_required' THEN 'requested' ELSE certificate_status END,
    updated_at = $3, position = $4
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $4";

/// The børneattest assessed: the assessment is the event's. When the log could no longer open
/// it ($3 NULL: the volunteer was forgotten, as a later event says), the standing assessment
/// is all we know, as in `evolve`.
const ASSESS_CERTIFICATE: &str = "\
UPDATE volunteer SET certificate_status = COALESCE($3, certificate_status),
    certificate_valid_until =
        CASE WHEN $3::text IS NULL THEN certificate_valid_until ELSE $4 END,
    updated_at = $5, position = $6
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $6";

/// Forgotten, from active or withdrawn; the first forgetting stands. The assessment goes.
const FORGET: &str = "\
UPDATE volunteer SET status = 'forgotten', matching_consent = false,
    certificate_status = NULL, certificate_valid_until = NULL,
    updated_at = $3, position = $4
WHERE tenant = $1 AND id = $2 AND status IN ('active', 'consent_withdrawn') AND position <= $4";

/// The other municipalities the volunteer may also be matched in: the whole list, as the event
/// has it. Only an active volunteer chooses (as in `evolve`); idempotent, so the guard lets a
/// repeat at the row's own position through.
const SET_OTHER_MUNICIPALITIES: &str = "\
UPDATE volunteer SET other_municipalities = $3, updated_at = $4, position = $5
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $5";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &VolunteerEvent,
) -> Result<(), ApplyError> {
    let id = event.id().as_uuid();
    ctx.check_entity(id)?;
    match event {
        VolunteerEvent::Registered(e) => {
            let not_required = ChildCertificate::not_required();
            write_profile(conn, REGISTER, ctx, id, &e.profile, Some(&not_required)).await?;
        }
        VolunteerEvent::RegisteredV1(e) => {
            let (e, certificate) = e.upcast();
            write_profile(conn, REGISTER, ctx, id, &e.profile, Some(&certificate)).await?;
        }
        VolunteerEvent::ProfileUpdated(e) => {
            write_profile(conn, UPDATE_PROFILE, ctx, id, &e.profile, None).await?;
        }
        VolunteerEvent::ProfileUpdatedV1(e) => {
            let (e, certificate) = e.upcast();
            write_profile(
                conn,
                UPDATE_PROFILE,
                ctx,
                id,
                &e.profile,
                Some(&certificate),
            )
            .await?;
        }
        VolunteerEvent::PurposeConsentGiven(e) | VolunteerEvent::PurposeConsentWithdrawn(e) => {
            let given = matches!(event, VolunteerEvent::PurposeConsentGiven(_));
            let matching = (e.purpose == Purpose::Matching).then_some(given);
            sqlx::query(SET_MATCHING_CONSENT)
                .bind(ctx.tenant)
                .bind(id)
                .bind(matching)
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        VolunteerEvent::ConsentWithdrawn(_) | VolunteerEvent::Forgotten(_) => {
            let sql = if matches!(event, VolunteerEvent::Forgotten(_)) {
                FORGET
            } else {
                WITHDRAW
            };
            sqlx::query(sql)
                .bind(ctx.tenant)
                .bind(id)
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        // Where the børneattest's case stands is the directory's; matching ranks on the
        // assessment, which a consent does not change.
        VolunteerEvent::CertificateConsentGiven(_) => {}
        VolunteerEvent::OtherMunicipalitiesSet(e) => {
            let municipalities: Vec<&str> = e.municipalities.iter().map(|t| t.as_str()).collect();
            sqlx::query(SET_OTHER_MUNICIPALITIES)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(municipalities)
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        VolunteerEvent::CertificateRequested(_) => {
            sqlx::query(REQUEST_CERTIFICATE)
                .bind(ctx.tenant)
                .bind(id)
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        VolunteerEvent::CertificateAssessed(e) => {
            assess(conn, ctx, id, e.certificate.as_ref()).await?;
        }
        VolunteerEvent::CertificateAssessedV1(e) => {
            assess(conn, ctx, id, Some(&e.certificate)).await?;
        }
    }
    Ok(())
}

/// Runs [`ASSESS_CERTIFICATE`] (`None`: an assessment the log could not open).
async fn assess(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    id: uuid::Uuid,
    certificate: Option<&ChildCertificate>,
) -> Result<(), sqlx::Error> {
    sqlx::query(ASSESS_CERTIFICATE)
        .bind(ctx.tenant)
        .bind(id)
        .bind(certificate.map(|c| c.status().as_str()))
        .bind(certificate.and_then(ChildCertificate::valid_until))
        .bind(ctx.time)
        .bind(ctx.position)
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs [`REGISTER`] or [`UPDATE_PROFILE`] (see [`bind_profile`]).
async fn write_profile(
    conn: &mut PgConnection,
    statement: &'static str,
    ctx: &EventContext<'_>,
    id: uuid::Uuid,
    profile: &VolunteerProfile,
    certificate: Option<&ChildCertificate>,
) -> Result<(), sqlx::Error> {
    bind_profile(sqlx::query(statement), ctx, id, profile, certificate)
        .execute(conn)
        .await?;
    Ok(())
}

/// Binds $1..$13 of [`REGISTER`] and [`UPDATE_PROFILE`]: key, the profile, the assessment
/// (`None`: unchanged, for an update), time and position, and the travel distance.
fn bind_profile<'q>(
    query: Query<'q, Postgres, PgArguments>,
    ctx: &EventContext<'q>,
    id: uuid::Uuid,
    profile: &VolunteerProfile,
    certificate: Option<&ChildCertificate>,
) -> Query<'q, Postgres, PgArguments> {
    let texts = |items: Vec<&str>| items.into_iter().map(str::to_string).collect::<Vec<_>>();
    query
        .bind(ctx.tenant)
        .bind(id)
        .bind(profile.postcode.as_str())
        .bind(texts(profile.skills.iter().map(|t| t.as_str()).collect()))
        .bind(texts(
            profile.languages.iter().map(|l| l.as_str()).collect(),
        ))
        .bind(texts(
            profile.target_groups.iter().map(|g| g.as_str()).collect(),
        ))
        .bind(
            profile
                .availability
                .slots()
                .iter()
                .map(slot_key)
                .collect::<Vec<_>>(),
        )
        .bind(i32::from(profile.availability.hours_per_week()))
        .bind(certificate.map(|c| c.status().as_str()))
        .bind(certificate.and_then(ChildCertificate::valid_until))
        .bind(ctx.time)
        .bind(ctx.position)
        .bind(profile.max_travel_km.map(|km| i32::from(km.km())))
}
