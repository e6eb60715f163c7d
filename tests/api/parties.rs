//! The party roles: a volunteer's token and an organisation's reach only their own
//! (`samskab_api::ownership`). Every route of the access table a party role may call is called
//! with another party's entity (refused, nothing appended) and with its own (let through);
//! what a body or a query names is the handlers' to check, and is shown here for each route
//! that takes one; and an organisation sees a candidate's contact only with their consent.

use samskab_api::access::ACCESS;
use samskab_api::{Party, Role};
use samskab_e2e::{TestApp, need_body, spawn_app};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::matching::{publish, register, volunteer};

/// Two of everything in Rødovre, so that each party has an own and another's.
struct World {
    caseworker: String,
    organisations: [String; 2],
    needs: [String; 2],
    /// A family each organisation looks after.
    persons: [String; 2],
    volunteers: [String; 2],
    /// A volunteer who consented to `organisations[i]` requesting their børneattest.
    cases: [String; 2],
    /// `volunteers[i]` proposed for `needs[i]` by a caseworker (as coordinator).
    matches: [String; 2],
    /// A grant pool, public to every applicant.
    pool: String,
    /// A draft application of each organisation to the pool.
    applications: [String; 2],
    /// The message to each organisation that `matches[i]` was proposed for its need.
    notifications: [String; 2],
    /// The message to each volunteer that they were proposed (`matches[i]`).
    told: [String; 2],
    /// A webhook endpoint of each organisation.
    endpoints: [String; 2],
}

