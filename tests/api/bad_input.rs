//! Bad input gets a 4xx problem with a field-level reason, and appends nothing.

use samskab_api::Role;
use samskab_e2e::{Options, organisation_body, spawn_app, spawn_app_with, volunteer_body};
use serde_json::{Value, json};

fn field_of(problem: &Value) -> String {
    problem["errors"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_invalid_cvr_is_refused_with_a_reason_and_appends_nothing() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (status, problem) = app
        .post(
            "/organisations",
            &token,
            &organisation_body("Forening", Some("24256791")),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(field_of(&problem), "cvr");
    assert_eq!(
        problem["type"],
        "https://samskab.dk/problems/invalid-values"
    );
    assert_eq!(app.appended().await, 0);
}

#[tokio::test]
async fn unknown_and_missing_fields_are_named() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let mut unknown = volunteer_body("Mette");
    unknown["shoe_size"] = json!(42);
    let (status, problem) = app.post("/volunteers", &token, &unknown).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(field_of(&problem), "shoe_size");

    let mut missing = volunteer_body("Mette");
    missing.as_object_mut().expect("object").remove("postcode");
    let (status, problem) = app.post("/volunteers", &token, &missing).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(field_of(&problem), "postcode");

    let mut nested = volunteer_body("Mette");
    nested["availability"]["hours_per_week"] = json!("many");
    let (status, problem) = app.post("/volunteers", &token, &nested).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(field_of(&problem), "availability.hours_per_week");
    assert_eq!(app.appended().await, 0);
}

#[tokio::test]
async fn every_invalid_field_is_listed_at_once() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let mut body = volunteer_body("  ");
    body["postcode"] = json!("26100");
    body["languages"] = json!(["da", "danish"]);
    body["target_groups"] = json!(["children"]);
    let (status, problem) = app.post("/volunteers", &token, &body).await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    for expected in ["name", "postcode", "languages[1]"] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }
    assert_eq!(app.appended().await, 0);
}

#[tokio::test]
async fn a_domain_rule_names_its_field() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    // A birth year and an age band must agree.
    let mut body = volunteer_body("Kasper Larsen");
    body["birth_year"] = json!(1958);
    body["age_band"] = json!("18_29");
    let (status, problem) = app.post("/volunteers", &token, &body).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(field_of(&problem), "age_band");
    assert_eq!(app.appended().await, 0);
}

#[tokio::test]
async fn a_body_over_the_size_limit_is_refused() {
    let app = spawn_app_with(Options {
        body_limit: 4 * 1024,
        ..Options::default()
    })
    .await;
    let token = app.token("rodovre", Role::Caseworker);
    let mut body = volunteer_body("Mette");
    body["resources"] = json!(["x".repeat(8 * 1024)]);
    let (status, problem) = app.post("/volunteers", &token, &body).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(app.appended().await, 0);
}

#[tokio::test]
async fn ids_and_slugs_that_would_break_a_nats_subject_are_refused() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    for id in ["a.b", "*", ">", "rodovre.volunteer.x", "%2E%2E"] {
        let (status, _) = app
            .put(
                &format!("/volunteers/{id}"),
                &token,
                &volunteer_body("Mette"),
            )
            .await;
        assert!(status == 404 || status == 400, "{id}: {status}");
    }
    let admin = app.token("platform", Role::PlatformAdmin);
    for slug in ["rødovre", "a.b", "a*", "a b", "a>"] {
        let (status, problem) = app
            .post(
                "/municipalities",
                &admin,
                &json!({ "slug": slug, "kommunekode": 175, "name": "X" }),
            )
            .await;
        assert_eq!(status, 422, "{slug}: {problem}");
        assert_eq!(field_of(&problem), "slug");
    }
    assert_eq!(app.appended().await, 0);
}

#[tokio::test]
async fn malformed_json_and_wrong_content_type_are_refused() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let response = app
        .http
        .post(app.url("/volunteers"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let response = app
        .http
        .post(app.url("/volunteers"))
        .bearer_auth(&token)
        .body("name=x")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 415);
    assert_eq!(app.appended().await, 0);
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url("/volunteers"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 401);
    let (status, _) = app.get("/volunteers", "not-a-token").await;
    assert_eq!(status, 401);
    let other_keys =
        samskab_api::TokenKeys::from_secret(b"another secret of enough length for hs256");
    let forged = other_keys
        .sign(
            &samskab_domain::TenantId::parse("rodovre").expect("tenant"),
            "x",
            &[Role::Caseworker],
            chrono::Duration::hours(1),
        )
        .expect("sign");
    let (status, _) = app
        .post("/volunteers", &forged, &volunteer_body("Mette"))
        .await;
    assert_eq!(status, 401);
    assert_eq!(app.appended().await, 0);
}

