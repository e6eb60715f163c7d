//! Persons a volunteer is paired with (a mentee, a family): registered, read and updated;
//! their name and contact sealed in the log from the first event, exported on request, and
//! found nowhere after they are forgotten, while kind, postcode and languages stay; an
//! organisation registers and sees the persons it looks after, and no others.

use samskab_api::{Party, Role};
use samskab_e2e::{TestApp, organisation_body, spawn_app};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::privacy::{tables_containing, until_on_disk};

fn family(name: &str, organisation: Option<&str>) -> Value {
    json!({
        "organisation_id": organisation,
        "kind": "family",
        "name": name,
        "email": null,
        "phone": "+45 20 30 40 50",
        "postcode": "2610",
        "languages": ["uk", "ru"],
        "children_under_15": true,
    })
}

async fn organisation(app: &TestApp, token: &str, name: &str) -> String {
    let (status, created) = app
        .post("/organisations", token, &organisation_body(name, None))
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn a_forgotten_person_is_found_nowhere_and_their_statistics_stay() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let venner = organisation(&app, &token, "Venner viser vej").await;
    let name = "Familien Kovalenko-Sjevtjenko";
    let (status, created) = app
        .post("/persons", &token, &family(name, Some(&venner)))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let path = format!("/persons/{id}?min_position={}", created["position"]);
    let (status, shown) = app.get(&path, &token).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["name"], name);
    assert_eq!(shown["organisation_id"], json!(venner));
    assert_eq!(shown["languages"], json!(["uk", "ru"]));
    let (_, audited) = app.get(&path, &app.token("rodovre", Role::Auditor)).await;
    assert_eq!(audited["name"], Value::Null, "an auditor sees no name");
    assert_eq!(audited["kind"], "family");

    // Sealed in the log from its first event.
    until_on_disk(&app, &created["event_ids"][0]).await;
    assert!(
        app.nats
            .files_containing(name.as_bytes())
            .expect("search")
            .is_empty(),
        "the name is in the NATS files in plain text"
    );

    // Updated, and exported as it stands, with every event decrypted.
    let mut renamed = family("Familien Kovalenko-Sjevtjenko-Hansen", None);
    renamed
        .as_object_mut()
        .expect("object")
        .remove("organisation_id");
    let mut moved = renamed.clone();
    moved["organisation_id"] = json!(venner);
    let (status, refused) = app.put(&format!("/persons/{id}"), &token, &moved).await;
    assert_eq!(
        status, 422,
        "who looks after them does not change: {refused}"
    );
    assert_eq!(refused["errors"][0]["field"], "organisation_id");
    let (status, updated) = app.put(&format!("/persons/{id}"), &token, &renamed).await;
    assert_eq!(status, 202, "{updated}");
    let (status, export) = app.get(&format!("/persons/{id}/export"), &token).await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(
        export["person"]["personal"]["name"],
        "Familien Kovalenko-Sjevtjenko-Hansen"
    );
    assert_eq!(export["events"].as_array().expect("events").len(), 2);
    assert!(export.to_string().contains(name), "the first event's name");

    let (status, forgotten) = app
        .post(&format!("/persons/{id}/forget"), &token, &json!({}))
        .await;
    assert_eq!(status, 202, "{forgotten}");
    let path = format!("/persons/{id}?min_position={}", forgotten["position"]);
    let (_, shown) = app.get(&path, &token).await;
    assert_eq!(shown["status"], "forgotten");
    assert_eq!(shown["name"], Value::Null);
    assert_eq!(shown["phone"], Value::Null);
    assert_eq!(shown["postcode"], "2610", "statistics stay");
    assert_eq!(shown["kind"], "family");
    let (_, export) = app.get(&format!("/persons/{id}/export"), &token).await;
    assert_eq!(export["person"]["personal"], Value::Null, "{export}");
    assert!(!export.to_string().contains(name), "{export}");
    // A forgotten person is not changed again, and a repeat of the forgetting is harmless.
    let (status, refused) = app.put(&format!("/persons/{id}"), &token, &renamed).await;
    assert_eq!(status, 409, "{refused}");
    let (status, again) = app
        .post(&format!("/persons/{id}/forget"), &token, &json!({}))
        .await;
    assert_eq!(status, 202, "{again}");

    app.rebuild_all().await;
    let (_, rebuilt) = app.get(&format!("/persons/{id}"), &token).await;
    assert_eq!(rebuilt["status"], "forgotten");
    assert_eq!(rebuilt["name"], Value::Null);
    for needle in [name, "20304050"] {
        assert_eq!(
            tables_containing(&app.pool, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
}

#[tokio::test]
async fn an_organisation_registers_and_sees_only_the_persons_it_looks_after() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let venner = organisation(&app, &token, "Venner viser vej").await;
    let mentorer = organisation(&app, &token, "Mentorkorpset").await;
    let as_venner = app.party_token(
        "rodovre",
        Party::Organisation(Uuid::parse_str(&venner).expect("uuid")),
    );
    let before = app.appended().await;
    for organisation in [None, Some(mentorer.as_str())] {
        let (status, refused) = app
            .post(
                "/persons",
                &as_venner,
                &family("Familien Bondar", organisation),
            )
            .await;
        assert_eq!(status, 403, "{refused}");
    }
    assert_eq!(app.appended().await, before, "nothing appended");
    let (status, own) = app
        .post(
            "/persons",
            &as_venner,
            &family("Familien Bondar", Some(&venner)),
        )
        .await;
    assert_eq!(status, 201, "{own}");
    let (status, theirs) = app
        .post(
            "/persons",
            &token,
            &family("Familien Melnyk", Some(&mentorer)),
        )
        .await;
    assert_eq!(status, 201, "{theirs}");

    let position = theirs["position"].as_u64().expect("position");
    let (status, page) = app
        .get(&format!("/persons?min_position={position}"), &as_venner)
        .await;
    assert_eq!(status, 200, "{page}");
    let names: Vec<&Value> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| &p["name"])
        .collect();
    assert_eq!(names, vec![&json!("Familien Bondar")]);
    let (status, _) = app
        .get(
            &format!("/persons/{}", theirs["id"].as_str().expect("id")),
            &as_venner,
        )
        .await;
    assert_eq!(status, 403, "another organisation's person");
    let (status, page) = app
        .get(&format!("/persons?min_position={position}"), &token)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().expect("items").len(), 2);
}

