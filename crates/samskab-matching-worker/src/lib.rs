//! The matching read model: what matching searches and ranks, keyed by `(tenant, id)`, in the
//! PostgreSQL schema `matching` (DDL in `migrations/0004_matching.sql`, `0005` and `0006`): the
//! needs, one row each in `matching.need`, open or closed; what matching knows of each volunteer
//! in `matching.volunteer` (the profile it ranks on, the børneattest, consent to matching; no
//! personal data); and the matches, one row each in `matching.match` (the volunteer and the need
//! by id, the match's status and who has accepted, its start, pause, decline or end, and the
//! minutes logged per month).
//!
//! [`MatchingProjection`] is a [`Projection`]: the runtime in `samskab-projection` pulls events
//! from the log, opens one transaction per batch (with `search_path` set to the schema being
//! written, which is why every statement here uses unqualified table names: a rebuild writes into
//! a fresh schema), calls [`Projection::apply`] per event and advances the checkpoint in the same
//! transaction.
//!
//! The rules are the directory worker's:
//! - **One statement per event, no read before write.**
//! - **Idempotent.** Applying an event twice leaves the row as applying it once.
//! - **Mirror the deciders' `evolve`** ([`samskab_domain::Need`], [`samskab_domain::Volunteer`],
//!   [`samskab_domain::Match`]), so that the API's queries and its decisions never tell a
//!   different story (a second publication keeps the first; the first closing stands; an update
//!   of a closed need keeps it closed; nothing brings back a withdrawn or forgotten volunteer; a
//!   second proposal keeps the first; nothing changes a declined or ended match).
//! - **Tenant from the envelope**, never from the payload.
//!
//! The `samskab` binary runs it through this library: with the API (`samskab all`) or alone
//! (`samskab worker matching`).

mod matches;
mod needs;
mod volunteers;

use std::future::Future;

use samskab_decode::decode;
use samskab_domain::{EntityKind, MatchEvent, NeedEvent, VolunteerEvent};
use samskab_eventlog::RecordedEvent;
use samskab_projection::{ApplyError, Projection, ReadModel};
use sqlx::PgConnection;

use samskab_projection::EventContext;

/// The projection's name (its checkpoint row and durable consumer) and its schema, from the
/// catalogue of read models that the API reads too.
pub const READ_MODEL: ReadModel = samskab_projection::read_model::MATCHING;

/// The matching read model. Stateless: everything it knows is in PostgreSQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct MatchingProjection;

impl Projection for MatchingProjection {
    fn name(&self) -> &'static str {
        READ_MODEL.name
    }

    fn schema(&self) -> &'static str {
        READ_MODEL.schema
    }

    /// A volunteer's børneattest assessment (the hard rule needs it); nothing else personal.
    fn personal_data_of(&self) -> &'static [&'static str] {
        const { &[EntityKind::Volunteer.as_str()] }
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a RecordedEvent,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send + 'a {
        apply_event(conn, event)
    }
}

/// Dispatches on the entity kind in the envelope, decodes with the domain's own decoder (so the
/// read model accepts exactly what the decider accepts) and writes.
async fn apply_event(conn: &mut PgConnection, event: &RecordedEvent) -> Result<(), ApplyError> {
    if event.envelope.entitykind == EntityKind::Need.as_str() {
        let decoded = decode::<NeedEvent>(event)?;
        needs::apply(conn, &EventContext::of(event)?, &decoded).await
    } else if event.envelope.entitykind == EntityKind::Volunteer.as_str() {
        let decoded = decode::<VolunteerEvent>(event)?;
        volunteers::apply(conn, &EventContext::of(event)?, &decoded).await
    } else if event.envelope.entitykind == EntityKind::Match.as_str() {
        let decoded = decode::<MatchEvent>(event)?;
        matches::apply(conn, &EventContext::of(event)?, &decoded).await
    } else {
        // Municipalities, organisations, ... share the stream; what matching will need of them
        // comes with their own tables. Skipping is not dropping: the log keeps them, and a
        // rebuild replays them.
        Ok(())
    }
}
