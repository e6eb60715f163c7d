//! Needs through the API: published, searched, updated, closed and reopened, read back from
//! the matching read model; bad input and refused transitions append nothing.

use samskab_api::Role;
use samskab_e2e::{TestApp, need_body, spawn_app};
use serde_json::{Value, json};

fn today() -> chrono::NaiveDate {
    samskab_domain::calendar::danish_date(chrono::Utc::now())
}

/// Publishes `body`; the new need's id and position.
async fn publish(app: &TestApp, token: &str, body: &Value) -> (String, u64) {
    let (status, accepted) = app.post("/needs", token, body).await;
    assert_eq!(status, 201, "{accepted}");
    (
        accepted["id"].as_str().expect("id").to_string(),
        accepted["position"].as_u64().expect("position"),
    )
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn a_published_need_is_read_back_from_the_matching_model_and_found_by_its_filters() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (homework, _) = publish(&app, &token, &need_body("Lektiehjælp til ukrainske børn")).await;
    let mut remote = need_body("Telefonven for ensomme ældre");
    remote["postcode"] = Value::Null;
    remote["weekly"] = Value::Null;
    remote["date"] = json!(today() + chrono::Duration::days(30));
    remote["ends_on"] = Value::Null;
    remote["target_groups"] = json!(["elderly", "lonely"]);
    remote["skills_required"] = json!(["Samtale"]);
    remote["skills_nice_to_have"] = json!([]);
    remote["children_under_15"] = json!(false);
    let (phone_friend, position) = publish(&app, &token, &remote).await;

    let (status, need) = app
        .get(
            &format!("/needs/{homework}?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(status, 200, "{need}");
    assert_eq!(need["title"], "Lektiehjælp til ukrainske børn");
    assert_eq!(need["posted_by"], "municipality");
    assert_eq!(need["organisation_id"], Value::Null);
    assert_eq!(need["skills_required"], json!(["lektiehjælp"]));
    assert_eq!(
        need["skills_nice_to_have"],
        json!(["matematik", "dansk som andetsprog"])
    );
    assert_eq!(need["postcode"], "2610");
    assert_eq!(need["remote"], false);
    assert_eq!(need["schedule_kind"], "weekly");
    assert_eq!(
        need["slots"],
        json!([{ "weekday": "tue", "part": "evening" }])
    );
    assert_eq!(need["hours_per_week"], 2);
    assert_eq!(need["volunteers_wanted"], 2);
    assert_eq!(need["children_under_15"], true);
    assert_eq!(need["status"], "open");
    assert_eq!(need["starts_on"], json!(today()));

    let (_, other) = app.get(&format!("/needs/{phone_friend}"), &token).await;
    assert_eq!(other["remote"], true);
    assert_eq!(other["postcode"], Value::Null);
    assert_eq!(other["schedule_kind"], "on_date");
    assert_eq!(
        other["schedule_date"],
        json!(today() + chrono::Duration::days(30))
    );
    assert_eq!(other["slots"], Value::Null);

    for (query, expected) in [
        ("", vec![&homework, &phone_friend]),
        ("skill=matematik", vec![&homework]),
        ("skill=%20Samtale%20", vec![&phone_friend]),
        ("remote=true", vec![&phone_friend]),
        ("remote=false", vec![&homework]),
        ("postcode=2610", vec![&homework]),
        ("target_group=elderly", vec![&phone_friend]),
        ("children_under_15=true", vec![&homework]),
        ("title=LEKTIE", vec![&homework]),
        ("status=closed", vec![]),
        ("status=open", vec![&homework, &phone_friend]),
    ] {
        let (status, page) = app.get(&format!("/needs?{query}"), &token).await;
        assert_eq!(status, 200, "{query}: {page}");
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids(&page), expected, "{query}");
    }

    // Pages: oldest first, one at a time.
    let (_, first) = app.get("/needs?limit=1", &token).await;
    assert_eq!(ids(&first), vec![homework.clone()]);
    let after = first["next_after"].as_str().expect("a next page");
    let (_, second) = app
        .get(&format!("/needs?limit=1&after={after}"), &token)
        .await;
    assert_eq!(ids(&second), vec![phone_friend.clone()]);
    assert_eq!(second["next_after"], Value::Null);

    // Another municipality sees none of them.
    let other_token = app.token("roskilde", Role::Caseworker);
    let (_, page) = app.get("/needs", &other_token).await;
    assert_eq!(ids(&page), Vec::<String>::new());
    let (status, _) = app.get(&format!("/needs/{homework}"), &other_token).await;
    assert_eq!(status, 404);

    // An auditor reads needs (they hold no person's data).
    let auditor = app.token("rodovre", Role::Auditor);
    let (status, _) = app.get(&format!("/needs/{homework}"), &auditor).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_need_is_updated_closed_and_reopened_and_refused_transitions_append_nothing() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (id, _) = publish(&app, &token, &need_body("Lektiehjælp")).await;

    let mut changed = need_body("Lektiehjælp, også onsdag");
    changed["weekly"]["slots"] = json!([
        { "weekday": "tue", "part": "evening" },
        { "weekday": "wed", "part": "afternoon" },
    ]);
    let (status, accepted) = app.put(&format!("/needs/{id}"), &token, &changed).await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    let (_, need) = app
        .get(&format!("/needs/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(need["title"], "Lektiehjælp, også onsdag");
    assert_eq!(need["slots"].as_array().map(Vec::len), Some(2));

    let reason = json!({ "reason": " Vi har fundet frivillige nok " });
    let (status, accepted) = app
        .post(&format!("/needs/{id}/close"), &token, &reason)
        .await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    let (_, need) = app
        .get(&format!("/needs/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(need["status"], "closed");
    assert_eq!(need["closing_reason"], "Vi har fundet frivillige nok");
    assert!(need["closed_at"].is_string());

    let before = app.appended().await;
    for (path, body, status) in [
        (format!("/needs/{id}/close"), json!({}), 409),
        (format!("/needs/{id}"), changed.clone(), 409),
    ] {
        let method = if path.ends_with("close") {
            reqwest::Method::POST
        } else {
            reqwest::Method::PUT
        };
        let (got, problem) = app.send(method, &path, &token, None, &body).await;
        assert_eq!(got, status, "{path}: {problem}");
    }
    assert_eq!(
        app.appended().await,
        before,
        "a refused transition appends nothing"
    );

    // Reopened for another season: the weekly need now ends on the new last day.
    let last_day = today() + chrono::Duration::days(500);
    let (status, accepted) = app
        .post(
            &format!("/needs/{id}/reopen"),
            &token,
            &json!({ "last_day": last_day }),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    let (_, need) = app
        .get(&format!("/needs/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(need["status"], "open");
    assert_eq!(need["closed_at"], Value::Null);
    assert_eq!(need["closing_reason"], Value::Null);
    assert_eq!(need["ends_on"], json!(last_day));

    let before = app.appended().await;
    let (status, problem) = app
        .post(&format!("/needs/{id}/reopen"), &token, &json!({}))
        .await;
    assert_eq!(status, 409, "already open: {problem}");
    let (status, _) = app
        .post(
            &format!("/needs/{}/close", uuid::Uuid::now_v7()),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(app.appended().await, before);
}

#[tokio::test]
async fn an_organisation_posts_a_need_only_while_it_is_registered_and_active_and_never_changes_it()
{
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let organisation = app.organisation(&token, "Røde Kors Rødovre").await;

    // Right after its registration: the log says it exists, whatever the read models say.
    let mut body = need_body("Lektiehjælp");
    body["organisation_id"] = json!(organisation);
    let (id, position) = publish(&app, &token, &body).await;
    let (_, need) = app
        .get(&format!("/needs/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(need["posted_by"], "organisation");
    assert_eq!(need["organisation_id"], json!(organisation));
    let (_, page) = app
        .get(&format!("/needs?organisation_id={organisation}"), &token)
        .await;
    assert_eq!(ids(&page), vec![id.clone()]);

    let before = app.appended().await;
    // An update never names who posted, not even the same organisation.
    let (status, problem) = app.put(&format!("/needs/{id}"), &token, &body).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "organisation_id");
    // An organisation of another municipality, or none at all.
    for unknown in [uuid::Uuid::now_v7().to_string()] {
        body["organisation_id"] = json!(unknown);
        let (status, problem) = app.post("/needs", &token, &body).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "organisation_id");
    }
    let roskilde = app.token("roskilde", Role::Caseworker);
    body["organisation_id"] = json!(organisation);
    let (status, _) = app.post("/needs", &roskilde, &body).await;
    assert_eq!(status, 422, "Rødovre's organisation is unknown in Roskilde");
    assert_eq!(app.appended().await, before);

    // Deactivated: it posts no more.
    let (status, _) = app
        .post(
            &format!("/organisations/{organisation}/deactivate"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let before = app.appended().await;
    let (status, problem) = app.post("/needs", &token, &body).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["errors"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("deactivated")),
        "{problem}"
    );
    assert_eq!(app.appended().await, before);
}

#[tokio::test]
async fn a_need_with_bad_fields_is_refused_with_each_fields_reason_and_appends_nothing() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let with = |changes: Value| {
        let mut body = need_body("Lektiehjælp");
        for (key, value) in changes.as_object().expect("object") {
            body[key] = value.clone();
        }
        body
    };
    let yesterday = today() - chrono::Duration::days(1);
    for (body, field) in [
        (with(json!({ "title": "  " })), "title"),
        (with(json!({ "volunteers_wanted": 0 })), "volunteers_wanted"),
        (
            with(json!({ "volunteers_wanted": 101 })),
            "volunteers_wanted",
        ),
        (with(json!({ "postcode": "261" })), "postcode"),
        (with(json!({ "date": today() })), "weekly"),
        (with(json!({ "weekly": null })), "date"),
        (
            with(json!({ "weekly": { "slots": [], "hours_per_week": 2 } })),
            "weekly",
        ),
        (with(json!({ "languages": ["dansk"] })), "languages[0]"),
        (
            with(json!({ "target_groups": ["pets"] })),
            "target_groups[0]",
        ),
        (
            with(json!({ "skills_nice_to_have": [" LEKTIEHJÆLP "] })),
            "skills_nice_to_have",
        ),
        (with(json!({ "starts_on": "0001-01-01" })), "starts_on"),
        (
            with(
                json!({ "ends_on": yesterday, "starts_on": yesterday - chrono::Duration::days(9) }),
            ),
            "ends_on",
        ),
        (
            with(json!({ "ends_on": today() - chrono::Duration::days(400) })),
            "ends_on",
        ),
        (
            with(json!({ "starts_on": "9999-01-01", "ends_on": null })),
            "starts_on",
        ),
    ] {
        let (status, problem) = app.post("/needs", &token, &body).await;
        assert!(matches!(status, 400 | 422), "{field}: {status} {problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{field}: {problem}");
    }
    assert_eq!(app.appended().await, 0);
}