impl World {
    async fn new(app: &TestApp) -> Self {
        let caseworker = app.token("rodovre", Role::Caseworker);
        let mut organisations = Vec::new();
        let mut needs = Vec::new();
        let mut persons = Vec::new();
        for name in ["Æblehaven", "Lektiecaféen"] {
            let organisation = app.organisation(&caseworker, name).await;
            let mut need = need_body(&format!("Lektiehjælp hos {name}"));
            need["organisation_id"] = json!(organisation);
            needs.push(publish(app, &caseworker, &need).await);
            let family = json!({
                "organisation_id": organisation, "kind": "family", "name": format!("Familien hos {name}"),
                "email": null, "phone": null, "postcode": "2610", "languages": ["uk"],
                "children_under_15": false,
            });
            let (status, created) = app.post("/persons", &caseworker, &family).await;
            assert_eq!(status, 201, "{created}");
            persons.push(created["id"].as_str().expect("id").to_string());
            organisations.push(organisation);
        }
        let mut volunteers = Vec::new();
        for name in ["Søren Ærø", "Birte Kjær"] {
            let body = volunteer(json!({ "name": name }));
            let id = register(app, &caseworker, &body, true).await;
            // And to notifications: each is told of their proposal, a message of their own.
            let consents = json!({ "matching": true, "contact": false, "notifications": true });
            let (status, answer) = app
                .put(
                    &format!("/volunteers/{id}/consents"),
                    &caseworker,
                    &consents,
                )
                .await;
            assert_eq!(status, 202, "{answer}");
            volunteers.push(id);
        }
        // A volunteer of each organisation's børneattest case (consented to its request): what
        // an organisation's token reaches under /volunteers. Not the volunteers above, whose
        // own tokens consent to other requesters during the test.
        let mut cases = Vec::new();
        for (name, organisation) in ["Åse Holm", "Ida Larsen"].into_iter().zip(&organisations) {
            // Without consent to matching: no candidate in the tests that count candidates.
            let id = register(app, &caseworker, &volunteer(json!({ "name": name })), false).await;
            let consent = json!({ "organisation_id": organisation });
            app.accepted(
                &format!("/volunteers/{id}/child-certificate/consent"),
                &caseworker,
                &consent,
            )
            .await;
            cases.push(id);
        }
        let mut matches = Vec::new();
        for i in 0..2 {
            let proposal = json!({
                "volunteer_id": volunteers[i],
                "need_id": needs[i],
                "proposed_by": "coordinator",
            });
            let (status, created) = app.post("/matches", &caseworker, &proposal).await;
            assert_eq!(status, 201, "{created}");
            matches.push(created["id"].as_str().expect("id").to_string());
        }
        let admin = app.token("rodovre", Role::PoolAdministrator);
        let (status, created) = app
            .post(
                "/grant-pools",
                &admin,
                &samskab_e2e::pool_body("rolling", 0),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let pool = created["id"].as_str().expect("id").to_string();
        let mut endpoints = Vec::new();
        for (i, organisation) in organisations.iter().enumerate() {
            let body = json!({
                "organisation_id": organisation,
                "url": format!("https://hooks{i}.example.dk/samskab"),
            });
            let (status, created) = app.post("/webhook-endpoints", &caseworker, &body).await;
            assert_eq!(status, 201, "{created}");
            endpoints.push(created["id"].as_str().expect("id").to_string());
        }
        let mut applications = Vec::new();
        for organisation in &organisations {
            let body = json!({
                "pool_id": pool,
                "applicant_kind": "association",
                "organisation_id": organisation,
                "content": samskab_e2e::application_content("Lektiecafé", 100_000),
            });
            let (status, created) = app.post("/grant-applications", &caseworker, &body).await;
            assert_eq!(status, 201, "{created}");
            applications.push(created["id"].as_str().expect("id").to_string());
        }
        let last = app.log_position().await;
        let first_message = |party: Party| {
            let token = app.party_token("rodovre", party);
            async move {
                let (status, inbox) = app
                    .get(&format!("/notifications?min_position={last}"), &token)
                    .await;
                assert_eq!(status, 200, "{inbox}");
                inbox["items"][0]["id"]
                    .as_str()
                    .expect("a message")
                    .to_string()
            }
        };
        let mut notifications = Vec::new();
        let mut told = Vec::new();
        for i in 0..2 {
            notifications.push(first_message(Party::Organisation(uuid(&organisations[i]))).await);
            told.push(first_message(Party::Volunteer(uuid(&volunteers[i]))).await);
        }
        let two = |v: Vec<String>| -> [String; 2] { v.try_into().expect("two") };
        Self {
            caseworker,
            organisations: two(organisations),
            needs: two(needs),
            persons: two(persons),
            volunteers: two(volunteers),
            cases: two(cases),
            matches: two(matches),
            pool,
            applications: two(applications),
            notifications: two(notifications),
            told: two(told),
            endpoints: two(endpoints),
        }
    }

    /// Party `i`'s token of the kind `role`: volunteer `i` or organisation `i`.
    fn token(&self, app: &TestApp, role: Role, i: usize) -> String {
        let party = match role {
            Role::Volunteer => Party::Volunteer(uuid(&self.volunteers[i])),
            Role::Organisation => Party::Organisation(uuid(&self.organisations[i])),
            _ => panic!("{} is no party role", role.as_str()),
        };
        app.party_token("rodovre", party)
    }

    /// The entity of party `i` that a route of `room` (its path's first segment) names, as
    /// that party's own: `None` where the party has none there.
    fn own(&self, role: Role, room: &str, i: usize) -> Option<&str> {
        match (role, room) {
            (Role::Volunteer, "volunteers") => Some(&self.volunteers[i]),
            (Role::Organisation, "organisations") => Some(&self.organisations[i]),
            (Role::Organisation, "needs") => Some(&self.needs[i]),
            (Role::Organisation, "persons") => Some(&self.persons[i]),
            (Role::Organisation, "volunteers") => Some(&self.cases[i]),
            (Role::Organisation, "grant-applications") => Some(&self.applications[i]),
            (Role::Organisation, "grant-pools") => Some(&self.pool),
            (Role::Organisation, "notifications") => Some(&self.notifications[i]),
            (Role::Volunteer, "notifications") => Some(&self.told[i]),
            (Role::Organisation, "webhook-endpoints") => Some(&self.endpoints[i]),
            (_, "matches") => Some(&self.matches[i]),
            _ => None,
        }
    }
}

fn uuid(id: &str) -> Uuid {
    Uuid::parse_str(id).expect("uuid")
}

fn method(row: &samskab_api::access::Access) -> reqwest::Method {
    reqwest::Method::from_bytes(row.method.as_bytes()).expect("method")
}

/// The request is refused with 403 and appends nothing.
async fn refused(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: &Value) {
    let before = app.appended().await;
    let (status, answer) = app.send(method.clone(), path, token, None, body).await;
    assert_eq!(status, 403, "{method} {path}: {answer}");
    assert_eq!(app.appended().await, before, "{method} {path} appended");
}

/// Rooms whose every entity a party may read: an applicant reads every grant pool it may
/// apply to. They have no "another's" to refuse; their own is checked like the rest.
const PUBLIC_TO_PARTIES: &[&str] = &["grant-pools"];

/// The rows of the access table that `role` may call and whose path names an entity, each with
/// its room (the path's first segment).
fn rows_naming_an_entity(
    role: Role,
) -> impl Iterator<Item = (&'static samskab_api::access::Access, &'static str)> {
    ACCESS
        .iter()
        .filter(|row| row.path.contains("{id}"))
        .filter(move |row| row.roles.is_some_and(|roles| roles.contains(&role)))
        .map(|row| {
            let room = row.path.trim_start_matches('/').split('/').next();
            (row, room.unwrap_or(""))
        })
}

#[tokio::test]
async fn a_party_token_reaches_only_its_own_on_every_route_it_may_call() {
    let app = spawn_app().await;
    let world = World::new(&app).await;
    let mut checked = 0;
    for role in [Role::Volunteer, Role::Organisation] {
        let mine = world.token(&app, role, 0);
        for (row, room) in rows_naming_an_entity(role) {
            if PUBLIC_TO_PARTIES.contains(&room) {
                continue;
            }
            let Some(theirs) = world.own(role, room, 1) else {
                panic!(
                    "{} may call {} {}, and this test knows no entity of theirs there: add it to World::own",
                    role.as_str(),
                    row.method,
                    row.path
                );
            };
            let path = row.path.replace("{id}", theirs);
            refused(&app, method(row), &path, &mine, &json!({})).await;
            checked += 1;
        }
        // The same routes on its own entities are let through (a body `{}` is 400 or 422 on
        // most; what matters is that the role and the owner were not refused).
        for (row, room) in rows_naming_an_entity(role) {
            let own = world.own(role, room, 0).expect("own entity");
            let path = row.path.replace("{id}", own);
            let (status, answer) = app.send(method(row), &path, &mine, None, &json!({})).await;
            assert!(
                !matches!(status, 401 | 403),
                "{} {path} as its own {}: {status} {answer}",
                row.method,
                role.as_str()
            );
        }
    }
    assert!(checked >= 20, "only {checked} routes checked");
}

#[tokio::test]
async fn what_a_party_names_in_a_body_or_a_query_is_its_own_or_refused() {
    let app = spawn_app().await;
    let w = World::new(&app).await;
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    let aeblehaven = w.token(&app, Role::Organisation, 0);
    let soren = w.token(&app, Role::Volunteer, 0);

    // An organisation posts needs in its own name only.
    let mut need = need_body("Fodboldtræner");
    refused(&app, post.clone(), "/needs", &aeblehaven, &need).await;
    need["organisation_id"] = json!(w.organisations[1]);
    refused(&app, post.clone(), "/needs", &aeblehaven, &need).await;
    need["organisation_id"] = json!(w.organisations[0]);
    let football = publish(&app, &aeblehaven, &need).await;

    // A volunteer proposes themself only, and as the volunteer's side.
    let interest = |volunteer: &str, need: &str, by: &str| json!({ "volunteer_id": volunteer, "need_id": need, "proposed_by": by });
    for body in [
        interest(&w.volunteers[1], &w.needs[1], "volunteer"),
        interest(&w.volunteers[0], &w.needs[1], "coordinator"),
    ] {
        refused(&app, post.clone(), "/matches", &soren, &body).await;
    }
    let (status, created) = app
        .post(
            "/matches",
            &soren,
            &interest(&w.volunteers[0], &football, "volunteer"),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let sorens_interest = created["id"].as_str().expect("id").to_string();

    // An organisation proposes for its own needs only, as the need's side.
    for body in [
        interest(&w.volunteers[1], &w.needs[1], "coordinator"),
        interest(&w.volunteers[1], &w.needs[0], "volunteer"),
    ] {
        refused(&app, post.clone(), "/matches", &aeblehaven, &body).await;
    }
    let (status, created) = app
        .post(
            "/matches",
            &aeblehaven,
            &interest(&w.volunteers[1], &w.needs[0], "coordinator"),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let birte_at_aeblehaven = created["id"].as_str().expect("id").to_string();

    // Each side accepts or declines for itself only.
    let side = |side: &str| json!({ "side": side });
    let accept = format!("/matches/{}/accept", w.matches[0]);
    refused(&app, post.clone(), &accept, &soren, &side("counterpart")).await;
    let decline = format!("/matches/{sorens_interest}/decline");
    refused(
        &app,
        post.clone(),
        &decline,
        &aeblehaven,
        &side("volunteer"),
    )
    .await;
    // The organisation takes Søren's interest, and the match runs between the two of them.
    let accepted = format!("/matches/{sorens_interest}/accept");
    app.accepted(&accepted, &aeblehaven, &side("counterpart"))
        .await;
    let start = format!("/matches/{sorens_interest}/start");
    app.accepted(
        &start,
        &aeblehaven,
        &json!({ "on": crate::matching::today() }),
    )
    .await;
    let hours = format!("/matches/{sorens_interest}/hours");
    let month = crate::matching::today().format("%Y-%m").to_string();
    let position = app
        .accepted(&hours, &soren, &json!({ "period": month, "minutes": 90 }))
        .await;

    // Lists narrow to the party's own; asking for another's is refused.
    let ids = |page: &Value| -> Vec<String> {
        let mut ids: Vec<String> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|m| m["id"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let (status, page) = app
        .get(&format!("/matches?min_position={position}"), &soren)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        ids(&page),
        sorted(vec![w.matches[0].clone(), sorens_interest.clone()])
    );
    let mine = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["id"] == json!(sorens_interest))
        .expect("Søren's interest");
    assert_eq!(mine["status"], "active");
    assert_eq!(mine["total_minutes"], 90);
    let others = format!("/matches?volunteer_id={}", w.volunteers[1]);
    refused(&app, get.clone(), &others, &soren, &json!({})).await;

    let (status, page) = app
        .get(&format!("/matches?min_position={position}"), &aeblehaven)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        ids(&page),
        sorted(vec![
            w.matches[0].clone(),
            sorens_interest.clone(),
            birte_at_aeblehaven
        ])
    );
    let (status, page) = app
        .get(&format!("/needs?min_position={position}"), &aeblehaven)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), sorted(vec![w.needs[0].clone(), football]));
    let others = format!("/needs?organisation_id={}", w.organisations[1]);
    refused(&app, get, &others, &aeblehaven, &json!({})).await;

