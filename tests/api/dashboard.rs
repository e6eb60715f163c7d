//! The dashboards at `/dashboard`, as a browser and a client meet them: signing in puts the
//! token in a cookie that opens only the pages; the pages show the municipality's own figures,
//! the same as the reports, computed here by hand from a seeded scenario; they move as the
//! projections do; and in a real browser (Debian's chromium, driven by
//! `tests/dashboard/browse.mjs`) they are used with the keyboard and pass axe-core's WCAG 2.1
//! AA rules with no serious violation.

use std::collections::BTreeMap;

use chrono::{Datelike, Utc};
use samskab_api::Role;
use samskab_e2e::{TestApp, need_body, pool_body, spawn_app, volunteer_body};
use serde_json::{Value, json};

const RODOVRE: &str = "rodovre";
const ROSKILDE: &str = "roskilde";
/// The budget the scenario gives its pool: 1.000.000 kr.
const BUDGET: i64 = 100_000_000;

/// Rødovre: Anna (born 1990), Bo (1958) and Cecilie (2000) registered this year, Bo withdraws;
/// a need posted, and Anna proposed for it; a pool with this year's budget. Roskilde: one volunteer, who must not show
/// in Rødovre. The log position when all is accepted.
async fn seed(app: &TestApp) -> u64 {
    let caseworker = app.token(RODOVRE, Role::Caseworker);
    let (status, club) = app
        .post(
            "/organisations",
            &caseworker,
            &samskab_e2e::organisation_body("Rødovre Rotary", None),
        )
        .await;
    assert_eq!(status, 201, "{club}");
    let mut ids = Vec::new();
    // Anna in the club; Bo and Cecilie on their own ("ny frivillighed").
    for (name, born, club) in [
        ("Anna", 1990, &club["id"]),
        ("Bo", 1958, &json!(null)),
        ("Cecilie", 2000, &json!(null)),
    ] {
        let mut body = volunteer_body(name);
        body["birth_year"] = json!(born);
        body["organisation_id"] = club.clone();
        let (status, accepted) = app.post("/volunteers", &caseworker, &body).await;
        assert_eq!(status, 201, "{accepted}");
        ids.push(accepted["id"].as_str().expect("id").to_owned());
    }
    app.accepted(
        &format!("/volunteers/{}/consent/withdraw", ids[1]),
        &caseworker,
        &json!({}),
    )
    .await;
    // No children under 15, so that no børneattest stands between Anna and the need.
    let mut need = need_body("Lektiehjælp");
    need["children_under_15"] = json!(false);
    let (status, need) = app.post("/needs", &caseworker, &need).await;
    assert_eq!(status, 201, "{need}");
    crate::matching::set_matching(app, &caseworker, &ids[0], true).await;
    let proposal = json!({
        "volunteer_id": ids[0],
        "need_id": need["id"],
        "proposed_by": "coordinator",
        "note": "Tirsdag aften passer begge",
    });
    let (status, proposed) = app.post("/matches", &caseworker, &proposal).await;
    assert_eq!(status, 201, "{proposed}");
    let admin = app.token(RODOVRE, Role::PoolAdministrator);
    let (status, pool) = app
        .post("/grant-pools", &admin, &pool_body("rolling", 0))
        .await;
    assert_eq!(status, 201, "{pool}");
    let year = samskab_domain::calendar::danish_date(Utc::now()).year();
    app.accepted(
        &format!("/grant-pools/{}/budget", pool["id"].as_str().expect("id")),
        &admin,
        &json!({ "year": year, "amount": BUDGET, "reason": "Budget" }),
    )
    .await;
    let roskilde = app.token(ROSKILDE, Role::Caseworker);
    let (status, _) = app
        .post("/volunteers", &roskilde, &volunteer_body("Dorte"))
        .await;
    assert_eq!(status, 201);
    let position = app.log_position().await;
    app.projected(position).await;
    position
}

