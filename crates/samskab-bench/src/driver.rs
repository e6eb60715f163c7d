//! Closed-loop load: N tasks, each issuing one operation after the other, for a warm-up and
//! then a measured window. Only operations that complete inside the window count; their
//! latencies go into an HDR histogram (microseconds).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

pub struct Run {
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub window: Duration,
    pub latency: Histogram<u64>,
    /// Where the CPU went during the window (see `cpu.rs`).
    pub cpu: Option<String>,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.ops as f64 / self.window.as_secs_f64()
    }
    pub fn p50(&self) -> Duration {
        quantile(&self.latency, 0.50)
    }
    pub fn p99(&self) -> Duration {
        quantile(&self.latency, 0.99)
    }
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.latency.max())
    }

    /// This run and `later` as one: operations, errors, windows and latencies added up; the
    /// CPU shares are `later`'s.
    pub fn and(mut self, later: Run) -> Run {
        self.ops += later.ops;
        self.errors += later.errors;
        self.first_error = self.first_error.or(later.first_error);
        self.window += later.window;
        // Both histograms have the same bounds; a value outside them cannot occur.
        let _ = self.latency.add(&later.latency);
        self.cpu = later.cpu.or(self.cpu);
        self
    }
}

pub fn histogram() -> Histogram<u64> {
    // 1 µs to 10 min, 3 significant figures; values above are clamped.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

pub fn record(histogram: &mut Histogram<u64>, value: Duration) {
    let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX).max(1);
    histogram.saturating_record(micros);
}

pub fn quantile(histogram: &Histogram<u64>, q: f64) -> Duration {
    Duration::from_micros(histogram.value_at_quantile(q))
}

/// Runs `op(task, n)` from `tasks` tasks for `warmup + window`.
pub async fn closed_loop<F, Fut>(
    tasks: usize,
    warmup: Duration,
    window: Duration,
    op: F,
) -> anyhow::Result<Run>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let start = Instant::now() + warmup;
    let end = start + window;
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(start.into()).await;
        let before = crate::cpu::snapshot();
        tokio::time::sleep_until(end.into()).await;
        crate::cpu::usage(&before, &crate::cpu::snapshot())
    });
    let mut handles = Vec::with_capacity(tasks);
    for task in 0..tasks {
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut latency = histogram();
            let (mut ops, mut errors, mut first_error) = (0u64, 0u64, None);
            let mut n = 0u64;
            loop {
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let result = op(task, n).await;
                n += 1;
                let done = Instant::now();
                if done < start || done > end {
                    continue;
                }
                match result {
                    Ok(()) => {
                        ops += 1;
                        record(&mut latency, done - began);
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            (ops, errors, first_error, latency)
        }));
    }
    let mut run = Run {
        ops: 0,
        errors: 0,
        first_error: None,
        window,
        latency: histogram(),
        cpu: None,
    };
    for handle in handles {
        let (ops, errors, first_error, latency) = handle.await?;
        run.ops += ops;
        run.errors += errors;
        if run.first_error.is_none() {
            run.first_error = first_error;
        }
        run.latency.add(&latency)?;
    }
    run.cpu = cpu.await?.map(|usage| usage.describe(run.ops, window));
    if run.ops == 0 {
        anyhow::bail!(
            "no operation succeeded ({} errors; first: {})",
            run.errors,
            run.first_error.as_deref().unwrap_or("none")
        );
    }
    Ok(run)
}
