//! The sender against a real PostgreSQL and a real SMTP server (aiosmtpd): the outbox that
//! the notify projection writes is mailed once, to the address the directory holds, with the
//! message's id as its Message-ID; a redelivery or a rebuild of `notify` mails nothing again;
//! a crash after sending sends the same Message-ID again; a server that does not answer is
//! tried again and, after the last attempt, the delivery is parked.

use std::time::Duration;

use samskab_delivery::{DeliveryConfig, Mailer, Outcome, Sender};
use samskab_directory_worker::DirectoryProjection;
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_notify_worker::NotifyProjection;
use samskab_testkit::SmtpServer;
use samskab_testkit::projection::{ReadModelTest, migrated_database, time_at};
use sqlx::PgPool;

const TENANT: &str = "rodovre";
const ACTOR: &str = "user:sagsbehandler-1";
const DIRECTORY: ReadModelTest<DirectoryProjection> =
    ReadModelTest::new(DirectoryProjection, ACTOR);
const NOTIFY: ReadModelTest<NotifyProjection> = ReadModelTest::new(NotifyProjection, ACTOR);

/// The canonical organisation (info@aeblehaven.dk) posts a need; a volunteer is proposed for
/// it (position 3) and declines (position 4): two messages for the organisation.
async fn two_messages_for_the_organisation(pool: &PgPool) -> anyhow::Result<Vec<RecordedEvent>> {
    let registered = OrganisationEvent::Registered(organisation_details(org_id(), "Æblehaven"));
    let org = DIRECTORY.recorded(TENANT, &org_id().as_uuid().to_string(), 1, &registered);
    DIRECTORY.apply_all(pool, &[&org]).await?;
    let (need, matched) = (need_id(), match_id());
    let declined = MatchEvent::Declined(MatchDeclined {
        id: matched,
        side: MatchSide::Volunteer,
        reason: None,
        at: time_at(4),
    });
    let events = vec![
        NOTIFY.recorded(
            TENANT,
            &need.as_uuid().to_string(),
            2,
            &NeedEvent::Published(need_details(need, "Lektiehjælp")),
        ),
        NOTIFY.recorded(
            TENANT,
            &matched.as_uuid().to_string(),
            3,
            &match_proposed(matched),
        ),
        NOTIFY.recorded(TENANT, &matched.as_uuid().to_string(), 4, &declined),
    ];
    NOTIFY
        .apply_all(pool, &events.iter().collect::<Vec<_>>())
        .await?;
    Ok(events)
}

fn sender(pool: &PgPool, smtp: &SmtpServer, config: DeliveryConfig) -> anyhow::Result<Sender> {
    let mailer = Mailer::new(&smtp.url(), "samskab <noreply@samskab.example.dk>")?;
    Ok(Sender::new(pool.clone(), config).with_mail(mailer))
}

fn message_id(position: u64) -> String {
    format!(
        "<{}.email@samskab.example.dk>",
        NotificationId::of(position, 0, 0)
    )
}

#[tokio::test]
async fn the_outbox_is_mailed_once_to_the_directorys_address_whatever_is_replayed()
-> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let smtp = SmtpServer::start()?;
    let events = two_messages_for_the_organisation(&pool).await?;
    let sender = sender(&pool, &smtp, DeliveryConfig::default())?;
    assert_eq!(
        sender.drain(|_| {}).await?.into_outcomes(),
        [Outcome::Delivered, Outcome::Delivered]
    );
    let mut mails = smtp.wait_for(2).await?;
    // Sent at the same time: in whichever order they arrived.
    mails.sort_by(|a, b| a.header("message-id").cmp(&b.header("message-id")));
    let ids: Vec<_> = mails.iter().map(|m| m.header("message-id")).collect();
    assert_eq!(
        ids,
        [Some(message_id(3).as_str()), Some(message_id(4).as_str())]
    );
    let first = &mails[0];
    assert_eq!(first.header("to"), Some("info@aeblehaven.dk"));
    assert_eq!(
        first.header("from"),
        Some("samskab <noreply@samskab.example.dk>")
    );
    let subject: Option<String> =
        sqlx::query_scalar("SELECT subject FROM notify.message WHERE id = $1")
            .bind(NotificationId::of(3, 0, 0).as_uuid())
            .fetch_optional(&pool)
            .await?;
    assert_eq!(first.header("subject"), subject.as_deref());
    assert!(
        first
            .body
            .contains(&format!("/matches/{}", match_id().as_uuid())),
        "the link: {}",
        first.body
    );

    // A redelivery of the events writes no outbox row; a rebuild writes them all again, with
    // the same ids, behind the sender's cursor: nothing is mailed again.
    NOTIFY
        .apply_all(&pool, &events.iter().collect::<Vec<_>>())
        .await?;
    assert_eq!(sender.drain(|_| {}).await?.into_outcomes(), []);
    sqlx::query("TRUNCATE notify.message, notify.outbox, notify.need_owner, notify.match_owner")
        .execute(&pool)
        .await?;
    NOTIFY
        .apply_all(&pool, &events.iter().collect::<Vec<_>>())
        .await?;
    let rebuilt: i64 = sqlx::query_scalar("SELECT count(*) FROM notify.outbox")
        .fetch_one(&pool)
        .await?;
    assert_eq!(rebuilt, 2, "the rebuild wrote the outbox again");
    assert_eq!(sender.drain(|_| {}).await?.into_outcomes(), []);
    assert_eq!(smtp.received()?.len(), 2, "nothing mailed twice");
    Ok(())
}

