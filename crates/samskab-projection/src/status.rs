//! Lag: how far a projection is behind the log, and how many events it has parked.

use samskab_eventlog::EventLog;
use sqlx::PgPool;

use crate::{checkpoint, park};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionStatus {
    pub name: String,
    /// The projection's checkpoint.
    pub position: u64,
    /// The log's last position.
    pub log_position: u64,
    /// `log_position - position`, in log positions. For a projection with subject filters it
    /// is an upper bound: positions it does not subscribe to count too.
    pub lag: u64,
    /// Events parked (`samskab_runtime.parked_event`).
    pub parked: u64,
}

pub async fn status(
    pool: &PgPool,
    log: &EventLog,
    name: &str,
    schema: &str,
) -> anyhow::Result<ProjectionStatus> {
    let position = checkpoint::of(pool, schema, name).await?;
    let log_position = log.last_position().await?;
    let parked = park::count(pool, name).await?;
    Ok(ProjectionStatus {
        name: name.to_string(),
        position,
        log_position,
        lag: log_position.saturating_sub(position),
        parked,
    })
}
