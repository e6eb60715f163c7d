use anyhow::Context;
use samskab::projections;
use samskab_delivery::{DeliveryConfig, Mailer, Sender, WebhookKey, WebhookSender};
use samskab_projection::ProjectorConfig;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::cli::{AuditCommand, Cli, Command, Connections, DeliveryArgs, ServeArgs};
use crate::{config, seed};

/// `samskab worker delivery`: the outbox's sender alone.
const DELIVERY: &str = "delivery";

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::All(args) => serve(args, true).await,
        Command::Api(args) => serve(args, false).await,
        Command::Worker {
            name,
            connections,
            delivery,
        } => worker(&name, &connections, &delivery).await,
        Command::Migrate { connections } => {
            // The one command that creates or changes the event stream; every other start
            // checks it and refuses on a difference (see `EventLog::connect`).
            config::create_or_update_log(&connections).await?;
            let pool = config::connect_pg(&connections).await?;
            migrate(&pool).await
        }
        Command::Rebuild {
            projection,
            connections,
        } => rebuild(&projection, &connections).await,
        Command::SeedDemo {
            connections,
            volunteers,
        } => seed::seed_demo(&connections, volunteers).await,
        Command::Audit {
            command:
                AuditCommand::Verify {
                    tenant,
                    connections,
                },
        } => audit_verify(tenant.as_deref(), &connections).await,
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&samskab_api::openapi_document())?
            );
            Ok(())
        }
        Command::Tokens { jwt_secret } => {
            let keys = config::token_keys(&jwt_secret)?;
            seed::print_tokens(&keys, "http://127.0.0.1:8080")
        }
    }
}

/// `samskab audit verify`: each municipality's chain, one line each; exits 1 naming the first
/// broken record if there is one.
async fn audit_verify(tenant: Option<&str>, connections: &Connections) -> anyhow::Result<()> {
    let pool = config::connect_pg(connections).await?;
    let report = samskab_audit_worker::verify(&pool, tenant)
        .await
        .context("verifying the audit trail")?;
    for chain in &report.chains {
        match &chain.problem {
            None => println!(
                "{}: ok, {} records, head {} {}",
                chain.tenant,
                chain.records,
                chain.last_seq.unwrap_or(0),
                chain.last_hash.as_deref().unwrap_or("-")
            ),
            Some(problem) => println!("{}: BROKEN: {problem}", chain.tenant),
        }
    }
    if report.is_ok() {
        Ok(())
    } else {
        anyhow::bail!("the audit trail is not intact")
    }
}

async fn migrate(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    samskab_projection::MIGRATOR
        .run(pool)
        .await
        .context("applying migrations")?;
    info!("migrations applied");
    Ok(())
}

/// Cancelled on Ctrl-C or SIGTERM: servers stop taking work, projectors finish or abandon
/// their batch (committed and acked, or left unacked), never half-applied.
///
/// The handlers are installed here, before anything is served: a signal that arrives as soon
/// as the port is open must stop the process cleanly, not kill it (a test found the race when
/// the handlers were installed by the spawned task's first poll).
fn shutdown_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::spawn(async move {
                    tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
                    info!("shutting down");
                    cancel.cancel();
                });
            }
            _ => {
                tracing::warn!("cannot install signal handlers; Ctrl-C stops the process as is");
            }
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        info!("shutting down");
        cancel.cancel();
    });
    token
}

