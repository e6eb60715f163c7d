//! The børneattest as a workflow: the volunteer's consent, the request, the assessment, each its
//! own event; refused out of order; shown where the case stands to case workers only; and what
//! it does to matching (a need with children under 15 gets only volunteers with a valid
//! approval).

use samskab_api::{Party, Role};
use samskab_e2e::{TestApp, organisation_body, spawn_app, volunteer_body};
use serde_json::{Value, json};

use crate::matching::{candidates, publish, set_matching, today};

/// `POST /volunteers/{id}/child-certificate/<step>`: status and answer.
async fn step(app: &TestApp, token: &str, id: &str, step: &str, body: Value) -> (u16, Value) {
    app.post(
        &format!("/volunteers/{id}/child-certificate/{step}"),
        token,
        &body,
    )
    .await
}

async fn taken(app: &TestApp, token: &str, id: &str, name: &str, body: Value) -> u64 {
    app.accepted(
        &format!("/volunteers/{id}/child-certificate/{name}"),
        token,
        &body,
    )
    .await
}

async fn volunteer_at(app: &TestApp, token: &str, id: &str, position: u64) -> Value {
    let (status, view) = app
        .get(&format!("/volunteers/{id}?min_position={position}"), token)
        .await;
    assert_eq!(status, 200, "{view}");
    view
}

