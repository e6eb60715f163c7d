//! The audit trail of every §18 grant case, in the PostgreSQL schema `audit`
//! (`migrations/0017_audit.sql`): every event of a grant pool or a grant application becomes
//! one record (`audit.record`) in its municipality's chain, numbered 1, 2, 3, ... (`seq`), each
//! holding the SHA-256 of its content and of the record before it ([`record`] says precisely
//! what is hashed). Changing, inserting, deleting or reordering a record breaks the chain
//! ([`verify()`]); an export of a case or a pool-year ([`export_case`], [`export_pool_year`])
//! carries its records, the links from them to the chain's head, and an Ed25519 signature
//! ([`Signer`]) over the head, the scope and every link ([`export`] says precisely what is
//! signed), which `deploy/audit/verify_export.py` checks with nothing but Python.
//!
//! **Personal data.** A record never holds a payload's `personal` member (the applicant who is
//! a person, an informal group's contact person): it is removed before the payload is
//! canonicalised, and `had_personal` says it was there. So the chain survives a forgetting and
//! a rebuild after it (the log then reads the member as `null`, which the record never had),
//! and an export carries no third party's personal data by construction.
//!
//! The rules of the other workers hold: tenant, position, time and actor from the envelope;
//! decoded with the domain's decoders (a payload they refuse is parked, not recorded); a
//! redelivery changes nothing (a record is keyed by tenant and event id too). Where this one
//! differs (it reads the head before it writes): [`chain`].
//!
//! The library the API and the binary use: [`AuditProjection`] for the registry, [`verify()`]
//! for `samskab audit verify`, [`export_case`] / [`export_pool_year`] and the renderers
//! [`to_json`] (or [`to_json_text`], the same JSON written straight to text), [`to_csv`],
//! [`to_html`] for the export routes.

pub mod canonical;
mod chain;
pub mod export;
mod parallel;
pub mod record;
pub mod render;
pub mod signing;
pub mod verify;

use std::future::Future;

use samskab_decode::decode;
use samskab_domain::{EntityKind, GrantApplicationEvent, GrantPoolEvent};
use samskab_eventlog::RecordedEvent;
use samskab_projection::{ApplyError, EventContext, Projection, ReadModel};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

pub use chain::{PERSONAL, without_personal};
pub use export::{
    Export, ExportError, ExportScope, FORMAT, Head, Link, export_case, export_pool_year,
    links_digest,
};
pub use record::{GENESIS, Record};
pub use render::{to_csv, to_html, to_json, to_json_text};
pub use signing::{Signer, SignerError, verify_signature};
pub use verify::{ChainReport, Problem, VerifyError, VerifyReport, verify};

/// The projection's name and schema, from the catalogue the API reads too.
pub const READ_MODEL: ReadModel = samskab_projection::read_model::AUDIT;

/// The audit trail. Stateless: the chain's head is in PostgreSQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditProjection;

impl Projection for AuditProjection {
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

async fn apply_event(conn: &mut PgConnection, event: &RecordedEvent) -> Result<(), ApplyError> {
    let kind = event.envelope.entitykind.as_str();
    let context = EventContext::of(event)?;
    let payload = &event.envelope.data;
    // Decoded to refuse what the domain would not read. Where the record belongs: a pool's
    // event names the application it is about as the domain says (`case_event`); the rest is
    // read from the payload's members, which every event of a kind names alike (`id`; an
    // application's draft names its `pool`).
    let belongs = if kind == EntityKind::GrantPool.as_str() {
        let decoded = decode::<GrantPoolEvent>(event)?;
        let pool = uuid_member(payload, "id")?.ok_or_else(|| missing("id"))?;
        context.check_entity(pool)?;
        chain::Belongs {
            pool_id: Some(pool),
            application_id: decoded
                .case_event()
                .map(|(application, _)| application.as_uuid()),
        }
    } else if kind == EntityKind::GrantApplication.as_str() {
        decode::<GrantApplicationEvent>(event)?;
        let application = uuid_member(payload, "id")?.ok_or_else(|| missing("id"))?;
        context.check_entity(application)?;
        chain::Belongs {
            pool_id: uuid_member(payload, "pool")?,
            application_id: Some(application),
        }
    } else {
        // Other entities share the stream; no grant case is about them.
        return Ok(());
    };
    chain::append(conn, &context, event, belongs).await
}

/// The payload's member `name` as a UUID; `None` when it is absent or null.
fn uuid_member(payload: &Value, name: &str) -> Result<Option<Uuid>, ApplyError> {
    match payload.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Uuid::try_parse(text)
            .map(Some)
            .map_err(|_| ApplyError::Malformed(format!("member {name} is not a UUID: {text:?}"))),
        Some(other) => Err(ApplyError::Malformed(format!(
            "member {name} is not a UUID: {other}"
        ))),
    }
}

fn missing(name: &str) -> ApplyError {
    ApplyError::Malformed(format!("the payload has no member {name}"))
}
