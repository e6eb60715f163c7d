use samskab_api::Role;
use samskab_e2e::spawn_app;
use serde_json::json;

#[tokio::test]
async fn a_registered_activity_is_visible() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let body = json!({ "organisation": uuid::Uuid::now_v7(), "title": "Lektiecafé" });
    let (status, accepted) = app.post("/activities", &token, &body).await;
    assert_eq!(status, 201, "{accepted}");
    let id = accepted["id"].as_str().expect("id");
    let position = accepted["position"].as_u64().expect("position");
    let (status, activity) = app
        .get(&format!("/activities/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(status, 200, "{activity}");
    assert_eq!(activity["title"], "Lektiecafé");
}
