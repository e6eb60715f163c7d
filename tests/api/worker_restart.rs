//! A worker killed mid-stream and restarted leaves the read model exactly right.

use std::time::Duration;

use samskab_api::Role;
use samskab_directory_worker::DirectoryProjection;
use samskab_e2e::{Options, TestApp, spawn_app_with, volunteer_body};
use samskab_projection::{Projector, ProjectorConfig};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Hang guard for waits that normally take milliseconds; CI is a busy two-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// Starts the directory projector like `TestApp::start_worker`, but with small batches: the
/// default batch (500) would take the whole backlog in one transaction, leaving nothing to
/// kill in the middle of. At 5 a batch, 300 registrations are ~60 commits.
fn start_small_batch_worker(app: &mut TestApp) {
    app.worker_stop = CancellationToken::new();
    let projector = Projector::new(
        DirectoryProjection,
        app.log.clone(),
        app.pool.clone(),
        ProjectorConfig {
            batch_size: 5,
            ..ProjectorConfig::default()
        },
    );
    let stop = app.worker_stop.clone();
    app.worker = Some(tokio::spawn(async move { projector.run(stop).await }));
}

/// Polls the directory checkpoint every 5 ms until it is above `above`; returns it.
async fn checkpoint_above(pool: &PgPool, above: u64) -> u64 {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let position = samskab_projection::checkpoint(pool, "directory")
            .await
            .expect("checkpoint");
        if position > above {
            return position;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker did not commit a batch: checkpoint stuck at {position}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The directory checkpoint once no batch transaction is in flight. Every batch transaction
/// first takes `pg_advisory_xact_lock(hashtext('directory'))` (samskab-projection, batch.rs);
/// taking it here waits until the batch a killed worker left behind has ended - committed, or
/// rolled back by the pool - so the value is final for that worker.
async fn settled_checkpoint(pool: &PgPool) -> u64 {
    let read = async {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('directory'))")
            .execute(&mut *tx)
            .await?;
        let position: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(position), 0)::bigint FROM directory.checkpoint",
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(position)
    };
    let position = tokio::time::timeout(PATIENCE, read)
        .await
        .expect("a batch transaction of the killed worker never ended")
        .expect("checkpoint");
    u64::try_from(position).expect("a position")
}

#[tokio::test]
async fn a_worker_killed_mid_stream_and_restarted_leaves_the_read_model_exactly_right() {
    let mut app = spawn_app_with(Options {
        with_worker: false,
        ..Options::default()
    })
    .await;
    let token = app.token("rodovre", Role::Caseworker);
    let mut ids = Vec::new();
    let mut last = 0;
    for n in 0..300 {
        let (status, created) = app
            .post(
                "/volunteers",
                &token,
                &volunteer_body(&format!("Frivillig {n}")),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(created["id"].as_str().expect("id").to_string());
        last = created["position"].as_u64().expect("position");
    }
    // Kill the worker (abort, no graceful shutdown) several times while it works through the
    // backlog: each time once it has committed a batch of its own - the checkpoint moved past
    // where the previous worker left it - and before it is through.
    let mut previous = 0;
    for round in 0..3 {
        start_small_batch_worker(&mut app);
        let seen = checkpoint_above(&app.pool, previous).await;
        // A few more steps for the worker (scheduler turns, not time), so the kills land at
        // different points of a batch; this test runs on a current-thread runtime, where the
        // worker only runs while this task waits.
        for _ in 0..round * 3 {
            tokio::task::yield_now().await;
        }
        app.kill_worker().await;
        let at_kill = settled_checkpoint(&app.pool).await;
        // The checkpoint only grows: `seen` (read before the kill) and `at_kill` (read after
        // it) bound the position at the kill from below and above.
        assert!(
            previous < seen && seen <= at_kill && at_kill < last,
            "round {round}: killed mid-stream, checkpoint {previous} -> {seen} ..= {at_kill}, \
             log up to {last}"
        );
        eprintln!("round {round}: killed at checkpoint {at_kill} of {last} (seen {seen})");
        previous = at_kill;
    }
    // The app's own worker (default batches) finishes the backlog.
    app.start_worker();
    assert!(
        samskab_projection::wait_for_position(&app.pool, "directory", last, PATIENCE)
            .await
            .expect("wait")
    );

    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id::text, count(*) OVER () FROM directory.volunteer WHERE tenant = 'rodovre' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("rows");
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(
        rows.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        expected,
        "every volunteer exactly once"
    );
    let parked: i64 = sqlx::query_scalar("SELECT count(*) FROM samskab_runtime.parked_event")
        .fetch_one(&app.pool)
        .await
        .expect("parked");
    assert_eq!(parked, 0, "no event parked by a redelivery");
    let checkpoint = samskab_projection::checkpoint(&app.pool, "directory")
        .await
        .expect("checkpoint");
    assert_eq!(checkpoint, last);
}