#[tokio::test]
async fn a_volunteer_is_paired_with_a_person_and_the_match_lives_like_any_other() {
    use crate::matching::{register, today, volunteer};
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let venner = organisation(&app, &token, "Venner viser vej").await;
    let other = organisation(&app, &token, "Mentorkorpset").await;
    let party = |id: &str| Party::Organisation(Uuid::parse_str(id).expect("uuid"));
    let as_venner = app.party_token("rodovre", party(&venner));
    let as_other = app.party_token("rodovre", party(&other));
    let (status, created) = app
        .post(
            "/persons",
            &token,
            &family("Familien Bondar", Some(&venner)),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let bondar = created["id"].as_str().expect("id").to_string();
    // Søren has a børneattest (the family has young children); Birte has none.
    let soren = register(&app, &token, &volunteer(json!({})), true).await;
    let birte = register(
        &app,
        &token,
        &volunteer(json!({ "name": "Birte Kjær", "child_certificate": { "status": "requested" } })),
        true,
    )
    .await;
    let proposal = |volunteer: &str| json!({ "volunteer_id": volunteer, "person_id": bondar, "proposed_by": "coordinator" });

    let before = app.appended().await;
    let (status, refused) = app.post("/matches", &as_venner, &proposal(&birte)).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "volunteer_id", "{refused}");
    let (status, refused) = app.post("/matches", &as_other, &proposal(&soren)).await;
    assert_eq!(status, 403, "another organisation's family: {refused}");
    for body in [
        json!({ "volunteer_id": soren, "proposed_by": "coordinator" }),
        json!({ "volunteer_id": soren, "person_id": bondar, "need_id": Uuid::now_v7(), "proposed_by": "coordinator" }),
    ] {
        let (status, refused) = app.post("/matches", &token, &body).await;
        assert_eq!(status, 422, "{body}: {refused}");
    }
    assert_eq!(app.appended().await, before, "nothing appended");

    // Venner viser vej proposes Søren for the family; he accepts; they start and log hours.
    let (status, created) = app.post("/matches", &as_venner, &proposal(&soren)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let (status, again) = app.post("/matches", &token, &proposal(&soren)).await;
    assert_eq!(status, 409, "the pair is matched already: {again}");
    let as_soren = app.party_token(
        "rodovre",
        Party::Volunteer(Uuid::parse_str(&soren).expect("uuid")),
    );
    app.accepted(
        &format!("/matches/{id}/accept"),
        &as_soren,
        &json!({ "side": "volunteer" }),
    )
    .await;
    app.accepted(
        &format!("/matches/{id}/start"),
        &as_venner,
        &json!({ "on": today() }),
    )
    .await;
    let month = today().format("%Y-%m").to_string();
    let position = app
        .accepted(
            &format!("/matches/{id}/hours"),
            &as_soren,
            &json!({ "period": month, "minutes": 180 }),
        )
        .await;

    let (status, page) = app
        .get(
            &format!("/matches?person_id={bondar}&min_position={position}"),
            &as_venner,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["id"], json!(id));
    assert_eq!(items[0]["person_id"], json!(bondar));
    assert_eq!(items[0]["need_id"], Value::Null);
    assert_eq!(items[0]["status"], "active");
    assert_eq!(items[0]["total_minutes"], 180);
    let (status, _) = app.get(&format!("/matches/{id}"), &as_other).await;
    assert_eq!(status, 403, "another organisation's match");
    let (status, page) = app
        .get(&format!("/matches?min_position={position}"), &as_other)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"], json!([]), "{page}");

    // A forgotten person is paired with no one any more; the match keeps their id.
    app.accepted(&format!("/persons/{bondar}/forget"), &token, &json!({}))
        .await;
    let (status, refused) = app.post("/matches", &token, &proposal(&birte)).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "person_id", "{refused}");
}
