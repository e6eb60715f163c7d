//! An application's events: the `application` row (its content, applicant and assessments),
//! every submitted version (`application_version`) and every assessment (`assessment`),
//! mirroring `GrantApplication::evolve`.
//!
//! `evolve` has two states after the draft: a draft, and a submitted application. The row
//! tells them apart by `submitted_at` (set by the submission, never blanked), not by `status`,
//! which the pool's decisions move on (a decided or withdrawn application is still a submitted
//! one to the application's own events). So a draft update and a submission need
//! `submitted_at IS NULL`, an amendment, an assessment and a request for a second one
//! `submitted_at IS NOT NULL`: an event out of place matches no row, as it leaves the state as
//! it was.
//!
//! A forgotten applicant (`forgotten`) ends it: the personal columns are blanked and nothing
//! after changes the row (`forgotten_at IS NULL` in every statement), as `evolve` keeps a
//! forgotten state.
//!
//! Guards are `position <= $position`, as in the other workers. What is kept per event
//! (a version, an assessment) is written only when the row took the event (`RETURNING`), so
//! an event `evolve` ignores leaves no trace; keyed by version or position, a redelivery finds
//! its own row (`DO NOTHING`).

use samskab_domain::{
    ApplicantPersonalData, ApplicationContent, ApplicationDraft, ApplicationVersion,
    GrantApplicationEvent, GrantTitle,
};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;
use sqlx::types::Json;

/// A second draft keeps the first (`evolve` keeps the state it has). $1..$16 are
/// [`bind_draft`]'s.
const DRAFT: &str = "\
INSERT INTO application (tenant, id, pool_id, round_id, applicant_kind, organisation_id,
                         group_name, applicant_name, applicant_email, applicant_phone, title,
                         amount_requested, co_funding, period_from, period_to, content, status,
                         version, submitted_at, last_submitted_at, assessors, assessment_total,
                         recommended, second_assessment_requested, outcome, granted,
                         decision_year, decided_version, justification, decided_by, decided_at,
                         approved_by, approved_at, reopened_reason, reopened_at, withdrawn_at,
                         drafted_at, updated_at, position)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'draft', 0, NULL,
        NULL, '{}', NULL, NULL, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, $17, $17, $18)
ON CONFLICT (tenant, id) DO NOTHING";

/// An update carries the whole draft, which `evolve` takes as it is; only a draft is updated
/// (a submitted application is amended instead).
const UPDATE_DRAFT: &str = "\
UPDATE application SET
    pool_id = $3,
    round_id = $4,
    applicant_kind = $5,
    organisation_id = $6,
    group_name = $7,
    applicant_name = $8,
    applicant_email = $9,
    applicant_phone = $10,
    title = $11,
    amount_requested = $12,
    co_funding = $13,
    period_from = $14,
    period_to = $15,
    content = $16,
    updated_at = $17,
    position = $18
WHERE tenant = $1 AND id = $2 AND submitted_at IS NULL AND forgotten_at IS NULL
    AND position <= $18";

/// The first submission: the draft becomes version $13 (1) with the content, group and
/// applicant submitted ($1..$16: [`bind_version`]'s), in the round it was submitted in ($17),
/// or the draft's when it names none (`version.round.or(draft.round)`). The status moves from draft to
/// submitted; should the pool have spoken first (it cannot have: a draft is never decided
/// nor withdrawn), its word stands.
const SUBMIT: &str = "\
WITH submitted AS (
    UPDATE application SET
        status = CASE WHEN status = 'draft' THEN 'submitted' ELSE status END,
        round_id = coalesce($17, round_id),
        version = $13,
        submitted_at = $14,
        last_submitted_at = $14,
        group_name = $3,
        applicant_name = $4,
        applicant_email = $5,
        applicant_phone = $6,
        title = $7,
        amount_requested = $8,
        co_funding = $9,
        period_from = $10,
        period_to = $11,
        content = $12,
        updated_at = $15,
        position = $16
    WHERE tenant = $1 AND id = $2 AND submitted_at IS NULL AND forgotten_at IS NULL
      AND position <= $16
    RETURNING tenant
)
INSERT INTO application_version (tenant, application_id, version, submitted_at, group_name,
                                 content, position)
