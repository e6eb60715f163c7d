//! `matching.match`: one row per match, mirroring `Match::evolve`, declined and ended ones
//! included (retention and the hours reports count them). The row is a function of the folded
//! state: what a state no longer holds is blanked when it is left (a resumed match has no
//! pause; an ended one no pause either), and what a final state keeps stays (who declined, when
//! and why; the start and the minutes of an ended match).
//!
//! Only a proposal creates the row, and a second one keeps the first (`DO NOTHING`). Every other
//! event is an `UPDATE` whose status condition is the state `evolve` moves on from, so an event
//! out of place (an acceptance after the agreement, a start before it, hours before the start or
//! after the end, anything after a decline or an end, anything without a proposal) matches no
//! row and changes nothing, as it leaves the state as it was.
//!
//! Guards are `position <= $position`, as for needs: a command's events share its position.
//! A repeat of an event at the row's own position is kept harmless by the status conditions
//! and, for logged hours, by writing the same figure again.

use std::collections::BTreeMap;

use samskab_domain::{Counterpart, MatchEvent, ProposedBy};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;
use sqlx::types::Json;

/// A second proposal keeps what we have (`DO NOTHING`), as `evolve` does. The proposer's side
/// has accepted by proposing ($8, $9); no month has minutes yet.
const PROPOSE: &str = "\
INSERT INTO match (tenant, id, volunteer_id, need_id, person_id, proposed_by, note, proposed_at,
                   status, volunteer_accepted, counterpart_accepted, declined_by, declined_at,
                   decline_reason, started_on, paused_since, pause_reason, ended_at, end_reason,
                   minutes, updated_at, position, volunteer_municipality)
VALUES ($1, $2, $3, $4, $12, $5, $6, $7, 'proposed', $8, $9, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, '{}', $10, $11, $13)
ON CONFLICT (tenant, id) DO NOTHING";

/// A side accepts a proposal ($3: 'volunteer' or 'counterpart'); with both sides accepted the
/// match is agreed. (`SET` sees the row as it was, hence the side spelled out in the status.)
/// Only a proposal is accepted, and only by a side that has not accepted yet: a repeat leaves
/// the state as it was, so it leaves the row too.
const ACCEPT: &str = "\
UPDATE match SET
    volunteer_accepted = volunteer_accepted OR $3::text = 'volunteer',
    counterpart_accepted = counterpart_accepted OR $3::text = 'counterpart',
    status = CASE
        WHEN (volunteer_accepted OR $3::text = 'volunteer')
             AND (counterpart_accepted OR $3::text = 'counterpart') THEN 'agreed'
        ELSE 'proposed'
    END,
    updated_at = $4,
    position = $5
WHERE tenant = $1 AND id = $2 AND status = 'proposed'
  AND NOT CASE WHEN $3::text = 'volunteer' THEN volunteer_accepted ELSE counterpart_accepted END
  AND position <= $5";

/// Only a proposal is declined; the decline is final, and keeps who, when and why. The
/// acceptances stay as they were: the proposer's side only (the other side's acceptance would
/// have agreed the match), which is what the row of a declined match says.
const DECLINE: &str = "\
UPDATE match SET
    status = 'declined',
    declined_by = $3,
    declined_at = $4,
    decline_reason = $5,
    updated_at = $6,
    position = $7
WHERE tenant = $1 AND id = $2 AND status = 'proposed' AND position <= $7";

/// Only an agreed match starts, on its first day ($3). No minutes yet: an agreed row has none
/// (`{}` since the proposal; only an active or paused match logs hours).
const START: &str = "\
UPDATE match SET
    status = 'active',
    started_on = $3,
    updated_at = $4,
    position = $5
WHERE tenant = $1 AND id = $2 AND status = 'agreed' AND position <= $5";

/// The month's figure ($3, `{"YYYY-MM": minutes}` as the domain serialises it) replaces an
/// earlier one (`||` keeps the right-hand value of a key both sides have): the latest figure
/// wins, as in `evolve`. Hours are logged while a match is active or paused.
const LOG_HOURS: &str = "\
UPDATE match SET
    minutes = minutes || $3::jsonb,
    updated_at = $4,
    position = $5
