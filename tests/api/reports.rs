//! Reports through the API, read from the reporting read model: a municipality's volunteers
//! in a period, in total and by a dimension, as JSON and CSV; as they stood at an earlier
//! instant; only the caller's municipality; bad parameters refused with the parameter named.

use chrono::{Datelike, Utc};
use samskab_api::Role;
use samskab_e2e::{TestApp, spawn_app, volunteer_body};
use serde_json::{Value, json};

const RODOVRE: &str = "rodovre";

/// Registers a volunteer with these skills, postcode and birth year; their id and position.
async fn register(
    app: &TestApp,
    token: &str,
    name: &str,
    skills: &[&str],
    postcode: &str,
    born: u16,
) -> (String, u64) {
    let mut body = volunteer_body(name);
    body["skills"] = json!(skills);
    body["postcode"] = json!(postcode);
    body["birth_year"] = json!(born);
    let (status, accepted) = app.post("/volunteers", token, &body).await;
    assert_eq!(status, 201, "{accepted}");
    let id = accepted["id"].as_str().expect("id").to_string();
    (id, accepted["position"].as_u64().expect("position"))
}

async fn report(app: &TestApp, token: &str, query: &str, position: u64) -> Value {
    report_at(app, token, "/reports/volunteers", query, position).await
}

fn figures(registered: u64, active: u64, withdrawn: u64, forgotten: u64) -> Value {
    json!({ "registered": registered, "active": active, "consent_withdrawn": withdrawn,
            "forgotten": forgotten })
}

/// Three volunteers this month; Anna moves from 2610 to 2650, Bo withdraws, Cecilie is
/// forgotten. The month's figures, as computed by hand: 3 registered, Anna alone active at its
/// end, one withdrawal, one forgetting; by postcode, the registrations under the postcode each
/// had then and the active under the one they have now; by skill, each skill once per person.
#[tokio::test]
async fn a_months_volunteers_are_counted_by_hand_in_total_by_postcode_and_by_skill() {
    let app = spawn_app().await;
    let caseworker = app.token(RODOVRE, Role::Caseworker);
    let this_year = samskab_domain::calendar::danish_date(Utc::now()).year();
    let (anna, _) = register(
        &app,
        &caseworker,
        "Anna",
        &["lektiehjælp", "snedker"],
        "2610",
        1990,
    )
    .await;
    let (bo, _) = register(&app, &caseworker, "Bo", &["lektiehjælp"], "2610", 1958).await;
    // Between Bo and Cecilie: the instant the report is asked "as of" below.
    let before_cecilie = Utc::now();
    let (cecilie, _) = register(&app, &caseworker, "Cecilie", &["cykler"], "2650", 2000).await;
    let mut moved = volunteer_body("Anna");
    moved["skills"] = json!(["lektiehjælp", "snedker"]);
    moved["postcode"] = json!("2650");
    moved["birth_year"] = json!(1990);
    moved.as_object_mut().expect("object").remove("consent");
    let (status, body) = app
        .put(&format!("/volunteers/{anna}"), &caseworker, &moved)
        .await;
    assert_eq!(status, 202, "{body}");
    let withdrawn = app
        .accepted(
            &format!("/volunteers/{bo}/consent/withdraw"),
            &caseworker,
            &json!({}),
        )
        .await;
    assert!(withdrawn > 0);
    let last = app
        .accepted(
            &format!("/volunteers/{cecilie}/forget"),
            &caseworker,
            &json!({}),
        )
        .await;

    // The month we are in, in Denmark (the test may run across midnight UTC; the period is
    // asked for by label, which the report gives back).
    let month = samskab_domain::calendar::danish_date(Utc::now())
        .format("%Y-%m")
        .to_string();
    let total = report(&app, &caseworker, &format!("period={month}"), last).await;
    assert_eq!(total["period"]["label"], json!(month));
    assert_eq!(total["total"], figures(3, 1, 1, 1), "{total}");
    assert_eq!(total["rows"], json!([]));

    let by_postcode = report(
        &app,
        &caseworker,
        &format!("period={month}&by=postcode"),
        last,
    )
    .await;
    let row = |value: &str, f: Value| {
        let mut row = f;
        row["value"] = json!(value);
        row
    };
    assert_eq!(
        by_postcode["rows"],
        json!([
            // Anna and Bo registered in 2610; Bo withdrew there.
            row("2610", figures(2, 0, 1, 0)),
            // Cecilie registered and was forgotten in 2650; Anna is active there now.
            row("2650", figures(1, 1, 0, 1)),
        ]),
        "{by_postcode}"
    );
    let by_skill = report(&app, &caseworker, &format!("period={month}&by=skill"), last).await;
    assert_eq!(
        by_skill["rows"],
        json!([
            row("cykler", figures(1, 0, 0, 1)),
            row("lektiehjælp", figures(2, 1, 1, 0)),
            row("snedker", figures(1, 1, 0, 0)),
        ]),
        "{by_skill}"
    );
    // Anna (born 1990) and Cecilie (2000) and Bo (1958) by age band at registration.
    let by_age = report(
        &app,
        &caseworker,
        &format!("period={this_year}&by=age_band"),
        last,
    )
    .await;
    let bands: Vec<&str> = by_age["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["value"].as_str())
        .collect();
    assert_eq!(bands.len(), 3, "{by_age}");

    // As it stood before Cecilie registered: Anna and Bo, both active, nothing withdrawn yet.
    let as_of = before_cecilie.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let then = report(
        &app,
        &caseworker,
        &format!("period={month}&as_of={as_of}"),
        last,
    )
    .await;
    assert_eq!(then["total"], figures(2, 2, 0, 0), "{then}");

    // Rebuilt from the log, the versions carry the events' times: the same figures, then and now.
    app.rebuild_all().await;
    let rebuilt = report(&app, &caseworker, &format!("period={month}&by=skill"), last).await;
    assert_eq!(rebuilt["rows"], by_skill["rows"]);
    let rebuilt_then = report(
        &app,
        &caseworker,
        &format!("period={month}&as_of={as_of}"),
        last,
    )
    .await;
    assert_eq!(rebuilt_then["total"], then["total"]);

    // A municipality sees its own figures only.
    let other = app.token("roskilde", Role::Caseworker);
    let elsewhere = report(&app, &other, &format!("period={month}"), last).await;
    assert_eq!(elsewhere["total"], figures(0, 0, 0, 0), "{elsewhere}");
}

#[tokio::test]
async fn a_report_comes_as_csv_with_a_row_per_value_and_the_totals_last() {
    let app = spawn_app().await;
    let caseworker = app.token(RODOVRE, Role::Caseworker);
    register(&app, &caseworker, "Anna", &["lektiehjælp"], "2610", 1990).await;
    let (_, last) = register(
        &app,
        &caseworker,
        "Bo",
        &["=1+1", "lektiehjælp"],
        "2650",
        1958,
    )
    .await;
    let year = samskab_domain::calendar::danish_date(Utc::now()).year();
    let response = reqwest::Client::new()
        .get(app.url(&format!(
            "/reports/volunteers?period={year}&by=skill&format=csv&min_position={last}"
        )))
        .bearer_auth(&caseworker)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("header")
        .to_string();
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let text = response.text().await.expect("body");
    assert_eq!(
        text,
        format!(
            "period,dimension,value,registered,active,consent_withdrawn,forgotten\r\n\
             {year},skill,\"'=1+1\",1,1,0,0\r\n\
             {year},skill,lektiehjælp,2,2,0,0\r\n\
             {year},all,,2,2,0,0\r\n"
        )
    );
}

#[tokio::test]
async fn bad_report_parameters_are_refused_with_the_parameter_named() {
    let app = spawn_app().await;
    let caseworker = app.token(RODOVRE, Role::Caseworker);
    for (query, field) in [
        ("period=2026-Q5", "period"),
        ("period=26", "period"),
        ("by=name", "by"),
        ("format=xml", "format"),
        ("as_of=1999-12-31T23:00:00Z", "as_of"),
        ("volunteer=1", "volunteer"),
    ] {
        let (status, body) = app
            .get(&format!("/reports/volunteers?{query}"), &caseworker)
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["errors"][0]["field"], json!(field), "{query}: {body}");
    }
    // The engineer on call sees no figures of a municipality.
    let operator = app.token("platform", Role::Operator);
    let (status, _) = app.get("/reports/volunteers", &operator).await;
    assert_eq!(status, 403);
}

