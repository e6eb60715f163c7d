//! The access table (`samskab_api::access::ACCESS`) is what the server does. Every route is
//! called without a token and with a token of every role, and the answer is checked against
//! the table; the table covers exactly the routes there are; ARCHITECTURE.md shows it as it is.

use samskab_api::access::{ACCESS, markdown};
use samskab_api::{Party, Role};
use samskab_e2e::{spawn_app, volunteer_body};
use serde_json::json;

/// A role's tokens come from the platform tenant or from a municipality, never both.
fn tenant_of(role: Role) -> &'static str {
    if role.is_platform_role() {
        "platform"
    } else {
        "rodovre"
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_access_table_says() {
    let app = spawn_app().await;
    let mut wrong = Vec::new();
    for row in ACCESS {
        let id = uuid::Uuid::now_v7();
        let path = row.path.replace("{id}", &id.to_string());
        let method = reqwest::Method::from_bytes(row.method.as_bytes()).expect("method");
        let anonymous = app
            .http
            .request(method.clone(), app.url(&path))
            .json(&json!({}))
            .send()
            .await
            .expect("request")
            .status()
            .as_u16();
        let refused = matches!(anonymous, 401 | 403);
        if refused != row.roles.is_some() {
            wrong.push(format!(
                "{} {path} without a token: {anonymous}",
                row.method
            ));
        }
        for role in Role::ALL {
            // A party's token speaks for the entity the path names, so that what is checked
            // here is the role; that it reaches only its own is `parties.rs`'s test.
            let token = match role {
                Role::Volunteer => app.party_token("rodovre", Party::Volunteer(id)),
                Role::Organisation => app.party_token("rodovre", Party::Organisation(id)),
                Role::Umbrella => app.party_token("platform", Party::Umbrella(id)),
                _ => app.token(tenant_of(role), role),
            };
            let (status, answer) = app
                .send(method.clone(), &path, &token, None, &json!({}))
                .await;
            let allowed = row.roles.is_none_or(|roles| roles.contains(&role));
            let refused = matches!(status, 401 | 403);
            if allowed == refused {
                wrong.push(format!(
                    "{} {path} as {}: {status} {answer}",
                    row.method,
                    role.as_str()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "answers that disagree with the table: {wrong:#?}"
    );
    assert_eq!(app.appended().await, 0, "no refused command appended");
}

#[test]
fn the_table_has_a_row_for_every_route_and_no_other() {
    let document = samskab_api::openapi_document();
    let mut routes = vec![("GET".to_owned(), "/openapi.json".to_owned())];
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            routes.push((method.to_uppercase(), path.clone()));
        }
    }
    // The dashboards' pages are not in the API's document (they answer HTML), but in the table.
    routes.extend(
        samskab_dashboard::PAGES
            .iter()
            .map(|(method, path)| ((*method).to_owned(), (*path).to_owned())),
    );
    routes.sort();
    let mut table: Vec<_> = ACCESS
        .iter()
        .map(|row| (row.method.to_owned(), row.path.to_owned()))
        .collect();
    table.sort();
    assert_eq!(table, routes);
}

#[test]
fn architecture_md_shows_the_table_as_it_is() {
    let architecture = include_str!("../../ARCHITECTURE.md");
    let table = markdown();
    assert!(
        architecture.contains(&table),
        "ARCHITECTURE.md's access table is out of date; it should read:\n\n{table}"
    );
}

#[tokio::test]
async fn a_platform_role_in_a_municipal_token_and_a_municipal_role_in_a_platform_token_are_refused()
{
    let app = spawn_app().await;
    for (tenant, role) in [
        ("rodovre", Role::PlatformAdmin),
        ("rodovre", Role::Operator),
        ("platform", Role::Caseworker),
    ] {
        let token = app.token(tenant, role);
        let (status, problem) = app.get("/municipalities/current", &token).await;
        assert_eq!(status, 401, "{tenant} {}: {problem}", role.as_str());
    }
}

#[tokio::test]
async fn an_auditor_sees_a_volunteer_without_personal_data_certificate_or_consent() {
    let app = spawn_app().await;
    let caseworker = app.token("rodovre", Role::Caseworker);
    let (status, created) = app
        .post("/volunteers", &caseworker, &volunteer_body("Birte Kjær"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id");
    let today = samskab_domain::calendar::danish_date(chrono::Utc::now());
    let approved = serde_json::json!({ "status": "approved", "valid_until": today + chrono::Duration::days(365) });
    let position = app.certify(&caseworker, id, &approved).await;
    let path = format!("/volunteers/{id}?min_position={position}");
    let hidden = [
        "name",
        "email",
        "phone",
        "birth_year",
        "child_certificate_status",
        "child_certificate_assessed_on",
        "child_certificate_valid_until",
        "consent_purpose",
        "consent_given_at",
    ];
    let (_, full) = app.get(&path, &caseworker).await;
    for field in hidden {
        assert!(!full[field].is_null(), "a caseworker sees {field}: {full}");
    }
    let (status, redacted) = app.get(&path, &app.token("rodovre", Role::Auditor)).await;
    assert_eq!(status, 200, "{redacted}");
    for field in hidden {
        assert!(
            redacted[field].is_null(),
            "an auditor sees {field}: {redacted}"
        );
    }
    assert_eq!(redacted["skills"], full["skills"], "statistics stay");
    assert_eq!(redacted["postcode"], full["postcode"]);
}

#[tokio::test]
async fn a_method_a_route_does_not_have_is_405_not_403() {
    let app = spawn_app().await;
    for (method, path) in [("TRACE", "/health"), ("DELETE", "/volunteers")] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = app
            .http
            .request(method.clone(), app.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        assert!(response.headers().contains_key("allow"), "{method} {path}");
    }
    let head = app
        .http
        .head(app.url("/health"))
        .send()
        .await
        .expect("request");
    assert_eq!(head.status().as_u16(), 200, "HEAD is GET without the body");
}
