//! The reporting read model: what the municipalities' figures are counted from, in the
//! PostgreSQL schema `reporting` (DDL in `migrations/0021_reporting.sql`).
//!
//! A report is asked for a period and "as of" an instant: how things stood on a past day, not
//! only today. So this read model keeps **versions**: each row is one version of a thing
//! (a volunteer's profile and status, a need's status, a match's stage, a pool-year's budget,
//! a grant case's decision), valid from the event that made it so until the
//! event that changed it. "As of T" is then a `WHERE valid_from <= T` over the rows, with no
//! replay of the log; a rebuild reproduces the same rows, because the times are the events'.
//!
//! The queries live with the API (`samskab-api/src/routes/reports/`), which reads these
//! tables as it reads every read model.
//!
//! Rules every write here follows, as in the other workers:
//! - **Idempotent.** A version's key is the log position and index of the event that began
//!   it; a redelivery finds its own version standing (or closed by a later one) and writes
//!   nothing.
//! - **Mirror the deciders' `evolve`.** A second registration keeps the first; nothing changes
//!   a withdrawn volunteer's profile; forgetting comes after active or withdrawn, once.
//! - **No personal data.** The profile (postcode, age band, skills, target groups) is the
//!   statistics, in plain text in the log; the sealed `personal` part is never opened for this
//!   projection (`personal_data_of` is empty), so a forgotten volunteer's figures stay and
//!   nothing of the person is here to forget.

mod grants;
mod matches;
mod needs;
mod umbrellas;
mod volunteers;

use std::future::Future;

use samskab_decode::decode;
use samskab_domain::{
    EntityKind, GrantPoolEvent, MatchEvent, MunicipalityEvent, NeedEvent, OrganisationEvent,
    UmbrellaEvent, VolunteerEvent,
};
use samskab_eventlog::RecordedEvent;
use samskab_projection::{ApplyError, EventContext, Projection, ReadModel};
use sqlx::PgConnection;

/// The projection's name (its checkpoint row and durable consumer) and its schema, from the
/// catalogue of read models that the API reads too.
pub const READ_MODEL: ReadModel = samskab_projection::read_model::REPORTING;

/// The reporting read model. Stateless: everything it knows is in PostgreSQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportingProjection;

impl Projection for ReportingProjection {
    fn name(&self) -> &'static str {
        READ_MODEL.name
    }

    fn schema(&self) -> &'static str {
        READ_MODEL.schema
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
/// read model accepts exactly what the deciders accept) and writes.
async fn apply_event(conn: &mut PgConnection, event: &RecordedEvent) -> Result<(), ApplyError> {
    let kind = event.envelope.entitykind.as_str();
    let index = i32::try_from(event.index).map_err(|_| {
        ApplyError::Malformed(format!("event index {} exceeds integer", event.index))
    })?;
    if kind == EntityKind::Volunteer.as_str() {
        let decoded = decode::<VolunteerEvent>(event)?;
        volunteers::apply(conn, &EventContext::of(event)?, index, &decoded).await
    } else if kind == EntityKind::Need.as_str() {
        let decoded = decode::<NeedEvent>(event)?;
        needs::apply(conn, &EventContext::of(event)?, index, &decoded).await
    } else if kind == EntityKind::Match.as_str() {
        let decoded = decode::<MatchEvent>(event)?;
        matches::apply(conn, &EventContext::of(event)?, index, &decoded).await
    } else if kind == EntityKind::GrantPool.as_str() {
        let decoded = decode::<GrantPoolEvent>(event)?;
        grants::apply(conn, &EventContext::of(event)?, index, &decoded).await
    } else if kind == EntityKind::Umbrella.as_str() {
        let decoded = decode::<UmbrellaEvent>(event)?;
        umbrellas::apply_umbrella(conn, &EventContext::of(event)?, &decoded).await
    } else if kind == EntityKind::Organisation.as_str() {
        let decoded = decode::<OrganisationEvent>(event)?;
        umbrellas::apply_organisation(conn, &EventContext::of(event)?, index, &decoded).await
    } else if kind == EntityKind::Municipality.as_str() {
        let decoded = decode::<MunicipalityEvent>(event)?;
        umbrellas::apply_municipality(conn, &EventContext::of(event)?, index, &decoded).await
    } else {
        // The action plan is counted from here as its report comes; skipping is not dropping:
        // a rebuild replays the log.
        Ok(())
    }
}
