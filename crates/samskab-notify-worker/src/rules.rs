//! The rules: which event makes which message, for whom, in what words (Danish and English:
//! the recipient's preferences pick one; `wording.rs`).
//!
//! | Event | Recipient | Rule |
//! |---|---|---|
//! | a match proposed on an organisation's need | the organisation | `match_proposed` |
//! | a match proposed by the coordinator | the volunteer | `match_proposed` |
//! | the volunteer accepts it, or declines | the organisation | `match_accepted`, `match_declined` |
//! | the other side accepts it, or declines | the volunteer | `match_accepted`, `match_declined` |
//! | a final decision on an association's application (with its justification) | the association | `grant_decided` |
//! | a decision above the threshold approved by the second approver | the association | `grant_approved` |
//! | a payment recorded | the association | `payment_recorded` |
//! | an association's application submitted | the association | `application_received` (`applications.rs`) |
//! | a final report due within 14 days, or overdue (on the municipality's day) | the association | `report_due`, `report_overdue` (`reminders.rs`) |
//! | a round's deadline within 7 days, the application not submitted (on the day) | the association | `round_deadline` (`reminders.rs`) |
//!
//! A proposal above the pool's threshold tells nothing yet: it is no decision until approved.
//! A volunteer is told only while registered and consenting to notifications
//! (`volunteers.rs`), as the log stood at the event: nothing after a withdrawal, nothing ever
//! again once forgotten.

use samskab_domain::{
    ApplicantRef, Counterpart, GrantOutcome, GrantPoolEvent, MatchEvent, MatchSide, PoolDecision,
    ProposedBy,
};
use samskab_projection::{ApplyError, EventContext, Recipient};
use sqlx::PgConnection;

use crate::inbox::{Message, Place, deliver};
use crate::wording::{Text, Wording};
use crate::{owners, volunteers};

/// What made a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    MatchProposed,
    MatchAccepted,
    MatchDeclined,
    GrantDecided,
    GrantApproved,
    PaymentRecorded,
    /// A final report due within 14 days (`reminders.rs`).
    ReportDue,
    /// A final report overdue (`reminders.rs`).
    ReportOverdue,
    /// An association's application submitted (`applications.rs`).
    ApplicationReceived,
    /// A round's deadline near, the association's application not submitted (`reminders.rs`).
    RoundDeadline,
}

impl Rule {
    pub const ALL: [Rule; 10] = [
        Rule::MatchProposed,
        Rule::MatchAccepted,
        Rule::MatchDeclined,
        Rule::GrantDecided,
        Rule::GrantApproved,
        Rule::PaymentRecorded,
        Rule::ReportDue,
        Rule::ReportOverdue,
        Rule::ApplicationReceived,
        Rule::RoundDeadline,
    ];

    /// As `notify.message.rule` and the API name it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Rule::MatchProposed => "match_proposed",
            Rule::MatchAccepted => "match_accepted",
            Rule::MatchDeclined => "match_declined",
            Rule::GrantDecided => "grant_decided",
            Rule::GrantApproved => "grant_approved",
            Rule::PaymentRecorded => "payment_recorded",
            Rule::ReportDue => "report_due",
            Rule::ReportOverdue => "report_overdue",
            Rule::ApplicationReceived => "application_received",
            Rule::RoundDeadline => "round_deadline",
        }
    }
}

/// Who of a match's sides is told: the organisation (recipient 0 of the event) and the
/// volunteer (recipient 1), each in its words.
struct Told {
    organisation: Option<Wording>,
    volunteer: Option<Wording>,
}

