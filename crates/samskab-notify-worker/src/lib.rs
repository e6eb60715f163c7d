//! The notifications read model: what the rules make of events, in the PostgreSQL schema
//! `notify` (DDL in `migrations/0025_notify.sql`).
//!
//! - `owners.rs`: whom an event concerns, kept from earlier events (the organisation that
//!   posted a need, the sides of each match; the association an application is from).
//! - `volunteers.rs`: whether a volunteer may be told anything (consent to notifications).
//! - `rules.rs`: which event makes which message, and its words (`wording.rs`: Danish and
//!   English).
//! - `preferences.rs`: each inbox's preferences (mailed or not, language, digest).
//! - `applications.rs`: associations' applications and the pools' rounds (an application
//!   received; a round's deadline near).
//! - `reminders.rs`: the time-based rules (a final report due or overdue, a round's deadline
//!   near), run on each municipality's day, which `clock.rs` begins in the log every morning.
//! - `endpoints.rs`: organisations' webhook endpoints.
//! - `inbox.rs`: the messages, and the recipient's own events on them (read).
//!
//! It delivers to the in-app inbox of organisations and of volunteers who consent to
//! notifications, in the language the recipient prefers, and writes each message to the outbox
//! (`notify.outbox`, in the checkpoint's transaction) to be mailed too if the recipient's
//! preferences say so, and posted to each of the recipient's enabled webhook endpoints;
//! `samskab-delivery` sends what the outbox holds. Staff recipients, templates per
//! municipality and the børneattest's renewal come next (issue 10).
//!
//! Rules every write here follows, as in the other workers:
//! - **Idempotent.** A message's id is derived from its event's place in the log
//!   (`NotificationId::of`), so a redelivery or a rebuild makes the same message, once.
//! - **No personal data.** A message names what happened and where to look, no person; the
//!   sealed `personal` parts are never opened (`personal_data_of` is empty). A volunteer's
//!   inbox is emptied when they are forgotten.

mod applications;
mod clock;
mod endpoints;
mod inbox;
mod owners;
mod preferences;
mod reminders;
mod rules;
mod volunteers;
mod wording;

use std::future::Future;

use samskab_decode::decode;
use samskab_domain::{
    DayEvent, EntityKind, GrantApplicationEvent, GrantPoolEvent, MatchEvent, NeedEvent,
    NotificationEvent, NotificationPreferencesEvent, VolunteerEvent, WebhookEndpointEvent,
};
use samskab_eventlog::RecordedEvent;
use samskab_projection::{ApplyError, EventContext, Projection, ReadModel};
use sqlx::PgConnection;

pub use applications::DEADLINE_SOON_DAYS;
pub use clock::{CLOCK_ACTOR, Clock, ClockConfig};
pub use reminders::DUE_SOON_DAYS;
pub use rules::Rule;

/// The projection's name (its checkpoint row and durable consumer) and its schema.
pub const READ_MODEL: ReadModel = samskab_projection::read_model::NOTIFY;

/// The notifications read model. Stateless: everything it knows is in PostgreSQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotifyProjection;

impl Projection for NotifyProjection {
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

/// Dispatches on the entity kind in the envelope and decodes with the domain's own decoder.
async fn apply_event(conn: &mut PgConnection, event: &RecordedEvent) -> Result<(), ApplyError> {
    let kind = event.envelope.entitykind.as_str();
    let ctx = EventContext::of(event)?;
    let at = inbox::Place {
        position: event.position,
        index: u32::try_from(event.index).map_err(|_| {
            ApplyError::Malformed(format!("event index {} exceeds u32", event.index))
        })?,
    };
    if kind == EntityKind::Volunteer.as_str() {
        let decoded = decode::<VolunteerEvent>(event)?;
        let id = decoded.id().as_uuid();
        ctx.check_entity(id)?;
        volunteers::apply(conn, &ctx, id, &decoded).await?;
    } else if kind == EntityKind::Need.as_str() {
        let decoded = decode::<NeedEvent>(event)?;
        ctx.check_entity(decoded.id().as_uuid())?;
        owners::need(conn, &ctx, &decoded).await?;
    } else if kind == EntityKind::Match.as_str() {
        let decoded = decode::<MatchEvent>(event)?;
        ctx.check_entity(decoded.id().as_uuid())?;
        rules::of_match(conn, &ctx, at, &decoded).await?;
    } else if kind == EntityKind::GrantPool.as_str() {
        let decoded = decode::<GrantPoolEvent>(event)?;
        ctx.check_entity(decoded.id().as_uuid())?;
        rules::of_pool(conn, &ctx, at, &decoded).await?;
        reminders::track(conn, &ctx, &decoded).await?;
        applications::of_pool(conn, &ctx, &decoded).await?;
    } else if kind == EntityKind::Notification.as_str() {
        let decoded = decode::<NotificationEvent>(event)?;
        ctx.check_entity(decoded.id().as_uuid())?;
        inbox::recipient_did(conn, &ctx, &decoded).await?;
    } else if kind == EntityKind::WebhookEndpoint.as_str() {
        let decoded = decode::<WebhookEndpointEvent>(event)?;
        ctx.check_entity(decoded.id().as_uuid())?;
        endpoints::apply(conn, &ctx, &decoded).await?;
    } else if kind == EntityKind::NotificationPreferences.as_str() {
        let decoded = decode::<NotificationPreferencesEvent>(event)?;
        ctx.check_entity(decoded.id().as_uuid())?;
        preferences::apply(conn, &ctx, &decoded).await?;
    } else if kind == EntityKind::GrantApplication.as_str() {
        let decoded = decode::<GrantApplicationEvent>(event)?;
        ctx.check_entity(decoded.id().as_uuid())?;
        applications::of_application(conn, &ctx, at, &decoded).await?;
    } else if kind == EntityKind::Day.as_str() {
        let decoded = decode::<DayEvent>(event)?;
        ctx.check_entity(decoded.id().as_uuid())?;
        reminders::of_day(conn, &ctx, at, &decoded).await?;
    }
    // Other events make no message yet; skipping is not dropping: a rebuild replays the log.
    Ok(())
}
