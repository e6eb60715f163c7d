//! Reports through the API, read from the reporting read model: a municipality's volunteers
//! in a period, in total and by a dimension, as JSON and CSV; its needs and matches; a budget
//! year of its grant pools; as they stood at an earlier
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

/// "Ny frivillighed" (seed 004): volunteers on their own, outside the organised associations.
/// Anna and Bo volunteer in Rødovre Rotary, Cecilie on her own; then Bo leaves the club. By
/// hand: 2 of the 3 registered in an organisation and 1 on her own; at the month's end 1 active
/// in an organisation (Anna) and 2 on their own (Bo, Cecilie). An organisation the caller's
/// municipality does not have, or a deactivated one, is refused naming `organisation_id`, and
/// appends nothing; the list of volunteers can be asked for an organisation's.
#[tokio::test]
async fn ny_frivillighed_counts_the_volunteers_outside_any_organisation() {
    let app = spawn_app().await;
    let caseworker = app.token(RODOVRE, Role::Caseworker);
    let organisation = |name: &str| samskab_e2e::organisation_body(name, None);
    let (status, club) = app
        .post(
            "/organisations",
            &caseworker,
            &organisation("Rødovre Rotary"),
        )
        .await;
    assert_eq!(status, 201, "{club}");
    let club = club["id"].as_str().expect("id").to_string();
    let in_club = |name: &str| {
        let mut body = volunteer_body(name);
        body["organisation_id"] = json!(club);
        body
    };
    let (status, anna) = app.post("/volunteers", &caseworker, &in_club("Anna")).await;
    assert_eq!(status, 201, "{anna}");
    let (status, bo) = app.post("/volunteers", &caseworker, &in_club("Bo")).await;
    assert_eq!(status, 201, "{bo}");
    let bo = bo["id"].as_str().expect("id").to_string();
    let (status, cecilie) = app
        .post("/volunteers", &caseworker, &volunteer_body("Cecilie"))
        .await;
    assert_eq!(status, 201, "{cecilie}");
    let mut on_his_own = volunteer_body("Bo");
    on_his_own
        .as_object_mut()
        .expect("object")
        .remove("consent");
    let (status, left) = app
        .put(&format!("/volunteers/{bo}"), &caseworker, &on_his_own)
        .await;
    assert_eq!(status, 202, "{left}");
    let last = left["position"].as_u64().expect("position");

    let month = samskab_domain::calendar::danish_date(Utc::now())
        .format("%Y-%m")
        .to_string();
    let by = report(
        &app,
        &caseworker,
        &format!("period={month}&by=affiliation"),
        last,
    )
    .await;
    let row = |value: &str, f: Value| {
        let mut row = f;
        row["value"] = json!(value);
        row
    };
    assert_eq!(
        by["rows"],
        json!([
            // Registered in the club: Anna and Bo; in it at the month's end: Anna.
            row("organisation", figures(2, 1, 0, 0)),
            // Registered on her own: Cecilie; on their own at the end: Cecilie and Bo.
            row("own", figures(1, 2, 0, 0)),
        ]),
        "{by}"
    );
    assert_eq!(by["total"], figures(3, 3, 0, 0), "{by}");

    let (status, members) = app
        .get(
            &format!("/volunteers?organisation_id={club}&min_position={last}"),
            &caseworker,
        )
        .await;
    assert_eq!(status, 200, "{members}");
    let names: Vec<&str> = members["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(names, ["Anna"], "{members}");
    assert_eq!(members["items"][0]["organisation_id"], json!(club));

    // Another municipality's organisation, one that does not exist, a deactivated one.
    let roskilde = app.token("roskilde", Role::Caseworker);
    let (status, theirs) = app
        .post(
            "/organisations",
            &roskilde,
            &organisation("Roskilde Rotary"),
        )
        .await;
    assert_eq!(status, 201, "{theirs}");
    let theirs = theirs["id"].as_str().expect("id").to_string();
    let (status, closed) = app
        .post(
            "/organisations",
            &caseworker,
            &organisation("Lukket Forening"),
        )
        .await;
    assert_eq!(status, 201, "{closed}");
    let closed = closed["id"].as_str().expect("id").to_string();
    let (status, _) = app
        .post(
            &format!("/organisations/{closed}/deactivate"),
            &caseworker,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let before = app.log_position().await;
    for named in [
        theirs.as_str(),
        "0195a000-0000-7000-8000-00000000abcd",
        closed.as_str(),
    ] {
        let mut body = volunteer_body("Dorte");
        body["organisation_id"] = json!(named);
        let (status, problem) = app.post("/volunteers", &caseworker, &body).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(
            problem["errors"][0]["field"],
            json!("organisation_id"),
            "{problem}"
        );
    }
    assert_eq!(
        app.log_position().await,
        before,
        "a refusal appends nothing"
    );
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
    for (query, field) in [
        ("year=1999", "year"),
        ("year=twenty", "year"),
        ("format=xml", "format"),
    ] {
        let (status, body) = app
            .get(&format!("/reports/grants?{query}"), &caseworker)
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

/// The grant figures of one pool's year (or all pools'), as the report names them.
fn grant_figures(
    (decisions, requested): (u64, i64),
    (granted_cases, granted): (u64, i64),
    refused_cases: u64,
    (awaiting_cases, awaiting): (u64, i64),
    (paid, repaid): (i64, i64),
    reports_overdue: u64,
) -> Value {
    let budget = 30_000_000;
    let committed = granted + awaiting;
    json!({
        "budget": budget, "decisions": decisions, "requested": requested,
        "granted_cases": granted_cases, "granted": granted, "refused_cases": refused_cases,
        "awaiting_approval_cases": awaiting_cases, "awaiting_approval": awaiting,
        "reopened_cases": 0, "committed": committed, "available": budget - committed,
        "share_committed": committed as f64 / budget as f64,
        "paid": paid, "repaid": repaid, "reports_overdue": reports_overdue,
    })
}

/// Rødovre's pool of 300.000 kr. for 2026, through the commands a grants office gives. A asks
/// for 150.000 kr. and is granted all of it above the 100.000 kr. threshold (awaiting a second
/// approver); B asks for 40.000 kr. and is refused; C, whose period ended in January 2025 (its
/// final report due 2025-04-30), is granted 30.000 kr. and paid 20.000 kr. in February 2026.
/// Then A is approved, C's report comes in (15.000 kr. spent of the 20.000 kr. paid) and the
/// 5.000 kr. left comes back. By hand, at the end: 3 decisions on 220.000 kr. asked for; 2 granted, 180.000 kr.;
/// 1 refused; nothing awaiting; 180.000 kr. committed, 0.6 of the budget; 20.000 kr. paid and
/// 5.000 kr. repaid in 2026; no report overdue. As of before the approval: 1 granted (30.000
/// kr.), 1 awaiting (150.000 kr.), C's report overdue, nothing repaid. Roskilde sees no pool.
#[tokio::test]
async fn a_pools_year_is_counted_by_hand_as_it_stands_and_as_it_stood() {
    use crate::grants::{Office, full};
    let app = spawn_app().await;
    let office = Office::new(&app, "rolling", 30_000_000, 10_000_000).await;
    let a = office.assessed(&app, "Stort projekt", 15_000_000).await;
    app.accepted(
        &format!("/grant-applications/{a}/decision"),
        &office.chair,
        &full(15_000_000),
    )
    .await;
    let b = office.assessed(&app, "Udflugt", 4_000_000).await;
    let refusal = json!({ "outcome": "refused", "amount": 0, "year": 2026,
                          "justification": "Aktiviteten ligger uden for puljens formål." });
    app.accepted(
        &format!("/grant-applications/{b}/decision"),
        &office.chair,
        &refusal,
    )
    .await;
    let mut body =
        samskab_e2e::group_application_body(&office.pool, "Sommerlejr 2025", 3_000_000, "Birte");
    body["content"]["period_from"] = json!("2025-01-01");
    body["content"]["period_to"] = json!("2025-01-31");
    let c = office.assessed_as(&app, &body, 3_000_000).await;
    app.accepted(
        &format!("/grant-applications/{c}/decision"),
        &office.chair,
        &full(3_000_000),
    )
    .await;
    let paid = app
        .accepted(
            &format!("/grant-applications/{c}/payments"),
            &office.caseworker,
            &json!({ "amount": 2_000_000, "paid_on": "2026-02-01", "reference": "Bilag 17" }),
        )
        .await;
    app.projected(paid).await;
    let before_approval = Utc::now();

    app.accepted(
        &format!("/grant-applications/{a}/decision/approval"),
        &office.deputy,
        &json!(null),
    )
    .await;
    let report = json!({ "spent": 1_500_000, "narrative": "40 børn på lejr", "audited": true });
    app.accepted(
        &format!("/grant-applications/{c}/final-report"),
        &office.caseworker,
        &report,
    )
    .await;
    app.accepted(
        &format!("/grant-applications/{c}/final-report/approval"),
        &office.caseworker,
        &json!(null),
    )
    .await;
    let repaid = app
        .accepted(
            &format!("/grant-applications/{c}/repayments"),
            &office.caseworker,
            &json!({ "amount": 500_000, "paid_on": "2026-06-01", "reference": "Indbetaling 3" }),
        )
        .await;

    let committee = app.token(RODOVRE, Role::CommitteeMember);
    let now = report_at(&app, &committee, "/reports/grants", "year=2026", repaid).await;
    let expected = grant_figures(
        (3, 22_000_000),
        (2, 18_000_000),
        1,
        (0, 0),
        (2_000_000, 500_000),
        0,
    );
    assert_eq!(now["year"], 2026);
    assert_eq!(now["total"], expected, "{now}");
    let pools = now["pools"].as_array().expect("pools");
    assert_eq!(pools.len(), 1, "{now}");
    assert_eq!(pools[0]["pool_id"], json!(office.pool));
    let mut pool_figures = pools[0].clone();
    for key in ["pool_id", "name"] {
        pool_figures.as_object_mut().map(|o| o.remove(key));
    }
    assert_eq!(
        pool_figures, expected,
        "one pool: its figures are the total"
    );

    let as_of = before_approval.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let query = format!("year=2026&as_of={as_of}");
    let then = report_at(&app, &committee, "/reports/grants", &query, repaid).await;
    assert_eq!(
        then["total"],
        grant_figures(
            (3, 22_000_000),
            (1, 3_000_000),
            1,
            (1, 15_000_000),
            (2_000_000, 0),
            1
        ),
        "{then}"
    );
    // Another budget year of the same pools: no budget, nothing decided.
    let next = report_at(&app, &committee, "/reports/grants", "year=2027", repaid).await;
    assert_eq!(next["total"]["decisions"], 0, "{next}");
    assert_eq!(next["total"]["share_committed"], Value::Null, "{next}");

    let csv = reqwest::Client::new()
        .get(app.url(&format!(
            "/reports/grants?year=2026&format=csv&min_position={repaid}"
        )))
        .bearer_auth(&committee)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("year,pool_id,pool,budget_ore,decisions,"),
        "{csv}"
    );
    assert_eq!(
        lines[2],
        "2026,,I alt,30000000,3,22000000,2,18000000,1,0,0,0,18000000,12000000,0.6000,2000000,500000,0"
    );

    let roskilde = app.token("roskilde", Role::CommitteeMember);
    let theirs = report_at(&app, &roskilde, "/reports/grants", "year=2026", repaid).await;
    assert_eq!(theirs["pools"], json!([]), "{theirs}");
    assert_eq!(theirs["total"]["granted"], 0, "{theirs}");
}

/// A match whose life is appended straight to the log, its days and times as given (the API
/// takes no start before the proposal, and a proposal is made now).
struct PastMatch {
    entity: samskab_eventlog::EntityRef,
    id: samskab_domain::MatchId,
    position: u64,
}

impl PastMatch {
    /// Proposed, agreed and started `started` months ago.
    async fn started(app: &TestApp, started: u32) -> Self {
        use samskab_domain::*;
        let id = MatchId::from_uuid(uuid::Uuid::now_v7());
        let entity =
            samskab_eventlog::EntityRef::new(RODOVRE, EntityKind::Match.as_str(), &id.to_string())
                .expect("entity");
        let mut this = Self {
            entity,
            id,
            position: 0,
        };
        let proposed = MatchEvent::Proposed(MatchProposed {
            details: MatchDetails {
                id,
                volunteer_id: VolunteerId::from_uuid(uuid::Uuid::now_v7()),
                counterpart: Counterpart::Need(NeedId::from_uuid(uuid::Uuid::now_v7())),
                proposed_by: ProposedBy::Volunteer,
                note: None,
                volunteer_municipality: None,
            },
            at: months_ago(started + 1),
        });
        let accepted = MatchEvent::Accepted(MatchAccepted {
            id,
            side: MatchSide::Counterpart,
            at: months_ago(started + 1),
        });
        let begun = MatchEvent::Started(MatchStarted {
            id,
            on: calendar::danish_date(months_ago(started)),
            at: months_ago(started),
        });
        for event in [proposed, accepted, begun] {
            this.append(app, &event).await;
        }
        this
    }

    /// Ended `ended` months ago.
    async fn ended(&mut self, app: &TestApp, ended: u32) {
        use samskab_domain::*;
        let event = MatchEvent::Ended(MatchEnded {
            id: self.id,
            reason: MatchEndReason::VolunteerStopped,
            at: months_ago(ended),
        });
        self.append(app, &event).await;
    }

    async fn append(&mut self, app: &TestApp, event: &samskab_domain::MatchEvent) {
        use samskab_domain::DomainEvent;
        self.position = app
            .append_raw(
                &self.entity,
                self.position,
                event.event_type(),
                event.to_payload(),
            )
            .await
            .position;
    }
}

fn months_ago(months: u32) -> chrono::DateTime<Utc> {
    Utc::now()
        .checked_sub_months(chrono::Months::new(months))
        .expect("a day")
}

/// `[months, reached, could have]` of each milestone of a matching report's retention.
fn milestones(report: &Value) -> Vec<Value> {
    report["retention"]["milestones"]
        .as_array()
        .expect("milestones")
        .iter()
        .map(|m| json!([m["months"], m["reached"], m["eligible"]]))
        .collect()
}

/// Three matches, begun 13, 8 and 4 months ago; the one of 8 months ended 6 months ago, after
/// 2. By hand, on today: 3 started, 2 running; could have lasted 3 months: all 3, and 2 did;
/// 6 months: 2, and 1 did; 12 months: 1, which did. As the log stood before the end was
/// recorded, the one of 8 months still ran: 3 of 3, 2 of 2 and 1 of 1.
#[tokio::test]
async fn how_long_matches_lasted_is_counted_as_the_log_stood() {
    let app = spawn_app().await;
    let token = app.token(RODOVRE, Role::Caseworker);
    PastMatch::started(&app, 13).await;
    PastMatch::started(&app, 4).await;
    let mut ending = PastMatch::started(&app, 8).await;
    app.projected(ending.position).await;
    let before_the_end = Utc::now();
    ending.ended(&app, 6).await;
    let last = ending.position;

    let now = report_at(&app, &token, "/reports/matching", "format=json", last).await;
    assert_eq!(now["retention"]["started"], 3, "{now}");
    assert_eq!(now["retention"]["running"], 2, "{now}");
    assert_eq!(
        milestones(&now),
        [json!([3, 2, 3]), json!([6, 1, 2]), json!([12, 1, 1])],
        "{now}"
    );
    let as_of = before_the_end.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let then = report_at(
        &app,
        &token,
        "/reports/matching",
        &format!("as_of={as_of}"),
        last,
    )
    .await;
    assert_eq!(then["retention"]["running"], 3, "{then}");
    assert_eq!(
        milestones(&then),
        [json!([3, 3, 3]), json!([6, 2, 2]), json!([12, 1, 1])],
        "{then}"
    );
}

/// Three pools of 2026: a rolling pool and a partnership pool serving the initiative "Flere
/// frivillige" (under no strategic goal), and one serving "Besøgsven" under the goal "Ingen
/// skal være alene". By hand: the named goal first; "Flere frivillige" holds both of its pools'
/// budgets (300.000 + 1.000.000 kr.), a grant of 40.000 kr. and a partnership's 100.000 kr. for
/// 2026, so 2 grants, 1 of them a partnership; "Besøgsven" its budget only.
#[tokio::test]
async fn the_action_plan_counts_each_initiatives_pools_grants_and_partnerships_by_hand() {
    use crate::grants::{Office, full};
    let app = spawn_app().await;
    let rolling = Office::new(&app, "rolling", 30_000_000, 10_000_000).await;
    let grant = rolling.assessed(&app, "Frivilligcafé", 4_000_000).await;
    app.accepted(
        &format!("/grant-applications/{grant}/decision"),
        &rolling.chair,
        &full(4_000_000),
    )
    .await;
    let partnership = Office::new(&app, "partnership", 100_000_000, 100_000_000).await;
    for year in [2027, 2028] {
        app.accepted(
            &format!("/grant-pools/{}/budget", partnership.pool),
            &partnership.admin,
            &json!({ "year": year, "amount": 15_000_000, "reason": "Partnerskaber" }),
        )
        .await;
    }
    let agreement = partnership
        .assessed(&app, "Ressourceperson", 10_000_000)
        .await;
    let years = json!([
        { "year": 2026, "amount": 10_000_000 },
        { "year": 2027, "amount": 10_000_000 },
        { "year": 2028, "amount": 10_000_000 },
    ]);
    app.accepted(
        &format!("/grant-applications/{agreement}/decision"),
        &partnership.chair,
        &json!({ "outcome": "full", "amount": 30_000_000, "year": 2026, "years": years,
                 "duties": "En ressourceperson 10-12 timer om ugen" }),
    )
    .await;
    let mut visits = samskab_e2e::pool_body("rolling", 10_000_000);
    visits["name"] = json!("Besøgsvenner");
    visits["initiative"] = json!("Besøgsven");
    visits["strategic_goal"] = json!("Ingen skal være alene");
    let (status, created) = app.post("/grant-pools", &rolling.admin, &visits).await;
    assert_eq!(status, 201, "{created}");
    let last = app
        .accepted(
            &format!(
                "/grant-pools/{}/budget",
                created["id"].as_str().expect("id")
            ),
            &rolling.admin,
            &json!({ "year": 2026, "amount": 30_000_000, "reason": "Budget 2026" }),
        )
        .await;

    let committee = app.token(RODOVRE, Role::CommitteeMember);
    let plan = report_at(&app, &committee, "/reports/action-plan", "year=2026", last).await;
    let rows = plan["initiatives"].as_array().expect("initiatives");
    let summary: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!([
                r["strategic_goal"],
                r["initiative"],
                r["pools"].as_array().map(Vec::len),
                r["figures"]["budget"],
                r["figures"]["granted_cases"],
                r["figures"]["granted"],
                r["partnerships"],
                r["partnership_granted"]
            ])
        })
        .collect();
    assert_eq!(
        summary,
        [
            json!([
                "Ingen skal være alene",
                "Besøgsven",
                1,
                30_000_000,
                0,
                0,
                0,
                0
            ]),
            json!([
                null,
                "Flere frivillige",
                2,
                130_000_000,
                2,
                14_000_000,
                1,
                10_000_000
            ]),
        ],
        "{plan}"
    );

    let (status, csv) = {
        let response = app
            .http
            .get(app.url("/reports/action-plan?year=2026&format=csv"))
            .bearer_auth(&committee)
            .send()
            .await
            .expect("csv");
        (
            response.status().as_u16(),
            response.text().await.expect("text"),
        )
    };
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("year,strategic_goal,initiative,pools,budget"),
        "{csv}"
    );
    assert!(
        lines[2].contains("Flere frivillige") && lines[2].ends_with(",1,10000000"),
        "{csv}"
    );

    // Another municipality's plan holds none of it.
    let roskilde = app.token("roskilde", Role::CommitteeMember);
    let theirs = report_at(&app, &roskilde, "/reports/action-plan", "year=2026", last).await;
    assert_eq!(theirs["initiatives"], json!([]), "{theirs}");
}
