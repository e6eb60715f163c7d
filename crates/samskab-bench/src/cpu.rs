//! Where the CPU went during a measured window, from /proc: the whole machine's busy time and
//! the share of each process group (this bench, nats-server, PostgreSQL, a `samskab` child,
//! everything else). On a small machine the load generator, the API, NATS and PostgreSQL share
//! the cores, so this is what says whether a figure is bound by CPU.

use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    total: u64,
    idle: u64,
    groups: HashMap<&'static str, u64>,
}

const GROUPS: [&str; 4] = ["bench", "nats", "pg", "samskab"];

fn group(comm: &str) -> Option<&'static str> {
    match comm {
        "samskab-bench" => Some("bench"),
        "nats-server" => Some("nats"),
        "postgres" => Some("pg"),
        "samskab" => Some("samskab"),
        _ => None,
    }
}

pub fn snapshot() -> Snapshot {
    let mut snap = Snapshot::default();
    if let Ok(stat) = std::fs::read_to_string("/proc/stat")
        && let Some(line) = stat.lines().next()
    {
        let fields: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        snap.total = fields.iter().take(8).sum();
        snap.idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    }
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let Some(group) = group(&stat[open + 1..close]) else {
                continue;
            };
            let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            // After the command: state(3) ppid(4) ... utime(14) stime(15).
            let time: u64 = [11, 12]
                .iter()
                .filter_map(|&i| rest.get(i)?.parse::<u64>().ok())
                .sum();
            *snap.groups.entry(group).or_default() += time;
        }
    }
    snap
}

/// The CPU used between two snapshots: cores busy in all and per group, and CPU time per op.
pub struct Usage {
    pub busy_cores: f64,
    pub groups: Vec<(&'static str, f64)>,
    pub other: f64,
    pub cores: usize,
}

pub fn usage(before: &Snapshot, after: &Snapshot) -> Option<Usage> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let total = after.total.checked_sub(before.total)?;
    if total == 0 {
        return None;
    }
    let idle = after.idle.saturating_sub(before.idle);
    // Jiffies of one core over the window.
    let per_core = total as f64 / cores as f64;
    let busy_cores = (total - idle.min(total)) as f64 / per_core;
    let mut groups = Vec::new();
    let mut known = 0.0;
    for g in GROUPS {
        let used = after
            .groups
            .get(g)
            .copied()
            .unwrap_or(0)
            .saturating_sub(before.groups.get(g).copied().unwrap_or(0));
        if used > 0 {
            let c = used as f64 / per_core;
            known += c;
            groups.push((g, c));
        }
    }
    Some(Usage {
        busy_cores,
        groups,
        other: (busy_cores - known).max(0.0),
        cores,
    })
}

impl Usage {
    /// e.g. "CPU 1.96/2 cores (bench 1.21, nats 0.52, pg 0.15, other 0.08); 237 µs CPU/op".
    pub fn describe(&self, ops: u64, window: Duration) -> String {
        let mut parts: Vec<String> = self
            .groups
            .iter()
            .map(|(g, c)| format!("{g} {c:.2}"))
            .collect();
        parts.push(format!("other {:.2}", self.other));
        let mut out = format!(
            "CPU {:.2}/{} cores ({})",
            self.busy_cores,
            self.cores,
            parts.join(", ")
        );
        if ops > 0 {
            let per_op = self.busy_cores * window.as_secs_f64() / ops as f64 * 1e6;
            out.push_str(&format!("; {per_op:.0} µs CPU/op"));
        }
        out
    }
}