/// Two municipalities: Rødovre with 5 volunteers aged 30–49 and 6 aged 67 or more, Roskilde
/// with 7 aged 67 or more. Every figure under 5 (the zeros too) is suppressed; and Rødovre's 5
/// aged 30–49 is suppressed as well, because the column's total (5) less Roskilde's
/// suppressed 0 would give it away: the complementary rule, worked by hand.
#[tokio::test]
async fn the_national_report_suppresses_small_cells_and_those_they_could_be_derived_from() {
    let app = spawn_app().await;
    let rodovre = app.token(RODOVRE, Role::Caseworker);
    let roskilde = app.token("roskilde", Role::Caseworker);
    let mut last = 0;
    for (token, born, count) in [
        (&rodovre, 1990, 5),
        (&rodovre, 1950, 6),
        (&roskilde, 1950, 7),
    ] {
        for i in 0..count {
            let name = format!("Frivillig {born} {i}");
            last = register(&app, token, &name, &["lektiehjælp"], "2610", born)
                .await
                .1;
        }
    }
    let year = samskab_domain::calendar::danish_date(Utc::now()).year();
    let national = report_at(
        &app,
        &rodovre,
        "/reports/national/volunteers",
        &format!("period={year}"),
        last,
    )
    .await;
    assert_eq!(
        national["age_bands"],
        json!(["under_18", "18_29", "30_49", "50_66", "67_plus"])
    );
    assert_eq!(
        national["municipalities"],
        json!([
            { "municipality": "rodovre", "cells": [null, null, null, null, 6], "total": 11 },
            { "municipality": "roskilde", "cells": [null, null, null, null, 7], "total": 7 },
        ]),
        "{national}"
    );
    assert_eq!(
        national["age_band_totals"],
        json!([null, null, 5, null, 13])
    );
    assert_eq!(national["total"], json!(18));
    assert_eq!(national["min_persons"], json!(5));
    // No person in it: no name, no id.
    assert!(!national.to_string().contains("Frivillig"), "{national}");
    // The same for anyone who may read it: it names no caller's figures apart.
    let admin = app.token("platform", Role::PlatformAdmin);
    let again = report_at(
        &app,
        &admin,
        "/reports/national/volunteers",
        &format!("period={year}"),
        last,
    )
    .await;
    assert_eq!(again["municipalities"], national["municipalities"]);
    // Registered in the year: the same persons, counted by the band they registered with.
    let registered = report_at(
        &app,
        &roskilde,
        "/reports/national/volunteers",
        &format!("period={year}&figure=registered"),
        last,
    )
    .await;
    assert_eq!(registered["total"], json!(18));
}