pub(crate) async fn of_match(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    at: Place,
    event: &MatchEvent,
) -> Result<(), ApplyError> {
    let id = event.id().as_uuid();
    let (sides, rule, told) = match event {
        MatchEvent::Proposed(proposal) => {
            let details = &proposal.details;
            let need = match details.counterpart {
                Counterpart::Need(need) => Some(need.as_uuid()),
                Counterpart::Person(_) => None,
            };
            let volunteer = details.volunteer_id.as_uuid();
            let sides = owners::match_proposed(conn, ctx, id, volunteer, need).await?;
            let told = match details.proposed_by {
                ProposedBy::Coordinator => Told {
                    organisation: Some(Wording::fixed(
                        (
                            "En frivillig er foreslået til jeres opgave",
                            "Kommunen har foreslået en frivillig til en af jeres opgaver. Se \
                             forslaget, og svar ja eller nej.",
                        ),
                        (
                            "A volunteer is proposed for your task",
                            "The municipality has proposed a volunteer for one of your tasks. \
                             See the proposal, and answer yes or no.",
                        ),
                    )),
                    volunteer: Some(Wording::fixed(
                        (
                            "Du er foreslået til en opgave",
                            "Kommunen har foreslået dig til en frivillig opgave. Se forslaget, \
                             og svar ja eller nej.",
                        ),
                        (
                            "You are proposed for a task",
                            "The municipality has proposed you for a volunteer task. See the \
                             proposal, and answer yes or no.",
                        ),
                    )),
                },
                ProposedBy::Volunteer => Told {
                    organisation: Some(Wording::fixed(
                        (
                            "En frivillig har meldt sig til jeres opgave",
                            "En frivillig har meldt sig til en af jeres opgaver. Se forslaget, \
                             og svar ja eller nej.",
                        ),
                        (
                            "A volunteer has offered to take your task",
                            "A volunteer has offered to take one of your tasks. See the \
                             proposal, and answer yes or no.",
                        ),
                    )),
                    volunteer: None,
                },
            };
            (sides, Rule::MatchProposed, told)
        }
        MatchEvent::Accepted(e) => {
            let told = match e.side {
                MatchSide::Volunteer => Told {
                    organisation: Some(Wording::fixed(
                        (
                            "Den frivillige har sagt ja",
                            "Den frivillige har sagt ja til jeres opgave. Aftal, hvornår I \
                             starter.",
                        ),
                        (
                            "The volunteer has said yes",
                            "The volunteer has said yes to your task. Agree on when you start.",
                        ),
                    )),
                    volunteer: None,
                },
                MatchSide::Counterpart => Told {
                    organisation: None,
                    volunteer: Some(Wording::fixed(
                        (
                            "Der er sagt ja til dig",
                            "Der er sagt ja til dig som frivillig. Aftal, hvornår I starter.",
                        ),
                        (
                            "They have said yes to you",
                            "They have said yes to you as a volunteer. Agree on when you start.",
                        ),
                    )),
                },
            };
            (
                owners::of_match(conn, ctx, id).await?,
                Rule::MatchAccepted,
                told,
            )
        }
        MatchEvent::Declined(e) => {
            let told = match e.side {
                MatchSide::Volunteer => Told {
                    organisation: Some(Wording::fixed(
                        (
                            "Den frivillige har sagt nej tak",
                            "Den frivillige har sagt nej tak til jeres opgave. Opgaven er \
                             stadig åben for andre.",
                        ),
                        (
                            "The volunteer has said no, thank you",
                            "The volunteer has said no, thank you to your task. The task is \
                             still open to others.",
                        ),
                    )),
                    volunteer: None,
                },
                MatchSide::Counterpart => Told {
                    organisation: None,
                    volunteer: Some(Wording::fixed(
                        (
                            "Der er sagt nej tak",
                            "Der er sagt nej tak til forslaget denne gang. Du hører fra os, når \
                             en anden opgave passer.",
                        ),
                        (
                            "They have said no, thank you",
                            "They have said no, thank you to the proposal this time. You will \
                             hear from us when another task fits.",
                        ),
                    )),
                },
            };
            (
                owners::of_match(conn, ctx, id).await?,
                Rule::MatchDeclined,
                told,
            )
        }
        _ => return Ok(()),
    };
    let link = format!("/matches/{id}");
    let message = |recipient: Recipient, wording: Wording| Message {
        recipient,
        rule,
        wording,
        link: link.clone(),
    };
    if let (Some(organisation), Some(text)) = (sides.organisation, told.organisation) {
        deliver(
            conn,
            ctx,
            at,
            0,
            &message(Recipient::Organisation(organisation), text),
        )
        .await?;
    }
    if let (Some(volunteer), Some(text)) = (sides.volunteer, told.volunteer)
        && volunteers::may_be_told(conn, ctx, volunteer).await?
    {
        deliver(
            conn,
            ctx,
            at,
            1,
            &message(Recipient::Volunteer(volunteer), text),
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn of_pool(
    conn: &mut PgConnection,
    ctx: &EventContext<'_>,
    at: Place,
    event: &GrantPoolEvent,
) -> Result<(), ApplyError> {
    let message = match event {
        GrantPoolEvent::DecisionProposed(decision) | GrantPoolEvent::Decided(decision) => {
            let ApplicantRef::Organisation(organisation) = decision.applicant else {
                return Ok(());
            };
            let application = decision.application.as_uuid();
            let body = decision_text(decision);
            let proposed = matches!(event, GrantPoolEvent::DecisionProposed(_));
            let awaiting = proposed.then_some(&body);
            owners::applicant(conn, ctx, application, organisation.as_uuid(), awaiting).await?;
            if proposed {
                return Ok(());
            }
            Message {
                recipient: Recipient::Organisation(organisation.as_uuid()),
                rule: Rule::GrantDecided,
                wording: decision_wording(body, false),
                link: format!("/grant-applications/{application}"),
            }
        }
        GrantPoolEvent::DecisionApproved(e) => {
            let application = e.application.as_uuid();
            let Some((organisation, Some(proposed))) =
                owners::of_application(conn, ctx, application).await?
            else {
                return Ok(());
            };
            Message {
                recipient: Recipient::Organisation(organisation),
                rule: Rule::GrantApproved,
                wording: decision_wording(proposed, true),
                link: format!("/grant-applications/{application}"),
            }
        }
        GrantPoolEvent::PaymentRecorded(e) => {
            let application = e.application.as_uuid();
            let Some((organisation, _)) = owners::of_application(conn, ctx, application).await?
            else {
                return Ok(());
            };
            let reference = e.reference.as_str();
            Message {
                recipient: Recipient::Organisation(organisation),
                rule: Rule::PaymentRecorded,
                wording: Wording {
                    danish: Text::new(
                        "Udbetaling af jeres tilskud",
                        format!(
                            "{} er udbetalt den {} (reference {reference}).",
                            e.amount,
                            e.paid_on.format("%d.%m.%Y"),
                        ),
                    ),
                    english: Text::new(
                        "Payment of your grant",
                        format!(
                            "{} was paid on {} (reference {reference}).",
                            e.amount.in_english(),
                            e.paid_on.format("%-d %B %Y"),
                        ),
                    ),
                },
                link: format!("/grant-applications/{application}"),
            }
        }
        _ => return Ok(()),
    };
    deliver(conn, ctx, at, 0, &message).await
}

/// A decision in words, in each language: the outcome, the amounts, and the justification
/// given (in the words the committee wrote it in: Danish).
fn decision_text(decision: &PoolDecision) -> DecisionText {
    let (danish, english) = match decision.outcome {
        GrantOutcome::Full => (
            format!("Jeres ansøgning er imødekommet: I får {}", decision.amount),
            format!(
                "Your application is granted: you receive {}.",
                decision.amount.in_english()
            ),
        ),
        GrantOutcome::Partial => (
            format!(
                "Jeres ansøgning er delvist imødekommet: I får {} af de {} I søgte.",
                decision.amount, decision.requested
            ),
            format!(
                "Your application is granted in part: you receive {} of the {} you applied for.",
                decision.amount.in_english(),
                decision.requested.in_english()
            ),
        ),
        GrantOutcome::Refused => (
            "Jeres ansøgning er desværre afslået.".to_string(),
            "We are sorry: your application is refused.".to_string(),
        ),
    };
    match &decision.justification {
        Some(justification) => DecisionText {
            danish: format!("{danish}\n\nBegrundelse: {}", justification.as_str()),
            english: format!("{english}\n\nJustification: {}", justification.as_str()),
        },
        None => DecisionText { danish, english },
    }
}

/// A decision told in each language (kept while it awaits its second approval).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecisionText {
    pub danish: String,
    pub english: String,
}

/// The message of a decision: its words, and if it was `approved` by a second approver
/// (it was proposed above the pool's threshold), that it is final now.
fn decision_wording(text: DecisionText, approved: bool) -> Wording {
    let (danish, english) = if approved {
        (
            "\n\nAfgørelsen er godkendt af en anden og er endelig.",
            "\n\nThe decision has been approved by a second approver and is final.",
        )
    } else {
        ("", "")
    };
    Wording {
        danish: Text::new(
            "Afgørelse på jeres ansøgning",
            format!("{}{danish}", text.danish),
        ),
        english: Text::new(
            "Decision on your application",
            format!("{}{english}", text.english),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use samskab_domain::fixtures::*;

    #[test]
    fn a_decision_is_told_with_its_amounts_and_justification() {
        let decision = |outcome, amount, justification: Option<&str>| PoolDecision {
            id: grant_pool_id(),
            application: grant_application_id(),
            version: 1,
            applicant: ApplicantRef::Organisation(org_id()),
            outcome,
            amount,
            requested: kroner(40_000),
            year: 2026,
            justification: justification
                .map(|j| samskab_domain::Justification::parse(j).expect("justification")),
            decided_by: staff("udvalg-1"),
            assessed_by: Vec::new(),
            report_due: None,
            years: Vec::new(),
            duties: None,
            at: chrono::Utc::now(),
        };
        assert_eq!(
            decision_text(&decision(GrantOutcome::Full, kroner(40_000), None)),
            DecisionText {
                danish: "Jeres ansøgning er imødekommet: I får 40.000,00 kr.".into(),
                english: "Your application is granted: you receive DKK 40,000.00.".into(),
            }
        );
        assert_eq!(
            decision_text(&decision(
                GrantOutcome::Partial,
                kroner(25_000),
                Some("Puljen rummer ikke hele beløbet.")
            )),
            DecisionText {
                danish: "Jeres ansøgning er delvist imødekommet: I får 25.000,00 kr. af de \
                         40.000,00 kr. I søgte.\n\nBegrundelse: Puljen rummer ikke hele beløbet."
                    .into(),
                english: "Your application is granted in part: you receive DKK 25,000.00 of the \
                          DKK 40,000.00 you applied for.\n\nJustification: Puljen rummer ikke \
                          hele beløbet."
                    .into(),
            }
        );
        assert_eq!(
            decision_text(&decision(GrantOutcome::Refused, kroner(0), None)).english,
            "We are sorry: your application is refused."
        );
    }
}
