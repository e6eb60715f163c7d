use samskab_api::Role;
use samskab_e2e::{spawn_app, volunteer_body};

#[tokio::test]
async fn health_readiness_and_openapi_are_served() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(response.status().as_u16(), 200);
    let response = app.http.get(app.url("/ready")).send().await.expect("ready");
    assert_eq!(response.status().as_u16(), 200);
    let (status, openapi) = app.get("/openapi.json", "").await;
    assert_eq!(status, 200);
    assert!(
        openapi["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1")
    );
    for path in [
        "/volunteers",
        "/volunteers/{id}",
        "/organisations",
        "/municipalities",
        "/ops/projections",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let (status, problem) = app.get("/no/such/route", "").await;
    assert_eq!(status, 404);
    assert_eq!(problem["status"], 404);
}

#[tokio::test]
async fn commands_answer_503_while_nats_is_down_and_work_again_after() {
    let mut app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    app.nats.kill();
    let (status, problem) = app
        .post("/volunteers", &token, &volunteer_body("Mette"))
        .await;
    assert_eq!(status, 503, "{problem}");
    let response = app.http.get(app.url("/ready")).send().await.expect("ready");
    assert_eq!(response.status().as_u16(), 503);
    app.nats.restart().expect("restart");
    // Polls until the client has reconnected; the deadline only guards against a hang (a busy
    // 2-core machine may take seconds).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, _) = app
            .post("/volunteers", &token, &volunteer_body("Mette"))
            .await;
        if status == 201 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "commands work again after NATS is back (last answer {status})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn projection_lag_is_reported() {
    let mut app = spawn_app().await;
    // The set-up's own events applied first, so the lag is only what this test appends.
    assert!(
        samskab_projection::wait_for_position(
            &app.pool,
            "directory",
            app.setup_position,
            std::time::Duration::from_secs(10)
        )
        .await
        .expect("checkpoint")
    );
    app.kill_worker().await;
    let token = app.token("rodovre", Role::Caseworker);
    for n in 0..5 {
        app.post("/volunteers", &token, &volunteer_body(&format!("F {n}")))
            .await;
    }
    let operator = app.token("platform", Role::Operator);
    let (status, lag) = app.get("/ops/projections", &operator).await;
    assert_eq!(status, 200, "{lag}");
    assert_eq!(lag[0]["name"], "directory");
    assert_eq!(lag[0]["lag"], 5);
}

#[tokio::test]
async fn queries_answer_503_while_postgresql_is_unavailable() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (status, _) = app.get("/volunteers", &token).await;
    assert_eq!(status, 200);
    // Closing the pool is what the API sees when PostgreSQL cannot be reached: no connection.
    app.pool.close().await;
    let (status, problem) = app.get("/volunteers", &token).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["type"], "https://samskab.dk/problems/unavailable");
    let response = app.http.get(app.url("/ready")).send().await.expect("ready");
    assert_eq!(response.status().as_u16(), 503);
}
