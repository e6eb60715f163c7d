//! `directory.volunteer`: one row per volunteer.
//!
//! Personal data (name, email, phone, birth year) has its own columns so that it can be blanked
//! when consent is withdrawn or the person is forgotten while the row and its statistics columns (postcode, age band,
//! skills, ...) stay. Every statement that writes personal data only matches a volunteer whose
//! consent has not been withdrawn, so nothing (a repeat, a stale redelivery, a rebuild) can bring
//! it back once it was blanked.
//!
//! The børneattest: its assessment (`child_certificate_status`, `_assessed_on`,
//! `_valid_until`) is `VolunteerDetails::child_certificate`, and where its case stands
//! (`child_certificate_consent_for`, `_requested_by`, `_requested_at`) is
//! `VolunteerDetails::certificate_case`; a requester is written `municipality` or the
//! organisation's id. The assessment is personal data: blanked (NULL) with the rest on
//! withdrawal and forgetting.

use samskab_domain::{
    CertificateRequester, ChildCertificate, PostedBy, VolunteerCertificateStep, VolunteerEvent,
    VolunteerId, VolunteerPersonalData, VolunteerProfile, VolunteerProfileUpdated,
    VolunteerPurposeConsent, VolunteerRegistered,
};
use samskab_projection::ApplyError;
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;
use sqlx::types::Json;

use samskab_projection::EventContext;

/// A profile update replaces personal data and profile. Like `evolve`, it changes only an
/// active volunteer: without a registration there is no consent to hold the data under, and
/// after withdrawal nothing changes any more. The position guard keeps a stale redelivery from
/// rolling the row back past a newer event; a repeat of the same event writes the same values.
const UPDATE_PROFILE: &str = "\
UPDATE volunteer SET
    name = $3, email = $4, phone = $5, birth_year = $6,
    postcode = $7, age_band = $8, skills = $9, resources = $10, languages = $11,
    availability = $12, hours_per_week = $13, target_groups = $14,
    updated_at = $15, position = $16, max_travel_km = $17, organisation_id = $18
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $16";

/// GDPR: the person withdrew consent for us to hold their data, so the personal columns are
/// blanked, the børneattest's assessment among them; the row stays for statistics and history.
/// The børneattest's case goes too: the state keeps none (a consent to a request is withdrawn
/// with all the others, and a request under way is never assessed). The first
/// withdrawal stands (as in `evolve`), so a repeat matches no row. Without a row there is
/// nothing to blank (nor in `evolve`), and the position guard keeps a stale redelivery of such
/// a withdrawal from blanking a registration that came after it in the log.
const WITHDRAW_CONSENT: &str = "\
UPDATE volunteer SET
    name = NULL, email = NULL, phone = NULL, birth_year = NULL, purposes = '{}',
    child_certificate_status = NULL, child_certificate_assessed_on = NULL,
    child_certificate_valid_until = NULL,
    child_certificate_consent_for = NULL, child_certificate_requested_by = NULL,
    child_certificate_requested_at = NULL,
    status = 'consent_withdrawn', consent_withdrawn_at = $3,
    updated_at = $4, position = $5
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position < $5";

/// GDPR art. 17: the person was forgotten (their data key is erased, so the log can no longer
/// show their personal data to anyone, a rebuild included). The personal columns are blanked,
/// the børneattest's assessment among them, and its case with them (as on withdrawal: the state keeps none); the row
/// stays with what is not personal (postcode, age band, skills, ...), so statistics keep their
/// counts. The first forgetting stands, and nothing else matches a forgotten row afterwards;
/// the position guard keeps a stale redelivery from blanking a later registration.
const FORGET: &str = "\
UPDATE volunteer SET
    name = NULL, email = NULL, phone = NULL, birth_year = NULL, purposes = '{}',
    child_certificate_status = NULL, child_certificate_assessed_on = NULL,
    child_certificate_valid_until = NULL,
    child_certificate_consent_for = NULL, child_certificate_requested_by = NULL,
    child_certificate_requested_at = NULL,
    status = 'forgotten', forgotten_at = $3,
    updated_at = $4, position = $5