    // A caseworker still sees the whole municipality.
    let (status, page) = app
        .get(&format!("/matches?min_position={position}"), &w.caseworker)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().expect("items").len(), 4);
}

#[tokio::test]
async fn an_organisation_sees_a_candidates_contact_only_if_the_volunteer_consented_to_it() {
    let app = spawn_app().await;
    let w = World::new(&app).await;
    // A second need of Æblehaven, to which neither volunteer is matched yet.
    let mut need = need_body("Lektiehjælp om lørdagen");
    need["organisation_id"] = json!(w.organisations[0]);
    let need = publish(&app, &w.caseworker, &need).await;
    let contact = json!({ "matching": true, "contact": true, "notifications": false });
    let position = app
        .put(
            &format!("/volunteers/{}/consents", w.volunteers[0]),
            &w.caseworker,
            &contact,
        )
        .await;
    assert_eq!(position.0, 202, "{}", position.1);
    let position = position.1["position"].as_u64().expect("position");

    let contacts = |list: &Value| -> Vec<(String, Value)> {
        let mut found: Vec<(String, Value)> = list["candidates"]
            .as_array()
            .expect("candidates")
            .iter()
            .map(|c| {
                let id = c["volunteer_id"].as_str().expect("id").to_string();
                (id, c["contact"]["name"].clone())
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    };
    let path = format!("/needs/{need}/candidates?min_position={position}");
    let expect = |soren: Value, birte: Value| {
        let mut expected = vec![
            (w.volunteers[0].clone(), soren),
            (w.volunteers[1].clone(), birte),
        ];
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        expected
    };

    let (status, list) = app.get(&path, &w.token(&app, Role::Organisation, 0)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(contacts(&list), expect(json!("Søren Ærø"), Value::Null));
    let (status, list) = app.get(&path, &w.caseworker).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        contacts(&list),
        expect(json!("Søren Ærø"), json!("Birte Kjær"))
    );
}

#[tokio::test]
async fn a_volunteer_sees_exports_and_manages_their_own_data() {
    let app = spawn_app().await;
    let w = World::new(&app).await;
    let soren = w.token(&app, Role::Volunteer, 0);
    let id = &w.volunteers[0];

    let at = app.log_position().await;
    let (status, profile) = app
        .get(&format!("/volunteers/{id}?min_position={at}"), &soren)
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["name"], "Søren Ærø", "their own personal data");
    let (status, export) = app.get(&format!("/volunteers/{id}/export"), &soren).await;
    assert_eq!(status, 200, "{export}");
    assert!(export.to_string().contains("Søren Ærø"), "{export}");

    // They withdraw their consent to matching themself, and leave the candidate lists at once.
    let mut need = need_body("Lektiehjælp om lørdagen");
    need["organisation_id"] = json!(w.organisations[0]);
    let need = publish(&app, &w.caseworker, &need).await;
    let consents = json!({ "matching": false, "contact": false, "notifications": false });
    let (status, accepted) = app
        .put(&format!("/volunteers/{id}/consents"), &soren, &consents)
        .await;
    assert_eq!(status, 202, "{accepted}");
    let position = accepted["position"].as_u64().expect("position");
    let listed = crate::matching::candidates(&app, &w.caseworker, &need, position).await;
    assert!(
        listed.iter().all(|(candidate, _)| candidate != id),
        "{listed:?}"
    );
    let (status, view) = app
        .get(&format!("/volunteers/{id}?min_position={position}"), &soren)
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["purposes"], json!([]), "{view}");
}
