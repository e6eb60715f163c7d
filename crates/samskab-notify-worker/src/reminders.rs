//! The time-based rules: reminders of an association's final report, fourteen days before
//! it is due and once it is overdue, and of a round's deadline for an application not
//! submitted yet (`applications.rs`). They run when the projection meets a municipality's day
//! (`Day`, begun by `clock.rs`), on what `grant_applicant` holds at that place in the log, so
//! a rebuild makes the same reminders with the same ids. Each is told once: a flag per case
//! and reminder, so a day the clock missed only delays it.
//!
//! | Rule | When | Recipient |
//! |---|---|---|
//! | `report_due` | a final decision's report is due within 14 days and has not come | the association |
//! | `report_overdue` | its due day has passed and it has not come | the association |
//! | `round_deadline` | a round's deadline is within 7 days and the association's application in it is not submitted | the association |

use chrono::NaiveDate;
use samskab_domain::{ApplicantRef, DayEvent, GrantPoolEvent};
use samskab_projection::{ApplyError, EventContext, Recipient};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::applications;
use crate::inbox::{Message, Place, deliver};
use crate::rules::Rule;
use crate::wording::{Text, Wording};

/// Days before the due day that the first reminder is told.
pub const DUE_SOON_DAYS: i32 = 14;

/// What the pool's events say of the final report the reminders are about. `owners.rs` has
/// written the case's row already (for a decision on an association's application).
pub(crate) async fn track(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    event: &GrantPoolEvent,
) -> Result<(), ApplyError> {
    let (application, sql) = match event {
        GrantPoolEvent::DecisionProposed(d) | GrantPoolEvent::Decided(d) => {
            if !matches!(d.applicant, ApplicantRef::Organisation(_)) {
                return Ok(());
            }
            let decided = matches!(event, GrantPoolEvent::Decided(_));
            return decision(conn, ctx, d.application.as_uuid(), d.report_due, decided).await;
        }
        GrantPoolEvent::DecisionApproved(e) => (e.application, SET_FINAL),
        GrantPoolEvent::DecisionReopened(e) => (e.application, SET_NOT_FINAL),
        GrantPoolEvent::ApplicationWithdrawn(e) => (e.application, SET_NOT_FINAL),
        GrantPoolEvent::FinalReportReceived(e) => (e.application, SET_RECEIVED),
        _ => return Ok(()),
    };
    sqlx::query(sql)
        .bind(ctx.tenant)
        .bind(application.as_uuid())
        .execute(conn)
        .await?;
    Ok(())
}

const SET_FINAL: &str =
    "UPDATE grant_applicant SET decision_final = true WHERE tenant = $1 AND application_id = $2";
const SET_NOT_FINAL: &str =
    "UPDATE grant_applicant SET decision_final = false WHERE tenant = $1 AND application_id = $2";
const SET_RECEIVED: &str =
    "UPDATE grant_applicant SET report_received = true WHERE tenant = $1 AND application_id = $2";

/// A decision (final, or proposed above the threshold) sets the report's due day anew; its
/// reminders are to be told again.
async fn decision(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    application: Uuid,
    report_due: Option<NaiveDate>,
    decided: bool,
) -> Result<(), ApplyError> {
    sqlx::query(
        "UPDATE grant_applicant
         SET report_due = $3, decision_final = $4, report_received = false,
             reminded_due_soon = false, reminded_overdue = false
         WHERE tenant = $1 AND application_id = $2",
    )
    .bind(ctx.tenant)
    .bind(application)
    .bind(report_due)
    .bind(decided)
    .execute(conn)
    .await?;
    Ok(())
}

/// A case whose report a reminder is due for on the day.
#[derive(sqlx::FromRow)]
struct Due {
    application_id: Uuid,
    organisation_id: Uuid,
    report_due: NaiveDate,
}

/// What a reminder marks as told once it is delivered.
enum Told {
    Report { application: Uuid, overdue: bool },
    Deadline { application: Uuid },
}

