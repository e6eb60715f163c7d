use samskab_api::Role;
use samskab_e2e::{organisation_body, spawn_app, volunteer_body};
use serde_json::json;

#[tokio::test]
async fn a_registered_volunteer_is_visible_through_the_query_api() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (status, accepted) = app
        .post(
            "/volunteers",
            &token,
            &volunteer_body("Søren Ærø Østergård"),
        )
        .await;
    assert_eq!(status, 201, "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_string();
    let position = accepted["position"].as_u64().expect("position");
    assert!(position > 0);

    // Read-your-writes: the query waits until the projection reached the command's position.
    let (status, volunteer) = app
        .get(&format!("/volunteers/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(status, 200, "{volunteer}");
    assert_eq!(
        volunteer["name"], "Søren Ærø Østergård",
        "Danish letters kept intact"
    );
    assert_eq!(volunteer["skills"], json!(["snedker", "lektiehjælp"]));
    assert_eq!(volunteer["postcode"], "2610");
    assert_eq!(volunteer["status"], "active");

    let (status, page) = app
        .get(
            &format!("/volunteers?skill=snedker&min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().expect("items").len(), 1);
    let (_, page) = app.get("/volunteers?skill=kørsel", &token).await;
    assert_eq!(page["items"].as_array().expect("items").len(), 0);

    // The event records who caused it.
    let entity = samskab_eventlog::EntityRef::new("rodovre", "volunteer", &id).expect("entity");
    let history = app.log.load(&entity).await.expect("load");
    assert_eq!(history.events.len(), 1);
    assert_eq!(history.events[0].envelope.actor, "user:tester-caseworker");
    assert_eq!(
        history.events[0].envelope.event_type,
        "dk.samskab.volunteer.registered.v2"
    );
    assert!(
        history.events[0].envelope.data["personal"]["name"].is_string(),
        "personal data kept apart"
    );
}

#[tokio::test]
async fn a_retried_registration_with_the_same_idempotency_key_registers_once() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let body = volunteer_body("Mette Hansen");
    let send = || async {
        let response = app
            .http
            .post(app.url("/volunteers"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "form-42")
            .json(&body)
            .send()
            .await
            .expect("request");
        samskab_e2e::read(response).await
    };
    let (first_status, first) = send().await;
    let (second_status, second) = send().await;
    assert_eq!(first_status, 201);
    assert_eq!(second_status, 201);
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["position"], second["position"]);
    assert_eq!(second["replayed"], true);
    assert_eq!(app.appended().await, 1, "one append only");

    // The same key with a different body is refused.
    let response = app
        .http
        .post(app.url("/volunteers"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "form-42")
        .json(&volunteer_body("Someone Else"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 422);
}

#[tokio::test]
async fn organisations_are_registered_updated_and_deactivated() {
    let app = spawn_app().await;
    let token = app.token("roskilde", Role::Caseworker);
    let (status, created) = app
        .post(
            "/organisations",
            &token,
            &organisation_body("Roskilde Håndbold", Some("24256790")),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();

    let mut update = organisation_body("Roskilde Håndbold af 1906", Some("24256790"));
    update["contact_person"] = json!("Michael Lind Olsen");
    let (status, updated) = app
        .put(&format!("/organisations/{id}"), &token, &update)
        .await;
    assert_eq!(status, 202, "{updated}");

    // An update that changes nothing appends nothing.
    let before = app.log_position().await;
    let (status, same) = app
        .put(&format!("/organisations/{id}"), &token, &update)
        .await;
    assert_eq!(status, 202);
    assert_eq!(same["event_ids"], json!([]));
    assert_eq!(app.log_position().await, before);

    let (status, deactivated) = app
        .post(
            &format!("/organisations/{id}/deactivate"),
            &token,
            &json!({ "reason": "Foreningen er nedlagt" }),
        )
        .await;
    assert_eq!(status, 202, "{deactivated}");
    let position = deactivated["position"].as_u64().expect("position");
    let (status, again) = app
        .post(
            &format!("/organisations/{id}/deactivate"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{again}");

    let (_, org) = app
        .get(
            &format!("/organisations/{id}?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(org["name"], "Roskilde Håndbold af 1906");
    assert_eq!(org["contact_person"], "Michael Lind Olsen");
    assert_eq!(org["active"], false);
    assert_eq!(org["deactivation_reason"], "Foreningen er nedlagt");
    let (_, page) = app.get("/organisations?active=false", &token).await;
    assert_eq!(page["items"].as_array().expect("items").len(), 1);
}

#[tokio::test]
async fn withdrawing_consent_removes_personal_data_from_the_read_model() {
    let app = spawn_app().await;
    let token = app.token("syddjurs", Role::Caseworker);
    let mut body = volunteer_body("Åse Nielsen");
    body["postcode"] = json!("8400");
    let (_, created) = app.post("/volunteers", &token, &body).await;
    let id = created["id"].as_str().expect("id").to_string();
    let (status, withdrawn) = app
        .post(
            &format!("/volunteers/{id}/consent/withdraw"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{withdrawn}");
    let position = withdrawn["position"].as_u64().expect("position");
    let (_, volunteer) = app
        .get(&format!("/volunteers/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(volunteer["status"], "consent_withdrawn");
    assert_eq!(volunteer["name"], serde_json::Value::Null);
    assert_eq!(volunteer["email"], serde_json::Value::Null);
    assert_eq!(volunteer["postcode"], "8400", "statistics survive");
    let (status, _) = app
        .put(&format!("/volunteers/{id}"), &token, &{
            let mut b = body.clone();
            b.as_object_mut().expect("object").remove("consent");
            b
        })
        .await;
    assert_eq!(status, 409, "no updates after consent was withdrawn");
}

#[tokio::test]
async fn pages_follow_the_cursor_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let mut position = 0;
    for n in 0..7 {
        let (_, created) = app
            .post(
                "/organisations",
                &token,
                &organisation_body(&format!("Forening {n}"), None),
            )
            .await;
        position = created["position"].as_u64().expect("position");
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/organisations?limit=3&after={a}&min_position={position}"),
            None => format!("/organisations?limit=3&min_position={position}"),
        };
        let (status, page) = app.get(&path, &token).await;
        assert_eq!(status, 200, "{page}");
        for item in page["items"].as_array().expect("items") {
            seen.push(item["name"].as_str().expect("name").to_string());
        }
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).map(|n| format!("Forening {n}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn auditors_read_without_personal_data_and_cannot_write() {
    let app = spawn_app().await;
    let caseworker = app.token("rodovre", Role::Caseworker);
    let auditor = app.token("rodovre", Role::Auditor);
    let (_, created) = app
        .post("/volunteers", &caseworker, &volunteer_body("Jørgen Holm"))
        .await;
    let id = created["id"].as_str().expect("id");
    let position = created["position"].as_u64().expect("position");
    let (status, volunteer) = app
        .get(
            &format!("/volunteers/{id}?min_position={position}"),
            &auditor,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(volunteer["name"], serde_json::Value::Null);
    assert_eq!(volunteer["skills"], json!(["snedker", "lektiehjælp"]));
    let (status, problem) = app
        .post("/volunteers", &auditor, &volunteer_body("Nope"))
        .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(app.log_position().await, position, "nothing appended");
}

#[tokio::test]
async fn platform_admins_register_municipalities_and_each_sees_its_own() {
    let app = spawn_app().await;
    let admin = app.token("platform", Role::PlatformAdmin);
    // Before it is registered, a token for the municipality is refused.
    let caseworker = app.token("egedal", Role::Caseworker);
    let (status, problem) = app.get("/volunteers", &caseworker).await;
    assert_eq!(status, 401, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not registered")),
        "{problem}"
    );
    let (status, created) = app
        .post(
            "/municipalities",
            &admin,
            &json!({ "slug": "egedal", "kommunekode": 240, "name": "Egedal Kommune" }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = app
        .post(
            "/municipalities",
            &admin,
            &json!({ "slug": "egedal", "kommunekode": 240, "name": "Egedal Kommune" }),
        )
        .await;
    assert_eq!(status, 409, "registered twice");
    let position = created["position"].as_u64().expect("position");
    let (status, all) = app
        .get(&format!("/municipalities?min_position={position}"), &admin)
        .await;
    assert_eq!(status, 200);
    let slugs: Vec<&str> = all
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|m| m["tenant"].as_str())
        .collect();
    assert!(slugs.contains(&"egedal"), "{all}");
    assert_eq!(slugs.len(), 1 + samskab_e2e::MUNICIPALITIES.len(), "{all}");
    let (status, mine) = app.get("/municipalities/current", &caseworker).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["name"], "Egedal Kommune");
    let (status, _) = app
        .post(
            "/municipalities",
            &admin,
            &json!({ "slug": "platform", "kommunekode": 101, "name": "X" }),
        )
        .await;
    assert_eq!(status, 422, "the platform slug is reserved");
    let (status, _) = app
        .post(
            "/municipalities",
            &caseworker,
            &json!({ "slug": "egedal", "kommunekode": 240, "name": "Egedal" }),
        )
        .await;
    assert_eq!(status, 403);
}