#[tokio::test]
async fn a_crash_after_sending_sends_the_same_message_id_again() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let smtp = SmtpServer::start()?;
    two_messages_for_the_organisation(&pool).await?;
    let sender = sender(&pool, &smtp, DeliveryConfig::default())?;
    assert_eq!(sender.queue().await?, 2);
    // Sent, and the process dies before its transaction commits.
    let mut crashed = pool.begin().await?;
    let round = sender.attempt(&mut crashed).await?;
    assert_eq!(round.outcomes.len(), 2);
    crashed.rollback().await?;
    assert_eq!(
        sender.drain(|_| {}).await?.into_outcomes(),
        [Outcome::Delivered, Outcome::Delivered]
    );
    let mails = smtp.wait_for(4).await?;
    let mut ids: Vec<_> = mails
        .iter()
        .filter_map(|m| m.header("message-id").map(str::to_string))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [message_id(3), message_id(3), message_id(4), message_id(4)],
        "each sent twice, recognisably the same"
    );
    Ok(())
}

/// A sender to a server that is not there yet, with no wait between attempts (so each round
/// is the next attempt), the outbox queued.
async fn to_a_silent_server(max_attempts: i32) -> anyhow::Result<(PgPool, SmtpServer, Sender)> {
    let pool = migrated_database().await?;
    let smtp = SmtpServer::stopped()?;
    two_messages_for_the_organisation(&pool).await?;
    let config = DeliveryConfig {
        max_attempts,
        retry_base: Duration::ZERO,
        ..DeliveryConfig::default()
    };
    let sender = sender(&pool, &smtp, config)?;
    assert_eq!(sender.queue().await?, 2);
    Ok((pool, smtp, sender))
}

async fn states(pool: &PgPool) -> anyhow::Result<Vec<(String, i32, i32, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT status, attempts, failures, last_error FROM delivery.delivery
         ORDER BY message_id",
    )
    .fetch_all(pool)
    .await?)
}

const NO_CONVERSATION: &str = "no SMTP conversation (connection refused or broken)";

#[tokio::test]
async fn a_server_that_does_not_answer_is_tried_again_and_mailed_once_it_does() -> anyhow::Result<()>
{
    let (pool, mut smtp, sender) = to_a_silent_server(5).await?;
    let failed = sender.deliver_due().await?.outcomes;
    assert!(
        failed
            .iter()
            .all(|(_, _, o)| matches!(o, Outcome::Retry { attempts: 1, error, .. } if error == NO_CONVERSATION)),
        "{failed:?}"
    );
    smtp.spawn()?;
    assert_eq!(
        sender.drain(|_| {}).await?.into_outcomes(),
        [Outcome::Delivered, Outcome::Delivered]
    );
    assert_eq!(smtp.wait_for(2).await?.len(), 2);
    let delivered = ("delivered".to_string(), 2, 1, None);
    assert_eq!(states(&pool).await?, [delivered.clone(), delivered]);
    Ok(())
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_parked_after_its_last_attempt() -> anyhow::Result<()> {
    let (pool, mut smtp, sender) = to_a_silent_server(3).await?;
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.push(sender.deliver_due().await?.outcomes);
    }
    let of_first: Vec<&Outcome> = outcomes.iter().map(|round| &round[0].2).collect();
    assert!(
        matches!(
            of_first.as_slice(),
            [
                Outcome::Retry { attempts: 1, .. },
                Outcome::Retry { attempts: 2, .. },
                Outcome::Parked { .. }
            ]
        ),
        "{of_first:?}"
    );
    let parked = (
        "parked".to_string(),
        3,
        3,
        Some(NO_CONVERSATION.to_string()),
    );
    assert_eq!(states(&pool).await?, [parked.clone(), parked]);

    // The server is back; a parked delivery waits for an operator.
    smtp.spawn()?;
    assert_eq!(sender.drain(|_| {}).await?.into_outcomes(), []);
    assert_eq!(smtp.received()?.len(), 0);
    Ok(())
}

