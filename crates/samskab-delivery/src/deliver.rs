//! Step 2: due deliveries claimed, sent and their outcomes recorded, in the caller's
//! transaction.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use samskab_projection::Recipient;
use samskab_projection::read_model::{DIRECTORY, NOTIFY};
use sqlx::PgConnection;
use tracing::{info, warn};
use uuid::Uuid;

use crate::mail::{Digest, DigestItem, Language, Mail};
use crate::webhook::Hook;
use crate::{DeliveryConfig, Failure, Sender};

/// What became of one delivery in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Failed; tried again at `next` (attempt `attempts` + 1).
    Retry {
        attempts: i32,
        next: DateTime<Utc>,
        error: String,
    },
    /// Failed for good, or for the last time: an operator's to look at.
    Parked {
        error: String,
    },
    /// Nothing to send to: why.
    Dropped {
        reason: String,
    },
}

/// One round: each claimed delivery (message id, channel) and its outcome.
#[derive(Debug, Default)]
pub struct Round {
    pub outcomes: Vec<(Uuid, String, Outcome)>,
}

impl Round {
    /// The outcomes alone, in order.
    pub fn into_outcomes(self) -> Vec<Outcome> {
        self.outcomes.into_iter().map(|(_, _, o)| o).collect()
    }
}

/// Up to $1 due deliveries of the channels this sender has ($2: e-mail, $3: webhooks),
/// oldest due first, locked (others' copies skip them), with their message and where to send
/// it. A mail goes to the organisation's address while it is active, or the volunteer's while
/// they are registered and consent to notifications (withdrawn or forgotten, the directory
/// holds none). A webhook goes to its endpoint's URL while the endpoint is enabled and its
/// organisation active. The message is gone if its volunteer was forgotten.
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT d.message_id, d.channel, d.tenant, d.recipient, d.attempts,
                m.rule, m.subject, m.body, m.link, m.created_at, m.language,
                CASE WHEN d.channel IN ('email', 'digest') THEN
                    CASE split_part(d.recipient, ':', 1)
                        WHEN '{organisation}' THEN (
                            SELECT o.email FROM {directory}.organisation o
                            WHERE o.tenant = d.tenant AND o.active
                              AND o.id = split_part(d.recipient, ':', 2)::uuid)
                        WHEN '{volunteer}' THEN (
                            SELECT v.email FROM {directory}.volunteer v
                            JOIN {notify}.volunteer n
                              ON n.tenant = v.tenant AND n.volunteer_id = v.id
                            WHERE v.tenant = d.tenant AND n.status = 'active' AND n.notifications
                              AND v.id = split_part(d.recipient, ':', 2)::uuid)
                    END
                ELSE (
                    SELECT e.url FROM {notify}.webhook_endpoint e
                    JOIN {directory}.organisation o
                      ON o.tenant = e.tenant AND o.id = e.organisation_id AND o.active
                    WHERE e.tenant = d.tenant AND e.enabled
                      AND e.id = split_part(d.channel, ':', 2)::uuid)
                END AS address
         FROM delivery.delivery d
         LEFT JOIN {notify}.message m ON m.tenant = d.tenant AND m.id = d.message_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= now()
           AND CASE WHEN d.channel IN ('email', 'digest') THEN $2 ELSE $3 END
         ORDER BY d.next_attempt_at, d.message_id
         LIMIT $1
         FOR UPDATE OF d SKIP LOCKED",
        directory = DIRECTORY.schema,
        notify = NOTIFY.schema,
        organisation = Recipient::ORGANISATION,
        volunteer = Recipient::VOLUNTEER,
    )
});

/// Delivery ($1, $2) is now $3, after $4 more attempts of which $5 failed; due again at $6
/// (if pending); $7 why it failed or was dropped.
const RECORD: &str = "\
UPDATE delivery.delivery
SET status = $3, attempts = attempts + $4, failures = failures + $5, next_attempt_at = $6,
    finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END, last_error = $7
WHERE message_id = $1 AND channel = $2";

#[derive(sqlx::FromRow)]
struct Due {
    message_id: Uuid,
    channel: String,
    tenant: String,
    recipient: String,
    attempts: i32,
    rule: Option<String>,
    created_at: Option<DateTime<Utc>>,
    subject: Option<String>,
    body: Option<String>,
    link: Option<String>,
    language: Option<String>,
    address: Option<String>,
}

/// What a round sends: one delivery, or the day's digest deliveries of one recipient, which go
/// as one mail (indexes into the claimed deliveries).
enum Send {
    One(usize),
    Digest(Vec<usize>),
}

