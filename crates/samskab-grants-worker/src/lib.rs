//! The grants read model, in the PostgreSQL schema `grants` (`migrations/0016_grants.sql`):
//! the pools (`grants.pool`), their budget per year (`pool_year`, every change with its reason
//! in `budget_change`), rounds (`round`) and declared conflicts of interest (`conflict`); and
//! every application as a grant case (`application`: the case list's row, its status joining
//! the application's own events and the pool's decisions about it), with every submitted
//! version (`application_version`), assessment (`assessment`) and decision (`decision`, never
//! edited: a complaint marks the standing one reopened).
//!
//! The rules are the other workers': one idempotent statement per event, mirroring the
//! deciders' `evolve` ([`samskab_domain::GrantPool`], [`samskab_domain::GrantApplication`]),
//! tenant and position from the envelope. A pool's events about an application (decided,
//! approved, reopened, withdrawn) update the application's row: both live in this one
//! schema, and the log's order is the order they happened in.

mod applications;
mod follow_up;
mod pools;

use std::future::Future;

use samskab_decode::decode;
use samskab_domain::{EntityKind, GrantApplicationEvent, GrantPoolEvent};
use samskab_eventlog::RecordedEvent;
use samskab_projection::{ApplyError, EventContext, Projection, ReadModel};
use sqlx::PgConnection;

/// The projection's name and schema, from the catalogue the API reads too.
pub const READ_MODEL: ReadModel = samskab_projection::read_model::GRANTS;

/// The grants read model. Stateless: everything it knows is in PostgreSQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrantsProjection;

impl Projection for GrantsProjection {
    fn name(&self) -> &'static str {
        READ_MODEL.name
    }

    fn schema(&self) -> &'static str {
        READ_MODEL.schema
    }

    /// An applicant who is a person: name and contact on the case.
    fn personal_data_of(&self) -> &'static [&'static str] {
        const { &[EntityKind::GrantApplication.as_str()] }
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        event: &'a RecordedEvent,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send + 'a {
        apply_event(conn, event)
    }
}

async fn apply_event(conn: &mut PgConnection, event: &RecordedEvent) -> Result<(), ApplyError> {
    let kind = event.envelope.entitykind.as_str();
    if kind == EntityKind::GrantPool.as_str() {
        let decoded = decode::<GrantPoolEvent>(event)?;
        pools::apply(conn, &EventContext::of(event)?, &decoded).await
    } else if kind == EntityKind::GrantApplication.as_str() {
        let decoded = decode::<GrantApplicationEvent>(event)?;
        applications::apply(conn, &EventContext::of(event)?, &decoded).await
    } else {
        // Other entities share the stream; the log keeps them, and a rebuild replays them.
        Ok(())
    }
}

/// A version number as the `integer` columns keep it. A version past `i32::MAX` cannot be
/// decided (each is a submission); should a payload say so, parking the event beats wrapping.
fn version(version: u32) -> Result<i32, ApplyError> {
    i32::try_from(version)
        .map_err(|_| ApplyError::Malformed(format!("version {version} exceeds integer")))
}
