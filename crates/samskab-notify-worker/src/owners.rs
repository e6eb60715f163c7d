//! Whom an event concerns, kept from the events before it: the organisation that posted a
//! need (and so every match on it), and the association an application is from. Each is set
//! once, as who posted a need or applied never changes.

use samskab_domain::{NeedEvent, PostedBy};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;
use uuid::Uuid;

pub(crate) async fn need(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &NeedEvent,
) -> Result<(), ApplyError> {
    let details = match event {
        NeedEvent::Published(details) | NeedEvent::Updated(details) => details,
        NeedEvent::Closed(_) | NeedEvent::Reopened(_) | NeedEvent::ReopenedV1(_) => return Ok(()),
    };
    if let PostedBy::Organisation(organisation) = details.posted_by {
        sqlx::query(
            "INSERT INTO need_owner (tenant, need_id, organisation_id) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(ctx.tenant)
        .bind(details.id.as_uuid())
        .bind(organisation.as_uuid())
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// A match on need `need` concerns the need's organisation, if an organisation posted it: kept
/// for the match's later events, which name only the match. The organisation, if any.
pub(crate) async fn match_on_need(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    match_id: Uuid,
    need: Uuid,
) -> Result<Option<Uuid>, ApplyError> {
    let owner: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO match_owner (tenant, match_id, organisation_id)
         SELECT tenant, $2, organisation_id FROM need_owner WHERE tenant = $1 AND need_id = $3
         ON CONFLICT (tenant, match_id) DO UPDATE SET organisation_id = match_owner.organisation_id
         RETURNING organisation_id",
    )
    .bind(ctx.tenant)
    .bind(match_id)
    .bind(need)
    .fetch_optional(conn)
    .await?;
    Ok(owner)
}

/// The organisation match `match_id` concerns, if any.
pub(crate) async fn of_match(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    match_id: Uuid,
) -> Result<Option<Uuid>, ApplyError> {
    Ok(sqlx::query_scalar(
        "SELECT organisation_id FROM match_owner WHERE tenant = $1 AND match_id = $2",
    )
    .bind(ctx.tenant)
    .bind(match_id)
    .fetch_optional(conn)
    .await?)
}

/// Application `application` is from association `organisation`; `proposed_body`, the text
/// of a decision proposed on it (`None`: a final decision, nothing awaits approval).
pub(crate) async fn applicant(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    application: Uuid,
    organisation: Uuid,
    proposed_body: Option<&str>,
) -> Result<(), ApplyError> {
    sqlx::query(
        "INSERT INTO grant_applicant (tenant, application_id, organisation_id, proposed_body)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant, application_id) DO UPDATE SET proposed_body = $4",
    )
    .bind(ctx.tenant)
    .bind(application)
    .bind(organisation)
    .bind(proposed_body)
    .execute(conn)
    .await?;
    Ok(())
}

/// The association application `application` is from, if it is one's, and the text of the
/// decision proposed on it, if one awaits approval.
pub(crate) async fn of_application(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    application: Uuid,
) -> Result<Option<(Uuid, Option<String>)>, ApplyError> {
    Ok(sqlx::query_as(
        "SELECT organisation_id, proposed_body FROM grant_applicant
         WHERE tenant = $1 AND application_id = $2",
    )
    .bind(ctx.tenant)
    .bind(application)
    .fetch_optional(conn)
    .await?)
}