/// The claimed deliveries as sends: each alone, but a recipient's digest deliveries together.
fn sends_of(due: &[Due]) -> Vec<Send> {
    let mut sends = Vec::new();
    let mut digests: Vec<(&str, &str, Vec<usize>)> = Vec::new();
    for (i, delivery) in due.iter().enumerate() {
        if delivery.channel != DIGEST {
            sends.push(Send::One(i));
            continue;
        }
        let key = (delivery.tenant.as_str(), delivery.recipient.as_str());
        match digests.iter_mut().find(|(t, r, _)| (*t, *r) == key) {
            Some((_, _, members)) => members.push(i),
            None => digests.push((key.0, key.1, vec![i])),
        }
    }
    sends.extend(
        digests
            .into_iter()
            .map(|(_, _, members)| Send::Digest(members)),
    );
    sends
}

/// The channel of a message mailed in its recipient's daily digest.
const DIGEST: &str = "digest";

pub(crate) async fn round(
    conn: &mut PgConnection,
    sender: &Sender,
    config: &DeliveryConfig,
) -> Result<Round, sqlx::Error> {
    let due: Vec<Due> = sqlx::query_as(CLAIM.as_str())
        .bind(config.batch)
        .bind(sender.mailer.is_some())
        .bind(sender.webhooks.is_some())
        .fetch_all(&mut *conn)
        .await?;
    // Several at once, each over a pooled connection: one SMTP conversation is a chain of
    // round trips, and lettre's (0.11.23) leaves Nagle on, so each mail waits out the
    // server's delayed ACK (about 40 ms on Linux; lettre/lettre#1159); a webhook waits for its
    // receiver. Sent together, the waits overlap. The outcomes are recorded afterwards, in the
    // claimed order.
    let sends = sends_of(&due);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; due.len()];
    let claimed = &due;
    for chunk in sends.chunks(config.parallel.max(1)) {
        let mut running = Vec::with_capacity(chunk.len());
        for job in chunk {
            running.push(async move {
                match job {
                    Send::One(i) => vec![(*i, send(sender, config, &claimed[*i]).await)],
                    Send::Digest(members) => send_digest(sender, config, claimed, members).await,
                }
            });
        }
        for (i, outcome) in futures::future::join_all(running)
            .await
            .into_iter()
            .flatten()
        {
            outcomes[i] = Some(outcome);
        }
    }
    let mut round = Round::default();
    for (delivery, outcome) in due.into_iter().zip(outcomes) {
        let outcome = outcome.unwrap_or_else(|| dropped("not sent in its round"));
        record(&mut *conn, &delivery, &outcome).await?;
        round
            .outcomes
            .push((delivery.message_id, delivery.channel, outcome));
    }
    Ok(round)
}

/// The digest deliveries `members` of one recipient, in one mail: the messages still there,
/// oldest first. Each delivery's outcome is the mail's (a message gone is dropped alone).
async fn send_digest(
    sender: &Sender,
    config: &DeliveryConfig,
    due: &[Due],
    members: &[usize],
) -> Vec<(usize, Outcome)> {
    let mut outcomes = Vec::new();
    let mut items = Vec::new();
    let mut mailed = Vec::new();
    for &i in members {
        let delivery = &due[i];
        match (&delivery.subject, &delivery.body, &delivery.link) {
            (Some(subject), Some(body), Some(link)) => {
                items.push(DigestItem {
                    subject,
                    body,
                    link,
                });
                mailed.push(i);
            }
            _ => outcomes.push((
                i,
                dropped("the message is gone (its recipient was forgotten)"),
            )),
        }
    }
    let Some(&first) = mailed.first() else {
        return outcomes;
    };
    let lead = &due[first];
    let outcome = match (&lead.address, &sender.mailer) {
        (None, _) => dropped("no address to send to (none held, consent withdrawn or forgotten)"),
        (Some(to), Some(mailer)) => {
            let digest = Digest {
                id: lead.message_id,
                to,
                language: language_of(lead),
                items: &items,
            };
            let attempts = mailed.iter().map(|&i| due[i].attempts).max().unwrap_or(0) + 1;
            judged(config, lead, attempts, mailer.send_digest(&digest).await)
        }
        (Some(_), None) => judged(
            config,
            lead,
            lead.attempts + 1,
            Err(Failure::Transient(
                "no transport for this channel here".into(),
            )),
        ),
    };
    outcomes.extend(mailed.into_iter().map(|i| (i, outcome.clone())));
    outcomes
}