/// What the scenario's overview must show, counted by hand.
fn expected_overview() -> BTreeMap<String, i64> {
    [
        ("volunteers.registered", 3),
        ("volunteers.registered_own", 2),
        ("volunteers.active", 2),
        ("volunteers.consent_withdrawn", 1),
        ("volunteers.forgotten", 0),
        ("needs.open", 1),
        ("needs.published", 1),
        ("matches.started", 0),
        ("matches.running", 0),
        ("hours.minutes", 0),
        ("grants.budget", BUDGET),
        ("grants.committed", 0),
        ("grants.paid", 0),
        ("grants.reports_overdue", 0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The figures of a page's HTML: `data-figure="key" data-value="n"`.
fn figures_of(html: &str) -> BTreeMap<String, i64> {
    let mut figures = BTreeMap::new();
    for part in html.split("data-figure=\"").skip(1) {
        let Some((key, rest)) = part.split_once('"') else {
            continue;
        };
        let value = rest
            .split_once("data-value=\"")
            .and_then(|(_, v)| v.split_once('"'))
            .and_then(|(v, _)| v.parse().ok());
        if let Some(value) = value {
            figures.insert(key.to_owned(), value);
        }
    }
    figures
}

/// A client that keeps what it is told: no redirects followed, no cookies kept.
fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The sign-in form posted with `token`, its answer as it comes.
async fn post_sign_in(app: &TestApp, token: &str) -> reqwest::Response {
    plain_client()
        .post(app.url("/dashboard/sign-in"))
        // A JWT is base64url and dots: nothing in it to encode.
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .expect("sign in")
}

/// Signs in with `token`; the answer's status and the cookie it sets (`name=value`).
async fn sign_in(app: &TestApp, token: &str) -> (u16, Option<String>, String) {
    let response = post_sign_in(app, token).await;
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .map(str::to_owned);
    (status, cookie, response.text().await.unwrap_or_default())
}

async fn page_with_cookie(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let response = plain_client()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("page");
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn signing_in_keeps_the_token_in_a_cookie_that_opens_only_the_pages() {
    let app = spawn_app().await;
    seed(&app).await;
    let caseworker = app.token(RODOVRE, Role::Caseworker);

    // No cookie: the sign-in page, as a 401.
    let (status, html) = page_with_cookie(&app, "/dashboard", "").await;
    assert_eq!(status, 401);
    assert!(html.contains(r#"action="/dashboard/sign-in""#), "{html}");

    let (status, set_cookie, _) = sign_in(&app, &caseworker).await;
    assert_eq!(status, 303);
    let set_cookie = set_cookie.expect("a cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().expect("pair").to_owned();

    let (status, html) = page_with_cookie(&app, "/dashboard", &cookie).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(r#"<html lang="da">"#));
    assert_eq!(figures_of(&html), expected_overview());

    // The cookie is no token for the API: neither a query nor a command.
    let (status, _) = page_with_cookie(&app, "/reports/volunteers", &cookie).await;
    assert_eq!(status, 401, "a report route takes the header only");
    let appended = app.appended().await;
    let refused = plain_client()
        .post(app.url("/volunteers"))
        .header("cookie", &cookie)
        .json(&volunteer_body("Ulla"))
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status().as_u16(), 401);
    assert_eq!(app.appended().await, appended, "nothing appended");

    // A token that does not hold, and one of a role that may not see the pages.
    let (status, _, html) = sign_in(&app, "not.a.token").await;
    assert_eq!(status, 401);
    assert!(html.contains(r#"role="alert""#), "{html}");
    let (status, _) = page_with_cookie(&app, "/dashboard", "samskab_dashboard=not.a.token").await;
    assert_eq!(status, 401);
    let volunteer = app.party_token(RODOVRE, samskab_api::Party::Volunteer(uuid::Uuid::now_v7()));
    let (status, set_cookie, _) = sign_in(&app, &volunteer).await;
    assert_eq!(status, 403);
    assert!(
        set_cookie.is_none(),
        "no cookie for a role that may not look"
    );

    // Signing out forgets the cookie.
    let signed_out = plain_client()
        .post(app.url("/dashboard/sign-out"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("sign out");
    assert_eq!(signed_out.status().as_u16(), 303);
    let forget = signed_out.headers()["set-cookie"].to_str().expect("cookie");
    assert!(forget.starts_with("samskab_dashboard=;") && forget.contains("Max-Age=0"));
}

#[tokio::test]
async fn each_municipality_sees_its_own_figures_and_they_are_the_reports() {
    let app = spawn_app().await;
    let position = seed(&app).await;
    let caseworker = app.token(RODOVRE, Role::Caseworker);
    let (status, html) = app_page(&app, "/dashboard", &caseworker).await;
    assert_eq!(status, 200);
    let figures = figures_of(&html);
    assert_eq!(figures, expected_overview());
    let (status, report) = app
        .get(
            &format!("/reports/volunteers?min_position={position}"),
            &caseworker,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        figures["volunteers.active"],
        report["total"]["active"].as_i64().expect("active")
    );

    let roskilde = app.token(ROSKILDE, Role::Caseworker);
    let (_, html) = app_page(&app, "/dashboard", &roskilde).await;
    let theirs = figures_of(&html);
    assert_eq!(theirs["volunteers.registered"], 1);
    assert_eq!(theirs["needs.published"], 0);
    assert_eq!(theirs["grants.budget"], 0);

    // The grants page, and a period that is not one: a page that names the field, as a 400
    // (a query the API cannot parse).
    let (status, html) = app_page(&app, "/dashboard/grants", &caseworker).await;
    assert_eq!(status, 200);
    assert_eq!(figures_of(&html)["grants.budget"], BUDGET);
    assert!(html.contains("§18-puljen"));
    let (status, html) = app_page(&app, "/dashboard/action-plan", &caseworker).await;
    assert_eq!(status, 200);
    assert_eq!(figures_of(&html)["plan.initiatives"], 1);
    assert!(html.contains("Flere frivillige"), "{html}");
    let (_, matching) = app.get("/reports/matching", &caseworker).await;
    let (status, html) = app_page(&app, "/dashboard/matching", &caseworker).await;
    assert_eq!(status, 200);
    assert_eq!(figures_of(&html)["matches.proposed"], 1, "{matching}");
    let (status, html) = app_page(&app, "/dashboard?period=2026-Q5", &caseworker).await;
    assert_eq!(status, 400);
    assert!(html.contains("period:"), "{html}");
    let (status, html) = app_page(&app, "/dashboard/grants?year=tomorrow", &caseworker).await;
    assert_eq!(status, 400);
    assert!(html.contains("year:"), "{html}");

    // What the script fetches: the figures alone.
    let (status, part) = app_page(&app, "/dashboard?part=figures", &caseworker).await;
    assert_eq!(status, 200);
    assert!(!part.contains("<html"));
    assert_eq!(figures_of(&part), expected_overview());
}

/// A page as a bearer-token client gets it.
async fn app_page(app: &TestApp, path: &str, token: &str) -> (u16, String) {
    let response = plain_client()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("page");
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

/// Axe's violations that matter: serious and critical.
fn serious(violations: &Value) -> Vec<&Value> {
    violations
        .as_array()
        .expect("violations")
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect()
}

#[tokio::test]
async fn in_a_real_browser_the_pages_are_signed_into_by_keyboard_show_the_figures_move_and_pass_axe()
 {
    let app = spawn_app().await;
    seed(&app).await;
    let caseworker = app.token(RODOVRE, Role::Caseworker);
    let base = app.url("");
    let job = json!({
        "base": base.trim_end_matches('/'),
        "token": caseworker,
        "pages": ["/dashboard", "/dashboard/matching", "/dashboard/grants", "/dashboard/action-plan"],
        "after": {
            "post": "/volunteers",
            "body": volunteer_body("Dan"),
            "page": "/dashboard",
            "figure": "volunteers.registered",
            "equals": 4,
            "timeout_ms": 30_000,
        },
    });
    let result = tokio::task::spawn_blocking(move || samskab_e2e::browse(&job))
        .await
        .expect("browse")
        .expect("the browser harness");
    eprintln!("browser: {result}");

    assert_eq!(result["sign_in"]["status"], 401, "{result}");
    assert!(
        serious(&result["sign_in"]["violations"]).is_empty(),
        "{result}"
    );
    assert_eq!(
        result["signed_in"], true,
        "signed in with the keyboard: {result}"
    );
    for page in result["pages"].as_array().expect("pages") {
        assert_eq!(page["status"], 200, "{page}");
        assert_eq!(page["lang"], "da", "{page}");
        assert!(serious(&page["violations"]).is_empty(), "axe: {page}");
        assert!(
            page["errors"].as_array().is_none_or(Vec::is_empty),
            "script errors: {page}"
        );
        assert!(page["charts"].as_u64() > Some(0), "{page}");
        assert_eq!(
            page["charts"], page["charts_named"],
            "every chart named: {page}"
        );
    }
    let overview: BTreeMap<String, i64> =
        serde_json::from_value(result["pages"][0]["figures"].clone()).expect("figures");
    assert_eq!(overview, expected_overview());
    assert_eq!(result["pages"][1]["figures"]["matches.proposed"], 1);
    assert_eq!(result["pages"][2]["figures"]["grants.budget"], BUDGET);
    assert_eq!(result["pages"][3]["figures"]["plan.initiatives"], 1);
    assert_eq!(result["after"]["post_status"], 201, "{result}");
    assert_eq!(result["after"]["seen"], true, "the figure moved: {result}");
    assert_eq!(
        result["after"]["reloaded"], false,
        "without a reload: {result}"
    );
}

/// Rotary Danmark's page: Rødovre's 6 and Roskilde's 2 members' volunteers, both sharing with
/// it. Signing in with its token lands there; the figures are the report's, Roskilde's 2 shown
/// as "–"; it opens no municipality's pages, and no municipality's staff open it; in chromium
/// it passes axe like the others.
#[tokio::test]
async fn an_umbrella_signs_in_to_its_own_page_of_suppressed_figures() {
    let app = spawn_app().await;
    let admin = app.token("platform", Role::PlatformAdmin);
    let (status, rotary) = app
        .post("/umbrellas", &admin, &json!({ "name": "Rotary Danmark" }))
        .await;
    assert_eq!(status, 201, "{rotary}");
    let rotary = rotary["id"].as_str().expect("id").to_owned();
    crate::umbrellas::club_with_volunteers(&app, RODOVRE, &rotary, 6).await;
    crate::umbrellas::club_with_volunteers(&app, ROSKILDE, &rotary, 2).await;
    crate::umbrellas::share(&app, RODOVRE, &[&rotary]).await;
    let position = crate::umbrellas::share(&app, ROSKILDE, &[&rotary]).await;
    app.projected(position).await;
    let token = app.party_token(
        "platform",
        samskab_api::Party::Umbrella(rotary.parse().expect("uuid")),
    );

    let response = post_sign_in(&app, &token).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/dashboard/umbrella");

    let (status, html) = app_page(&app, "/dashboard/umbrella", &token).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Rotary Danmark"), "{html}");
    assert!(html.contains("Paraplyorganisation"));
    assert!(
        !html.contains(r#"href="/dashboard/grants""#),
        "no municipality's pages"
    );
    let figures = figures_of(&html);
    assert_eq!(figures["umbrella.municipalities"], 2, "{html}");
    assert_eq!(figures["umbrella.active"], 8, "{html}");
    let (_, report) = app
        .get(
            &format!("/reports/umbrella/volunteers?min_position={position}"),
            &token,
        )
        .await;
    assert_eq!(report["total"], json!(8), "{report}");
    let roskilde_row = html
        .split("<th scope=\"row\">roskilde</th>")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("Roskilde's row");
    assert!(
        !roskilde_row.contains(">2<"),
        "Roskilde's 2 is not shown: {roskilde_row}"
    );
    assert!(roskilde_row.contains("–"), "{roskilde_row}");

    let (status, _) = app_page(&app, "/dashboard", &token).await;
    assert_eq!(status, 403, "an umbrella sees no municipality's overview");
    let caseworker = app.token(RODOVRE, Role::Caseworker);
    let (status, _) = app_page(&app, "/dashboard/umbrella", &caseworker).await;
    assert_eq!(
        status, 403,
        "a municipality's staff do not open an umbrella's page"
    );

    let job = json!({
        "base": app.url("").trim_end_matches('/'),
        "token": token,
        "pages": ["/dashboard/umbrella"],
        "home": "/dashboard/umbrella",
    });
    let result = tokio::task::spawn_blocking(move || samskab_e2e::browse(&job))
        .await
        .expect("browse")
        .expect("the browser harness");
    assert_eq!(result["signed_in"], true, "{result}");
    let page = &result["pages"][0];
    assert_eq!(page["status"], 200, "{page}");
    assert!(serious(&page["violations"]).is_empty(), "axe: {page}");
    assert_eq!(page["charts"], page["charts_named"], "{page}");
    assert_eq!(page["figures"]["umbrella.active"], 8, "{page}");
}