async fn report_at(app: &TestApp, token: &str, path: &str, query: &str, position: u64) -> Value {
    let (status, body) = app
        .get(&format!("{path}?{query}&min_position={position}"), token)
        .await;
    assert_eq!(status, 200, "{path}?{query}: {body}");
    body
}

/// Two needs; Søren is matched to the first (agreed, started, September's minutes logged as 90
/// and corrected to 240), Sofie declines the second, which is then closed. The month's figures,
/// by hand: 2 needs published, 1 closed, 1 open; 2 matches proposed, 1 agreed, 1 declined, 1
/// started, 1 running; 1 need matched for the first time; 240 minutes. As of before the
/// correction: 90.
#[tokio::test]
async fn a_months_needs_and_matches_are_counted_by_hand() {
    use crate::matching::{publish, register, today, volunteer};
    let app = spawn_app().await;
    let token = app.token(RODOVRE, Role::Caseworker);
    let first = publish(&app, &token, &samskab_e2e::need_body("Lektiehjælp")).await;
    let second = publish(&app, &token, &samskab_e2e::need_body("Læsehjælp")).await;
    let soren = register(&app, &token, &volunteer(json!({})), true).await;
    let sofie = register(&app, &token, &volunteer(json!({})), true).await;
    let propose = |volunteer: String, need: String| {
        let body =
            json!({ "volunteer_id": volunteer, "need_id": need, "proposed_by": "coordinator" });
        let app = &app;
        let token = &token;
        async move {
            let (status, created) = app.post("/matches", token, &body).await;
            assert_eq!(status, 201, "{created}");
            created["id"].as_str().expect("id").to_string()
        }
    };
    let matched = propose(soren, first).await;
    let declined = propose(sofie, second.clone()).await;
    let step = |id: &str, name: &str, body: Value| {
        let path = format!("/matches/{id}/{name}");
        let app = &app;
        let token = &token;
        async move { app.accepted(&path, token, &body).await }
    };
    step(&matched, "accept", json!({ "side": "volunteer" })).await;
    step(&matched, "start", json!({ "on": today() })).await;
    let month = today().format("%Y-%m").to_string();
    step(&matched, "hours", json!({ "period": month, "minutes": 90 })).await;
    let before_correction = Utc::now();
    step(
        &matched,
        "hours",
        json!({ "period": month, "minutes": 240 }),
    )
    .await;
    step(&declined, "decline", json!({ "side": "volunteer" })).await;
    let last = app
        .accepted(
            &format!("/needs/{second}/close"),
            &token,
            &json!({ "reason": "Vi har fundet frivillige nok" }),
        )
        .await;

    let now = report_at(
        &app,
        &token,
        "/reports/matching",
        &format!("period={month}"),
        last,
    )
    .await;
    assert_eq!(
        now["needs"],
        json!({ "published": 2, "closed": 1, "open": 1 }),
        "{now}"
    );
    assert_eq!(
        now["matches"],
        json!({ "proposed": 2, "agreed": 1, "declined": 1, "started": 1, "ended": 0, "running": 1 }),
        "{now}"
    );
    assert_eq!(now["first_match"]["needs"], json!(1));
    // Agreed moments after it was published: well under a day.
    let waited = now["first_match"]["median_days"].as_f64().expect("median");
    assert!((0.0..0.01).contains(&waited), "{now}");
    assert_eq!(now["hours"], json!({ "minutes": 240, "matches": 1 }));

    let as_of = before_correction.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let then = report_at(
        &app,
        &token,
        "/reports/matching",
        &format!("period={month}&as_of={as_of}"),
        last,
    )
    .await;
    assert_eq!(then["hours"], json!({ "minutes": 90, "matches": 1 }));
    assert_eq!(then["matches"]["declined"], json!(0));
    assert_eq!(then["needs"]["closed"], json!(0));

    // As CSV, a row per figure.
    let response = reqwest::Client::new()
        .get(app.url(&format!(
            "/reports/matching?period={month}&format=csv&min_position={last}"
        )))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    let text = response.text().await.expect("body");
    assert!(text.starts_with("period,figure,value\r\n"), "{text}");
    assert!(
        text.contains(&format!("{month},minutes_logged,240\r\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{month},matches_declined,1\r\n")),
        "{text}"
    );
}
