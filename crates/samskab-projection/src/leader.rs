//! One applier per projection at a time.
//!
//! The checkpoint is a high-water mark: "everything up to N is applied". That only holds if the
//! messages are applied in log order by one applier. Two copies of a worker on one durable
//! consumer would each get some messages, and the one that commits a higher sequence first
//! would make the other skip its (lower) messages as "already applied". So copies elect a
//! leader with a PostgreSQL session advisory lock held on a dedicated connection; the others
//! wait as hot standbys and take over when the leader's connection goes away.
//!
//! Fencing: a copy that wins the lock raises the projection's epoch in
//! `samskab_runtime.projection_leader` (under the per-batch lock, so after any batch in flight
//! has committed), and each batch transaction checks, after taking the per-batch lock, that the
//! epoch is still the one its leader took over with. If the leader's connection died, the lock
//! is gone and a standby may have taken over: the old leader's next batch sees a later epoch and
//! stops before writing. (The check used to look for the lock in `pg_locks`, which takes every
//! lock-manager partition lock; this one reads a row by its key.)

use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::info;

/// Namespace of the leader locks (first key of the two-key advisory lock); the per-batch lock
/// uses the one-key form, so the two never collide.
const LEADER_NAMESPACE: &str = "samskab.projection.leader";

pub(crate) struct Leadership {
    conn: PgConnection,
    epoch: i64,
}

impl Leadership {
    /// The epoch this leadership took over with: what its batches are fenced by.
    pub fn epoch(&self) -> i64 {
        self.epoch
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
            let epoch = take_over(&mut conn, name, pid).await?;
            info!(projection = name, pid, epoch, "leader of the projection");
            return Ok(Some(Leadership { conn, epoch }));
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

/// Raises the projection's epoch, once no batch is in flight (the per-batch lock), and returns
/// it: from now on, only batches fenced by it write.
async fn take_over(conn: &mut PgConnection, name: &str, pid: i32) -> Result<i64, sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    let epoch = sqlx::query_scalar(
        "INSERT INTO samskab_runtime.projection_leader (projection, epoch, pid) VALUES ($1, 1, $2)
         ON CONFLICT (projection) DO UPDATE
             SET epoch = projection_leader.epoch + 1, pid = EXCLUDED.pid, since = now()
         RETURNING epoch",
    )
    .bind(name)
    .bind(pid)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(epoch)
}

/// True while `epoch` is still the projection's: no other copy has taken over since. Read from
/// the batch transaction after its per-batch lock, so a take-over either waited for this batch
/// or is seen by it.
pub(crate) async fn still_held(
    conn: &mut PgConnection,
    name: &str,
    epoch: i64,
) -> Result<bool, sqlx::Error> {
    let current: Option<i64> = sqlx::query_scalar(
        "SELECT epoch FROM samskab_runtime.projection_leader WHERE projection = $1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?;
    Ok(current == Some(epoch))
}
