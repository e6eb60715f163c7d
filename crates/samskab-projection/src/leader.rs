//! One applier per projection at a time.
//!
//! The checkpoint is a high-water mark: "everything up to N is applied". That only holds if the
//! messages are applied in log order by one applier. Two copies of a worker on one durable
//! consumer would each get some messages, and the one that commits a higher sequence first
//! would make the other skip its (lower) messages as "already applied". So copies elect a
//! leader with a PostgreSQL session advisory lock held on a dedicated connection; the others
//! wait as hot standbys and take over when the leader's connection goes away.
//!
//! Fencing: each batch transaction checks that the leader's backend still holds the lock. If the
//! leader's connection died, the lock is gone and a standby may already be applying, so the
//! old leader stops before writing.

use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::info;

/// Namespace of the leader locks (first key of the two-key advisory lock); the per-batch lock
/// uses the one-key form, so the two never collide.
const LEADER_NAMESPACE: &str = "samskab.projection.leader";

pub(crate) struct Leadership {
    conn: PgConnection,
    pid: i32,
}

impl Leadership {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Releases the lock by closing the connection (a standby takes over at once).
    pub async fn release(self) {
        let _ = self.conn.close().await;
    }
}

/// Waits until this process is the leader of projection `name`, or `shutdown` (→ `None`).
pub(crate) async fn acquire(
    pool: &PgPool,
    name: &str,
    shutdown: &CancellationToken,
) -> Result<Option<Leadership>, sqlx::Error> {
    // A connection of its own, outside the pool: it lives as long as the leadership.
    let mut conn = PgConnection::connect_with(&pool.connect_options()).await?;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut conn)
        .await?;
    let mut announced = false;
    loop {
        let got: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1), hashtext($2))")
                .bind(LEADER_NAMESPACE)
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
        if got {
            info!(projection = name, pid, "leader of the projection");
            return Ok(Some(Leadership { conn, pid }));
        }
        if !announced {
            info!(projection = name, "another copy is applying; standing by");
            announced = true;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// True while backend `pid` still holds a two-key advisory lock (only leader connections take
/// those). Read from the batch transaction, so the answer is the server's view.
pub(crate) async fn still_held(conn: &mut PgConnection, pid: i32) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks \
         WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND pid = $1)",
    )
    .bind(pid)
    .fetch_one(conn)
    .await
}
