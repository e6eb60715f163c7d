//! Section 1: the raw append rate, the baseline of everything that writes. One small event per
//! command on a fresh subject, expecting subject sequence 0, as a registration does.

use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use samskab_eventlog::EventLog;

use crate::driver::closed_loop;
use crate::fixtures::{fresh_entity, meta, small_event};
use crate::report::{Figure, Of, Report};
use crate::{Args, secs};

pub async fn run(args: &Args, log: &EventLog, report: &mut Report) -> anyhow::Result<()> {
    for (tasks, key) in [(1, "append.1"), (args.clients, "append.n")] {
        let log = log.clone();
        let label = format!("a{tasks}");
        let run = closed_loop(
            tasks,
            args.warmup(),
            secs(args.append_secs),
            move |task, n| {
                let log = log.clone();
                let entity = fresh_entity(&label, task, n);
                async move {
                    log.append(&entity?, 0, &meta(), vec![small_event(n)])
                        .await?;
                    Ok(())
                }
            },
        )
        .await?;
        let figure = Figure::new(
            1,
            key,
            format!("EventLog::append, {tasks} task{}", plural(tasks)),
            run.rate(),
            "cmd/s",
        )
        .latency(run.p50(), run.p99(), run.max());
        report.add(with_errors(figure, &run));
    }

    for (tasks, key, base) in [
        (1, "raw.1", "append.1"),
        (args.clients, "raw.n", "append.n"),
    ] {
        let js = log.jetstream().clone();
        let prefix = format!("{}.bench.raw.r{tasks}", log.config().subject_prefix);
        let run = closed_loop(
            tasks,
            args.warmup(),
            secs(args.append_secs),
            move |task, n| {
                let js = js.clone();
                let subject = format!("{prefix}-{task}-{n}");
                async move {
                    let message = PublishMessage::build()
                        .payload(Bytes::from(format!("{{\"n\":{n}}}")))
                        .header("Nats-Expected-Last-Subject-Sequence", "0");
                    js.send_publish(subject, message).await?.await?;
                    Ok(())
                }
            },
        )
        .await?;
        let mut figure = Figure::new(
            1,
            key,
            format!(
                "raw async_nats publish + expected-seq header, {tasks} task{}",
                plural(tasks)
            ),
            run.rate(),
            "cmd/s",
        )
        .latency(run.p50(), run.p99(), run.max());
        figure.ratio = report.ratio(run.rate(), base, Of::Value);
        report.add(with_errors(figure, &run));
    }
    Ok(())
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The run's CPU use and errors (if any) as the figure's note.
pub fn with_errors(figure: Figure, run: &crate::driver::Run) -> Figure {
    let mut note = run.cpu.clone().unwrap_or_default();
    if run.errors > 0 {
        note.push_str(&format!(
            "; {} errors; first: {}",
            run.errors,
            run.first_error.as_deref().unwrap_or("?")
        ));
    }
    if note.is_empty() {
        figure
    } else {
        figure.note(note)
    }
}