async fn serve(args: ServeArgs, with_workers: bool) -> anyhow::Result<()> {
    let api_config = config::api_config(&args)?;
    let tokens = config::token_keys(&args.jwt_secret)?;
    let log = config::connect_log(&args.connections).await?;
    let pool = config::connect_pg(&args.connections).await?;
    migrate(&pool).await?;
    let shutdown = shutdown_signal();

    let mut workers = Vec::new();
    if with_workers {
        for registered in projections::all() {
            let projector =
                registered.projector(log.clone(), pool.clone(), ProjectorConfig::default());
            workers.push(tokio::spawn(projector.run(shutdown.clone())));
        }
        if let Some(sender) = sender(&args.delivery, &pool)? {
            workers.push(tokio::spawn(sender.run(shutdown.clone())));
        }
        workers.push(tokio::spawn(clock(&log, &pool).run(shutdown.clone())));
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {} (SAMSKAB_LISTEN)", args.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    info!(%url, workers = workers.len(), "samskab is serving");
    if args.print_demo_tokens {
        seed::print_tokens(&tokens, &url)?;
    }
    let mut state = samskab_api::AppState::new(
        log,
        pool,
        tokens,
        api_config,
        projections::read_models().into(),
    );
    match &args.audit_signing_key {
        Some(seed) => {
            let signer = samskab_audit_worker::Signer::from_base64_seed(seed)
                .context("SAMSKAB_AUDIT_SIGNING_KEY")?;
            info!(public_key = %signer.public_key_base64(), "audit exports are signed");
            state = state.with_audit_signer(signer);
        }
        None => tracing::warn!(
            "no SAMSKAB_AUDIT_SIGNING_KEY: audit exports are refused (503) until one is set"
        ),
    }
    if let Some(key) = webhook_key(&args.delivery)? {
        state = state.with_webhook_key(key);
    }
    let pages = samskab_dashboard::pages(&state, config::dashboard_config(&args));
    let app = samskab_api::router(state).merge(pages);
    let stop = shutdown.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
        .context("serving HTTP")?;
    shutdown.cancel();
    for worker in workers {
        worker.await.context("worker task")??;
    }
    info!("stopped cleanly");
    Ok(())
}

/// The outbox's sender, with the channels configured (an SMTP server, a webhook key); none
/// if neither is.
fn sender(delivery: &DeliveryArgs, pool: &sqlx::PgPool) -> anyhow::Result<Option<Sender>> {
    let mut sender = Sender::new(pool.clone(), DeliveryConfig::default());
    let mut channels = 0;
    match &delivery.smtp_url {
        Some(url) => {
            sender = sender.with_mail(Mailer::new(url, &delivery.mail_from)?);
            channels += 1;
        }
        None => tracing::warn!("no SAMSKAB_SMTP_URL: nothing is mailed (the outbox keeps it)"),
    }
    match webhook_key(delivery)? {
        Some(key) => {
            if delivery.webhook_allow_local {
                tracing::warn!(
                    "SAMSKAB_WEBHOOK_ALLOW_LOCAL: webhooks may go over plain http and to local addresses"
                );
            }
            sender = sender.with_webhooks(WebhookSender::new(key, delivery.webhook_allow_local)?);
            channels += 1;
        }
        None => {
            tracing::warn!("no SAMSKAB_WEBHOOK_KEY: no webhook is posted (the outbox keeps it)")
        }
    }
    Ok((channels > 0).then_some(sender))
}

fn webhook_key(delivery: &DeliveryArgs) -> anyhow::Result<Option<WebhookKey>> {
    delivery
        .webhook_key
        .as_deref()
        .map(WebhookKey::from_base64)
        .transpose()
}

async fn worker(
    name: &str,
    connections: &Connections,
    delivery: &DeliveryArgs,
) -> anyhow::Result<()> {
    if name == DELIVERY {
        let pool = config::connect_pg(connections).await?;
        migrate(&pool).await?;
        let sender = sender(delivery, &pool)?
            .context("the sender needs SAMSKAB_SMTP_URL or SAMSKAB_WEBHOOK_KEY (or both)")?;
        return sender.run(shutdown_signal()).await;
    }
    let registered = projections::named(name)?;
    let log = config::connect_log(connections).await?;
    let pool = config::connect_pg(connections).await?;
    migrate(&pool).await?;
    let shutdown = shutdown_signal();
    info!(worker = name, "worker running");
    // The notify worker begins each municipality's day too: its time-based rules run on it.
    let clock = (name == samskab_notify_worker::READ_MODEL.name)
        .then(|| tokio::spawn(clock(&log, &pool).run(shutdown.clone())));
    registered
        .projector(log, pool, ProjectorConfig::default())
        .run(shutdown)
        .await?;
    if let Some(clock) = clock {
        clock.await.context("clock task")??;
    }
    Ok(())
}

/// The clock that begins each municipality's day in the log (`samskab_notify_worker::Clock`).
fn clock(log: &samskab_eventlog::EventLog, pool: &sqlx::PgPool) -> samskab_notify_worker::Clock {
    samskab_notify_worker::Clock::new(log.clone(), pool.clone(), Default::default())
}

async fn rebuild(projection: &str, connections: &Connections) -> anyhow::Result<()> {
    let registered = projections::named(projection)?;
    let log = config::connect_log(connections).await?;
    let pool = config::connect_pg(connections).await?;
    migrate(&pool).await?;
    let projector = registered.projector(log, pool, ProjectorConfig::default());
    let started = std::time::Instant::now();
    let progress = move |done: u64, total: u64| {
        let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
        info!(
            done,
            total,
            events_per_second = rate as u64,
            "rebuilding {projection}"
        );
    };
    let report = projector.rebuild(&progress).await?;
    info!(
        events = report.events,
        position = report.position,
        seconds = report.elapsed.as_secs_f64(),
        "rebuild done and swapped in"
    );
    Ok(())
}
