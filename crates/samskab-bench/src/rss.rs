//! Section 6: the resident memory of `samskab all` (API + directory worker in one process), in
//! a child process on the bench's own NATS server and a fresh database holding the demo data:
//! idle, then under registrations from N clients, sampled every 100 ms.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use samskab_api::TokenKeys;
use samskab_testkit::{NatsServer, TestDatabase};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::api::{caseworker_token, drive_registrations, http_client};
use crate::append::with_errors;
use crate::report::{Figure, Of, Report};
use crate::{Args, secs};

const JWT_SECRET: &str = "samskab-bench: a secret of at least thirty-two bytes";

fn binary(args: &Args) -> PathBuf {
    args.samskab_bin.clone().unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| samskab_testkit::repo_root().join("target"));
        target.join("release/samskab")
    })
}

fn command(
    bin: &Path,
    nats: &NatsServer,
    database: &TestDatabase,
    log: &Path,
) -> anyhow::Result<Command> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let mut command = Command::new(bin);
    command
        .env("NATS_URL", nats.url())
        .env("DATABASE_URL", &database.url)
        .env("SAMSKAB_JWT_SECRET", JWT_SECRET)
        .env(
            "SAMSKAB_MASTER_KEYS",
            samskab_privacy::MasterKeys::ephemeral().to_setting(),
        )
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Also killed when this function's caller returns early with an error.
        .kill_on_drop(true);
    Ok(command)
}

/// VmRSS (or another `Vm*` line) of a process, in KiB.
pub(crate) fn vm(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn wait_ready(child: &mut Child, base_url: &str) -> anyhow::Result<()> {
    let http = http_client()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("samskab all exited with {status} before it was ready");
        }
        if let Ok(response) = http.get(format!("{base_url}/ready")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("samskab all was not ready within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let bin = binary(args);
    if !bin.exists() {
        bail!(
            "{} not found: build it with `cargo build --release -p samskab` (or pass --samskab-bin)",
            bin.display()
        );
    }
    let nats = NatsServer::start()?;
    let database = crate::fresh_database().await?;
    let log_path = std::env::temp_dir().join(format!("samskab-bench-{}.log", std::process::id()));

    // The stream and the schema first (only `migrate` creates the stream), then demo data,
    // through the binary's own seeding.
    let status = command(&bin, &nats, &database, &log_path)?
        .arg("migrate")
        .status()
        .await?;
    if !status.success() {
        bail!(
            "samskab migrate failed ({status}); see {}",
            log_path.display()
        );
    }
    let seeded = Instant::now();
    let status = command(&bin, &nats, &database, &log_path)?
        .arg("seed-demo")
        .status()
        .await?;
    if !status.success() {
        bail!(
            "samskab seed-demo failed ({status}); see {}",
            log_path.display()
        );
    }
    println!(
        "  seed-demo done in {:.1} s (log: {})",
        seeded.elapsed().as_secs_f64(),
        log_path.display()
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base_url = format!("http://127.0.0.1:{port}");
    let mut child = command(&bin, &nats, &database, &log_path)?
        .env("SAMSKAB_LISTEN", format!("127.0.0.1:{port}"))
        .arg("all")
        .spawn()
        .context("starting samskab all")?;
    let outcome = measure(args, report, &mut child, &base_url).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    outcome
}

async fn measure(
    args: &Args,
    report: &mut Report,
    child: &mut Child,
    base_url: &str,
) -> anyhow::Result<()> {
    let pid = child.id().context("child pid")?;
    wait_ready(child, base_url).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = vm(pid, "VmRSS")?;
    report.add(Figure::new(
        6,
        "rss.idle",
        "samskab all: RSS idle (demo data loaded)",
        mib(idle),
        "MiB",
    ));

    let peak = Arc::new(AtomicU64::new(idle));
    let stop = CancellationToken::new();
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_millis(100));
            while !stop.is_cancelled() {
                ticks.tick().await;
                if let Ok(rss) = vm(pid, "VmRSS") {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
            }
        })
    };
    let token = caseworker_token(&TokenKeys::from_secret(JWT_SECRET.as_bytes()))?;
    let run = drive_registrations(
        base_url,
        &token,
        args.clients,
        Duration::from_secs(1),
        secs(args.rss_secs),
        None,
    )
    .await;
    stop.cancel();
    let _ = sampler.await;
    let run = run?;
    let after = vm(pid, "VmRSS")?;
    let hwm = vm(pid, "VmHWM")?;

    let mut figure = Figure::new(
        6,
        "rss.api",
        format!("samskab all: POST /volunteers, {} clients", args.clients),
        run.rate(),
        "reg/s",
    )
    .latency(run.p50(), run.p99(), run.max());
    figure.ratio = report.ratio(figure.value, "api.n", Of::Value);
    report.add(with_errors(figure, &run));
    let peak = peak.load(Ordering::Relaxed);
    let mut figure = Figure::new(
        6,
        "rss.peak",
        format!(
            "samskab all: RSS peak under {} clients (100 ms samples)",
            args.clients
        ),
        mib(peak),
        "MiB",
    )
    .note(format!(
        "VmHWM {:.1} MiB; RSS after the load {:.1} MiB",
        mib(hwm),
        mib(after)
    ));
    figure.ratio = report.ratio(figure.value, "rss.idle", Of::Value);
    report.add(figure);
    Ok(())
}
