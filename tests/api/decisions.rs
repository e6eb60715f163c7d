//! Decision states kept between commands (`samskab_api::decisions`) never decide on a stale
//! state: with two API instances, what one appends is seen by the other's next command.

use samskab_api::Role;
use samskab_e2e::{read, spawn_app, volunteer_body};
use serde_json::{Value, json};

async fn put(
    app: &samskab_e2e::TestApp,
    base: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> (u16, Value) {
    let response = app
        .http
        .put(format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    read(response).await
}

#[tokio::test]
async fn a_second_instance_never_decides_on_a_state_it_kept_from_before() {
    let app = spawn_app().await;
    let other = app.another_api().await;
    let here = app.url("");
    let token = app.token("rodovre", Role::Caseworker);
    let (status, created) = app
        .post("/volunteers", &token, &volunteer_body("Bodil Før"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let path = format!("/volunteers/{id}");
    let mut first = volunteer_body("Bodil Før");
    first.as_object_mut().expect("object").remove("consent");
    let mut second = first.clone();
    second["name"] = json!("Bodil Efter");

    // This instance keeps the state it decided on ("Før"); the other changes it to "Efter".
    let (status, same) = put(&app, &here, &path, &token, &first).await;
    assert_eq!(
        (status, same["event_ids"].clone()),
        (202, json!([])),
        "no change yet"
    );
    let (status, changed) = put(&app, &other, &path, &token, &second).await;
    assert_eq!(status, 202, "{changed}");
    assert_eq!(changed["event_ids"].as_array().map(Vec::len), Some(1));

    // Back to "Før" here: against the kept state that would be no change; against the log
    // it is one, and it is appended.
    let (status, back) = put(&app, &here, &path, &token, &first).await;
    assert_eq!(status, 202, "{back}");
    assert_eq!(
        back["event_ids"].as_array().map(Vec::len),
        Some(1),
        "{back}"
    );
    let (_, shown) = app
        .get(&format!("{path}?min_position={}", back["position"]), &token)
        .await;
    assert_eq!(shown["name"], "Bodil Før");

    // Forgotten by the other instance: this one refuses the next update instead of deciding
    // on the active volunteer it kept.
    let response = app
        .http
        .post(format!("{other}{path}/forget"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("forget");
    assert_eq!(response.status().as_u16(), 202);
    let (status, refused) = put(&app, &here, &path, &token, &second).await;
    assert_eq!(status, 409, "{refused}");
    let (status, again) = put(&app, &here, &path, &token, &first).await;
    assert_eq!(
        status, 409,
        "a refusal on a kept state is checked against the log: {again}"
    );
}