/// A daily digest, as an association's treasurer who reads English and wants one mail a day
/// would have it: the organisation's two messages are queued for the next 07:00 in
/// Copenhagen, nothing is mailed before, and when the morning comes (here: the deliveries made
/// due) they go as one mail, in English, each message's subject and link in it.
#[tokio::test]
async fn a_digest_waits_for_the_morning_and_goes_as_one_mail_in_the_recipients_language()
-> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let smtp = SmtpServer::start()?;
    let recipient = format!("organisation:{}", org_id().as_uuid());
    let id = NotificationPreferencesId::of_recipient(&recipient);
    let english_digest = NotificationPreferencesEvent::Set(PreferencesSet {
        id,
        recipient,
        preferences: Preferences {
            email: true,
            language: MessageLanguage::English,
            cadence: MailCadence::DailyDigest,
        },
    });
    let set = NOTIFY.recorded(TENANT, &id.as_uuid().to_string(), 1, &english_digest);
    NOTIFY.apply_all(&pool, &[&set]).await?;
    two_messages_for_the_organisation(&pool).await?;
    let sender = sender(&pool, &smtp, DeliveryConfig::default())?;

    assert_eq!(sender.drain(|_| {}).await?.into_outcomes(), [], "not yet");
    let due: Vec<(String, i32, i32, bool)> = sqlx::query_as(
        "SELECT channel,
                extract(hour FROM next_attempt_at AT TIME ZONE 'Europe/Copenhagen')::int,
                extract(minute FROM next_attempt_at AT TIME ZONE 'Europe/Copenhagen')::int,
                next_attempt_at > now() AND next_attempt_at <= now() + interval '1 day'
         FROM delivery.delivery ORDER BY message_id",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(due, vec![("digest".to_string(), 7, 0, true); 2]);

    sqlx::query("UPDATE delivery.delivery SET next_attempt_at = now()")
        .execute(&pool)
        .await?;
    assert_eq!(
        sender.drain(|_| {}).await?.into_outcomes(),
        [Outcome::Delivered, Outcome::Delivered]
    );
    let mails = smtp.wait_for(1).await?;
    assert_eq!(mails.len(), 1, "one mail for the day");
    let digest = &mails[0];
    assert_eq!(digest.header("to"), Some("info@aeblehaven.dk"));
    assert_eq!(
        digest.header("subject"),
        Some("Today's 2 messages from samskab")
    );
    assert_eq!(
        digest.header("message-id"),
        Some(
            format!(
                "<{}.digest@samskab.example.dk>",
                NotificationId::of(3, 0, 0)
            )
            .as_str()
        )
    );
    let subjects: Vec<String> =
        sqlx::query_scalar("SELECT subject FROM notify.message ORDER BY id")
            .fetch_all(&pool)
            .await?;
    assert_eq!(
        subjects,
        [
            "A volunteer is proposed for your task",
            "The volunteer has said no, thank you"
        ]
    );
    for subject in &subjects {
        assert!(digest.body.contains(subject.as_str()), "{}", digest.body);
    }
    assert!(
        digest.body.contains(&format!(
            "See more in samskab: /matches/{}",
            match_id().as_uuid()
        )),
        "{}",
        digest.body
    );
    assert_eq!(sender.drain(|_| {}).await?.into_outcomes(), []);
    assert_eq!(smtp.received()?.len(), 1, "nothing mailed twice");
    Ok(())
}
