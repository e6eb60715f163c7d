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

/// One sample of a Prometheus text answer: its value, by the series' name and labels as written.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_show_latency_by_route_template_and_each_projections_lag() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let mut last = 0;
    let mut id = String::new();
    for n in 0..3 {
        let (status, created) = app
            .post("/volunteers", &token, &volunteer_body(&format!("Målt {n}")))
            .await;
        assert_eq!(status, 201, "{created}");
        last = created["position"].as_u64().expect("position");
        id = created["id"].as_str().expect("id").to_string();
    }
    let (status, _) = app
        .post("/volunteers", &token, &serde_json::json!({"personal": 1}))
        .await;
    assert!((400..500).contains(&status), "refused: {status}");
    app.projected(last).await;
    let (status, _) = app.get(&format!("/volunteers/{id}"), &token).await;
    assert_eq!(status, 200);

    let operator = app.token("platform", Role::Operator);
    let response = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(&operator)
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("content type")
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("text");

    let post = r#"method="POST",route="/volunteers""#;
    let count = sample(
        &text,
        &format!("samskab_http_request_duration_seconds_count{{{post}}}"),
    );
    assert_eq!(count, Some(4.0), "{text}");
    assert_eq!(
        sample(
            &text,
            &format!("samskab_http_request_duration_seconds_bucket{{{post},le=\"+Inf\"}}")
        ),
        Some(4.0)
    );
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with(&format!(
                "samskab_http_request_duration_seconds_bucket{{{post}"
            ))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert_eq!(buckets.len(), 15, "14 bounds and +Inf: {text}");
    assert!(
        buckets.windows(2).all(|w| w[0] <= w[1]),
        "cumulative: {buckets:?}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("samskab_http_responses_total{{{post},class=\"2xx\"}}")
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!("samskab_http_responses_total{{{post},class=\"4xx\"}}")
        ),
        Some(1.0)
    );
    // A route is named by its template: no volunteer's id is ever a label.
    assert!(text.contains(r#"route="/volunteers/{id}""#), "{text}");
    assert!(!text.contains(&id), "{text}");

    let log_position = sample(&text, "samskab_log_position").expect("log position");
    assert!(log_position >= last as f64);
    for projection in [
        "directory",
        "matching",
        "grants",
        "audit",
        "reporting",
        "notify",
    ] {
        let label = format!("{{projection=\"{projection}\"}}");
        assert_eq!(
            sample(&text, &format!("samskab_projection_up{label}")),
            Some(1.0)
        );
        let position = sample(&text, &format!("samskab_projection_position{label}"))
            .unwrap_or_else(|| panic!("{projection}'s position: {text}"));
        let lag = sample(&text, &format!("samskab_projection_lag_messages{label}"))
            .unwrap_or_else(|| panic!("{projection}'s lag: {text}"));
        assert!(
            position >= last as f64,
            "{projection} applied what was waited for"
        );
        assert_eq!(position + lag, log_position, "{projection}");
        assert_eq!(
            sample(&text, &format!("samskab_projection_parked_events{label}")),
            Some(0.0)
        );
    }

    // Only the engineer on call reads them.
    let response = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status().as_u16(), 403);
}