/// The language a message is written in (Danish unless it says English).
fn language_of(delivery: &Due) -> Language {
    match delivery.language.as_deref() {
        Some("en") => Language::English,
        _ => Language::Danish,
    }
}

async fn send(sender: &Sender, config: &DeliveryConfig, delivery: &Due) -> Outcome {
    let (Some(rule), Some(created_at), Some(subject), Some(body), Some(link)) = (
        &delivery.rule,
        delivery.created_at,
        &delivery.subject,
        &delivery.body,
        &delivery.link,
    ) else {
        return dropped("the message is gone (its recipient was forgotten)");
    };
    let webhook = delivery.channel.strip_prefix("webhook:");
    let Some(to) = &delivery.address else {
        return dropped(if webhook.is_some() {
            "the endpoint is disabled, or its organisation deactivated"
        } else {
            "no address to send to (none held, consent withdrawn or forgotten)"
        });
    };
    let sent = match (webhook, &sender.mailer, &sender.webhooks) {
        (None, Some(mailer), _) => {
            let mail = Mail {
                id: delivery.message_id,
                channel: &delivery.channel,
                to,
                subject,
                body,
                link,
                language: language_of(delivery),
            };
            mailer.send(&mail).await
        }
        (Some(endpoint), _, Some(webhooks)) => {
            let Ok(endpoint) = Uuid::parse_str(endpoint) else {
                return dropped("the channel names no endpoint");
            };
            let hook = Hook {
                id: delivery.message_id,
                tenant: &delivery.tenant,
                endpoint,
                url: to,
                recipient: &delivery.recipient,
                rule,
                subject,
                body,
                link,
                created_at,
            };
            webhooks.send(&hook).await
        }
        // Not claimed: the claim takes only the channels this sender has.
        _ => Err(Failure::Transient(
            "no transport for this channel here".into(),
        )),
    };
    judged(config, delivery, delivery.attempts + 1, sent)
}

/// The outcome of attempt `attempts` of `delivery` that ended as `sent`.
fn judged(
    config: &DeliveryConfig,
    delivery: &Due,
    attempts: i32,
    sent: Result<(), Failure>,
) -> Outcome {
    let (error, permanent) = match sent {
        Ok(()) => {
            info!(message = %delivery.message_id, channel = %delivery.channel,
                tenant = %delivery.tenant, recipient = %delivery.recipient, "delivered");
            return Outcome::Delivered;
        }
        Err(Failure::BadAddress) => return dropped("the address held is not a mail address"),
        Err(Failure::Permanent(error)) => (error, true),
        Err(Failure::Transient(error)) => (error, false),
    };
    if permanent || attempts >= config.max_attempts {
        warn!(message = %delivery.message_id, channel = %delivery.channel,
            tenant = %delivery.tenant, attempts, %error,
            "delivery parked: an operator's to look at (GET /ops/deliveries)");
        Outcome::Parked { error }
    } else {
        let next = Utc::now() + backoff(config, attempts);
        warn!(message = %delivery.message_id, channel = %delivery.channel, attempts, %error,
            %next, "delivery failed; tried again");
        Outcome::Retry {
            attempts,
            next,
            error,
        }
    }
}

fn dropped(reason: &str) -> Outcome {
    Outcome::Dropped {
        reason: reason.into(),
    }
}

/// The wait after failed attempt `attempts` (1, 2, ...): the base, doubled each time, capped.
fn backoff(config: &DeliveryConfig, attempts: i32) -> chrono::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let wait = config
        .retry_base
        .saturating_mul(1 << doublings)
        .min(config.retry_max);
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

async fn record(
    conn: &mut PgConnection,
    delivery: &Due,
    outcome: &Outcome,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let (status, attempts, failures, next, error) = match outcome {
        Outcome::Delivered => ("delivered", 1, 0, now, None),
        Outcome::Retry { next, error, .. } => ("pending", 1, 1, *next, Some(error.as_str())),
        Outcome::Parked { error } => ("parked", 1, 1, now, Some(error.as_str())),
        Outcome::Dropped { reason } => ("dropped", 0, 0, now, Some(reason.as_str())),
    };
    sqlx::query(RECORD)
        .bind(delivery.message_id)
        .bind(&delivery.channel)
        .bind(status)
        .bind(attempts)
        .bind(failures)
        .bind(next)
        .bind(error)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_wait_doubles_from_the_base_up_to_the_cap() {
        let config = DeliveryConfig {
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(300),
            ..DeliveryConfig::default()
        };
        let waits: Vec<i64> = (1..=6).map(|n| backoff(&config, n).num_seconds()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 300, 300]);
    }
}
