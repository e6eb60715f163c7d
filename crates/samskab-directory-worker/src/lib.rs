//! The directory read model: who the municipalities, organisations, volunteers, persons
//! (mentees, families) and umbrella organisations are, one row
//! each, keyed by `(tenant, id)`, in the PostgreSQL schema `directory` (DDL in
//! `migrations/0002_directory.sql`).
//!
//! [`DirectoryProjection`] is a [`Projection`]: the runtime in `samskab-projection` pulls events
//! from the log, opens one transaction per batch (with `search_path` set to the schema being
//! written, which is why every statement here uses unqualified table names: a rebuild writes into
//! a fresh schema), calls [`Projection::apply`] per event and advances the checkpoint in the same
//! transaction.
//!
//! Rules every write here follows:
//! - **One statement per event, no read before write.** The runtime batches ~500 events per
//!   transaction; a round trip per event is the cost we accept, a second one we do not.
//! - **Idempotent.** Applying an event twice leaves the row as applying it once: inserts use
//!   `ON CONFLICT`, updates are guarded so a repeat changes nothing. The checkpoint already
//!   prevents most repeats; this makes the read model right even when it does not.
//! - **Mirror the deciders' `evolve`.** The read model must agree with the state the API decides
//!   on, so the same "events out of place" rules apply (a second registration keeps the first;
//!   nothing changes a volunteer after consent was withdrawn).
//! - **Tenant from the envelope**, never from the payload: the envelope's tenant is the one the
//!   subject (and so the authenticated principal that appended it) carries.
//!
//! The `samskab` binary runs it through this library: with the API (`samskab all`) or alone
//! (`samskab worker directory`).

mod municipalities;
mod organisations;
mod persons;
mod umbrellas;
mod volunteers;

use std::future::Future;

use samskab_decode::decode;
use samskab_domain::{
    ChildCertificate, EntityKind, MunicipalityEvent, OrganisationEvent, PersonEvent, UmbrellaEvent,
    VolunteerEvent,
};
use samskab_eventlog::RecordedEvent;
use samskab_projection::{ApplyError, Projection, ReadModel};
use sqlx::PgConnection;

use samskab_projection::EventContext;

/// The projection's name (its checkpoint row and durable consumer) and its schema, from the
/// catalogue of read models that the API reads too.
pub const READ_MODEL: ReadModel = samskab_projection::read_model::DIRECTORY;

/// The directory read model. Stateless: everything it knows is in PostgreSQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectoryProjection;

impl Projection for DirectoryProjection {
    fn name(&self) -> &'static str {
        READ_MODEL.name
    }

    fn schema(&self) -> &'static str {
        READ_MODEL.schema
    }

    /// Names and contacts of volunteers, organisations' contact persons and persons.
    fn personal_data_of(&self) -> &'static [&'static str] {
        const {
            &[
                EntityKind::Volunteer.as_str(),
                EntityKind::Organisation.as_str(),
                EntityKind::Person.as_str(),
            ]
        }
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a RecordedEvent,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send + 'a {
        apply_event(conn, event)
    }

    fn apply_batch<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        events: &'a [RecordedEvent],
    ) -> impl Future<Output = Result<(), ApplyError>> + Send + 'a {
        apply_events(conn, events)
    }
}

/// A batch in log order. Runs of volunteer registrations (new rows, nothing to read) go in
/// one statement each; every other event is applied alone, in its place, so the order of
/// events of one entity is kept.
async fn apply_events(conn: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), ApplyError> {
    let mut run = Vec::new();
    for event in events {
        let envelope = &event.envelope;
        if envelope.entitykind == EntityKind::Volunteer.as_str()
            && envelope.event_type == VolunteerEvent::REGISTERED_V2
            && let VolunteerEvent::Registered(registered) = decode::<VolunteerEvent>(event)?
        {
            let ctx = EventContext::of(event)?;
            ctx.check_entity(registered.id.as_uuid())?;
            run.push((ctx, registered, ChildCertificate::not_required()));
            continue;
        }
        volunteers::register_many(&mut *conn, &run).await?;
        run.clear();
        apply_event(&mut *conn, event).await?;
    }
    volunteers::register_many(&mut *conn, &run).await
}

/// Dispatches on the entity kind in the envelope, decodes with the domain's own decoder (so the
/// read model accepts exactly what the deciders accept) and writes.
async fn apply_event(conn: &mut PgConnection, event: &RecordedEvent) -> Result<(), ApplyError> {
    let envelope = &event.envelope;
    let kind = envelope.entitykind.as_str();
    if kind == EntityKind::Municipality.as_str() {
        let decoded = decode::<MunicipalityEvent>(event)?;
        municipalities::apply(conn, &EventContext::of(event)?, &decoded).await
    } else if kind == EntityKind::Organisation.as_str() {
        let decoded = decode::<OrganisationEvent>(event)?;
        organisations::apply(conn, &EventContext::of(event)?, &decoded).await
    } else if kind == EntityKind::Volunteer.as_str() {
        let decoded = decode::<VolunteerEvent>(event)?;
        volunteers::apply(conn, &EventContext::of(event)?, &decoded).await
    } else if kind == EntityKind::Person.as_str() {
        let decoded = decode::<PersonEvent>(event)?;
        persons::apply(conn, &EventContext::of(event)?, &decoded).await
    } else if kind == EntityKind::Umbrella.as_str() {
        let decoded = decode::<UmbrellaEvent>(event)?;
        umbrellas::apply(conn, &EventContext::of(event)?, &decoded).await
    } else {
        // Other entities (grants, pools, ...) share the stream but are none of the directory's
        // business. Skipping them is not dropping them: other projections read them.
        Ok(())
    }
}
