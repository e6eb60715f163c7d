//! The life of a match through the API: proposed, accepted, started, hours logged, paused,
//! resumed, ended; every refused transition answered 409 or 422 and changing nothing; the rules
//! a proposal is checked against (each shown by a proposal that breaks only that one); and what
//! a match does to the need's candidates, its suggestions and whether it is filled.

use samskab_api::Role;
use samskab_e2e::{TestApp, need_body, spawn_app};
use serde_json::{Value, json};

use crate::matching::{candidates, publish, register, set_matching, today, volunteer};

/// Proposes the pair as a coordinator: the answer's status and body.
async fn propose(app: &TestApp, token: &str, volunteer: &str, need: &str) -> (u16, Value) {
    let body = json!({
        "volunteer_id": volunteer,
        "need_id": need,
        "proposed_by": "coordinator",
        "note": "Tirsdag aften passer begge",
    });
    app.post("/matches", token, &body).await
}

/// Proposes the pair and expects it to be taken: the match's id.
async fn proposed(app: &TestApp, token: &str, volunteer: &str, need: &str) -> String {
    let (status, created) = propose(app, token, volunteer, need).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_string()
}

/// `POST /matches/{id}/<step>` with `body`: status and answer.
async fn step(app: &TestApp, token: &str, id: &str, step: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/matches/{id}/{step}"), token, &body)
        .await
}

/// The step, expected to be taken: its log position.
async fn taken(app: &TestApp, token: &str, id: &str, name: &str, body: Value) -> u64 {
    app.accepted(&format!("/matches/{id}/{name}"), token, &body)
        .await
}

/// The match as the read model has it once it reached `position`.
async fn read(app: &TestApp, token: &str, id: &str, position: u64) -> Value {
    let (status, view) = app
        .get(&format!("/matches/{id}?min_position={position}"), token)
        .await;
    assert_eq!(status, 200, "{view}");
    view
}

/// The need as the read model has it once it reached `position`.
async fn need_at(app: &TestApp, token: &str, id: &str, position: u64) -> Value {
    let (status, view) = app
        .get(&format!("/needs/{id}?min_position={position}"), token)
        .await;
    assert_eq!(status, 200, "{view}");
    view
}

fn this_month() -> String {
    today().format("%Y-%m").to_string()
}

/// A need wanting one volunteer, and Søren (who fits it) registered with consent to matching.
async fn need_and_volunteer(app: &TestApp, token: &str) -> (String, String) {
    let mut body = need_body("Lektiehjælp");
    body["volunteers_wanted"] = json!(1);
    let need = publish(app, token, &body).await;
    let volunteer = register(app, token, &volunteer(json!({})), true).await;
    (need, volunteer)
}

