//! Umbrella organisations (seed 000: club → district → national): registered by the platform,
//! joined by a municipality's organisations, shared with by municipalities; an umbrella's
//! token reads its members' volunteers per sharing municipality, suppressed, and nothing of a
//! municipality that does not share.

use samskab_api::{Party, Role};
use samskab_domain::AgeBand;
use samskab_domain::suppression::suppress;
use samskab_e2e::{TestApp, organisation_body, spawn_app, volunteer_body};
use serde_json::{Value, json};

/// Registers an organisation of `tenant` in umbrella `umbrella` and `n` volunteers in it, born
/// in 1990; the organisation's id.
pub(crate) async fn club_with_volunteers(
    app: &TestApp,
    tenant: &str,
    umbrella: &str,
    n: usize,
) -> String {
    let caseworker = app.token(tenant, Role::Caseworker);
    let (status, club) = app
        .post(
            "/organisations",
            &caseworker,
            &organisation_body(&format!("Rotary {tenant}"), None),
        )
        .await;
    assert_eq!(status, 201, "{club}");
    let club = club["id"].as_str().expect("id").to_owned();
    let (status, joined) = app
        .put(
            &format!("/organisations/{club}/umbrella"),
            &caseworker,
            &json!({ "umbrella_id": umbrella }),
        )
        .await;
    assert_eq!(status, 202, "{joined}");
    for i in 0..n {
        let mut body = volunteer_body(&format!("Rotarianer {i}"));
        body["birth_year"] = json!(1990);
        body["organisation_id"] = json!(club);
        let (status, created) = app.post("/volunteers", &caseworker, &body).await;
        assert_eq!(status, 201, "{created}");
    }
    club
}