SELECT $1, $2, $13, $14, $3, $12, $16 FROM submitted
ON CONFLICT (tenant, application_id, version) DO NOTHING";

/// A new version of a submitted application: its content, group and applicant as amended, and
/// the version's number and time; the status is the pool's business and stays, and so does
/// the round (`evolve` takes an amendment's content, group and applicant only).
const AMEND: &str = "\
WITH amended AS (
    UPDATE application SET
        version = $13,
        last_submitted_at = $14,
        group_name = $3,
        applicant_name = $4,
        applicant_email = $5,
        applicant_phone = $6,
        title = $7,
        amount_requested = $8,
        co_funding = $9,
        period_from = $10,
        period_to = $11,
        content = $12,
        updated_at = $15,
        position = $16
    WHERE tenant = $1 AND id = $2 AND submitted_at IS NOT NULL AND forgotten_at IS NULL
      AND position <= $16
    RETURNING tenant
)
INSERT INTO application_version (tenant, application_id, version, submitted_at, group_name,
                                 content, position)
SELECT $1, $2, $13, $14, $3, $12, $16 FROM amended
ON CONFLICT (tenant, application_id, version) DO NOTHING";

/// An assessment of a submitted application: kept, keyed by its position; the assessor joins
/// the list once, in the order of their first assessment (`SubmittedApplication::assessors`);
/// the total and the recommendation are the latest assessment's.
const ASSESS: &str = "\
WITH assessed AS (
    UPDATE application SET
        assessors = CASE WHEN $4 = ANY(assessors) THEN assessors
                         ELSE array_append(assessors, $4) END,
        assessment_total = $7,
        recommended = $8,
        updated_at = $11,
        position = $3
    WHERE tenant = $1 AND id = $2 AND submitted_at IS NOT NULL AND forgotten_at IS NULL
      AND position <= $3
    RETURNING tenant
)
INSERT INTO assessment (tenant, application_id, position, assessor, version, scores, total,
                        recommended, note, assessed_at)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM assessed
ON CONFLICT (tenant, application_id, position) DO NOTHING";

/// Only a submitted application is assessed a second time.
const REQUEST_SECOND_ASSESSMENT: &str = "\
UPDATE application SET
    second_assessment_requested = true,
    updated_at = $3,
    position = $4
WHERE tenant = $1 AND id = $2 AND submitted_at IS NOT NULL AND forgotten_at IS NULL
    AND position <= $4";

/// The applicant forgotten: their name, e-mail and phone blanked, once (`evolve` ignores
/// whatever comes after, as every statement here does with `forgotten_at IS NULL`).
const FORGET: &str = "\
UPDATE application SET
    applicant_name = NULL,
    applicant_email = NULL,
    applicant_phone = NULL,
    forgotten_at = $3,
    updated_at = $4,
    position = $5
