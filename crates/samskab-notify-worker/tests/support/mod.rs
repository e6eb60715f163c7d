//! What the notify worker's test files share: the projection under test, the tenant, the
//! events as the runtime hands them over, and a pool's decision on the canonical organisation's
//! application. The helpers are `samskab_testkit::projection`'s.

#![allow(dead_code)] // each test file uses its own part

use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_notify_worker::NotifyProjection;
use samskab_testkit::projection::{ReadModelTest, time_at};

pub const TENANT: &str = "rodovre";
pub const NOTIFY: ReadModelTest<NotifyProjection> =
    ReadModelTest::new(NotifyProjection, "user:sagsbehandler-1");

/// `event` of entity `id` at `position` in [`TENANT`].
pub fn recorded<E: DomainEvent>(id: uuid::Uuid, position: u64, event: &E) -> RecordedEvent {
    NOTIFY.recorded(TENANT, &id.to_string(), position, event)
}

/// A grant of `amount` in full on `application` of the canonical organisation, no report due.
pub fn decision(application: GrantApplicationId, amount: Amount) -> PoolDecision {
    PoolDecision {
        id: grant_pool_id(),
        application,
        version: 1,
        applicant: ApplicantRef::Organisation(org_id()),
        outcome: GrantOutcome::Full,
        amount,
        requested: amount,
        year: 2026,
        justification: None,
        decided_by: staff("udvalg-1"),
        assessed_by: Vec::new(),
        report_due: None,
        years: Vec::new(),
        duties: None,
        at: time_at(0),
    }
}
