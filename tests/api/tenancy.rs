//! A token of one municipality can neither read nor write another's data.

use samskab_api::Role;
use samskab_e2e::{organisation_body, spawn_app, volunteer_body};

#[tokio::test]
async fn one_municipality_cannot_read_or_write_anothers_data() {
    let app = spawn_app().await;
    let rodovre = app.token("rodovre", Role::Caseworker);
    let roskilde = app.token("roskilde", Role::Caseworker);
    let (_, volunteer) = app
        .post("/volunteers", &rodovre, &volunteer_body("Mette Hansen"))
        .await;
    let (_, organisation) = app
        .post(
            "/organisations",
            &rodovre,
            &organisation_body("Røde Kors Rødovre", None),
        )
        .await;
    let volunteer_id = volunteer["id"].as_str().expect("id").to_string();
    let organisation_id = organisation["id"].as_str().expect("id").to_string();
    let position = organisation["position"].as_u64().expect("position");

    // Reads: not found, not forbidden (existence is not disclosed), and lists are empty.
    let (status, _) = app
        .get(
            &format!("/volunteers/{volunteer_id}?min_position={position}"),
            &roskilde,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get(&format!("/organisations/{organisation_id}"), &roskilde)
        .await;
    assert_eq!(status, 404);
    let (_, page) = app.get("/volunteers", &roskilde).await;
    assert_eq!(page["items"].as_array().expect("items").len(), 0);
    let (_, page) = app.get("/organisations", &roskilde).await;
    assert_eq!(page["items"].as_array().expect("items").len(), 0);

    // Writes: the command addresses the caller's own tenant, where the entity does not exist.
    let (status, _) = app
        .put(&format!("/volunteers/{volunteer_id}"), &roskilde, &{
            let mut b = volunteer_body("Overtaget");
            b.as_object_mut().expect("object").remove("consent");
            b
        })
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post(
            &format!("/organisations/{organisation_id}/deactivate"),
            &roskilde,
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post(
            &format!("/volunteers/{volunteer_id}/consent/withdraw"),
            &roskilde,
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.log_position().await,
        position,
        "nothing appended by the other municipality"
    );

    // And the owner still sees it unchanged.
    let (_, own) = app
        .get(&format!("/volunteers/{volunteer_id}"), &rodovre)
        .await;
    assert_eq!(own["name"], "Mette Hansen");
}
