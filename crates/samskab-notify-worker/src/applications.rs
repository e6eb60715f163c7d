//! An association's applications and the pools' rounds, as two rules need them: an
//! application received (told when it is submitted, with when a decision is expected), and a
//! round's deadline approaching for an application not submitted yet (a time-based rule, run on
//! the municipality's day from `reminders.rs`).
//!
//! Only an association's applications are kept (`organisation` set on the draft): a person
//! applying has no inbox.

use chrono::{DateTime, NaiveDate, Utc};
use samskab_domain::calendar::{danish_date, hours_ahead_of_utc};
use samskab_domain::{GrantApplicationEvent, GrantPoolEvent};
use samskab_projection::{ApplyError, EventContext, Recipient};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::inbox::{Message, Place, deliver};
use crate::rules::Rule;
use crate::wording::{Text, Wording};

/// Days before a round's deadline that an application not yet submitted is reminded of it.
pub const DEADLINE_SOON_DAYS: i32 = 7;

/// A round opened: kept for the reminders and receipts that name it.
pub(crate) async fn of_pool(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &GrantPoolEvent,
) -> Result<(), ApplyError> {
    let GrantPoolEvent::RoundOpened(round) = event else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO round (tenant, round_id, title, deadline, decision_expected)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant, round_id) DO NOTHING",
    )
    .bind(ctx.tenant)
    .bind(round.round.as_uuid())
    .bind(round.title.as_str())
    .bind(round.deadline)
    .bind(round.decision_expected)
    .execute(conn)
    .await?;
    Ok(())
}

/// An association's draft is kept (its round as the latest draft has it); its submission is
/// told to it: `application_received`.
pub(crate) async fn of_application(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    at: Place,
    event: &GrantApplicationEvent,
) -> Result<(), ApplyError> {
    match event {
        GrantApplicationEvent::Drafted(draft) | GrantApplicationEvent::DraftUpdated(draft) => {
            let Some(organisation) = draft.organisation else {
                return Ok(());
            };
            sqlx::query(
                "INSERT INTO application (tenant, application_id, organisation_id, round_id)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant, application_id) DO UPDATE
                 SET round_id = $4 WHERE NOT application.submitted",
            )
            .bind(ctx.tenant)
            .bind(draft.id.as_uuid())
            .bind(organisation.as_uuid())
            .bind(draft.round.map(|r| r.as_uuid()))
            .execute(conn)
            .await?;
        }
        GrantApplicationEvent::Submitted(version) => {
            // Marked submitted, and told, once: a redelivery finds it submitted.
            let submitted: Option<(Uuid, Option<NaiveDate>)> = sqlx::query_as(
                "WITH marked AS (
                     UPDATE application SET submitted = true,
                         round_id = coalesce($3, round_id)
                     WHERE tenant = $1 AND application_id = $2 AND NOT submitted
                     RETURNING organisation_id, round_id
                 )
                 SELECT m.organisation_id, r.decision_expected FROM marked m
                 LEFT JOIN round r ON r.tenant = $1 AND r.round_id = m.round_id",
            )
            .bind(ctx.tenant)
            .bind(version.id.as_uuid())
            .bind(version.round.map(|r| r.as_uuid()))
            .fetch_optional(&mut *conn)
            .await?;
            let Some((organisation, decision_expected)) = submitted else {
                return Ok(());
            };
            let message = Message {
                recipient: Recipient::Organisation(organisation),
                rule: Rule::ApplicationReceived,
                wording: received_wording(danish_date(version.at), decision_expected),
                link: format!("/grant-applications/{}", version.id.as_uuid()),
            };
            deliver(conn, ctx, at, 0, &message).await?;
        }
        _ => {}
    }
    Ok(())
}

fn received_wording(on: NaiveDate, decision_expected: Option<NaiveDate>) -> Wording {
    let danish_expected = decision_expected
        .map(|d| format!(" Afgørelsen ventes omkring den {}.", d.format("%d.%m.%Y")))
        .unwrap_or_default();
    let english_expected = decision_expected
        .map(|d| format!(" A decision is expected around {}.", d.format("%-d %B %Y")))
        .unwrap_or_default();
    Wording {
        danish: Text::new(
            "Vi har modtaget jeres ansøgning",
            format!(
                "Jeres ansøgning er modtaget den {} og bliver nu behandlet.{danish_expected}",
                on.format("%d.%m.%Y")
            ),
        ),
        english: Text::new(
            "We have received your application",
            format!(
                "Your application was received on {} and is now being considered.\
                 {english_expected}",
                on.format("%-d %B %Y")
            ),
        ),
    }
}

/// An application whose round's deadline is near and which is not submitted yet.
#[derive(sqlx::FromRow)]
pub(crate) struct Unsubmitted {
    pub application_id: Uuid,
    pub organisation_id: Uuid,
    pub title: String,
    pub deadline: DateTime<Utc>,
}

/// On day `date`: the applications not yet submitted whose round's deadline (in Copenhagen)
/// is today or within [`DEADLINE_SOON_DAYS`], not reminded yet, in the applications' order.
pub(crate) async fn deadline_near(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    date: NaiveDate,
) -> Result<Vec<Unsubmitted>, ApplyError> {
    Ok(sqlx::query_as(
        "SELECT a.application_id, a.organisation_id, r.title, r.deadline
         FROM application a JOIN round r ON r.tenant = a.tenant AND r.round_id = a.round_id
         WHERE a.tenant = $1 AND NOT a.submitted AND NOT a.reminded_deadline
           AND (r.deadline AT TIME ZONE 'Europe/Copenhagen')::date BETWEEN $2 AND $2 + $3
         ORDER BY a.application_id",
    )
    .bind(ctx.tenant)
    .bind(date)
    .bind(DEADLINE_SOON_DAYS)
    .fetch_all(conn)
    .await?)
}

/// The reminder of `application` was told.
pub(crate) async fn reminded(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    application: Uuid,
) -> Result<(), ApplyError> {
    sqlx::query(
        "UPDATE application SET reminded_deadline = true
         WHERE tenant = $1 AND application_id = $2",
    )
    .bind(ctx.tenant)
    .bind(application)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) fn deadline_wording(title: &str, deadline: DateTime<Utc>) -> Wording {
    let local = deadline + chrono::Duration::hours(hours_ahead_of_utc(deadline));
    Wording {
        danish: Text::new(
            "Ansøgningsfristen nærmer sig",
            format!(
                "Fristen for at søge i {title} er den {} kl. {}. Jeres ansøgning er ikke \
                 indsendt endnu.",
                local.format("%d.%m.%Y"),
                local.format("%H:%M")
            ),
        ),
        english: Text::new(
            "The application deadline is near",
            format!(
                "The deadline for applying in {title} is {} at {}. Your application has not \
                 been submitted yet.",
                local.format("%-d %B %Y"),
                local.format("%H:%M")
            ),
        ),
    }
}