WHERE tenant = $1 AND id = $2 AND status <> 'forgotten' AND position < $5";

/// A purpose's consent given: added to the set (kept sorted, each once), for an active
/// volunteer only (as in `evolve`). A command may give and withdraw several purposes in one
/// message, so the guard lets events of the row's own position through; each is idempotent.
const GIVE_PURPOSE: &str = "\
UPDATE volunteer SET
    purposes = ARRAY(SELECT DISTINCT p FROM unnest(purposes || ARRAY[$3::text]) AS p ORDER BY p),
    updated_at = $4, position = $5
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $5";

/// A purpose's consent withdrawn: removed from the set (see [`GIVE_PURPOSE`]).
const WITHDRAW_PURPOSE: &str = "\
UPDATE volunteer SET
    purposes = array_remove(purposes, $3::text),
    updated_at = $4, position = $5
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $5";

/// The volunteer consented that $3 request their børneattest; a consent for another body
/// replaces it. Like every step of the workflow, for an active volunteer only (as in
/// `evolve`); each is idempotent, so the guard lets a repeat at the row's own position through.
const GIVE_CERTIFICATE_CONSENT: &str = "\
UPDATE volunteer SET
    child_certificate_consent_for = $3,
    updated_at = $4, position = $5
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $5";

/// $3 requested the børneattest at $4: the consent is used up and the request awaits its
/// assessment. A first request makes the børneattest `requested`; a renewal (approved or not
/// approved) keeps the standing assessment until the new one is recorded.
const REQUEST_CERTIFICATE: &str = "\
UPDATE volunteer SET
    child_certificate_consent_for = NULL,
    child_certificate_requested_by = $3, child_certificate_requested_at = $4,
    child_certificate_status = CASE child_certificate_status
        WHEN 'not_required' THEN 'requested' ELSE child_certificate_status END,
    updated_at = $5, position = $6
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $6";

/// The børneattest assessed: the request is done and the assessment is the event's. When the
/// log could no longer open it ($3 NULL: the volunteer was forgotten, as a later event says),
/// the standing assessment is all we know, as in `evolve`.
const ASSESS_CERTIFICATE: &str = "\
UPDATE volunteer SET
    child_certificate_requested_by = NULL, child_certificate_requested_at = NULL,
    child_certificate_status = COALESCE($3, child_certificate_status),
    child_certificate_assessed_on =
        CASE WHEN $3::text IS NULL THEN child_certificate_assessed_on ELSE $4 END,
    child_certificate_valid_until =
        CASE WHEN $3::text IS NULL THEN child_certificate_valid_until ELSE $5 END,
    updated_at = $6, position = $7
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $7";