#[tokio::test]
async fn names_with_subject_characters_are_kept_as_text_and_stay_out_of_subjects() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let name = "Åse *>. Ærø-Østergård > samskab.ev.roskilde.volunteer.*";
    let (status, created) = app.post("/volunteers", &token, &volunteer_body(name)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id");
    let position = created["position"].as_u64().expect("position");
    let (_, volunteer) = app
        .get(&format!("/volunteers/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(volunteer["name"], name);
    // The message went to the subject built from the tenant and the server's UUID only.
    let stream = app
        .log
        .jetstream()
        .get_stream("SAMSKAB_EVENTS")
        .await
        .expect("stream");
    let message = stream.direct_get(position).await.expect("message");
    assert_eq!(
        message.subject.as_str(),
        format!("samskab.ev.rodovre.volunteer.{id}")
    );
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    for (query, field) in [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("after=not-a-uuid", "after"),
        ("colour=red", "colour"),
        ("skill=t%00mrer", "skill"),
        ("postcode=26%0A10", "postcode"),
    ] {
        let (status, problem) = app.get(&format!("/volunteers?{query}"), &token).await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert_eq!(field_of(&problem), field, "{query}: {problem}");
    }
}

#[tokio::test]
async fn an_event_type_this_version_does_not_know_is_reported_not_a_panic() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (_, created) = app
        .post("/volunteers", &token, &volunteer_body("Mette"))
        .await;
    let id = created["id"].as_str().expect("id").to_string();
    // A newer version of samskab appended an event type this one has never seen.
    let entity = samskab_eventlog::EntityRef::new("rodovre", "volunteer", &id).expect("entity");
    let appended = app
        .append_raw(
            &entity,
            created["position"].as_u64().expect("position"),
            "dk.samskab.volunteer.teleported.v1",
            json!({}),
        )
        .await;

    let mut update = volunteer_body("Mette");
    update.as_object_mut().expect("object").remove("consent");
    let (status, problem) = app.put(&format!("/volunteers/{id}"), &token, &update).await;
    assert_eq!(status, 500, "{problem}");
    assert_eq!(problem["type"], "https://samskab.dk/problems/internal");
    assert_eq!(
        app.log_position().await,
        appended.position,
        "nothing decided on a partial history"
    );
    // Each projection that reads volunteers parks it and goes on.
    app.projected(appended.position).await;
    assert_eq!(
        app.parked_by("dk.samskab.volunteer.teleported.v1").await,
        ["directory", "matching", "notify", "reporting"]
    );
}

#[tokio::test]
async fn a_min_position_beyond_the_log_is_refused_at_once() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (status, problem) = app
        .get("/volunteers?min_position=9223372036854775808", &token)
        .await;
    // The answer itself shows there was no wait: a query that waited for the read model could
    // only end with 503 (read_wait ran out); a 400 naming min_position is the refusal up front.
    assert_eq!(status, 400, "{problem}");
    assert_eq!(field_of(&problem), "min_position");
    assert_eq!(app.appended().await, 0, "the log never had such a position");
}

/// A date the read model cannot hold (or no report can show) is a 422 that appends nothing:
/// once, a year -1 was answered 201 and its event was parked, so the volunteer never appeared.
#[tokio::test]
async fn implausible_dates_are_refused_and_append_nothing() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let in_11_years = (chrono::Utc::now() + chrono::Duration::days(11 * 366))
        .date_naive()
        .to_string();
    let in_two_days = (chrono::Utc::now() + chrono::Duration::days(2))
        .date_naive()
        .to_string();
    // A børneattest's assessment, once it was requested.
    let (_, created) = app
        .post("/volunteers", &token, &volunteer_body("Dorte Dato"))
        .await;
    let id = created["id"].as_str().expect("id").to_string();
    app.certify(&token, &id, &json!({ "status": "requested" }))
        .await;
    let before = app.appended().await;
    let today = samskab_domain::calendar::danish_date(chrono::Utc::now()).to_string();
    for (field, value, expected_field) in [
        ("assessed_on", "-0001-01-01", "assessed_on"),
        ("assessed_on", "1899-12-31", "assessed_on"),
        ("assessed_on", in_two_days.as_str(), "assessed_on"),
        ("valid_until", in_11_years.as_str(), "valid_until"),
    ] {
        let mut body =
            json!({ "result": "approved", "assessed_on": today, "valid_until": in_two_days });
        body[field] = json!(value);
        let (status, problem) = app
            .post(
                &format!("/volunteers/{id}/child-certificate/assessment"),
                &token,
                &body,
            )
            .await;
        assert_eq!(status, 422, "{field} {value}: {problem}");
        assert_eq!(field_of(&problem), expected_field, "{problem}");
    }
    assert_eq!(app.appended().await, before, "no assessment appended");
    let mut body = volunteer_body("Dorte Dato");
    body["consent"]["given_at"] = json!("1899-12-31T23:00:00Z");
    let (status, problem) = app.post("/volunteers", &token, &body).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(field_of(&problem), "consent.given_at");
    assert_eq!(app.appended().await, before, "nothing appended");
}