WHERE tenant = $1 AND id = $2 AND status IN ('active', 'paused') AND position <= $5";

/// Only an active match pauses: since when ($3) and why ($4).
const PAUSE: &str = "\
UPDATE match SET
    status = 'paused',
    paused_since = $3,
    pause_reason = $4,
    updated_at = $5,
    position = $6
WHERE tenant = $1 AND id = $2 AND status = 'active' AND position <= $6";

/// Only a paused match resumes, and an active match has no pause.
const RESUME: &str = "\
UPDATE match SET
    status = 'active',
    paused_since = NULL,
    pause_reason = NULL,
    updated_at = $3,
    position = $4
WHERE tenant = $1 AND id = $2 AND status = 'paused' AND position <= $4";

/// An agreed, active or paused match ends: when ($3) and why ($4). It keeps its start and its
/// minutes (an agreed one has neither: `started_on` NULL and `{}`), and has no pause any more.
/// The first ending stands.
const END: &str = "\
UPDATE match SET
    status = 'ended',
    ended_at = $3,
    end_reason = $4,
    paused_since = NULL,
    pause_reason = NULL,
    updated_at = $5,
    position = $6
WHERE tenant = $1 AND id = $2 AND status IN ('agreed', 'active', 'paused') AND position <= $6";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &MatchEvent,
) -> Result<(), ApplyError> {
    let id = event.id().as_uuid();
    ctx.check_entity(id)?;
    match event {
        MatchEvent::Proposed(e) => {
            let details = &e.details;
            let (need_id, person_id) = match details.counterpart {
                Counterpart::Need(need) => (Some(need.as_uuid()), None),
                Counterpart::Person(person) => (None, Some(person.as_uuid())),
            };
            sqlx::query(PROPOSE)
                .bind(ctx.tenant)
                .bind(id)
                .bind(details.volunteer_id.as_uuid())
                .bind(need_id)
                .bind(details.proposed_by.as_str())
                .bind(details.note.as_ref().map(|n| n.as_str()))
                .bind(e.at)
                .bind(details.proposed_by == ProposedBy::Volunteer)
                .bind(details.proposed_by == ProposedBy::Coordinator)
                .bind(ctx.time)
                .bind(ctx.position)
                .bind(person_id)
                .bind(details.volunteer_municipality.as_ref().map(|t| t.as_str()))
                .execute(conn)
                .await?;
        }
        MatchEvent::Accepted(e) => {
            sqlx::query(ACCEPT)
                .bind(ctx.tenant)
                .bind(id)
                .bind(e.side.as_str())
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        MatchEvent::Declined(e) => {
            sqlx::query(DECLINE)
                .bind(ctx.tenant)
                .bind(id)
                .bind(e.side.as_str())
                .bind(e.at)
                .bind(e.reason.as_ref().map(|r| r.as_str()))
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        MatchEvent::Started(e) => {
            sqlx::query(START)
                .bind(ctx.tenant)
                .bind(id)
                .bind(e.on)
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        MatchEvent::HoursLogged(e) => {
            // The state's own serialisation of its minutes (a month is `YYYY-MM`), one month.
            sqlx::query(LOG_HOURS)
                .bind(ctx.tenant)
                .bind(id)
                .bind(Json(BTreeMap::from([(e.period, e.minutes)])))
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        MatchEvent::Paused(e) => {
            sqlx::query(PAUSE)
                .bind(ctx.tenant)
                .bind(id)
                .bind(e.at)
                .bind(e.reason.as_ref().map(|r| r.as_str()))
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        MatchEvent::Resumed(_) => {
            sqlx::query(RESUME)
                .bind(ctx.tenant)
                .bind(id)
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
        MatchEvent::Ended(e) => {
            sqlx::query(END)
                .bind(ctx.tenant)
                .bind(id)
                .bind(e.at)
                .bind(e.reason.as_str())
                .bind(ctx.time)
                .bind(ctx.position)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}
