//! The in-app inbox end to end: the messages the rules make for an organisation (a volunteer
//! proposed for its need and declining; a grant decided, one above the threshold told only
//! once approved, a payment), newest first with the unread counted; marking one read, which a
//! rebuild keeps; a rebuild that makes every message again, once, with the same ids.

use samskab_api::Party;
use samskab_e2e::{TestApp, application_content, organisation_body, spawn_app};
use serde_json::{Value, json};

async fn inbox(app: &TestApp, token: &str, position: u64) -> Value {
    let (status, inbox) = app
        .get(&format!("/notifications?min_position={position}"), token)
        .await;
    assert_eq!(status, 200, "{inbox}");
    inbox
}

fn rules(inbox: &Value) -> Vec<&str> {
    inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["rule"].as_str())
        .collect()
}

#[tokio::test]
async fn an_organisation_is_told_of_its_matches_and_grants_and_what_it_read_stays_read() {
    use crate::grants::{Office, full};
    use crate::matching::{publish, register, volunteer};
    let app = spawn_app().await;
    let office = Office::new(&app, "rolling", 30_000_000, 10_000_000).await;
    let caseworker = &office.caseworker;
    let (status, created) = app
        .post(
            "/organisations",
            caseworker,
            &organisation_body("Æblehaven", None),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let organisation = created["id"].as_str().expect("id").to_string();
    let token = app.party_token(
        "rodovre",
        Party::Organisation(organisation.parse().expect("uuid")),
    );

    // A volunteer proposed for its need, who declines.
    let mut need = samskab_e2e::need_body("Lektiehjælp");
    need["organisation_id"] = json!(organisation);
    let need = publish(&app, caseworker, &need).await;
    let soren = register(&app, caseworker, &volunteer(json!({})), true).await;
    let proposal = json!({ "volunteer_id": soren, "need_id": need, "proposed_by": "coordinator" });
    let (status, created) = app.post("/matches", caseworker, &proposal).await;
    assert_eq!(status, 201, "{created}");
    let matched = created["id"].as_str().expect("id").to_string();
    let declined = app
        .accepted(
            &format!("/matches/{matched}/decline"),
            caseworker,
            &json!({ "side": "volunteer" }),
        )
        .await;
    let told = inbox(&app, &token, declined).await;
    assert_eq!(rules(&told), ["match_declined", "match_proposed"], "{told}");
    assert_eq!(told["unread"], 2);
    assert_eq!(told["items"][1]["link"], format!("/matches/{matched}"));

    // Two applications: 150.000 kr. (above the threshold: told only once approved) and
    // 40.000 kr., granted at once, then paid.
    let apply = |title: &str, requested: i64| {
        json!({ "pool_id": office.pool, "applicant_kind": "association",
                "organisation_id": organisation,
                "content": application_content(title, requested) })
    };
    let large = office
        .assessed_as(&app, &apply("Stort projekt", 15_000_000), 15_000_000)
        .await;
    let proposed = app
        .accepted(
            &format!("/grant-applications/{large}/decision"),
            &office.chair,
            &full(15_000_000),
        )
        .await;
    assert_eq!(
        inbox(&app, &token, proposed).await["unread"],
        2,
        "a proposal is no decision yet"
    );
    app.accepted(
        &format!("/grant-applications/{large}/decision/approval"),
        &office.deputy,
        &json!(null),
    )
    .await;
    let small = office
        .assessed_as(&app, &apply("Udflugt", 4_000_000), 4_000_000)
        .await;
    app.accepted(
        &format!("/grant-applications/{small}/decision"),
        &office.chair,
        &full(4_000_000),
    )
    .await;
    let paid = app
        .accepted(
            &format!("/grant-applications/{small}/payments"),
            caseworker,
            &json!({ "amount": 2_000_000, "paid_on": "2026-02-01", "reference": "Bilag 17" }),
        )
        .await;
    let told = inbox(&app, &token, paid).await;
    assert_eq!(
        rules(&told),
        [
            "payment_recorded",
            "grant_decided",
            "grant_approved",
            "match_declined",
            "match_proposed"
        ],
        "{told}"
    );
    assert_eq!(told["unread"], 5);
    let items = told["items"].as_array().expect("items");
    assert_eq!(
        items[0]["body"],
        "20.000,00 kr. er udbetalt den 01.02.2026 (reference Bilag 17)."
    );
    assert_eq!(
        items[2]["body"],
        "Jeres ansøgning er imødekommet: I får 150.000,00 kr.\n\nAfgørelsen er godkendt af en anden og er endelig."
    );
    assert_eq!(items[1]["link"], format!("/grant-applications/{small}"));

    // Read: counted, once; again changes nothing.
    let first = items[0]["id"].as_str().expect("id").to_string();
    let read = app
        .accepted(
            &format!("/notifications/{first}/read"),
            &token,
            &json!(null),
        )
        .await;
    let after = inbox(&app, &token, read).await;
    assert_eq!(after["unread"], 4);
    let read_at = after["items"][0]["read_at"].clone();
    assert!(read_at.is_string(), "{after}");
    let before = app.appended().await;
    app.accepted(
        &format!("/notifications/{first}/read"),
        &token,
        &json!(null),
    )
    .await;
    assert_eq!(app.appended().await, before, "read once is read");
    let (status, unread) = app
        .get(
            &format!("/notifications?unread=true&min_position={read}"),
            &token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        unread["items"].as_array().map(Vec::len),
        Some(4),
        "{unread}"
    );

    // A page of two, then the rest by the cursor.
    let (_, first_page) = app.get("/notifications?limit=2", &token).await;
    assert_eq!(rules(&first_page), ["payment_recorded", "grant_decided"]);
    let cursor = first_page["next_after"].as_str().expect("a cursor");
    let (_, rest) = app
        .get(&format!("/notifications?limit=10&after={cursor}"), &token)
        .await;
    assert_eq!(
        rules(&rest),
        ["grant_approved", "match_declined", "match_proposed"]
    );

    // A rebuild makes the same messages, with the same ids, once; and keeps what was read.
    app.rebuild_all().await;
    let rebuilt = inbox(&app, &token, read).await;
    assert_eq!(rebuilt["items"], after["items"], "{rebuilt}");
    assert_eq!(rebuilt["unread"], 4);

    // Staff have no inbox yet; another municipality's organisation sees none of this.
    let (status, _) = app.get("/notifications", caseworker).await;
    assert_eq!(status, 403);
    let elsewhere = app.party_token(
        "roskilde",
        Party::Organisation(organisation.parse().expect("uuid")),
    );
    let (status, theirs) = app.get("/notifications", &elsewhere).await;
    assert_eq!(status, 200, "{theirs}");
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(theirs["unread"], 0);
}
