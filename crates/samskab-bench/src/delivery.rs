//! Section 11: delivery of the notify outbox (`samskab_delivery`) to a local SMTP server
//! (aiosmtpd, the tests' server, writing each mail to a Maildir) and to a local webhook
//! receiver (the tests' `WebhookReceiver`, an axum server on 127.0.0.1).
//!
//! The outbox: one organisation (the directory holds its address) with a webhook endpoint and
//! a need, and `--mails` volunteers proposed for it, each proposal a message to the
//! organisation, projected by the real `NotifyProjection` (which writes the outbox in its
//! transaction): `--mails` mails and as many webhooks.
//!
//! 1. Baseline: the same number of mails sent straight through lettre's pooled SMTP transport,
//!    one after the other: what the SMTP conversation alone allows.
//! 2. The sender, mail only, draining the outbox's mails (queue, claim, look up the address,
//!    send, record); its rate against the baseline.
//! 3. Baseline: as many JSON bodies posted straight through reqwest, one after the other.
//! 4. The sender, webhooks only, draining the outbox's webhooks (claim, look up the endpoint,
//!    derive the secret, sign, post, record); its rate against baseline 3.

use std::time::Instant;

use anyhow::{Context, bail};
use lettre::message::Message;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use samskab_delivery::{DeliveryConfig, Mailer, Sender, WebhookKey, WebhookSender};
use samskab_directory_worker::DirectoryProjection;
use samskab_domain::fixtures::{
    match_details, need_details, need_id, org_id, organisation_details,
};
use samskab_domain::{
    MatchEvent, MatchId, MatchProposed, NeedEvent, OrganisationEvent, VolunteerId,
    WebhookEndpointDetails, WebhookEndpointEvent, WebhookEndpointId, WebhookUrl,
};
use samskab_notify_worker::NotifyProjection;
use samskab_testkit::projection::ReadModelTest;
use samskab_testkit::{SmtpServer, WebhookReceiver};
use tracing::info;

use crate::Args;
use crate::report::{Figure, Of, Report};

const TENANT: &str = "rodovre";
const ACTOR: &str = "user:sagsbehandler-1";

