//! Decision states kept between commands (`samskab_api::decisions`) never decide on a stale
//! state: with two API instances, what one appends is seen by the other's next command. A new
//! instance starts from an entity's snapshot, not its whole history.

use samskab_api::Role;
use samskab_api::decisions::SNAPSHOT_EVERY;
use samskab_domain::{Decider, Volunteer};
use samskab_e2e::{read, spawn_app, volunteer_body};
use samskab_eventlog::EntityRef;
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

/// `n` profile updates of volunteer `id` straight to the log (what years of updates leave
/// behind), the last one with `last_name`; the log position after them.
async fn updates_in_the_log(
    app: &samskab_e2e::TestApp,
    id: &str,
    n: usize,
    last_name: &str,
) -> u64 {
    use samskab_domain::fixtures::{volunteer_personal, volunteer_profile};
    use samskab_domain::{DomainEvent, VolunteerEvent, VolunteerProfileUpdated};
    let entity = EntityRef::new("rodovre", "volunteer", id).expect("entity");
    let mut expected = app.log.entity_position(&entity).await.expect("position");
    let volunteer_id = samskab_domain::VolunteerId::from_uuid(id.parse().expect("a uuid"));
    for i in 0..n {
        let name = if i + 1 == n {
            last_name.to_string()
        } else {
            format!("Bodil Nummer {i}")
        };
        let event = VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
            id: volunteer_id,
            personal: Some(volunteer_personal(&name)),
            profile: volunteer_profile(),
        });
        expected = app
            .append_raw(&entity, expected, event.event_type(), event.to_payload())
            .await
            .position;
    }
    expected
}

/// A process that has not seen an entity starts from its snapshot and folds only the events
/// after it, not the whole history; and decides on the right state.
#[tokio::test]
async fn a_new_instance_starts_from_the_snapshot_not_the_whole_history() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (status, created) = app
        .post("/volunteers", &token, &volunteer_body("Bodil Først"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let path = format!("/volunteers/{id}");
    let entity = EntityRef::new("rodovre", "volunteer", &id).expect("entity");
    let long = 2 * SNAPSHOT_EVERY + 50;
    let before_snapshot = updates_in_the_log(&app, &id, long, "Bodil Lang").await;

    // This instance folds the whole history for its first command, and saves a snapshot.
    let mut body = volunteer_body("Bodil Anden");
    body.as_object_mut().expect("object").remove("consent");
    let (status, changed) = put(&app, &app.url(""), &path, &token, &body).await;
    assert_eq!(status, 202, "{changed}");
    let snapshot_position = snapshot_saved(&app, &entity).await;
    assert!(snapshot_position >= before_snapshot);

    // More events after the snapshot; then a new instance's first command.
    updates_in_the_log(&app, &id, 3, "Bodil Senest").await;
    let (other, state) = app.another_api_with_state().await;
    let mut newest = volunteer_body("Bodil Senest");
    newest.as_object_mut().expect("object").remove("consent");
    let (status, same) = put(&app, &other, &path, &token, &newest).await;
    assert_eq!(
        (status, same["event_ids"].clone()),
        (202, json!([])),
        "decided on the state with every event after the snapshot: no change"
    );
    let after_snapshot = app
        .log
        .load_after(&entity, snapshot_position)
        .await
        .expect("load")
        .events
        .len();
    assert_eq!(
        state.decisions.events_loaded(),
        after_snapshot as u64,
        "loaded the {after_snapshot} events after the snapshot, not all {}",
        long + 5
    );
}

/// Waits until the entity's snapshot is saved (in the background, after the answer): its
/// position.
async fn snapshot_saved(app: &samskab_e2e::TestApp, entity: &EntityRef) -> u64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(snapshot) = app
            .log
            .load_snapshot(entity, Volunteer::STATE_VERSION)
            .await
            .expect("snapshot")
        {
            return snapshot.position;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot was saved"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
