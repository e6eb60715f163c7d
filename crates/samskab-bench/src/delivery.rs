//! Section 11: mail delivery of the notify outbox (`samskab_delivery`) to a local SMTP server
//! (aiosmtpd, the tests' server, writing each mail to a Maildir).
//!
//! The outbox: one organisation (the directory holds its address) with a need, and `--mails`
//! volunteers proposed for it, each proposal a message to the organisation, projected by the
//! real `NotifyProjection` (which writes the outbox in its transaction).
//!
//! 1. Baseline: the same number of mails sent straight through lettre's pooled SMTP transport,
//!    one after the other, as the sender sends them: what the SMTP conversation alone allows.
//! 2. The sender draining the outbox (queue, claim, look up the address, send, record), from
//!    its first step until every delivery is delivered; its rate against the baseline.

use std::time::Instant;

use anyhow::{Context, bail};
use lettre::message::Message;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use samskab_delivery::{DeliveryConfig, Mailer, Sender};
use samskab_directory_worker::DirectoryProjection;
use samskab_domain::fixtures::{
    match_details, need_details, need_id, org_id, organisation_details,
};
use samskab_domain::{
    MatchEvent, MatchId, MatchProposed, NeedEvent, OrganisationEvent, VolunteerId,
};
use samskab_notify_worker::NotifyProjection;
use samskab_testkit::SmtpServer;
use samskab_testkit::projection::ReadModelTest;
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
    let notify = ReadModelTest::new(NotifyProjection, ACTOR);
    let need = need_id();
    let mut events = vec![notify.recorded(
        TENANT,
        &need.as_uuid().to_string(),
        2,
        &NeedEvent::Published(need_details(need, "Lektiehjælp")),
    )];
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
    if outbox != mails as i64 {
        bail!("the outbox holds {outbox} rows, not {mails}");
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

    // 2. The sender draining the outbox.
    let mailer = Mailer::new(&smtp.url(), "samskab <noreply@samskab.example.dk>")?;
    let sender = Sender::new(pool.clone(), mailer, DeliveryConfig::default());
    let started = Instant::now();
    let mut delivered = 0usize;
    loop {
        let queued = sender.queue().await?;
        let round = sender.deliver_due().await?;
        delivered += round.outcomes.len();
        if queued == 0 && round.outcomes.is_empty() {
            break;
        }
        info!(delivered, of = mails, "delivering the outbox");
    }
    let drained = started.elapsed();
    let sent: i64 =
        sqlx::query_scalar("SELECT count(*) FROM delivery.delivery WHERE status = 'delivered'")
            .fetch_one(&pool)
            .await?;
    if sent != mails as i64 || delivered != mails {
        bail!("{sent} of {mails} delivered");
    }
    smtp.wait_for(2 * mails).await?;
    let rate = mails as f64 / drained.as_secs_f64();
    let mut figure = Figure::new(
        11,
        "delivery.sender",
        format!("the sender draining an outbox of {mails} (queue, claim, address, send, record)"),
        rate,
        "mails/s",
    );
    figure.ratio = report.ratio(rate, "delivery.lettre", Of::Value);
    report.add(figure);
    Ok(())
}