async fn register(app: &TestApp, token: &str, name: &str) -> String {
    let mut body = volunteer_body(name);
    body["target_groups"] = json!(["children", "refugees"]);
    let (status, created) = app.post("/volunteers", token, &body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn an_organisation_requests_and_approves_a_børneattest_with_the_volunteers_consent() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let organisation = app.organisation(&token, "Røde Kors Rødovre").await;
    let by_them = json!({ "organisation_id": organisation });
    let id = register(&app, &token, "Søren Ærø").await;

    let (status, problem) = step(&app, &token, &id, "request", by_them.clone()).await;
    assert_eq!(
        status, 409,
        "no request without the volunteer's consent: {problem}"
    );

    let position = taken(&app, &token, &id, "consent", by_them.clone()).await;
    let view = volunteer_at(&app, &token, &id, position).await;
    assert_eq!(view["child_certificate_status"], "not_required");
    assert_eq!(view["child_certificate_consent_for"], json!(organisation));

    let position = taken(&app, &token, &id, "request", by_them.clone()).await;
    let view = volunteer_at(&app, &token, &id, position).await;
    assert_eq!(view["child_certificate_status"], "requested");
    assert_eq!(
        view["child_certificate_consent_for"],
        Value::Null,
        "used up"
    );
    assert_eq!(view["child_certificate_requested_by"], json!(organisation));
    assert!(view["child_certificate_requested_at"].is_string());

    // Only the body that requested it assesses it.
    let renew_by = today() + chrono::Duration::days(730);
    let approval = |organisation: Value| json!({ "organisation_id": organisation, "result": "approved", "assessed_on": today(), "valid_until": renew_by });
    let (status, problem) = step(&app, &token, &id, "assessment", approval(Value::Null)).await;
    assert_eq!(status, 409, "{problem}");
    let position = taken(
        &app,
        &token,
        &id,
        "assessment",
        approval(json!(organisation)),
    )
    .await;
    let view = volunteer_at(&app, &token, &id, position).await;
    assert_eq!(view["child_certificate_status"], "approved");
    assert_eq!(view["child_certificate_assessed_on"], json!(today()));
    assert_eq!(view["child_certificate_valid_until"], json!(renew_by));
    assert_eq!(view["child_certificate_requested_by"], Value::Null);

    // The steps are events of the volunteer's own, in the export (GDPR art. 15) with their actor.
    let (status, export) = app.get(&format!("/volunteers/{id}/export"), &token).await;
    assert_eq!(status, 200, "{export}");
    let types: Vec<&str> = export["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .filter(|t| t.contains("child_certificate"))
        .collect();
    assert_eq!(
        types,
        vec![
            "dk.samskab.volunteer.child_certificate_consent_given.v1",
            "dk.samskab.volunteer.child_certificate_requested.v1",
            "dk.samskab.volunteer.child_certificate_assessed.v2",
        ]
    );

    // An auditor sees none of it.
    let auditor = app.token("rodovre", Role::Auditor);
    let view = volunteer_at(&app, &auditor, &id, position).await;
    for column in [
        "child_certificate_status",
        "child_certificate_consent_for",
        "child_certificate_requested_by",
    ] {
        assert_eq!(view[column], Value::Null, "{column}");
    }
}

#[tokio::test]
async fn a_børneattest_is_refused_out_of_order_or_with_implausible_answers_and_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let id = register(&app, &token, "Søren Ærø").await;
    let municipality = json!({ "organisation_id": null });
    let approval = json!({ "result": "approved", "assessed_on": today(), "valid_until": today() + chrono::Duration::days(365) });

    let (status, problem) = step(&app, &token, &id, "assessment", approval.clone()).await;
    assert_eq!(status, 409, "nothing was requested: {problem}");
    taken(&app, &token, &id, "consent", municipality.clone()).await;
    let (status, same) = step(&app, &token, &id, "consent", municipality.clone()).await;
    assert_eq!(status, 202);
    assert_eq!(
        same["event_ids"],
        json!([]),
        "the same consent again changes nothing"
    );
    taken(&app, &token, &id, "request", municipality.clone()).await;
    taken(&app, &token, &id, "consent", municipality.clone()).await;
    let (status, problem) = step(&app, &token, &id, "request", municipality.clone()).await;
    assert_eq!(status, 409, "a request awaits its assessment: {problem}");

    let before = app.appended().await;
    for (body, field) in [
        (
            json!({ "result": "approved", "assessed_on": today() }),
            "valid_until",
        ),
        (
            json!({ "result": "not_approved", "assessed_on": today(), "valid_until": today() + chrono::Duration::days(30) }),
            "valid_until",
        ),
        (
            json!({ "result": "approved", "assessed_on": today() - chrono::Duration::days(1), "valid_until": today() + chrono::Duration::days(30) }),
            "assessed_on",
        ),
        (
            json!({ "result": "maybe", "assessed_on": today() }),
            "result",
        ),
    ] {
        let (status, problem) = step(&app, &token, &id, "assessment", body.clone()).await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (status, problem) = step(
        &app,
        &token,
        &id,
        "consent",
        json!({ "organisation_id": uuid::Uuid::now_v7() }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "organisation_id");
    assert_eq!(app.appended().await, before, "no refusal appended anything");

    let (status, problem) = step(
        &app,
        &token,
        &uuid::Uuid::now_v7().to_string(),
        "consent",
        municipality,
    )
    .await;
    assert_eq!(status, 404, "{problem}");
}

#[tokio::test]
async fn a_need_with_children_gets_a_volunteer_only_once_their_børneattest_is_approved() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let need = publish(&app, &token, &samskab_e2e::need_body("Lektiehjælp")).await;
    let id = register(&app, &token, "Søren Ærø").await;
    let position = set_matching(&app, &token, &id, true).await;
    assert!(candidates(&app, &token, &need, position).await.is_empty());

    let municipality = json!({ "organisation_id": null });
    taken(&app, &token, &id, "consent", municipality.clone()).await;
    let position = taken(&app, &token, &id, "request", municipality.clone()).await;
    assert!(
        candidates(&app, &token, &need, position).await.is_empty(),
        "requested is not approved"
    );
    let renew_by = today() + chrono::Duration::days(365);
    let position = taken(
        &app,
        &token,
        &id,
        "assessment",
        json!({ "result": "approved", "assessed_on": today(), "valid_until": renew_by }),
    )
    .await;
    assert_eq!(candidates(&app, &token, &need, position).await.len(), 1);

    // A renewal under way keeps the standing approval.
    taken(&app, &token, &id, "consent", municipality.clone()).await;
    let position = taken(&app, &token, &id, "request", municipality.clone()).await;
    assert_eq!(candidates(&app, &token, &need, position).await.len(), 1);
    // Not approved this time: out at once.
    let position = taken(
        &app,
        &token,
        &id,
        "assessment",
        json!({ "result": "not_approved", "assessed_on": today() }),
    )
    .await;
    assert!(candidates(&app, &token, &need, position).await.is_empty());
}

/// The assessment says whether a person may work with children: it is sealed with the
/// volunteer's key in the log (only who requested it, and when, is in plain text), opened for
/// the case worker and the export, and gone everywhere once the volunteer is forgotten.
#[tokio::test]
async fn a_børneattest_assessment_is_sealed_in_the_log_and_gone_once_forgotten() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let id = register(&app, &token, "Vibeke Vandel").await;
    let municipality = json!({ "organisation_id": null });
    taken(&app, &token, &id, "consent", municipality.clone()).await;
    taken(&app, &token, &id, "request", municipality.clone()).await;
    // A day found nowhere else in this test's log.
    let renew_by = today() + chrono::Duration::days(3_333);
    let renew_text = renew_by.to_string();
    let approval = json!({ "organisation_id": null, "result": "approved", "assessed_on": today(), "valid_until": renew_by });
    let (status, assessed) = step(&app, &token, &id, "assessment", approval).await;
    assert_eq!(status, 202, "{assessed}");
    let position = assessed["position"].as_u64().expect("position");
    let view = volunteer_at(&app, &token, &id, position).await;
    assert_eq!(view["child_certificate_status"], "approved");
    assert_eq!(view["child_certificate_valid_until"], json!(renew_text));
    app.projected(position).await;
    let matching: (Option<String>, Option<chrono::NaiveDate>) = sqlx::query_as(
        "SELECT certificate_status, certificate_valid_until FROM matching.volunteer
         WHERE tenant = 'rodovre' AND id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .expect("matching row");
    assert_eq!(matching, (Some("approved".into()), Some(renew_by)));

    // In the log, sealed: the day is not on disk, though the event is.
    crate::privacy::until_on_disk(&app, &assessed["event_ids"][0]).await;
    assert!(
        app.nats
            .files_containing(renew_text.as_bytes())
            .expect("search")
            .is_empty(),
        "the assessment is in the NATS store in plain text"
    );
    // Opened for the person's own export (GDPR art. 15).
    let (status, export) = app.get(&format!("/volunteers/{id}/export"), &token).await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(
        export["record"]["child_certificate"]["valid_until"],
        json!(renew_text)
    );
    let last = export["events"].as_array().and_then(|e| e.last());
    assert_eq!(
        last.map(|e| &e["data"]["personal"]["status"]),
        Some(&json!("approved"))
    );

    let (status, forgotten) = app
        .post(&format!("/volunteers/{id}/forget"), &token, &json!({}))
        .await;
    assert_eq!(status, 202, "{forgotten}");
    let position = forgotten["position"].as_u64().expect("position");
    let view = volunteer_at(&app, &token, &id, position).await;
    assert_eq!(view["status"], "forgotten");
    app.projected(position).await;
    for column in [
        "child_certificate_status",
        "child_certificate_assessed_on",
        "child_certificate_valid_until",
    ] {
        assert_eq!(view[column], Value::Null, "{column}");
    }
    assert_eq!(
        crate::privacy::tables_containing(&app.pool, &renew_text).await,
        Vec::<String>::new()
    );
    // A rebuild cannot open the assessment any more.
    app.rebuild_all().await;
    assert_eq!(
        crate::privacy::tables_containing(&app.pool, &renew_text).await,
        Vec::<String>::new()
    );
    let matching: (String, Option<String>) = sqlx::query_as(
        "SELECT status, certificate_status FROM matching.volunteer
         WHERE tenant = 'rodovre' AND id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .expect("matching row");
    assert_eq!(matching, ("forgotten".into(), None));
}

/// The organisation the volunteer consented to requests the børneattest with its own token, and
/// records its assessment; another organisation's token reaches neither step, and a token
/// speaking in another's name is refused. Each refusal appends nothing.
#[tokio::test]
async fn an_organisations_own_token_requests_and_assesses_the_børneattest_it_was_consented_to() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let mut organisations = Vec::new();
    for name in ["Røde Kors Rødovre", "Lektiecaféen"] {
        let (status, created) = app
            .post("/organisations", &token, &organisation_body(name, None))
            .await;
        assert_eq!(status, 201, "{created}");
        organisations.push(created["id"].as_str().expect("id").to_string());
    }
    let party = |i: usize| {
        let id = uuid::Uuid::parse_str(&organisations[i]).expect("uuid");
        app.party_token("rodovre", Party::Organisation(id))
    };
    let (red_cross, cafe) = (party(0), party(1));
    let by = |i: usize| json!({ "organisation_id": organisations[i] });
    let id = register(&app, &token, "Søren Ærø").await;

    // Before the volunteer consents, the case names no organisation: not theirs to request.
    let before = app.appended().await;
    let (status, problem) = step(&app, &red_cross, &id, "request", by(0)).await;
    assert_eq!(status, 403, "{problem}");
    taken(&app, &token, &id, "consent", by(0)).await;
    let after_consent = app.appended().await;
    assert_eq!(after_consent, before + 1, "only the consent was appended");
    for (who, body) in [(&cafe, by(1)), (&cafe, by(0)), (&red_cross, by(1))] {
        let (status, problem) = step(&app, who, &id, "request", body.clone()).await;
        assert_eq!(status, 403, "{body}: {problem}");
    }
    assert_eq!(
        app.appended().await,
        after_consent,
        "refusals append nothing"
    );

    // Naming none, its token names itself.
    taken(&app, &red_cross, &id, "request", json!({})).await;
    let assessment = |i: usize| {
        json!({ "organisation_id": organisations[i], "result": "approved",
                "assessed_on": today(), "valid_until": today() + chrono::Duration::days(730) })
    };
    let (status, problem) = step(&app, &cafe, &id, "assessment", assessment(1)).await;
    assert_eq!(status, 403, "{problem}");
    let position = taken(&app, &red_cross, &id, "assessment", assessment(0)).await;
    let view = volunteer_at(&app, &token, &id, position).await;
    assert_eq!(view["child_certificate_status"], "approved", "{view}");
}
