//! A worker killed mid-stream and restarted leaves the read model exactly right.

use std::time::Duration;

use samskab_api::Role;
use samskab_e2e::{Options, spawn_app_with, volunteer_body};

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
    // Kill the worker several times while it works through the backlog.
    for _ in 0..3 {
        app.start_worker();
        tokio::time::sleep(Duration::from_millis(40)).await;
        app.kill_worker().await;
    }
    app.start_worker();
    assert!(
        samskab_projection::wait_for_position(
            &app.pool,
            "directory",
            last,
            Duration::from_secs(30)
        )
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