/// The assessment as a `.v1` profile update set it, where the case stands unchanged.
const SET_CERTIFICATE: &str = "\
UPDATE volunteer SET
    child_certificate_status = $3, child_certificate_assessed_on = $4,
    child_certificate_valid_until = $5,
    updated_at = $6, position = $7
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $7";

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
    ctx.check_entity(event.id().as_uuid())?;
    match event {
        // One way to write a registration: a run of one (see `REGISTER_MANY`).
        VolunteerEvent::Registered(e) => {
            let run = [(*ctx, e.clone(), ChildCertificate::not_required())];
            register_many(conn, &run).await?;
        }
        VolunteerEvent::RegisteredV1(e) => {
            let (e, certificate) = e.upcast();
            register_many(conn, &[(*ctx, e, certificate)]).await?;
        }
        VolunteerEvent::ProfileUpdated(e) => update_profile(conn, ctx, e).await?,
        VolunteerEvent::ProfileUpdatedV1(e) => {
            let (e, certificate) = e.upcast();
            update_profile(&mut *conn, ctx, &e).await?;
            let certificate = Some(&certificate);
            write_certificate(conn, SET_CERTIFICATE, ctx, e.id, certificate).await?;
        }
        VolunteerEvent::ConsentWithdrawn(e) => {
            blank_personal_data(conn, WITHDRAW_CONSENT, ctx, e.id, e.at).await?;
        }
        VolunteerEvent::Forgotten(e) => {
            blank_personal_data(conn, FORGET, ctx, e.id, e.at).await?;
        }
        VolunteerEvent::PurposeConsentGiven(e) => {
            set_purpose(conn, GIVE_PURPOSE, ctx, e).await?;
        }
        VolunteerEvent::PurposeConsentWithdrawn(e) => {
            set_purpose(conn, WITHDRAW_PURPOSE, ctx, e).await?;
        }
        VolunteerEvent::CertificateConsentGiven(e) => {
            sqlx::query(GIVE_CERTIFICATE_CONSENT)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(requester_text(&e.requester))
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
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
        VolunteerEvent::CertificateRequested(e) => request_certificate(conn, ctx, e).await?,
        VolunteerEvent::CertificateAssessed(e) => {
            let certificate = e.certificate.as_ref();
            write_certificate(conn, ASSESS_CERTIFICATE, ctx, e.id, certificate).await?;
        }
        VolunteerEvent::CertificateAssessedV1(e) => {
            let certificate = Some(&e.certificate);
            write_certificate(conn, ASSESS_CERTIFICATE, ctx, e.id, certificate).await?;
        }
    }
    Ok(())
}

/// Runs [`UPDATE_PROFILE`].
async fn update_profile(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    e: &VolunteerProfileUpdated,
) -> Result<(), sqlx::Error> {
    let personal = e.personal.as_ref();
    bind_profile(sqlx::query(UPDATE_PROFILE), ctx, e.id, personal, &e.profile)
        .execute(conn)
        .await?;
    Ok(())
}

/// How a row names a requester: `municipality`, or the organisation's id.
fn requester_text(requester: &CertificateRequester) -> String {
    match requester {
        PostedBy::Municipality => "municipality".to_owned(),
        PostedBy::Organisation(id) => id.to_string(),
    }
}