pub async fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let database = crate::fresh_database().await?;
    let pool = database.pool().await?;
    samskab_projection::MIGRATOR.run(&pool).await?;
    let smtp = SmtpServer::start().context("starting aiosmtpd (deploy/local/install-smtp.sh)")?;
    let mails = args.mails;

    let directory = ReadModelTest::new(DirectoryProjection, ACTOR);
    let registered = OrganisationEvent::Registered(organisation_details(org_id(), "Æblehaven"));
    let org = directory.recorded(TENANT, &org_id().as_uuid().to_string(), 1, &registered);
    directory.apply_all(&pool, &[&org]).await?;
    let receiver = WebhookReceiver::start().await?;
    let notify = ReadModelTest::new(NotifyProjection, ACTOR);
    let need = need_id();
    let endpoint = WebhookEndpointId::new_v7();
    let registered = WebhookEndpointEvent::Registered(WebhookEndpointDetails {
        id: endpoint,
        organisation: org_id(),
        url: WebhookUrl::parse(&receiver.url("/samskab"))?,
    });
    let mut events = vec![
        notify.recorded(TENANT, &endpoint.to_string(), 2, &registered),
        notify.recorded(
            TENANT,
            &need.as_uuid().to_string(),
            2,
            &NeedEvent::Published(need_details(need, "Lektiehjælp")),
        ),
    ];
    for n in 0..mails {
        let id = MatchId::from_uuid(uuid::Uuid::now_v7());
        let mut details = match_details(id);
        details.volunteer_id = VolunteerId::from_uuid(uuid::Uuid::now_v7());
        let proposed = MatchEvent::Proposed(MatchProposed {
            details,
            at: chrono::Utc::now(),
        });
        events.push(notify.recorded(TENANT, &id.as_uuid().to_string(), 3 + n as u64, &proposed));
    }
    notify
        .apply_all(&pool, &events.iter().collect::<Vec<_>>())
        .await?;
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM notify.outbox")
        .fetch_one(&pool)
        .await?;
    if outbox != 2 * mails as i64 {
        bail!("the outbox holds {outbox} rows, not {}", 2 * mails);
    }

    // 1. lettre alone.
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url())?.build();
    let started = Instant::now();
    for n in 0..mails {
        let message = Message::builder()
            .from("samskab <noreply@samskab.example.dk>".parse()?)
            .to("info@aeblehaven.dk".parse()?)
            .subject("En frivillig er foreslået til jeres opgave")
            .body(format!("Besked {n}\n\nSe mere i samskab: /matches/{n}\n"))?;
        transport.send(message).await?;
    }
    let direct = started.elapsed();
    report.add(Figure::new(
        11,
        "delivery.lettre",
        format!("{mails} mails straight through lettre (pooled connection), one by one"),
        mails as f64 / direct.as_secs_f64(),
        "mails/s",
    ));

    // 2. The sender, mail only, draining the outbox's mails.
    let mailer = Mailer::new(&smtp.url(), "samskab <noreply@samskab.example.dk>")?;
    let sender = Sender::new(pool.clone(), DeliveryConfig::default()).with_mail(mailer);
    let drained = timed_drain(&sender, &pool, "email", mails).await?;
    smtp.wait_for(2 * mails).await?;
    let rate = mails as f64 / drained.as_secs_f64();
    let mut figure = Figure::new(
        11,
        "delivery.sender",
        format!(
            "the sender draining an outbox of {mails} mails (queue, claim, address, send, record)"
        ),
        rate,
        "mails/s",
    );
    figure.ratio = report.ratio(rate, "delivery.lettre", Of::Value);
    report.add(figure);

    // 3. reqwest alone.
    let client = reqwest::Client::new();
    let started = Instant::now();
    for n in 0..mails {
        let answer = client
            .post(receiver.url("/direct"))
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"type":"notification.match_proposed","data":{{"n":{n}}}}}"#
            ))
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!("the receiver answered {}", answer.status());
        }
    }
    let direct = started.elapsed();
    report.add(Figure::new(
        11,
        "delivery.http",
        format!("{mails} JSON posts straight through reqwest to a local receiver, one by one"),
        mails as f64 / direct.as_secs_f64(),
        "posts/s",
    ));

    // 4. The sender, webhooks only, draining the outbox's webhooks.
    let key = WebhookKey::from_base64("c2Ftc2thYiBiZW5jaG1hcmsgd2ViaG9vayBrZXkgMDE=")?;
    let webhooks = WebhookSender::new(key, true)?;
    let sender = Sender::new(pool.clone(), DeliveryConfig::default()).with_webhooks(webhooks);
    let drained = timed_drain(&sender, &pool, "webhook:%", mails).await?;
    receiver.wait_for(2 * mails).await?;
    let rate = mails as f64 / drained.as_secs_f64();
    let mut figure = Figure::new(
        11,
        "delivery.webhooks",
        format!(
            "the sender draining an outbox of {mails} webhooks (claim, endpoint, sign, post, record)"
        ),
        rate,
        "posts/s",
    );
    figure.ratio = report.ratio(rate, "delivery.http", Of::Value);
    report.add(figure);
    Ok(())
}

/// Steps `sender` until a step finds nothing, and checks that the `count` deliveries of
/// `channel` (a LIKE pattern) were all delivered; how long it took.
async fn timed_drain(
    sender: &Sender,
    pool: &sqlx::PgPool,
    channel: &str,
    count: usize,
) -> anyhow::Result<std::time::Duration> {
    let started = Instant::now();
    let round = sender
        .drain(|delivered| info!(delivered, of = count, channel, "delivering the outbox"))
        .await?;
    let delivered = round.outcomes.len();
    let drained = started.elapsed();
    let sent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM delivery.delivery WHERE status = 'delivered' AND channel LIKE $1",
    )
    .bind(channel)
    .fetch_one(pool)
    .await?;
    if sent != count as i64 || delivered != count {
        bail!("{sent} of {count} delivered by {channel}");
    }
    Ok(drained)
}