#[tokio::test]
async fn a_match_lives_from_its_proposal_to_its_end_and_fills_its_need_while_active() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (need, soren) = need_and_volunteer(&app, &token).await;

    let (status, created) = propose(&app, &token, &soren, &need).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let position = created["position"].as_u64().expect("position");
    let view = read(&app, &token, &id, position).await;
    assert_eq!(view["status"], "proposed");
    assert_eq!(view["volunteer_id"], json!(soren));
    assert_eq!(view["need_id"], json!(need));
    assert_eq!(view["proposed_by"], "coordinator");
    assert_eq!(view["note"], "Tirsdag aften passer begge");
    assert_eq!(
        (&view["volunteer_accepted"], &view["counterpart_accepted"]),
        (&json!(false), &json!(true)),
        "the coordinator's proposal is the counterpart's acceptance"
    );

    let position = taken(&app, &token, &id, "accept", json!({ "side": "volunteer" })).await;
    assert_eq!(read(&app, &token, &id, position).await["status"], "agreed");
    let need_view = need_at(&app, &token, &need, position).await;
    assert_eq!(
        (&need_view["active_matches"], &need_view["filled"]),
        (&json!(0), &json!(false))
    );

    let position = taken(&app, &token, &id, "start", json!({ "on": today() })).await;
    let view = read(&app, &token, &id, position).await;
    assert_eq!(view["status"], "active");
    assert_eq!(view["started_on"], json!(today()));
    let need_view = need_at(&app, &token, &need, position).await;
    assert_eq!(
        (&need_view["active_matches"], &need_view["filled"]),
        (&json!(1), &json!(true))
    );
    let (_, filled) = app
        .get(
            &format!("/needs?filled=true&min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(filled["items"][0]["id"], json!(need));

    // Logged again, a month's figure replaces the earlier one.
    let month = this_month();
    taken(
        &app,
        &token,
        &id,
        "hours",
        json!({ "period": month, "minutes": 90 }),
    )
    .await;
    let position = taken(
        &app,
        &token,
        &id,
        "hours",
        json!({ "period": month, "minutes": 240 }),
    )
    .await;
    let view = read(&app, &token, &id, position).await;
    assert_eq!(view["minutes"], json!({ month.clone(): 240 }));
    assert_eq!(view["total_minutes"], 240);

    let position = taken(
        &app,
        &token,
        &id,
        "pause",
        json!({ "reason": "Sommerferie" }),
    )
    .await;
    let view = read(&app, &token, &id, position).await;
    assert_eq!(view["status"], "paused");
    assert_eq!(view["pause_reason"], "Sommerferie");
    assert!(view["paused_since"].is_string());
    assert_eq!(
        need_at(&app, &token, &need, position).await["active_matches"],
        1,
        "a paused match still holds its place"
    );

    let position = taken(&app, &token, &id, "resume", json!({})).await;
    let view = read(&app, &token, &id, position).await;
    assert_eq!(view["status"], "active");
    assert_eq!(view["paused_since"], Value::Null);

    let position = taken(&app, &token, &id, "end", json!({ "reason": "completed" })).await;
    let view = read(&app, &token, &id, position).await;
    assert_eq!(view["status"], "ended");
    assert_eq!(view["end_reason"], "completed");
    assert_eq!(view["total_minutes"], 240, "an ended match keeps its hours");
    let need_view = need_at(&app, &token, &need, position).await;
    assert_eq!(
        (&need_view["active_matches"], &need_view["filled"]),
        (&json!(0), &json!(false))
    );

    let (status, list) = app
        .get(
            &format!("/matches?volunteer_id={soren}&status=ended"),
            &token,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let (_, none) = app
        .get(&format!("/matches?need_id={need}&status=active"), &token)
        .await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn a_transition_that_is_not_allowed_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (need, soren) = need_and_volunteer(&app, &token).await;
    let id = proposed(&app, &token, &soren, &need).await;

    // What a proposed match refuses, each with the rule's status.
    let refused_while_proposed = [
        ("accept", json!({ "side": "counterpart" }), 409),
        ("start", json!({ "on": today() }), 409),
        (
            "hours",
            json!({ "period": this_month(), "minutes": 60 }),
            409,
        ),
        ("pause", json!({}), 409),
        ("resume", json!({}), 409),
        ("end", json!({ "reason": "completed" }), 409),
    ];
    let position = app.log_position().await;
    for (name, body, expected) in refused_while_proposed {
        let (status, problem) = step(&app, &token, &id, name, body).await;
        assert_eq!(status, expected, "{name} on a proposed match: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("proposed")),
            "{problem}"
        );
    }
    assert_eq!(app.log_position().await, position, "nothing was appended");

    taken(&app, &token, &id, "accept", json!({ "side": "volunteer" })).await;
    let (status, problem) =
        step(&app, &token, &id, "decline", json!({ "side": "volunteer" })).await;
    assert_eq!(
        status, 409,
        "an agreed match is ended, not declined: {problem}"
    );
    let too_late = today() + chrono::Duration::days(400);
    let (status, problem) = step(&app, &token, &id, "start", json!({ "on": too_late })).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "on");

    taken(&app, &token, &id, "start", json!({ "on": today() })).await;
    let next_month = (today() + chrono::Duration::days(32))
        .format("%Y-%m")
        .to_string();
    let (status, problem) = step(
        &app,
        &token,
        &id,
        "hours",
        json!({ "period": next_month, "minutes": 60 }),
    )
    .await;
    assert_eq!(status, 422, "a month that has not begun: {problem}");
    assert_eq!(problem["errors"][0]["field"], "period");
    let (status, problem) = step(&app, &token, &id, "resume", json!({})).await;
    assert_eq!(status, 409, "an active match is not paused: {problem}");

    let position = taken(
        &app,
        &token,
        &id,
        "end",
        json!({ "reason": "no_longer_suitable" }),
    )
    .await;
    for (name, body) in [
        ("end", json!({ "reason": "completed" })),
        ("pause", json!({})),
        ("hours", json!({ "period": this_month(), "minutes": 60 })),
        ("accept", json!({ "side": "volunteer" })),
    ] {
        let (status, problem) = step(&app, &token, &id, name, body).await;
        assert_eq!(status, 409, "{name} on an ended match: {problem}");
    }
    let view = read(&app, &token, &id, position).await;
    assert_eq!(view["end_reason"], "no_longer_suitable");
    assert_eq!(view["position"], position, "the refusals changed nothing");

    // Bad input is refused before the match is looked at; an unknown match is 404.
    let (status, problem) = step(&app, &token, &id, "accept", json!({ "side": "both" })).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "side");
    let (status, _) = step(
        &app,
        &token,
        &uuid::Uuid::now_v7().to_string(),
        "resume",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_declined_match_is_final_and_the_pair_may_be_proposed_again() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (need, soren) = need_and_volunteer(&app, &token).await;
    let first = proposed(&app, &token, &soren, &need).await;

    let (status, problem) = propose(&app, &token, &soren, &need).await;
    assert_eq!(status, 409, "already matched: {problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&first)),
        "{problem}"
    );

    let position = taken(
        &app,
        &token,
        &first,
        "decline",
        json!({ "side": "volunteer", "reason": "Har ikke tid alligevel" }),
    )
    .await;
    let view = read(&app, &token, &first, position).await;
    assert_eq!(view["status"], "declined");
    assert_eq!(view["declined_by"], "volunteer");
    assert_eq!(view["decline_reason"], "Har ikke tid alligevel");
    let (status, _) = step(
        &app,
        &token,
        &first,
        "accept",
        json!({ "side": "volunteer" }),
    )
    .await;
    assert_eq!(status, 409, "a declined match stays declined");

    let second = proposed(&app, &token, &soren, &need).await;
    assert_ne!(second, first, "a new try is a new match");
    let (_, list) = app
        .get(
            &format!(
                "/matches?need_id={need}&min_position={}",
                app.log_position().await
            ),
            &token,
        )
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_proposal_is_checked_against_the_volunteer_and_the_need() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (need, soren) = need_and_volunteer(&app, &token).await;
    // Each proposal below breaks exactly one rule; Søren and the need fit otherwise.
    let refused = |(status, problem): (u16, Value), field: &str| {
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    };

    let no_consent = register(
        &app,
        &token,
        &volunteer(json!({ "name": "Ingen Samtykke" })),
        false,
    )
    .await;
    refused(
        propose(&app, &token, &no_consent, &need).await,
        "volunteer_id",
    );
    let withdrawn = register(
        &app,
        &token,
        &volunteer(json!({ "name": "Trak Sig" })),
        true,
    )
    .await;
    let (status, _) = app
        .post(
            &format!("/volunteers/{withdrawn}/consent/withdraw"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202);
    refused(
        propose(&app, &token, &withdrawn, &need).await,
        "volunteer_id",
    );
    let roskilde = app.token("roskilde", Role::Caseworker);
    let elsewhere = register(
        &app,
        &roskilde,
        &volunteer(json!({ "name": "Anden Kommune" })),
        true,
    )
    .await;
    refused(
        propose(&app, &token, &elsewhere, &need).await,
        "volunteer_id",
    );
    refused(
        propose(&app, &token, &soren, &uuid::Uuid::now_v7().to_string()).await,
        "need_id",
    );

    // The need involves children under 15: a børneattest still waiting is not enough.
    let waiting = volunteer(
        json!({ "name": "Attest Afventer", "child_certificate": { "status": "requested" } }),
    );
    let waiting = register(&app, &token, &waiting, true).await;
    refused(propose(&app, &token, &waiting, &need).await, "volunteer_id");
    let mut adults = need_body("Lektiehjælp for voksne");
    adults["children_under_15"] = json!(false);
    let for_adults = publish(&app, &token, &adults).await;
    proposed(&app, &token, &waiting, &for_adults).await;

    let closed = publish(&app, &token, &need_body("Lukket")).await;
    let (status, _) = app
        .post(&format!("/needs/{closed}/close"), &token, &json!({}))
        .await;
    assert_eq!(status, 202);
    refused(propose(&app, &token, &soren, &closed).await, "need_id");

    let organisation = app.organisation(&token, "Røde Kors Rødovre").await;
    let mut theirs = need_body("Røde Kors' lektiecafé");
    theirs["organisation_id"] = json!(organisation);
    let theirs = publish(&app, &token, &theirs).await;
    let (status, _) = app
        .post(
            &format!("/organisations/{organisation}/deactivate"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202);
    refused(propose(&app, &token, &soren, &theirs).await, "need_id");

    let (status, problem) = app
        .post(
            "/matches",
            &token,
            &json!({ "volunteer_id": soren, "need_id": need, "proposed_by": "someone" }),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "proposed_by");

    // None of the refusals left a match behind.
    let (_, list) = app
        .get(
            &format!("/matches?min_position={}", app.log_position().await),
            &token,
        )
        .await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(1),
        "only the one taken"
    );
}

#[tokio::test]
async fn a_matched_volunteer_leaves_the_needs_candidates_and_the_need_leaves_their_suggestions() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (need, soren) = need_and_volunteer(&app, &token).await;
    let position = app.log_position().await;
    assert_eq!(candidates(&app, &token, &need, position).await.len(), 1);
    let suggested = |list: &Value| -> Vec<String> {
        list["suggestions"]
            .as_array()
            .expect("suggestions")
            .iter()
            .filter_map(|s| s["need_id"].as_str().map(str::to_string))
            .collect()
    };
    let (_, list) = app
        .get(
            &format!("/volunteers/{soren}/suggestions?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(suggested(&list), vec![need.clone()]);

    let id = proposed(&app, &token, &soren, &need).await;
    let position = app.log_position().await;
    assert!(candidates(&app, &token, &need, position).await.is_empty());
    let (_, list) = app
        .get(
            &format!("/volunteers/{soren}/suggestions?min_position={position}"),
            &token,
        )
        .await;
    assert!(suggested(&list).is_empty(), "{list}");

    // Declined: the volunteer may be proposed again, so they are a candidate again.
    let position = taken(
        &app,
        &token,
        &id,
        "decline",
        json!({ "side": "counterpart" }),
    )
    .await;
    assert_eq!(candidates(&app, &token, &need, position).await.len(), 1);

    // Filled by someone else: no longer suggested to Søren, though he is not matched to it.
    let mette = register(
        &app,
        &token,
        &volunteer(json!({ "name": "Mette Hansen" })),
        true,
    )
    .await;
    let other = proposed(&app, &token, &mette, &need).await;
    taken(
        &app,
        &token,
        &other,
        "accept",
        json!({ "side": "volunteer" }),
    )
    .await;
    let position = taken(&app, &token, &other, "start", json!({ "on": today() })).await;
    let (_, list) = app
        .get(
            &format!("/volunteers/{soren}/suggestions?min_position={position}"),
            &token,
        )
        .await;
    assert!(
        suggested(&list).is_empty(),
        "a filled need is not suggested: {list}"
    );
    let position = set_matching(&app, &token, &soren, true).await;
    assert_eq!(
        candidates(&app, &token, &need, position).await.len(),
        1,
        "a filled need still has candidates, for a replacement"
    );
}

#[tokio::test]
async fn proposals_of_one_pair_at_the_same_time_make_one_match() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (need, soren) = need_and_volunteer(&app, &token).await;
    // Two API instances, each with its own caches, as a deployment with several has.
    let other = app.another_api().await;
    let body = json!({ "volunteer_id": soren, "need_id": need, "proposed_by": "volunteer" });
    let client = reqwest::Client::new();
    let send = |base: String| {
        let request = client
            .post(format!("{base}/matches"))
            .bearer_auth(&token)
            .json(&body);
        async move { samskab_e2e::read(request.send().await.expect("request")).await }
    };
    let base = app.url("").trim_end_matches('/').to_string();
    let answers = futures::future::join_all((0..6).map(|i| {
        send(if i % 2 == 0 {
            base.clone()
        } else {
            other.clone()
        })
    }))
    .await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    let conflicts = answers.iter().filter(|(status, _)| *status == 409).count();
    assert_eq!((created, conflicts), (1, 5), "{answers:?}");
    let (_, list) = app
        .get(
            &format!(
                "/matches?need_id={need}&min_position={}",
                app.log_position().await
            ),
            &token,
        )
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_proposal_retried_with_its_idempotency_key_is_answered_as_the_first() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (need, soren) = need_and_volunteer(&app, &token).await;
    let body = json!({ "volunteer_id": soren, "need_id": need, "proposed_by": "coordinator" });
    let send = || {
        app.send(
            reqwest::Method::POST,
            "/matches",
            &token,
            Some("forslag-1"),
            &body,
        )
    };
    let (status, first) = send().await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = send().await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["replayed"], true);
    assert_eq!(again["position"], first["position"]);
}

/// Retention follows from the matches' lives: as of a day seven months on, a match started
/// today and running has lasted seven months, one ended today none, one starting in two months
/// five; one agreed and never started is no part of it. Counted by hand.
#[tokio::test]
async fn retention_counts_the_matches_that_lasted_3_6_and_12_months_of_those_that_could_have() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let mut body = need_body("Lektiehjælp");
    body["volunteers_wanted"] = json!(4);
    let need = publish(&app, &token, &body).await;
    let later = today()
        .checked_add_months(chrono::Months::new(2))
        .expect("in two months");
    let mut position = 0;
    for (starts, ends) in [
        (Some(today()), false),
        (Some(today()), true),
        (Some(later), false),
        (None, false),
    ] {
        let soren = register(&app, &token, &volunteer(json!({})), true).await;
        let id = proposed(&app, &token, &soren, &need).await;
        position = taken(&app, &token, &id, "accept", json!({ "side": "volunteer" })).await;
        if let Some(on) = starts {
            position = taken(&app, &token, &id, "start", json!({ "on": on })).await;
        }
        if ends {
            position = taken(&app, &token, &id, "end", json!({ "reason": "completed" })).await;
        }
    }
    let report = |on: chrono::NaiveDate| {
        let (app, token) = (&app, &token);
        async move {
            let (status, view) = app
                .get(
                    &format!("/matches/retention?on={on}&min_position={position}"),
                    token,
                )
                .await;
            assert_eq!(status, 200, "{view}");
            view
        }
    };
    let on = today()
        .checked_add_months(chrono::Months::new(7))
        .expect("in seven months");
    let view = report(on).await;
    assert_eq!(
        (&view["started"], &view["running"]),
        (&json!(3), &json!(2)),
        "{view}"
    );
    assert_eq!(
        view["milestones"],
        json!([
            { "months": 3, "eligible": 3, "reached": 2, "share": 2.0 / 3.0 },
            { "months": 6, "eligible": 2, "reached": 1, "share": 0.5 },
            { "months": 12, "eligible": 0, "reached": 0, "share": null },
        ])
    );
    // Today: two have started, none could have lasted three months yet.
    let view = report(today()).await;
    assert_eq!(
        (&view["started"], &view["running"]),
        (&json!(2), &json!(1)),
        "{view}"
    );
    assert_eq!(view["milestones"][0]["eligible"], 0, "{view}");
    // Another municipality's matches are not Rødovre's.
    let (_, theirs) = app
        .get(
            &format!("/matches/retention?on={on}&min_position={position}"),
            &app.token("roskilde", Role::Caseworker),
        )
        .await;
    assert_eq!(theirs["started"], 0, "{theirs}");
    let (status, problem) = app.get("/matches/retention?on=1800-01-01", &token).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "on", "{problem}");
}