/// On the municipality's day: each reminder not told yet, and marked told. In one order (the
/// message's `n`): the overdue reports, the reports due soon, the deadlines near, each by case.
pub(crate) async fn of_day(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    at: Place,
    event: &DayEvent,
) -> Result<(), ApplyError> {
    let DayEvent::Began(day) = event;
    let overdue: Vec<Due> = sqlx::query_as(
        "SELECT application_id, organisation_id, report_due FROM grant_applicant
         WHERE tenant = $1 AND decision_final AND NOT report_received
           AND report_due < $2 AND NOT reminded_overdue
         ORDER BY application_id",
    )
    .bind(ctx.tenant)
    .bind(day.date)
    .fetch_all(&mut *conn)
    .await?;
    let soon: Vec<Due> = sqlx::query_as(
        "SELECT application_id, organisation_id, report_due FROM grant_applicant
         WHERE tenant = $1 AND decision_final AND NOT report_received
           AND report_due >= $2 AND report_due <= $2 + $3 AND NOT reminded_due_soon
         ORDER BY application_id",
    )
    .bind(ctx.tenant)
    .bind(day.date)
    .bind(DUE_SOON_DAYS)
    .fetch_all(&mut *conn)
    .await?;
    let deadlines = applications::deadline_near(conn, ctx, day.date).await?;

    let report = |case: &Due, rule: Rule| {
        let message = Message {
            recipient: Recipient::Organisation(case.organisation_id),
            rule,
            wording: reminder_wording(rule, case.report_due),
            link: format!("/grant-applications/{}", case.application_id),
        };
        let told = Told::Report {
            application: case.application_id,
            overdue: rule == Rule::ReportOverdue,
        };
        (message, told)
    };
    let reminders = overdue
        .iter()
        .map(|case| report(case, Rule::ReportOverdue))
        .chain(soon.iter().map(|case| report(case, Rule::ReportDue)))
        .chain(deadlines.iter().map(|near| {
            let message = Message {
                recipient: Recipient::Organisation(near.organisation_id),
                rule: Rule::RoundDeadline,
                wording: applications::deadline_wording(&near.title, near.deadline),
                link: format!("/grant-applications/{}", near.application_id),
            };
            (
                message,
                Told::Deadline {
                    application: near.application_id,
                },
            )
        }));
    for (n, (message, told)) in reminders.enumerate() {
        let n = u16::try_from(n)
            .map_err(|_| ApplyError::Malformed("more than 65535 reminders on one day".into()))?;
        deliver(conn, ctx, at, n, &message).await?;
        match told {
            Told::Report {
                application,
                overdue,
            } => {
                sqlx::query(
                    "UPDATE grant_applicant
                     SET reminded_due_soon = true, reminded_overdue = reminded_overdue OR $3
                     WHERE tenant = $1 AND application_id = $2",
                )
                .bind(ctx.tenant)
                .bind(application)
                .bind(overdue)
                .execute(&mut *conn)
                .await?;
            }
            Told::Deadline { application } => {
                applications::reminded(conn, ctx, application).await?;
            }
        }
    }
    Ok(())
}

fn reminder_wording(rule: Rule, due: NaiveDate) -> Wording {
    let (danish_day, english_day) = (due.format("%d.%m.%Y"), due.format("%-d %B %Y"));
    if rule == Rule::ReportOverdue {
        Wording {
            danish: Text::new(
                "Slutrapporten er ikke modtaget",
                format!(
                    "Jeres slutrapport for tilskuddet skulle have været afleveret den \
                     {danish_day}. Send den hurtigst muligt, eller kontakt kommunen, hvis I har \
                     brug for mere tid."
                ),
            ),
            english: Text::new(
                "The final report is overdue",
                format!(
                    "Your final report on the grant was due on {english_day}. Please send it \
                     as soon as you can, or contact the municipality if you need more time."
                ),
            ),
        }
    } else {
        Wording {
            danish: Text::new(
                "Slutrapporten skal snart afleveres",
                format!(
                    "Jeres slutrapport for tilskuddet skal afleveres senest den {danish_day}, \
                     med et regnskab for, hvad pengene er brugt til."
                ),
            ),
            english: Text::new(
                "The final report is due soon",
                format!(
                    "Your final report on the grant is due by {english_day}, with an account \
                     of what the money was spent on."
                ),
            ),
        }
    }
}
