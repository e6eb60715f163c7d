//! Section 3: loading one entity's history (the first step of every command on an existing
//! entity): batch direct get (`EventLog::load`) against an ordered consumer on the subject.
//! Both decode the envelopes, so the comparison is of the transport.

use std::sync::Arc;

use anyhow::{Context, bail};
use async_nats::jetstream::consumer::pull;
use futures::StreamExt;
use samskab_eventlog::{EntityRef, EventLog, decode_message};

use crate::driver::closed_loop;
use crate::fixtures::{RegistrationTemplate, meta};
use crate::report::{Figure, Of, Report};
use crate::{Args, secs};

pub async fn run(args: &Args, log: &EventLog, report: &mut Report) -> anyhow::Result<()> {
    let events = args.history_events.max(1);
    let template = RegistrationTemplate::new()?;
    let entity = EntityRef::new("bench", "history", &uuid::Uuid::now_v7().to_string())?;
    let mut expected = 0;
    for _ in 0..events {
        // A realistic payload (a registration's) on one subject, one command after the other.
        let event = template.registration()?.event;
        expected = log
            .append(&entity, expected, &meta(), vec![event])
            .await?
            .position;
    }

    let loader = log.clone();
    let target = entity.clone();
    let run = closed_loop(1, args.warmup(), secs(args.load_secs), move |_, _| {
        let log = loader.clone();
        let entity = target.clone();
        async move {
            let history = log.load(&entity).await?;
            if history.events.len() != events {
                bail!("loaded {} events, not {events}", history.events.len());
            }
            Ok(())
        }
    })
    .await?;
    let direct = crate::append::with_errors(
        Figure::new(
            3,
            "load.direct",
            format!("EventLog::load (batch direct get), {events} events"),
            run.rate(),
            "loads/s",
        )
        .latency(run.p50(), run.p99(), run.max()),
        &run,
    );

    // Measured second, so that nothing the consumers leave behind weighs on direct get.
    let stream = Arc::new(
        log.jetstream()
            .get_stream(&log.config().stream)
            .await
            .context("stream")?,
    );
    let subject = entity.subject(&log.config().subject_prefix);
    let run = closed_loop(1, args.warmup(), secs(args.load_secs), move |_, _| {
        let stream = stream.clone();
        let subject = subject.clone();
        async move {
            let consumer = stream
                .create_consumer(pull::OrderedConfig {
                    filter_subject: subject,
                    ..Default::default()
                })
                .await?;
            let name = consumer.cached_info().name.clone();
            let mut messages = consumer.messages().await?;
            let mut loaded = Vec::with_capacity(events);
            while let Some(message) = messages.next().await {
                let message = message?;
                let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
                let (sequence, pending) = (info.stream_sequence, info.pending);
                loaded.extend(decode_message(sequence, &message.payload)?);
                if pending == 0 {
                    break;
                }
            }
            drop(messages);
            // Deleted at once: left to its 30 s inactivity threshold, thousands of them pile
            // up on the server (and hit its consumer limit).
            stream.delete_consumer(&name).await?;
            if loaded.len() != events {
                bail!("read {} events, not {events}", loaded.len());
            }
            Ok(())
        }
    })
    .await?;
    let ordered = Figure::new(
        3,
        "load.ordered",
        format!("ordered consumer (create, read, delete), {events} events"),
        run.rate(),
        "loads/s",
    )
    .latency(run.p50(), run.p99(), run.max());
    report.add(crate::append::with_errors(ordered, &run));
    let mut direct = direct;
    direct.ratio = report.ratio(direct.value, "load.ordered", Of::Value);
    report.add(direct);
    Ok(())
}