/// Runs [`REQUEST_CERTIFICATE`]: when the request was sent is the event's time, as the state
/// keeps it.
async fn request_certificate(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    e: &VolunteerCertificateStep,
) -> Result<(), sqlx::Error> {
    sqlx::query(REQUEST_CERTIFICATE)
        .bind(ctx.tenant)
        .bind(e.id.as_uuid())
        .bind(requester_text(&e.requester))
        .bind(e.at)
        .bind(ctx.time)
        .bind(ctx.position)
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs [`ASSESS_CERTIFICATE`] or [`SET_CERTIFICATE`] (`None`: an assessment the log could
/// not open).
async fn write_certificate(
    conn: &mut PgConnection,
    statement: &'static str,
    ctx: &EventContext<'_>,
    id: VolunteerId,
    certificate: Option<&ChildCertificate>,
) -> Result<(), sqlx::Error> {
    sqlx::query(statement)
        .bind(ctx.tenant)
        .bind(id.as_uuid())
        .bind(certificate.map(|c| c.status().as_str()))
        .bind(certificate.and_then(ChildCertificate::assessed_on))
        .bind(certificate.and_then(ChildCertificate::valid_until))
        .bind(ctx.time)
        .bind(ctx.position)
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs [`WITHDRAW_CONSENT`] or [`FORGET`]: both take key, the event's time, and envelope
/// time and position.
async fn blank_personal_data(
    conn: &mut PgConnection,
    statement: &'static str,
    ctx: &EventContext<'_>,
    id: VolunteerId,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(statement)
        .bind(ctx.tenant)
        .bind(id.as_uuid())
        .bind(at)
        .bind(ctx.time)
        .bind(ctx.position)
        .execute(conn)
        .await?;
    Ok(())
}

async fn set_purpose(
    conn: &mut PgConnection,
    statement: &'static str,
    ctx: &EventContext<'_>,
    e: &VolunteerPurposeConsent,
) -> Result<(), sqlx::Error> {
    sqlx::query(statement)
        .bind(ctx.tenant)
        .bind(e.id.as_uuid())
        .bind(e.purpose.as_str())
        .bind(ctx.time)
        .bind(ctx.position)
        .execute(conn)
        .await?;
    Ok(())
}

/// Binds `UPDATE_PROFILE`'s $1..$17: key (tenant from the envelope), personal data (all NULL
/// when `personal` is `None`: the person was forgotten by crypto-shredding and the log could
/// not decrypt it), profile, time and position.
fn bind_profile<'q>(
    query: Query<'q, Postgres, PgArguments>,
    ctx: &EventContext<'_>,
    id: VolunteerId,
    personal: Option<&VolunteerPersonalData>,
    profile: &VolunteerProfile,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(ctx.tenant)
        .bind(id.as_uuid())
        .bind(personal.map(|p| p.name.as_str()))
        .bind(personal.and_then(|p| p.contact.email()).map(|e| e.as_str()))
        .bind(personal.and_then(|p| p.contact.phone()).map(|p| p.as_str()))
        .bind(personal.and_then(|p| p.birth_year).map(i32::from))
        .bind(profile.postcode.as_str())
        .bind(profile.age_band.as_str())
        // Lists as text[] of their wire names, so the GIN indexes can answer "who has skill X".
        .bind(
            profile
                .skills
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            profile
                .resources
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            profile
                .languages
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>(),
        )
        // The domain's own serialisation: {"slots":[{"weekday":"mon","part":"morning"}],
        // "hours_per_week":5}, the same shape the API shows.
        .bind(Json(&profile.availability))
        .bind(i32::from(profile.availability.hours_per_week()))
        .bind(
            profile
                .target_groups
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(ctx.time)
        .bind(ctx.position)
        .bind(profile.max_travel_km.map(|km| i32::from(km.km())))
        .bind(profile.organisation.map(|o| o.as_uuid()))
}

/// Registrations, one or many in one statement: the rows travel as one JSON array and
/// `jsonb_to_recordset` turns them into a relation (JSON arrays become `text[]`), so the
/// effect of a run equals applying its events one by one; a run of registrations is what a
/// busy resource bank mostly appends, and one round trip per row is what bounded the
/// projector. A second registration keeps what we have (as `evolve` does): `DO NOTHING`. This
/// also keeps a registration re-applied after a withdrawal from restoring the personal data.
const REGISTER_MANY: &str = "\
INSERT INTO volunteer (tenant, id, name, email, phone, birth_year,
                       postcode, age_band, skills, resources, languages, availability,
                       hours_per_week, target_groups, child_certificate_status,
                       child_certificate_assessed_on, child_certificate_valid_until,
                       registered_at, updated_at, position,
                       consent_purpose, consent_given_at, consent_withdrawn_at, status,
                       max_travel_km, organisation_id)
SELECT r.tenant, r.id, r.name, r.email, r.phone, r.birth_year,
       r.postcode, r.age_band, r.skills, r.resources, r.languages, r.availability,
       r.hours_per_week, r.target_groups, r.child_certificate_status,
       r.child_certificate_assessed_on, r.child_certificate_valid_until,
       r.registered_at, r.registered_at, r.position,
       r.consent_purpose, r.consent_given_at, NULL, 'active', r.max_travel_km,
       r.organisation_id
FROM jsonb_to_recordset($1) AS r(
    tenant text, id uuid, name text, email text, phone text, birth_year integer,
    postcode text, age_band text, skills text[], resources text[], languages text[],
    availability jsonb, hours_per_week integer, target_groups text[],
    child_certificate_status text, child_certificate_assessed_on date,
    child_certificate_valid_until date, registered_at timestamptz, position bigint,
    consent_purpose text, consent_given_at timestamptz, max_travel_km integer,
    organisation_id uuid)
ORDER BY r.position
ON CONFLICT (tenant, id) DO NOTHING";

/// One row of [`REGISTER_MANY`]'s JSON, borrowed from the event: serialised straight to the
/// statement's parameter, without building a `serde_json::Value` per row first.
#[derive(serde::Serialize)]
struct RegistrationRow<'a> {
    tenant: &'a str,
    id: uuid::Uuid,
    name: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    birth_year: Option<u16>,
    postcode: &'a str,
    age_band: &'a str,
    skills: Vec<&'a str>,
    resources: Vec<&'a str>,
    languages: Vec<&'a str>,
    availability: &'a samskab_domain::Availability,
    hours_per_week: u8,
    target_groups: Vec<&'a str>,
    child_certificate_status: &'a str,
    child_certificate_assessed_on: Option<chrono::NaiveDate>,
    child_certificate_valid_until: Option<chrono::NaiveDate>,
    registered_at: chrono::DateTime<chrono::Utc>,
    position: i64,
    consent_purpose: &'a str,
    consent_given_at: chrono::DateTime<chrono::Utc>,
    max_travel_km: Option<u16>,
    organisation_id: Option<uuid::Uuid>,
}

/// PostgreSQL keeps microseconds. A bound timestamp is truncated to them, but a timestamp in
/// JSON text is *rounded*; truncating here first keeps both paths writing the same value.
fn to_micros(time: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::Timelike;
    let nanos = time.nanosecond();
    time.with_nanosecond(nanos - nanos % 1_000).unwrap_or(time)
}

/// Writes a run of `registered` events (in log order) with [`REGISTER_MANY`], each with the
/// assessment it starts with (`not_required`, but for a `.v1` registration's).
pub(crate) async fn register_many(
    conn: &mut PgConnection,
    run: &[(EventContext<'_>, VolunteerRegistered, ChildCertificate)],
) -> Result<(), ApplyError> {
    if run.is_empty() {
        return Ok(());
    }
    let rows: Vec<RegistrationRow<'_>> = run
        .iter()
        .map(|(ctx, e, certificate)| {
            let personal = e.personal.as_ref();
            let profile = &e.profile;
            RegistrationRow {
                tenant: ctx.tenant,
                id: e.id.as_uuid(),
                name: personal.map(|p| p.name.as_str()),
                email: personal.and_then(|p| p.contact.email()).map(|v| v.as_str()),
                phone: personal.and_then(|p| p.contact.phone()).map(|v| v.as_str()),
                birth_year: personal.and_then(|p| p.birth_year),
                postcode: profile.postcode.as_str(),
                age_band: profile.age_band.as_str(),
                skills: profile.skills.iter().map(|t| t.as_str()).collect(),
                resources: profile.resources.iter().map(|t| t.as_str()).collect(),
                languages: profile.languages.iter().map(|l| l.as_str()).collect(),
                availability: &profile.availability,
                hours_per_week: profile.availability.hours_per_week(),
                target_groups: profile.target_groups.iter().map(|g| g.as_str()).collect(),
                child_certificate_status: certificate.status().as_str(),
                child_certificate_assessed_on: certificate.assessed_on(),
                child_certificate_valid_until: certificate.valid_until(),
                registered_at: to_micros(ctx.time),
                position: ctx.position,
                consent_purpose: e.consent.purpose.as_str(),
                consent_given_at: to_micros(e.consent.given_at),
                max_travel_km: profile.max_travel_km.map(|km| km.km()),
                organisation_id: profile.organisation.map(|o| o.as_uuid()),
            }
        })
        .collect();
    sqlx::query(REGISTER_MANY)
        .bind(Json(rows))
        .execute(conn)
        .await?;
    Ok(())
}