pub(crate) async fn share(app: &TestApp, tenant: &str, umbrellas: &[&str]) -> u64 {
    let caseworker = app.token(tenant, Role::Caseworker);
    let (status, accepted) = app
        .put(
            "/municipalities/current/umbrellas",
            &caseworker,
            &json!({ "umbrella_ids": umbrellas }),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    accepted["position"].as_u64().expect("position")
}

async fn report(app: &TestApp, token: &str, query: &str) -> Value {
    let position = app.log_position().await;
    let (status, report) = app
        .get(
            &format!("/reports/umbrella/volunteers?min_position={position}&{query}"),
            token,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    report
}

/// Rødovre shares with Rotary Danmark, Roskilde with its Distrikt 1470 only, Syddjurs with
/// no one. By hand: the district sees Rødovre's 6 and Roskilde's 2 (its members, in
/// municipalities that share with it or with Rotary Danmark above it); Rotary Danmark sees
/// Rødovre's 6 only; nobody sees Syddjurs' 5 or Rødovre's volunteer on her own. Roskilde's 2
/// is suppressed, and so is what would give it away.
#[tokio::test]
async fn an_umbrella_sees_its_members_in_the_municipalities_that_share_suppressed() {
    let app = spawn_app().await;
    let admin = app.token("platform", Role::PlatformAdmin);
    let (status, national) = app
        .post("/umbrellas", &admin, &json!({ "name": "Rotary Danmark" }))
        .await;
    assert_eq!(status, 201, "{national}");
    let national = national["id"].as_str().expect("id").to_owned();
    let (status, district) = app
        .post(
            "/umbrellas",
            &admin,
            &json!({ "name": "Rotary Distrikt 1470", "parent_id": national }),
        )
        .await;
    assert_eq!(status, 201, "{district}");
    let district = district["id"].as_str().expect("id").to_owned();
    // A district of an umbrella that does not exist, and a club joining one: refused.
    let before = app.log_position().await;
    let unknown = "0195a000-0000-7000-8000-00000000beef";
    let (status, problem) = app
        .post(
            "/umbrellas",
            &admin,
            &json!({ "name": "Distrikt 9999", "parent_id": unknown }),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], json!("parent_id"));
    assert_eq!(
        app.log_position().await,
        before,
        "a refusal appends nothing"
    );

    club_with_volunteers(&app, "rodovre", &district, 6).await;
    club_with_volunteers(&app, "roskilde", &district, 2).await;
    let syddjurs_club = club_with_volunteers(&app, "syddjurs", &district, 5).await;
    let rodovre = app.token("rodovre", Role::Caseworker);
    let (status, _) = app
        .post(
            "/volunteers",
            &rodovre,
            &volunteer_body("Ulla på egen hånd"),
        )
        .await;
    assert_eq!(status, 201);
    let syddjurs = app.token("syddjurs", Role::Caseworker);
    let (status, problem) = app
        .put(
            &format!("/organisations/{syddjurs_club}/umbrella"),
            &syddjurs,
            &json!({ "umbrella_id": unknown }),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], json!("umbrella_id"));

    let as_national = app.party_token("platform", Party::Umbrella(national.parse().expect("uuid")));
    let as_district = app.party_token("platform", Party::Umbrella(district.parse().expect("uuid")));
    let before_sharing = chrono::Utc::now();
    let nothing = report(&app, &as_district, "").await;
    assert_eq!(nothing["municipalities"], json!([]), "{nothing}");

    share(&app, "rodovre", &[&national]).await;
    share(&app, "roskilde", &[&district]).await;

    let bands: Vec<&str> = AgeBand::ALL.iter().map(AgeBand::as_str).collect();
    let born_1990 = AgeBand::from_birth_year(
        1990,
        chrono::Datelike::year(&samskab_domain::calendar::danish_date(chrono::Utc::now())),
    )
    .expect("a band");
    let column = bands
        .iter()
        .position(|b| *b == born_1990.as_str())
        .expect("a column");
    let row = |n: u64| {
        let mut cells = vec![0u64; bands.len()];
        cells[column] = n;
        cells
    };
    let expected = |rows: &[(&str, u64)]| {
        let published = suppress(&rows.iter().map(|(_, n)| row(*n)).collect::<Vec<_>>());
        json!({
            "municipalities": rows.iter().zip(published.cells.iter().zip(&published.row_totals))
                .map(|((m, _), (cells, total))| json!({
                    "municipality": m,
                    "cells": cells.iter().map(|f| f.shown()).collect::<Vec<_>>(),
                    "total": total.shown(),
                }))
                .collect::<Vec<_>>(),
            "age_band_totals": published.column_totals.iter().map(|f| f.shown()).collect::<Vec<_>>(),
            "total": published.total.shown(),
        })
    };
    let shown = |report: &Value| {
        json!({
            "municipalities": report["municipalities"],
            "age_band_totals": report["age_band_totals"],
            "total": report["total"],
        })
    };

    let by_district = report(&app, &as_district, "").await;
    assert_eq!(by_district["umbrella_name"], json!("Rotary Distrikt 1470"));
    assert_eq!(
        shown(&by_district),
        expected(&[("rodovre", 6), ("roskilde", 2)]),
        "{by_district}"
    );
    assert_eq!(by_district["total"], json!(8), "Syddjurs shares nothing");
    assert_eq!(
        by_district["municipalities"][1]["cells"][column],
        Value::Null,
        "Roskilde's 2 is suppressed"
    );
    let by_national = report(&app, &as_national, "").await;
    assert_eq!(
        shown(&by_national),
        expected(&[("rodovre", 6)]),
        "{by_national}"
    );
    assert_eq!(by_national["municipalities"][0]["cells"][column], json!(6));

    // As the log stood before anyone shared: nothing.
    let as_of = before_sharing.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let then = report(&app, &as_district, &format!("as_of={as_of}")).await;
    assert_eq!(then["municipalities"], json!([]), "{then}");

    // Rødovre stops sharing: the district sees Roskilde alone.
    share(&app, "rodovre", &[]).await;
    let after = report(&app, &as_district, "").await;
    assert_eq!(shown(&after), expected(&[("roskilde", 2)]), "{after}");

    // Staff of a municipality read no umbrella's report; the municipality lists its sharing.
    let (status, _) = app.get("/reports/umbrella/volunteers", &rodovre).await;
    assert_eq!(status, 403);
    let roskilde = app.token("roskilde", Role::Caseworker);
    let (status, current) = app.get("/municipalities/current", &roskilde).await;
    assert_eq!(status, 200);
    assert_eq!(current["shared_with"], json!([district]), "{current}");
    let (status, districts) = app
        .get(&format!("/umbrellas?parent_id={national}"), &roskilde)
        .await;
    assert_eq!(status, 200);
    assert_eq!(districts["items"][0]["name"], json!("Rotary Distrikt 1470"));
}
