//! `reporting.match_version`: a match's stage, a version per event that moves it (proposed,
//! accepted, declined, started, paused, resumed, ended), mirroring `Match::evolve`; and
//! `reporting.match_hours`, every figure of minutes logged for a month while the match ran.
//!
//! Each move is [`MOVE`]: from the standing version, if its stage is one the event can follow
//! (as in `evolve`: a start follows an agreement, an ending an agreement, a start or a pause,
//! and so on), the next version begins with the new stage and everything else copied. An
//! acceptance is a move too: it records the side, and when both sides have accepted the match
//! is agreed.

use samskab_domain::calendar::danish_date;
use samskab_domain::{Counterpart, MatchEvent, MatchProposed, MatchSide, ProposedBy};
use samskab_projection::{ApplyError, EventContext};
use sqlx::PgConnection;

/// The first version, unless the match has one (a second proposal keeps the first).
const PROPOSE: &str = "\
INSERT INTO match_version (tenant, match_id, from_position, from_index, started_by, valid_from,
    stage, volunteer_id, need_id, person_id, proposed_at, volunteer_accepted,
    counterpart_accepted)
SELECT $1, $2, $3, $4, 'proposed', $5, 'proposed', $6, $7, $8, $5, $9, NOT $9
WHERE NOT EXISTS (SELECT 1 FROM match_version WHERE tenant = $1 AND match_id = $2)";

/// From a standing version in one of the stages $7 to stage $8 (`$8` NULL: an acceptance, whose
/// stage is `agreed` when the other side had accepted and `proposed` otherwise), by event $6,
/// at $5. $9: the side that accepted (`volunteer`, `counterpart`); $10: the start's first day;
/// $11: the day (in Denmark) of the end.
const MOVE: &str = "\
WITH closed AS (
    UPDATE match_version SET valid_to = $5
    WHERE tenant = $1 AND match_id = $2 AND valid_to IS NULL AND stage = ANY($7)
      AND (from_position, from_index) < ($3, $4)
      -- An acceptance by a side that has accepted changes nothing.
      AND NOT (coalesce($9::text, '') = 'volunteer' AND volunteer_accepted)
      AND NOT (coalesce($9::text, '') = 'counterpart' AND counterpart_accepted)
    RETURNING *
), moved AS (
    SELECT closed.*,
        volunteer_accepted OR coalesce($9::text, '') = 'volunteer' AS volunteer_now,
        counterpart_accepted OR coalesce($9::text, '') = 'counterpart' AS counterpart_now
    FROM closed
)
INSERT INTO match_version (tenant, match_id, from_position, from_index, started_by, valid_from,
    stage, volunteer_id, need_id, person_id, proposed_at, volunteer_accepted,
    counterpart_accepted, agreed_at, started_on, ended_on)
SELECT tenant, match_id, $3, $4, $6, $5,
    CASE WHEN $8::text IS NOT NULL THEN $8::text
         WHEN volunteer_now AND counterpart_now THEN 'agreed'
         ELSE 'proposed' END,
    volunteer_id, need_id, person_id, proposed_at, volunteer_now, counterpart_now,
    CASE WHEN agreed_at IS NULL AND volunteer_now AND counterpart_now THEN $5
         ELSE agreed_at END,
    COALESCE($10, started_on), $11
FROM moved";

/// A month's minutes, if the match ran (active or paused, as `evolve` takes them) when they
/// were logged: by the version in force just before this event in the log, so a redelivery
/// long after, when the match may run again or no more, decides as the first delivery did.
const LOG_HOURS: &str = "\
INSERT INTO match_hours (tenant, match_id, month, from_position, from_index, logged_at, minutes)
SELECT $1, $2, $3, $4, $5, $6, $7
WHERE (SELECT stage FROM match_version
       WHERE tenant = $1 AND match_id = $2 AND (from_position, from_index) < ($4, $5)
       ORDER BY from_position DESC, from_index DESC LIMIT 1) IN ('active', 'paused')
ON CONFLICT DO NOTHING";

