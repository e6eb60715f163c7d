//! Idempotency-Key over HTTP: the answer to a retry is always the first attempt's answer, read
//! from the log (see samskab-eventlog's `idempotency.rs`), for creates and for changes.

use reqwest::Method;
use samskab_api::Role;
use samskab_e2e::{TestApp, spawn_app, volunteer_body};
use serde_json::{Value, json};

async fn post_keyed(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> (u16, Value) {
    app.send(Method::POST, path, token, Some(key), body).await
}

async fn put_keyed(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> (u16, Value) {
    app.send(Method::PUT, path, token, Some(key), body).await
}

#[tokio::test]
async fn concurrent_registrations_with_one_key_create_one_volunteer_and_answer_alike() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let body = volunteer_body("Karen Blixen");
    let attempts = (0..8).map(|_| post_keyed(&app, "/volunteers", &token, "form-7", &body));
    let answers = futures::future::join_all(attempts).await;
    for (status, answer) in &answers {
        assert_eq!(*status, 201, "{answer}");
    }
    let first = &answers[0].1;
    for (_, answer) in &answers {
        assert_eq!(
            answer["id"], first["id"],
            "every attempt names the same volunteer"
        );
        assert_eq!(answer["position"], first["position"]);
        assert_eq!(answer["event_ids"], first["event_ids"]);
    }
    assert_eq!(
        answers
            .iter()
            .filter(|(_, a)| a["replayed"] == json!(false))
            .count(),
        1,
        "one attempt did the work, the others were answered with it"
    );
    assert_eq!(app.appended().await, 1, "one message in the log");
    let position = first["position"].as_u64().expect("position");
    let (status, page) = app
        .get(&format!("/volunteers?min_position={position}"), &token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_change_retried_after_other_changes_answers_as_the_first_time() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (status, created) = app
        .post("/volunteers", &token, &volunteer_body("Ole Rømer"))
        .await;
    assert_eq!(status, 201, "{created}");
    let path = format!("/volunteers/{}", created["id"].as_str().expect("id"));
    let mut first_body = volunteer_body("Ole Rømer");
    first_body
        .as_object_mut()
        .expect("object")
        .remove("consent");
    first_body["postcode"] = json!("2650");
    let (status, first) = put_keyed(&app, &path, &token, "edit-1", &first_body).await;
    assert_eq!(status, 202, "{first}");

    // Someone else changes the volunteer after that.
    let mut later_body = first_body.clone();
    later_body["postcode"] = json!("2000");
    let (status, later) = app.put(&path, &token, &later_body).await;
    assert_eq!(status, 202, "{later}");

    // The first change's retry (its answer was lost) gets the first answer and changes nothing.
    let (status, again) = put_keyed(&app, &path, &token, "edit-1", &first_body).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["position"], first["position"]);
    assert_eq!(again["event_ids"], first["event_ids"]);
    assert_eq!(again["replayed"], json!(true));
    assert_eq!(
        app.appended().await,
        3,
        "register, first change, later change"
    );
    let position = later["position"].as_u64().expect("position");
    let (status, volunteer) = app
        .get(&format!("{path}?min_position={position}"), &token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(volunteer["postcode"], "2000", "the later change stands");
}

#[tokio::test]
async fn a_key_reused_for_a_different_request_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (status, first) = post_keyed(
        &app,
        "/volunteers",
        &token,
        "form-9",
        &volunteer_body("Inger Christensen"),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let (status, problem) = post_keyed(
        &app,
        "/volunteers",
        &token,
        "form-9",
        &volunteer_body("Tove Ditlevsen"),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["type"],
        "https://samskab.dk/problems/idempotency-key-reused"
    );
    assert_eq!(app.appended().await, 1);
    // The key is the caller's municipality's: another one may use the same key.
    let roskilde = app.token("roskilde", Role::Caseworker);
    let (status, theirs) = post_keyed(
        &app,
        "/volunteers",
        &roskilde,
        "form-9",
        &volunteer_body("Tove Ditlevsen"),
    )
    .await;
    assert_eq!(status, 201, "{theirs}");
    assert_ne!(theirs["id"], first["id"]);
}
