//! Candidates for a need: the hard rules no ranking breaks, each shown by a volunteer who
//! breaks only that one, and the ranking's scores and reasons as computed by hand.

use samskab_api::{Party, Role};
use samskab_e2e::{TestApp, need_body, spawn_app, volunteer_body};
use serde_json::{Value, json};
use uuid::Uuid;

pub(crate) fn today() -> chrono::NaiveDate {
    samskab_domain::calendar::danish_date(chrono::Utc::now())
}

/// The canonical volunteer (Søren: lektiehjælp and snedker, da and uk, 2610, Tuesday evenings
/// and Monday mornings, children and refugees) with an approved børneattest valid for a year,
/// changed by `changes`.
pub(crate) fn volunteer(changes: Value) -> Value {
    let mut body = volunteer_body("Søren Ærø Østergård");
    // Not a field of the request: `register` takes it through the workflow (`TestApp::certify`).
    body["child_certificate"] = json!({
        "status": "approved",
        "valid_until": today() + chrono::Duration::days(365),
    });
    for (key, value) in changes.as_object().expect("object") {
        body[key] = value.clone();
    }
    body
}

/// Registers the volunteer; with `matching`, they consent to being matched. Their id.
pub(crate) async fn register(app: &TestApp, token: &str, body: &Value, matching: bool) -> String {
    let mut body = body.clone();
    let certificate = body
        .as_object_mut()
        .and_then(|b| b.remove("child_certificate"));
    let (status, created) = app.post("/volunteers", token, &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    if let Some(certificate) = certificate {
        app.certify(token, &id, &certificate).await;
    }
    if matching {
        set_matching(app, token, &id, true).await;
    }
    id
}

pub(crate) async fn set_matching(app: &TestApp, token: &str, id: &str, matching: bool) -> u64 {
    let consents = json!({ "matching": matching, "contact": false, "notifications": false });
    let (status, accepted) = app
        .put(&format!("/volunteers/{id}/consents"), token, &consents)
        .await;
    assert_eq!(status, 202, "{accepted}");
    accepted["position"].as_u64().expect("position")
}

/// The ids of the needs suggested to `volunteer`, best first, once the read models reached
/// `position`.
pub(crate) async fn suggested(
    app: &TestApp,
    token: &str,
    volunteer: &str,
    position: u64,
) -> Vec<String> {
    let (status, list) = app
        .get(
            &format!("/volunteers/{volunteer}/suggestions?min_position={position}"),
            token,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .map(|s| s["need_id"].as_str().expect("id").to_string())
        .collect()
}

/// The candidates' ids and scores, best first, once the read models reached `position`.
pub(crate) async fn candidates(
    app: &TestApp,
    token: &str,
    need: &str,
    position: u64,
) -> Vec<(String, f64)> {
    let (status, list) = app
        .get(
            &format!("/needs/{need}/candidates?min_position={position}"),
            token,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| {
            (
                c["volunteer_id"].as_str().expect("id").to_string(),
                c["score"].as_f64().expect("score"),
            )
        })
        .collect()
}

pub(crate) async fn publish(app: &TestApp, token: &str, body: &Value) -> String {
    let (status, accepted) = app.post("/needs", token, body).await;
    assert_eq!(status, 201, "{accepted}");
    accepted["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn candidates_are_ranked_by_score_with_a_reason_per_criterion_as_computed_by_hand() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    // The canonical need: requires lektiehjælp; nice: matematik, dansk som andetsprog;
    // languages da, uk; at 2610; Tuesday evenings; children and refugees; children under 15.
    let need = publish(&app, &token, &need_body("Lektiehjælp")).await;
    // Søren: 35 (lektiehjælp) + 0 (neither nice skill) + 10 (da, uk) + 20 (same postcode)
    // + 10 (Tuesday evening) + 10 (children, refugees) = 85.
    let soren = register(&app, &token, &volunteer(json!({})), true).await;
    // Mette: 35 + 7.5 (matematik, 1 of 2) + 5 (da, 1 of 2) + 20 + 10 + 10 (refugees) = 87.5.
    let mette_body = volunteer(json!({
        "name": "Mette Hansen",
        "skills": ["Lektiehjælp", "Matematik"],
        "languages": ["da"],
        "target_groups": ["refugees"],
        "availability": { "slots": [{ "weekday": "tue", "part": "evening" }], "hours_per_week": 2 },
    }));
    let mette = register(&app, &token, &mette_body, true).await;
    let position = app.log_position().await;

    let ranked = candidates(&app, &token, &need, position).await;
    assert_eq!(ranked, vec![(mette, 87.5), (soren.clone(), 85.0)]);

    let (_, list) = app
        .get(&format!("/needs/{need}/candidates?limit=2"), &token)
        .await;
    assert_eq!(list["weights"]["skills_required"], 35);
    let reasons = &list["candidates"][1]["reasons"];
    assert_eq!(list["candidates"][1]["volunteer_id"], json!(soren));
    assert_eq!(list["candidates"][1]["distance_km"], 0.0);
    let by_criterion = |criterion: &str| {
        reasons
            .as_array()
            .expect("reasons")
            .iter()
            .find(|r| r["criterion"] == criterion)
            .cloned()
            .expect("a reason per criterion")
    };
    // Every criterion, in Danish and English, in the order of the score.
    let labels: Vec<(&str, &str, &str)> = reasons
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| {
            (
                r["criterion"].as_str().expect("criterion"),
                r["label_da"].as_str().expect("label_da"),
                r["label_en"].as_str().expect("label_en"),
            )
        })
        .collect();
    assert_eq!(
        labels,
        vec![
            ("skills_required", "Krævede kompetencer", "Required skills"),
            (
                "skills_nice_to_have",
                "Ønskede kompetencer",
                "Nice-to-have skills"
            ),
            ("languages", "Sprog", "Languages"),
            ("distance", "Afstand", "Distance"),
            ("availability", "Tidspunkter", "Availability"),
            ("interests", "Målgrupper", "Target groups"),
        ]
    );
    let nice = by_criterion("skills_nice_to_have");
    assert_eq!(nice["matched"], false);
    assert_eq!(nice["points"], 0.0);
    assert_eq!(nice["max_points"], 15);
    assert_eq!(nice["label_da"], "Ønskede kompetencer");
    assert_eq!(nice["label_en"], "Nice-to-have skills");
    assert_eq!(
        nice["detail"],
        "0 of 2: none of matematik, dansk som andetsprog"
    );
    let required = by_criterion("skills_required");
    assert_eq!(required["matched"], true);
    assert_eq!(required["points"], 35.0);
    assert_eq!(required["detail"], "1 of 1: lektiehjælp");

    let (_, one) = app
        .get(&format!("/needs/{need}/candidates?limit=1"), &token)
        .await;
    assert_eq!(one["candidates"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_volunteer_who_breaks_a_hard_rule_is_never_a_candidate() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    // It starts in a month: a børneattest must still hold then.
    let mut body = need_body("Lektiehjælp");
    body["starts_on"] = json!(today() + chrono::Duration::days(30));
    let need = publish(&app, &token, &body).await;
    let fits = register(&app, &token, &volunteer(json!({})), true).await;
    // Each breaks exactly one rule, and would otherwise rank (same skills, place and times).
    register(
        &app,
        &token,
        &volunteer(json!({ "name": "Ingen Samtykke" })),
        false,
    )
    .await;
    let roskilde = app.token("roskilde", Role::Caseworker);
    register(
        &app,
        &roskilde,
        &volunteer(json!({ "name": "Anden Kommune" })),
        true,
    )
    .await;
    let requested = json!({ "status": "requested" });
    register(
        &app,
        &token,
        &volunteer(json!({ "name": "Attest Afventer", "child_certificate": requested })),
        true,
    )
    .await;
    // Approved, but to be renewed before the need starts: expired on its first day.
    let expired = json!({
        "status": "approved",
        "valid_until": today() + chrono::Duration::days(29),
    });
    register(
        &app,
        &token,
        &volunteer(json!({ "name": "Attest Udløbet", "child_certificate": expired })),
        true,
    )
    .await;
    let wednesdays =
        json!({ "slots": [{ "weekday": "wed", "part": "morning" }], "hours_per_week": 2 });
    register(
        &app,
        &token,
        &volunteer(json!({ "name": "Kun Onsdag", "availability": wednesdays })),
        true,
    )
    .await;
    let position = app.log_position().await;
    let only =
        |ranked: Vec<(String, f64)>| ranked.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(
        only(candidates(&app, &token, &need, position).await),
        vec![fits.clone()]
    );

    // Without the børneattest rule's need, the waiting and the expired certificates count.
    let mut adults = need_body("Lektiehjælp for voksne");
    adults["children_under_15"] = json!(false);
    let for_adults = publish(&app, &token, &adults).await;
    let position = app.log_position().await;
    assert_eq!(
        candidates(&app, &token, &for_adults, position).await.len(),
        3,
        "the fitting one and the two without a valid børneattest"
    );

    // Consent to matching withdrawn, and given again: gone at once, and back.
    let position = set_matching(&app, &token, &fits, false).await;
    assert!(candidates(&app, &token, &need, position).await.is_empty());
    let position = set_matching(&app, &token, &fits, true).await;
    assert_eq!(
        only(candidates(&app, &token, &need, position).await),
        vec![fits.clone()]
    );

    // Forgotten: gone at once, from every need.
    let (status, accepted) = app
        .post(&format!("/volunteers/{fits}/forget"), &token, &json!({}))
        .await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    assert!(candidates(&app, &token, &need, position).await.is_empty());
    assert_eq!(
        candidates(&app, &token, &for_adults, position).await.len(),
        2
    );
}

#[tokio::test]
async fn a_volunteer_who_withdrew_all_consent_is_never_a_candidate() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let need = publish(&app, &token, &need_body("Lektiehjælp")).await;
    let id = register(&app, &token, &volunteer(json!({})), true).await;
    let position = app.log_position().await;
    assert_eq!(candidates(&app, &token, &need, position).await.len(), 1);
    let (status, accepted) = app
        .post(
            &format!("/volunteers/{id}/consent/withdraw"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    assert!(candidates(&app, &token, &need, position).await.is_empty());
}

#[tokio::test]
async fn a_closed_need_or_one_of_a_deactivated_organisation_has_no_candidates() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let organisation = app.organisation(&token, "Røde Kors Rødovre").await;
    let mut body = need_body("Lektiehjælp");
    body["organisation_id"] = json!(organisation);
    let need = publish(&app, &token, &body).await;
    let soren = register(&app, &token, &volunteer(json!({})), true).await;
    let position = app.log_position().await;
    assert_eq!(candidates(&app, &token, &need, position).await.len(), 1);
    assert_eq!(
        suggested(&app, &token, &soren, position).await,
        vec![need.clone()]
    );

    let (status, accepted) = app
        .post(&format!("/needs/{need}/close"), &token, &json!({}))
        .await;
    assert_eq!(status, 202);
    let position = accepted["position"].as_u64().expect("position");
    let (status, problem) = app
        .get(
            &format!("/needs/{need}/candidates?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    let (status, accepted) = app
        .post(&format!("/needs/{need}/reopen"), &token, &json!({}))
        .await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    assert_eq!(candidates(&app, &token, &need, position).await.len(), 1);

    let (status, accepted) = app
        .post(
            &format!("/organisations/{organisation}/deactivate"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let position = accepted["position"].as_u64().expect("position");
    let (status, problem) = app
        .get(
            &format!("/needs/{need}/candidates?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(
        suggested(&app, &token, &soren, position).await,
        Vec::<String>::new(),
        "a deactivated organisation's need is suggested to no one"
    );

    let (status, _) = app
        .get(
            &format!("/needs/{}/candidates", uuid::Uuid::now_v7()),
            &token,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_volunteer_is_suggested_the_open_needs_they_may_do_best_first() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    // Søren fits the canonical need at 85 (see the ranking test).
    let homework = publish(&app, &token, &need_body("Lektiehjælp")).await;
    // A remote need without skills, for adults, on Monday mornings (Søren's other slot):
    // 35 + 15 + 10 + 20 (remote) + 10 + 0 (elderly: not his) = 90.
    let mut calls = need_body("Telefonven");
    calls["postcode"] = Value::Null;
    calls["skills_required"] = json!([]);
    calls["skills_nice_to_have"] = json!([]);
    calls["languages"] = json!([]);
    calls["target_groups"] = json!(["elderly"]);
    calls["children_under_15"] = json!(false);
    calls["weekly"] =
        json!({ "slots": [{ "weekday": "mon", "part": "morning" }], "hours_per_week": 1 });
    let phone = publish(&app, &token, &calls).await;
    // Not suggested: another time (Saturdays), and a closed need.
    let mut saturdays = need_body("Weekendhjælp");
    saturdays["weekly"] =
        json!({ "slots": [{ "weekday": "sat", "part": "morning" }], "hours_per_week": 1 });
    publish(&app, &token, &saturdays).await;
    let closed = publish(&app, &token, &need_body("Lukket")).await;
    let (status, _) = app
        .post(&format!("/needs/{closed}/close"), &token, &json!({}))
        .await;
    assert_eq!(status, 202);
    // Another municipality's need is never suggested.
    let roskilde = app.token("roskilde", Role::Caseworker);
    publish(&app, &roskilde, &need_body("I Roskilde")).await;

    let soren = register(&app, &token, &volunteer(json!({})), true).await;
    let position = app.log_position().await;
    let (status, list) = app
        .get(
            &format!("/volunteers/{soren}/suggestions?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let ranked: Vec<(String, f64)> = list["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .map(|s| {
            (
                s["need_id"].as_str().expect("id").to_string(),
                s["score"].as_f64().expect("score"),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        vec![(phone.clone(), 90.0), (homework.clone(), 85.0)]
    );
    assert_eq!(list["suggestions"][0]["title"], "Telefonven");
    assert_eq!(list["suggestions"][0]["distance_km"], Value::Null);

    // Without a valid børneattest, the need with children under 15 is not suggested.
    let waiting = volunteer(
        json!({ "name": "Attest Afventer", "child_certificate": { "status": "requested" } }),
    );
    let waiting = register(&app, &token, &waiting, true).await;
    let position = app.log_position().await;
    let (_, list) = app
        .get(
            &format!("/volunteers/{waiting}/suggestions?min_position={position}"),
            &token,
        )
        .await;
    let needs: Vec<&str> = list["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .filter_map(|s| s["title"].as_str())
        .collect();
    assert_eq!(needs, vec!["Telefonven"]);
    // Nor with one approved but expired on the need's first day: a summer camp in a month,
    // while homework help, which has begun, is theirs.
    let mut camp = need_body("Sommerlejr");
    camp["starts_on"] = json!(today() + chrono::Duration::days(30));
    publish(&app, &token, &camp).await;
    let expired = volunteer(json!({ "name": "Attest Udløbet", "child_certificate": {
        "status": "approved", "valid_until": today() + chrono::Duration::days(29) } }));
    let expired = register(&app, &token, &expired, true).await;
    let position = app.log_position().await;
    assert_eq!(
        suggested(&app, &token, &expired, position).await,
        vec![phone.clone(), homework.clone()]
    );

    // Without consent to matching there is nothing to suggest; an unknown volunteer is 404.
    let position = set_matching(&app, &token, &soren, false).await;
    let (status, problem) = app
        .get(
            &format!("/volunteers/{soren}/suggestions?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    let (status, _) = app
        .get(
            &format!("/volunteers/{}/suggestions", uuid::Uuid::now_v7()),
            &token,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_municipality_ranks_by_its_own_weights_and_only_its_own() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let need = publish(&app, &token, &need_body("Lektiehjælp")).await;
    let soren = register(&app, &token, &volunteer(json!({})), true).await;
    let mette_body = volunteer(json!({
        "name": "Mette Hansen",
        "skills": ["Lektiehjælp", "Matematik"],
    }));
    let mette = register(&app, &token, &mette_body, true).await;

    // Only nice-to-have skills count: Mette has one of two (matematik), Søren none.
    let weights = json!({
        "skills_required": 0, "skills_nice_to_have": 100, "languages": 0,
        "distance": 0, "availability": 0, "interests": 0,
    });
    let (status, accepted) = app
        .put("/municipalities/current/matching-weights", &token, &weights)
        .await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    assert_eq!(
        candidates(&app, &token, &need, position).await,
        vec![(mette, 50.0), (soren, 0.0)]
    );
    let (_, current) = app
        .get(
            &format!("/municipalities/current?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(current["matching_weights"], weights);
    let (_, list) = app.get(&format!("/needs/{need}/candidates"), &token).await;
    assert_eq!(
        list["weights"], weights,
        "the candidates say what they were ranked by"
    );

    // Another municipality still ranks by the default.
    let roskilde = app.token("roskilde", Role::Caseworker);
    let (_, theirs) = app.get("/municipalities/current", &roskilde).await;
    assert_eq!(theirs["matching_weights"]["skills_required"], 35);

    // Out of range, or nothing counting, is refused and changes nothing.
    for (body, field) in [
        (
            json!({ "skills_required": 101, "skills_nice_to_have": 0, "languages": 0, "distance": 0, "availability": 0, "interests": 0 }),
            "skills_required",
        ),
        (
            json!({ "skills_required": 0, "skills_nice_to_have": 0, "languages": 0, "distance": 0, "availability": 0, "interests": 0 }),
            "skills_required",
        ),
    ] {
        let (status, problem) = app
            .put("/municipalities/current/matching-weights", &token, &body)
            .await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let (_, current) = app.get("/municipalities/current", &token).await;
    assert_eq!(current["matching_weights"], weights);
}

#[tokio::test]
async fn a_volunteer_who_travels_further_earns_distance_points_the_default_would_not_give() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let need = publish(&app, &token, &need_body("Lektiehjælp")).await;
    // Both live at 4000, 22.66 km from the need's 2610 (samskab-geo). Søren as he is: up to
    // 15 km counts, so the distance earns nothing and his score is 85 - 20 = 65. Birte will
    // travel 30 km: 20 × (1 - 22.66 / 30) = 4.9 points, so 69.9.
    let soren = register(
        &app,
        &token,
        &volunteer(json!({ "postcode": "4000" })),
        true,
    )
    .await;
    let birte_body = volunteer(json!({
        "name": "Birte Kjær",
        "postcode": "4000",
        "max_travel_km": 30,
    }));
    let birte = register(&app, &token, &birte_body, true).await;
    let position = app.log_position().await;

    let ranked = candidates(&app, &token, &need, position).await;
    assert_eq!(ranked, vec![(birte.clone(), 69.9), (soren.clone(), 65.0)]);
    let (_, list) = app.get(&format!("/needs/{need}/candidates"), &token).await;
    let distance = |i: usize| {
        list["candidates"][i]["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .find(|r| r["criterion"] == "distance")
            .cloned()
            .expect("the distance reason")
    };
    assert_eq!(distance(0)["points"], 4.9);
    assert_eq!(distance(0)["matched"], true);
    assert_eq!(
        distance(0)["detail"],
        "22.7 km between the postcodes; up to 30 km counts"
    );
    assert_eq!(distance(1)["points"], 0.0);
    assert_eq!(distance(1)["matched"], false);

    // Her suggestions rank by her distance too, and her profile shows it.
    let (status, suggested) = app
        .get(&format!("/volunteers/{birte}/suggestions"), &token)
        .await;
    assert_eq!(status, 200, "{suggested}");
    assert_eq!(suggested["suggestions"][0]["score"], 69.9);
    let (_, profile) = app
        .get(
            &format!("/volunteers/{birte}?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(profile["max_travel_km"], 30);

    // Zero, or further than Denmark is long, is refused with its field, and nothing appended.
    let before = app.appended().await;
    for km in [0, 501] {
        let mut body = birte_body.clone();
        body["max_travel_km"] = json!(km);
        body.as_object_mut().map(|b| b.remove("child_certificate"));
        let (status, problem) = app.post("/volunteers", &token, &body).await;
        assert_eq!(status, 422, "{km}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "max_travel_km", "{problem}");
    }
    assert_eq!(app.appended().await, before);
}

/// `PUT /volunteers/{id}/municipalities` and its answer's position.
async fn opt_in(app: &TestApp, token: &str, id: &str, municipalities: Value) -> (u16, Value) {
    app.put(
        &format!("/volunteers/{id}/municipalities"),
        token,
        &json!({ "municipalities": municipalities }),
    )
    .await
}

/// The hard rule "same municipality unless the volunteer opted in to others": a Roskilde
/// volunteer is no candidate for a Rødovre need until they choose Rødovre, then is one (shown
/// with their own municipality, without contact unless they consented to it), and is gone again
/// at once when they take it back. Their suggestions take in Rødovre's needs the same way.
#[tokio::test]
async fn a_volunteer_of_another_municipality_is_a_candidate_only_once_they_opt_in_to_it() {
    let app = spawn_app().await;
    let rodovre = app.token("rodovre", Role::Caseworker);
    let roskilde = app.token("roskilde", Role::Caseworker);
    let need = publish(&app, &rodovre, &need_body("Lektiehjælp")).await;
    let theirs = register(
        &app,
        &roskilde,
        &volunteer(json!({ "name": "Rikke Roskilde" })),
        true,
    )
    .await;
    let ours = register(&app, &rodovre, &volunteer(json!({})), true).await;
    let position = app.log_position().await;
    let ids = |ranked: Vec<(String, f64)>| ranked.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(
        ids(candidates(&app, &rodovre, &need, position).await),
        vec![ours.clone()],
        "without opting in, Roskilde's volunteer is no candidate in Rødovre"
    );
    let suggestions = |position: u64| {
        let (app, token, theirs) = (&app, &roskilde, &theirs);
        async move {
            let (status, list) = app
                .get(
                    &format!("/volunteers/{theirs}/suggestions?min_position={position}"),
                    token,
                )
                .await;
            assert_eq!(status, 200, "{list}");
            list["suggestions"]
                .as_array()
                .expect("suggestions")
                .iter()
                .map(|s| (s["need_id"].clone(), s["municipality"].clone()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(suggestions(position).await, vec![]);

    // Refused, changing nothing: their own municipality, and one not on the installation.
    for (wanted, field) in [
        (json!(["roskilde"]), "municipalities"),
        (json!(["rodovre", "hvidvore"]), "municipalities[1]"),
    ] {
        let (status, problem) = opt_in(&app, &roskilde, &theirs, wanted).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (status, problem) = opt_in(&app, &rodovre, &theirs, json!(["rodovre"])).await;
    assert_eq!(
        status, 404,
        "Rødovre cannot choose for Roskilde's volunteer: {problem}"
    );

    let (status, accepted) = opt_in(&app, &roskilde, &theirs, json!(["rodovre"])).await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    let (_, view) = app
        .get(
            &format!("/volunteers/{theirs}?min_position={position}"),
            &roskilde,
        )
        .await;
    assert_eq!(view["other_municipalities"], json!(["rodovre"]));
    let (status, list) = app
        .get(
            &format!("/needs/{need}/candidates?min_position={position}"),
            &rodovre,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let listed = list["candidates"].as_array().expect("candidates");
    let cross: Vec<&Value> = listed
        .iter()
        .filter(|c| c["volunteer_id"] == json!(theirs))
        .collect();
    assert_eq!(cross.len(), 1, "{list}");
    assert_eq!(cross[0]["municipality"], "roskilde");
    assert_eq!(
        cross[0]["contact"],
        Value::Null,
        "no contact to another municipality without consent to contact"
    );
    let own: Vec<&Value> = listed
        .iter()
        .filter(|c| c["volunteer_id"] == json!(ours))
        .collect();
    assert_eq!(own[0]["municipality"], "rodovre");
    assert!(own[0]["contact"].is_object(), "{list}");
    assert_eq!(
        suggestions(position).await,
        vec![(json!(need), json!("rodovre"))]
    );

    // With consent to contact, Rødovre's coordinator may reach them.
    let consents = json!({ "matching": true, "contact": true, "notifications": false });
    let (status, accepted) = app
        .put(
            &format!("/volunteers/{theirs}/consents"),
            &roskilde,
            &consents,
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    let (_, list) = app
        .get(
            &format!("/needs/{need}/candidates?min_position={position}"),
            &rodovre,
        )
        .await;
    let contact = list["candidates"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["volunteer_id"] == json!(theirs)))
        .map(|c| c["contact"]["name"].clone());
    assert_eq!(contact, Some(json!("Rikke Roskilde")), "{list}");

    // Rødovre's coordinator proposes them: the match is Rødovre's and names their
    // municipality. Without it they are no volunteer of Rødovre's.
    let proposal = |municipality: Value| {
        json!({ "volunteer_id": theirs, "need_id": need, "proposed_by": "coordinator",
                "volunteer_municipality": municipality })
    };
    let (status, problem) = app.post("/matches", &rodovre, &proposal(Value::Null)).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "volunteer_id", "{problem}");
    let (status, created) = app
        .post("/matches", &rodovre, &proposal(json!("roskilde")))
        .await;
    assert_eq!(status, 201, "{created}");
    let match_id = created["id"].as_str().expect("id").to_string();
    let position = created["position"].as_u64().expect("position");
    let (status, shown) = app
        .get(
            &format!("/matches/{match_id}?min_position={position}"),
            &rodovre,
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["volunteer_municipality"], "roskilde");
    assert_eq!(shown["volunteer_id"], json!(theirs));
    assert_eq!(
        ids(candidates(&app, &rodovre, &need, position).await),
        vec![ours.clone()],
        "in a live match to the need, no candidate for it"
    );
    let (status, declined) = app
        .post(
            &format!("/matches/{match_id}/decline"),
            &rodovre,
            &json!({ "side": "volunteer" }),
        )
        .await;
    assert_eq!(status, 202, "{declined}");
    let position = declined["position"].as_u64().expect("position");
    assert_eq!(
        candidates(&app, &rodovre, &need, position).await.len(),
        2,
        "declined: a candidate again"
    );

    // Taken back: gone at once, from candidates and suggestions, and no longer proposed.
    let (status, accepted) = opt_in(&app, &roskilde, &theirs, json!([])).await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    assert_eq!(
        ids(candidates(&app, &rodovre, &need, position).await),
        vec![ours.clone()]
    );
    assert_eq!(suggestions(position).await, vec![]);
    let (status, problem) = app
        .post("/matches", &rodovre, &proposal(json!("roskilde")))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"][0]["field"], "volunteer_municipality",
        "{problem}"
    );
}

/// The other way across municipalities: Roskilde's volunteer, with their own token, says "I'm
/// interested" in a need of Rødovre, which they opted in to. The match is Rødovre's (its
/// coordinator accepts and starts it); the volunteer's token finds it there, lists it and logs
/// its hours, even after taking Rødovre off their list. Nobody else's token reaches it.
#[tokio::test]
async fn a_volunteer_says_im_interested_in_a_need_of_a_municipality_they_chose_and_follows_the_match_there()
 {
    let app = spawn_app().await;
    let rodovre = app.token("rodovre", Role::Caseworker);
    let roskilde = app.token("roskilde", Role::Caseworker);
    let need = publish(&app, &rodovre, &need_body("Lektiehjælp")).await;
    let theirs = register(&app, &roskilde, &volunteer(json!({})), true).await;
    let other = register(&app, &roskilde, &volunteer(json!({})), true).await;
    let party = |id: &str| Party::Volunteer(Uuid::parse_str(id).expect("uuid"));
    let mine = app.party_token("roskilde", party(&theirs));
    let not_mine = app.party_token("roskilde", party(&other));
    let interest = json!({ "volunteer_id": theirs, "need_id": need, "proposed_by": "volunteer",
                           "need_municipality": "rodovre" });

    // Refused, appending nothing: before they chose Rødovre; from a coordinator, who proposes
    // to their own municipality's needs; for a person.
    let before = app.log_position().await;
    let (status, problem) = app.post("/matches", &mine, &interest).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"][0]["field"], "need_municipality",
        "{problem}"
    );
    let mut as_coordinator = interest.clone();
    as_coordinator["proposed_by"] = json!("coordinator");
    let (status, problem) = app.post("/matches", &roskilde, &as_coordinator).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"][0]["field"], "need_municipality",
        "{problem}"
    );
    assert_eq!(
        app.log_position().await,
        before,
        "a refusal appends nothing"
    );

    let (status, accepted) = opt_in(&app, &roskilde, &theirs, json!(["rodovre"])).await;
    assert_eq!(status, 202, "{accepted}");
    let (status, created) = app.post("/matches", &mine, &interest).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let position = created["position"].as_u64().expect("position");
    let (status, again) = app.post("/matches", &mine, &interest).await;
    assert_eq!(status, 409, "matched already, in Rødovre: {again}");

    let shown = |token: &str, position: u64| {
        let (app, id, token) = (&app, &id, token.to_string());
        async move {
            app.get(&format!("/matches/{id}?min_position={position}"), &token)
                .await
        }
    };
    let (status, view) = shown(&mine, position).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["municipality"], "rodovre");
    assert_eq!(view["volunteer_municipality"], "roskilde");
    assert_eq!(view["proposed_by"], "volunteer");
    assert_eq!(view["volunteer_accepted"], true);
    let (status, view) = shown(&rodovre, position).await;
    assert_eq!(status, 200, "Rødovre's match: {view}");
    assert_eq!(view["municipality"], "rodovre");
    for token in [&roskilde, &not_mine] {
        let (status, view) = shown(token, position).await;
        assert_eq!(status, 404, "Roskilde holds no such match: {view}");
    }
    let listed = |token: &str, position: u64| {
        let (app, token) = (&app, token.to_string());
        async move {
            let (status, page) = app
                .get(&format!("/matches?min_position={position}"), &token)
                .await;
            assert_eq!(status, 200, "{page}");
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|m| (m["id"].clone(), m["municipality"].clone()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed(&mine, position).await,
        vec![(json!(id), json!("rodovre"))]
    );
    assert_eq!(listed(&not_mine, position).await, vec![]);
    assert_eq!(listed(&roskilde, position).await, vec![], "not Roskilde's");

    // Rødovre's coordinator accepts and starts it; the volunteer logs their hours there.
    let (status, accepted) = app
        .post(
            &format!("/matches/{id}/accept"),
            &rodovre,
            &json!({ "side": "counterpart" }),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let (status, started) = app
        .post(
            &format!("/matches/{id}/start"),
            &rodovre,
            &json!({ "on": today() }),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let month = today().format("%Y-%m").to_string();
    let hours = json!({ "period": month, "minutes": 90 });
    let (status, problem) = app
        .post(&format!("/matches/{id}/hours"), &not_mine, &hours)
        .await;
    assert_eq!(
        status, 404,
        "another volunteer's token finds no such match: {problem}"
    );
    let (status, logged) = app
        .post(&format!("/matches/{id}/hours"), &mine, &hours)
        .await;
    assert_eq!(status, 202, "{logged}");
    let position = logged["position"].as_u64().expect("position");
    let (_, view) = shown(&rodovre, position).await;
    assert_eq!(view["status"], "active", "{view}");
    assert_eq!(view["total_minutes"], 90, "{view}");

    // Rødovre taken off their list: no new interest there, but their match is still theirs.
    let (status, accepted) = opt_in(&app, &roskilde, &theirs, json!([])).await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    app.projected(position).await;
    let (status, view) = shown(&mine, position).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        listed(&mine, position).await,
        vec![(json!(id), json!("rodovre"))]
    );
    let hours = json!({ "period": month, "minutes": 120 });
    let (status, logged) = app
        .post(&format!("/matches/{id}/hours"), &mine, &hours)
        .await;
    assert_eq!(status, 202, "{logged}");
    let position = logged["position"].as_u64().expect("position");
    let (_, view) = shown(&rodovre, position).await;
    assert_eq!(view["total_minutes"], 120, "{view}");
}

/// A volunteer who opted in to another municipality leaves its candidate lists at once, with
/// their own municipality's, when they withdraw consent to matching or are forgotten.
#[tokio::test]
async fn withdrawing_or_forgetting_takes_a_volunteer_off_every_municipalitys_candidates_at_once() {
    let app = spawn_app().await;
    let rodovre = app.token("rodovre", Role::Caseworker);
    let roskilde = app.token("roskilde", Role::Caseworker);
    let theirs = publish(&app, &rodovre, &need_body("Lektiehjælp")).await;
    let ours = publish(&app, &roskilde, &need_body("Lektiehjælp i Roskilde")).await;
    let mut both = Vec::new();
    for _ in 0..2 {
        let id = register(&app, &roskilde, &volunteer(json!({})), true).await;
        let (status, accepted) = opt_in(&app, &roskilde, &id, json!(["rodovre"])).await;
        assert_eq!(status, 202, "{accepted}");
        both.push(id);
    }
    let lists = |position: u64| {
        let (app, rodovre, roskilde, theirs, ours) = (&app, &rodovre, &roskilde, &theirs, &ours);
        async move {
            let ids = |ranked: Vec<(String, f64)>| {
                let mut ids: Vec<String> = ranked.into_iter().map(|(id, _)| id).collect();
                ids.sort();
                ids
            };
            (
                ids(candidates(app, rodovre, theirs, position).await),
                ids(candidates(app, roskilde, ours, position).await),
            )
        }
    };
    let mut sorted = both.clone();
    sorted.sort();
    let position = app.log_position().await;
    assert_eq!(lists(position).await, (sorted.clone(), sorted));

    let position = set_matching(&app, &roskilde, &both[0], false).await;
    let (rodovre_list, roskilde_list) = lists(position).await;
    assert_eq!(
        rodovre_list,
        vec![both[1].clone()],
        "withdrawn: gone from Rødovre's"
    );
    assert_eq!(roskilde_list, vec![both[1].clone()], "and from Roskilde's");

    let (status, forgotten) = app
        .post(
            &format!("/volunteers/{}/forget", both[1]),
            &roskilde,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{forgotten}");
    let position = forgotten["position"].as_u64().expect("position");
    assert_eq!(
        lists(position).await,
        (vec![], vec![]),
        "forgotten: gone from both"
    );
}