pub(crate) async fn apply(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    index: i32,
    event: &MatchEvent,
) -> Result<(), ApplyError> {
    let id = event.id().as_uuid();
    ctx.check_entity(id)?;
    let step = Step { ctx, index, id };
    let to = |started_by, from, stage| Move {
        started_by,
        from,
        stage: Some(stage),
        ..Move::default()
    };
    match event {
        MatchEvent::Proposed(proposal) => propose(conn, &step, proposal).await?,
        MatchEvent::Accepted(e) => {
            let side = match e.side {
                MatchSide::Volunteer => "volunteer",
                MatchSide::Counterpart => "counterpart",
            };
            let accepted = Move {
                started_by: "accepted",
                from: &["proposed"],
                accepted_by: Some(side),
                ..Move::default()
            };
            step.make(conn, &accepted).await?;
        }
        MatchEvent::Declined(_) => {
            step.make(conn, &to("declined", &["proposed"], "declined"))
                .await?;
        }
        MatchEvent::Started(e) => {
            let started = Move {
                started_on: Some(e.on),
                ..to("started", &["agreed"], "active")
            };
            step.make(conn, &started).await?;
        }
        MatchEvent::Paused(_) => {
            step.make(conn, &to("paused", &["active"], "paused"))
                .await?;
        }
        MatchEvent::Resumed(_) => {
            step.make(conn, &to("resumed", &["paused"], "active"))
                .await?;
        }
        MatchEvent::Ended(e) => {
            let ended = Move {
                ended_on: Some(danish_date(e.at)),
                ..to("ended", &["agreed", "active", "paused"], "ended")
            };
            step.make(conn, &ended).await?;
        }
        MatchEvent::HoursLogged(e) => {
            sqlx::query(LOG_HOURS)
                .bind(ctx.tenant)
                .bind(id)
                .bind(e.period.to_string())
                .bind(ctx.position)
                .bind(index)
                .bind(ctx.time)
                .bind(i32::try_from(e.minutes.get()).unwrap_or(i32::MAX))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// The event a move is made by.
struct Step<'a> {
    ctx: &'a EventContext<'a>,
    index: i32,
    id: uuid::Uuid,
}

impl Step<'_> {
    /// Runs [`MOVE`].
    async fn make(&self, conn: &mut PgConnection, step: &Move<'_>) -> Result<(), sqlx::Error> {
        sqlx::query(MOVE)
            .bind(self.ctx.tenant)
            .bind(self.id)
            .bind(self.ctx.position)
            .bind(self.index)
            .bind(self.ctx.time)
            .bind(step.started_by)
            .bind(step.from)
            .bind(step.stage)
            .bind(step.accepted_by)
            .bind(step.started_on)
            .bind(step.ended_on)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// One move of [`MOVE`]: the event that makes it, the stages it can follow, the stage it leads
/// to (`None`: an acceptance's), and what it records.
#[derive(Default)]
struct Move<'a> {
    started_by: &'a str,
    from: &'a [&'a str],
    stage: Option<&'a str>,
    accepted_by: Option<&'a str>,
    started_on: Option<chrono::NaiveDate>,
    ended_on: Option<chrono::NaiveDate>,
}

async fn propose(
    conn: &mut PgConnection,
    step: &Step<'_>,
    proposal: &MatchProposed,
) -> Result<(), sqlx::Error> {
    let details = &proposal.details;
    let (need, person) = match details.counterpart {
        Counterpart::Need(id) => (Some(id.as_uuid()), None),
        Counterpart::Person(id) => (None, Some(id.as_uuid())),
    };
    sqlx::query(PROPOSE)
        .bind(step.ctx.tenant)
        .bind(step.id)
        .bind(step.ctx.position)
        .bind(step.index)
        .bind(step.ctx.time)
        .bind(details.volunteer_id.as_uuid())
        .bind(need)
        .bind(person)
        .bind(details.proposed_by == ProposedBy::Volunteer)
        .execute(conn)
        .await?;
    Ok(())
}
