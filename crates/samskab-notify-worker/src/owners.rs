//! Whom an event concerns, kept from the events before it: the organisation that posted a
//! need, the sides of each match (that organisation, and the volunteer), and the association an
//! application is from. Each is set once, as who posted a need or applied never changes.

use samskab_domain::{NeedEvent, PostedBy};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::rules::DecisionText;

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

/// The sides of a match a message may be for: the organisation that posted its need (none for
/// a match on a person or on the municipality's need) and the volunteer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sides {
    pub organisation: Option<Uuid>,
    pub volunteer: Option<Uuid>,
}

/// Keeps the sides of match `match_id` from its proposal, for its later events, which name only
/// the match: volunteer `volunteer`, and the organisation of need `need`, if an organisation
/// posted it. A second proposal keeps the first.
pub(crate) async fn match_proposed(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    match_id: Uuid,
    volunteer: Uuid,
    need: Option<Uuid>,
) -> Result<Sides, ApplyError> {
    let (organisation, volunteer): (Option<Uuid>, Option<Uuid>) = sqlx::query_as(
        "INSERT INTO match_owner (tenant, match_id, organisation_id, volunteer_id)
         VALUES ($1, $2,
             (SELECT organisation_id FROM need_owner WHERE tenant = $1 AND need_id = $3), $4)
         ON CONFLICT (tenant, match_id) DO UPDATE SET organisation_id = match_owner.organisation_id
         RETURNING organisation_id, volunteer_id",
    )
    .bind(ctx.tenant)
    .bind(match_id)
    .bind(need)
    .bind(volunteer)
    .fetch_one(conn)
    .await?;
    Ok(Sides {
        organisation,
        volunteer,
    })
}

/// The sides of match `match_id`, as its proposal named them (none for an unknown match).
pub(crate) async fn of_match(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    match_id: Uuid,
) -> Result<Sides, ApplyError> {
    let sides: Option<(Option<Uuid>, Option<Uuid>)> = sqlx::query_as(
        "SELECT organisation_id, volunteer_id FROM match_owner
         WHERE tenant = $1 AND match_id = $2",
    )
    .bind(ctx.tenant)
    .bind(match_id)
    .fetch_optional(conn)
    .await?;
    let (organisation, volunteer) = sides.unwrap_or((None, None));
    Ok(Sides {
        organisation,
        volunteer,
    })
}

/// Application `application` is from association `organisation`; `proposed`, the words of a
/// decision proposed on it (`None`: a final decision, nothing awaits approval).
pub(crate) async fn applicant(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    application: Uuid,
    organisation: Uuid,
    proposed: Option<&DecisionText>,
) -> Result<(), ApplyError> {
    sqlx::query(
        "INSERT INTO grant_applicant (tenant, application_id, organisation_id, proposed_body,
             proposed_body_en)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant, application_id) DO UPDATE
         SET proposed_body = $4, proposed_body_en = $5",
    )
    .bind(ctx.tenant)
    .bind(application)
    .bind(organisation)
    .bind(proposed.map(|p| &p.danish))
    .bind(proposed.map(|p| &p.english))
    .execute(conn)
    .await?;
    Ok(())
}

/// The association application `application` is from, if it is one's, and the words of the
/// decision proposed on it, if one awaits approval (one proposed before its English words
/// were kept has its Danish ones in both).
pub(crate) async fn of_application(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    application: Uuid,
) -> Result<Option<(Uuid, Option<DecisionText>)>, ApplyError> {
    let row: Option<(Uuid, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT organisation_id, proposed_body, proposed_body_en FROM grant_applicant
         WHERE tenant = $1 AND application_id = $2",
    )
    .bind(ctx.tenant)
    .bind(application)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(organisation, danish, english)| {
        let proposed = danish.map(|danish| DecisionText {
            english: english.unwrap_or_else(|| danish.clone()),
            danish,
        });
        (organisation, proposed)
    }))
}