WHERE tenant = $1 AND id = $2 AND forgotten_at IS NULL AND position <= $5";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &GrantApplicationEvent,
) -> Result<(), ApplyError> {
    ctx.check_entity(application_id(event))?;
    match event {
        GrantApplicationEvent::Drafted(draft) => {
            bind_draft(sqlx::query(DRAFT), ctx, draft)?
                .execute(conn)
                .await?;
        }
        GrantApplicationEvent::DraftUpdated(draft) => {
            bind_draft(sqlx::query(UPDATE_DRAFT), ctx, draft)?
                .execute(conn)
                .await?;
        }
        GrantApplicationEvent::Submitted(version) => {
            bind_version(sqlx::query(SUBMIT), ctx, version)?
                .bind(version.round.map(|r| r.as_uuid()))
                .execute(conn)
                .await?;
        }
        GrantApplicationEvent::Amended(version) => {
            bind_version(sqlx::query(AMEND), ctx, version)?
                .execute(conn)
                .await?;
        }
        GrantApplicationEvent::Assessed(e) => {
            sqlx::query(ASSESS)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(ctx.position)
                .bind(e.assessor.as_str())
                .bind(crate::version(e.version)?)
                // The domain's own serialisation: [{"criterion", "score", "note"}].
                .bind(Json(&e.scores))
                .bind(i16::from(e.total))
                .bind(e.recommended.ore())
                .bind(e.note.as_ref().map(|n| n.as_str()))
                .bind(e.at)
                .bind(ctx.time)
                .execute(conn)
                .await?;
        }
        GrantApplicationEvent::SecondAssessmentRequested(e) => {
            sqlx::query(REQUEST_SECOND_ASSESSMENT)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        GrantApplicationEvent::Forgotten(e) => {
            sqlx::query(FORGET)
                .bind(ctx.tenant)
                .bind(e.id.as_uuid())
                .bind(e.at)
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// The application the payload names, to check against the subject.
fn application_id(event: &GrantApplicationEvent) -> uuid::Uuid {
    use GrantApplicationEvent as E;
    match event {
        E::Drafted(draft) | E::DraftUpdated(draft) => draft.id,
        E::Submitted(version) | E::Amended(version) => version.id,
        E::Assessed(e) => e.id,
        E::SecondAssessmentRequested(e) => e.id,
        E::Forgotten(e) => e.id,
    }
    .as_uuid()
}

/// The applicant's name, e-mail and phone (personal data, the row's own columns): none for an
/// association, whose contact is the organisation's.
fn personal(
    personal: &Option<ApplicantPersonalData>,
) -> (Option<&str>, Option<&str>, Option<&str>) {
    let Some(personal) = personal else {
        return (None, None, None);
    };
    let contact = personal.contact.as_ref();
    (
        Some(personal.name.as_str()),
        contact.and_then(|c| c.email()).map(|e| e.as_str()),
        contact.and_then(|c| c.phone()).map(|p| p.as_str()),
    )
}

/// The content as the domain serialises it (no personal data: that is `personal`'s).
fn content_json(content: &ApplicationContent) -> Result<serde_json::Value, ApplyError> {
    serde_json::to_value(content)
        .map_err(|error| ApplyError::Malformed(format!("application content: {error}")))
}

/// Binds [`DRAFT`]'s and [`UPDATE_DRAFT`]'s $1..$18: key (tenant from the envelope), the whole
/// draft, and the envelope's time and position.
fn bind_draft<'q>(
    query: Query<'q, Postgres, PgArguments>,
    ctx: &EventContext<'_>,
    draft: &ApplicationDraft,
) -> Result<Query<'q, Postgres, PgArguments>, ApplyError> {
    let (name, email, phone) = personal(&draft.personal);
    let content = &draft.content;
    Ok(query
        .bind(ctx.tenant)
        .bind(draft.id.as_uuid())
        .bind(draft.pool.as_uuid())
        .bind(draft.round.map(|r| r.as_uuid()))
        .bind(draft.applicant_kind.as_str())
        .bind(draft.organisation.map(|o| o.as_uuid()))
        .bind(group_name(&draft.group_name))
        .bind(name)
        .bind(email)
        .bind(phone)
        .bind(content.title.as_str())
        .bind(content.amount_requested.ore())
        .bind(content.co_funding.ore())
        .bind(content.period_from)
        .bind(content.period_to)
        .bind(content_json(content)?)
        .bind(ctx.time)
        .bind(ctx.position))
}

/// Binds [`SUBMIT`]'s and [`AMEND`]'s $1..$16: key (tenant from the envelope), the version's
/// group and applicant ($3..$6), its content's columns and the content ($7..$12), the
/// version's number and time ($13, $14), and the envelope's time and position ($15, $16).
fn bind_version<'q>(
    query: Query<'q, Postgres, PgArguments>,
    ctx: &EventContext<'_>,
    version: &ApplicationVersion,
) -> Result<Query<'q, Postgres, PgArguments>, ApplyError> {
    let (name, email, phone) = personal(&version.personal);
    let content = &version.content;
    Ok(query
        .bind(ctx.tenant)
        .bind(version.id.as_uuid())
        .bind(group_name(&version.group_name))
        .bind(name)
        .bind(email)
        .bind(phone)
        .bind(content.title.as_str())
        .bind(content.amount_requested.ore())
        .bind(content.co_funding.ore())
        .bind(content.period_from)
        .bind(content.period_to)
        .bind(content_json(content)?)
        .bind(crate::version(version.version)?)
        .bind(version.at)
        .bind(ctx.time)
        .bind(ctx.position))
}

fn group_name(group_name: &Option<GrantTitle>) -> Option<&str> {
    group_name.as_ref().map(|g| g.as_str())
}
