//! Privacy by construction, end to end: a forgotten volunteer's name and e-mail are found
//! nowhere in plain text (not in the NATS server's files, not in any PostgreSQL table, not in
//! the logs, not after a rebuild), while the statistics built on them stay; and a volunteer can
//! export everything held about them.

use std::io::Write;
use std::sync::{Arc, Mutex};

use samskab_api::Role;
use samskab_e2e::{spawn_app, volunteer_body};
use serde_json::{Value, json};

/// Everything this test process logs, at every level, to search afterwards.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut logs) = self.0.lock() {
            logs.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn install() -> Self {
        let logs = Self::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        logs
    }

    fn contains(&self, needle: &str) -> bool {
        self.0
            .lock()
            .map(|logs| String::from_utf8_lossy(&logs).contains(needle))
            .unwrap_or(true)
    }
}

/// Waits until the NATS server has written `event_id` (a just-appended event) to its files:
/// a search of the files for what must *not* be there proves something only after that.
pub(crate) async fn until_on_disk(app: &samskab_e2e::TestApp, event_id: &Value) {
    let needle = event_id.as_str().expect("event id");
    let files = app
        .nats
        .wait_for_files_containing(needle.as_bytes(), true)
        .await
        .expect("search");
    assert!(!files.is_empty(), "event {needle} never reached the disk");
}

/// Every row of every table in the database (runtime, read models, parked events, migrations'
/// bookkeeping) whose text contains `needle`, as `schema.table`.
pub(crate) async fn tables_containing(pool: &sqlx::PgPool, needle: &str) -> Vec<String> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema, table_name FROM information_schema.tables
         WHERE table_type = 'BASE TABLE'
           AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut found = Vec::new();
    for (schema, table) in tables {
        let sql = format!(
            "SELECT count(*) FROM \"{schema}\".\"{table}\" AS t WHERE t::text ILIKE '%' || $1 || '%'"
        );
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(needle)
            .fetch_one(pool)
            .await
            .expect("search");
        if count > 0 {
            found.push(format!("{schema}.{table}"));
        }
    }
    found
}

#[tokio::test]
async fn a_forgotten_volunteer_is_found_nowhere_and_the_statistics_stay() {
    let logs = CapturedLogs::install();
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (name, email) = ("Gudrun Glemmesen", "gudrun.glemmesen@example.dk");
    let mut body = volunteer_body(name);
    body["email"] = json!(email);

    // Registered with an idempotency key (the log keeps its record), then updated.
    let (status, created) = app
        .send(
            reqwest::Method::POST,
            "/volunteers",
            &token,
            Some("register-gudrun"),
            &body,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    body.as_object_mut().expect("object").remove("consent");
    body["phone"] = json!("+45 36 37 70 00");
    let (status, updated) = app.put(&format!("/volunteers/{id}"), &token, &body).await;
    assert_eq!(status, 202, "{updated}");
    let position = updated["position"].as_u64().expect("position");
    let (_, shown) = app
        .get(&format!("/volunteers/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(
        shown["name"], name,
        "the read model shows the person before"
    );
    // The log itself never held the name in plain text, even before the forgetting.
    until_on_disk(&app, &updated["event_ids"][0]).await;
    assert!(
        app.nats
            .files_containing(name.as_bytes())
            .expect("search")
            .is_empty()
    );

    // Export (GDPR art. 15): everything, decrypted.
    let (status, export) = app.get(&format!("/volunteers/{id}/export"), &token).await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["status"], "active");
    assert_eq!(export["record"]["personal"]["name"], name);
    assert_eq!(export["events"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        export["events"][0]["data"]["personal"]["contact"]["email"],
        email
    );
    assert_eq!(export["events"][0]["actor"], "user:tester-caseworker");

    let (status, forgotten) = app
        .post(&format!("/volunteers/{id}/forget"), &token, &json!({}))
        .await;
    assert_eq!(status, 202, "{forgotten}");
    let position = forgotten["position"].as_u64().expect("position");
    let (_, shown) = app
        .get(&format!("/volunteers/{id}?min_position={position}"), &token)
        .await;
    assert_eq!(shown["status"], "forgotten");
    assert_eq!(shown["name"], Value::Null);
    assert_eq!(shown["email"], Value::Null);
    assert_eq!(shown["phone"], Value::Null);
    assert!(shown["forgotten_at"].is_string(), "{shown}");
    until_on_disk(&app, &forgotten["event_ids"][0]).await;

    // Once more: harmless, and nothing more is appended.
    let (status, again) = app
        .post(&format!("/volunteers/{id}/forget"), &token, &json!({}))
        .await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["event_ids"], json!([]));

    // The export now says only that the person was forgotten.
    let (status, export) = app.get(&format!("/volunteers/{id}/export"), &token).await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["status"], "forgotten");
    assert_eq!(export["record"], Value::Null);
    assert!(
        export["events"]
            .as_array()
            .expect("events")
            .iter()
            .all(|e| e["data"]["personal"].is_null()),
        "{export}"
    );

    // Statistics keep their counts: by postcode, age band and skill.
    let counted: (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE postcode = '2610'),
                count(*) FILTER (WHERE age_band = '67_plus'),
                count(*) FILTER (WHERE skills @> ARRAY['snedker'])
         FROM directory.volunteer WHERE tenant = 'rodovre'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("statistics");
    assert_eq!(counted, (1, 1, 1));

    for needle in [name, "Glemmesen", email] {
        assert_eq!(
            tables_containing(&app.pool, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
        assert!(
            app.nats
                .files_containing(needle.as_bytes())
                .expect("search")
                .is_empty(),
            "{needle} in the NATS store"
        );
    }

    // A rebuild replays the whole log: it cannot open the person's data any more.
    app.rebuild_all().await;
    let (_, rebuilt) = app.get(&format!("/volunteers/{id}"), &token).await;
    assert_eq!(rebuilt["status"], "forgotten");
    assert_eq!(rebuilt["postcode"], "2610");
    for needle in [name, "Glemmesen", email] {
        assert_eq!(
            tables_containing(&app.pool, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
        assert!(!logs.contains(needle), "{needle} in the logs");
    }
    assert!(logs.contains("data key forgotten"), "the logs are captured");
}

#[tokio::test]
async fn an_organisations_forgotten_contact_is_found_nowhere_and_the_organisation_stays() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (person, email) = ("Karen Kontaktsen", "karen.kontaktsen@example.dk");
    let body = json!({
        "name": "Æblehavens Venner", "kind": "association", "cvr": null,
        "email": email, "phone": "+45 36 37 70 00", "contact_person": person,
    });
    let (status, created) = app.post("/organisations", &token, &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let path = format!("/organisations/{id}?min_position={}", created["position"]);
    let (_, shown) = app.get(&path, &token).await;
    assert_eq!(shown["contact_person"], person);
    let (_, audited) = app.get(&path, &app.token("rodovre", Role::Auditor)).await;
    assert_eq!(
        audited["contact_person"],
        Value::Null,
        "an auditor sees no contact"
    );
    assert_eq!(audited["email"], Value::Null);
    assert_eq!(audited["name"], "Æblehavens Venner");
    until_on_disk(&app, &created["event_ids"][0]).await;
    assert!(
        app.nats
            .files_containing(person.as_bytes())
            .expect("search")
            .is_empty()
    );

    let (status, forgotten) = app
        .post(
            &format!("/organisations/{id}/contact/forget"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202, "{forgotten}");
    let (_, shown) = app
        .get(
            &format!("/organisations/{id}?min_position={}", forgotten["position"]),
            &token,
        )
        .await;
    assert_eq!(shown["name"], "Æblehavens Venner", "the organisation stays");
    assert_eq!(shown["active"], true);
    for field in ["contact_person", "email", "phone"] {
        assert_eq!(shown[field], Value::Null, "{field}: {shown}");
    }
    for needle in [person, email] {
        assert_eq!(
            tables_containing(&app.pool, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }

    // A new contact person may be recorded afterwards; the old one stays forgotten.
    let mut next = body.clone();
    next["contact_person"] = json!("Niels Næste");
    next["email"] = json!("niels@example.dk");
    let (status, updated) = app
        .put(&format!("/organisations/{id}"), &token, &next)
        .await;
    assert_eq!(status, 202, "{updated}");
    let (_, shown) = app
        .get(
            &format!("/organisations/{id}?min_position={}", updated["position"]),
            &token,
        )
        .await;
    assert_eq!(shown["contact_person"], "Niels Næste");
    app.rebuild_all().await;
    let (_, rebuilt) = app.get(&format!("/organisations/{id}"), &token).await;
    assert_eq!(rebuilt["contact_person"], "Niels Næste");
    assert_eq!(
        tables_containing(&app.pool, person).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn consent_is_given_and_withdrawn_per_purpose_and_withdrawal_always_works() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (status, created) = app
        .post("/volunteers", &token, &volunteer_body("Signe Samtykke"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let consents = format!("/volunteers/{id}/consents");
    let wanted = json!({"matching": true, "contact": false, "notifications": true});

    let (status, given) = app.put(&consents, &token, &wanted).await;
    assert_eq!(status, 202, "{given}");
    assert_eq!(
        given["event_ids"].as_array().map(Vec::len),
        Some(2),
        "one event per purpose given"
    );
    let (_, shown) = app
        .get(
            &format!("/volunteers/{id}?min_position={}", given["position"]),
            &token,
        )
        .await;
    assert_eq!(shown["purposes"], json!(["matching", "notifications"]));
    let (_, audited) = app
        .get(
            &format!("/volunteers/{id}"),
            &app.token("rodovre", Role::Auditor),
        )
        .await;
    assert_eq!(
        audited["purposes"],
        Value::Null,
        "an auditor sees no consent"
    );

    // The same again changes nothing; a change is one event.
    let (status, same) = app.put(&consents, &token, &wanted).await;
    assert_eq!((status, same["event_ids"].clone()), (202, json!([])));
    let fewer = json!({"matching": true, "contact": false, "notifications": false});
    let (_, withdrawn) = app.put(&consents, &token, &fewer).await;
    assert_eq!(withdrawn["event_ids"].as_array().map(Vec::len), Some(1));
    let (_, shown) = app
        .get(
            &format!("/volunteers/{id}?min_position={}", withdrawn["position"]),
            &token,
        )
        .await;
    assert_eq!(shown["purposes"], json!(["matching"]));

    // After all consent is withdrawn: withdrawing a purpose still answers 2xx, giving one is 409.
    let (status, _) = app
        .post(
            &format!("/volunteers/{id}/consent/withdraw"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let none = json!({"matching": false, "contact": false, "notifications": false});
    let (status, answer) = app.put(&consents, &token, &none).await;
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = app.put(&consents, &token, &wanted).await;
    assert_eq!(status, 409, "{answer}");
    let (_, shown) = app
        .get(
            &format!("/volunteers/{id}?min_position={}", app.log_position().await),
            &token,
        )
        .await;
    assert_eq!(shown["purposes"], json!([]));
}

#[tokio::test]
async fn a_parked_event_keeps_its_personal_data_sealed() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let (status, created) = app
        .post("/volunteers", &token, &volunteer_body("Parkeret Person"))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    // An event this version does not know (a newer one appended it), with personal data: the
    // directory parks it, and the parked copy is the message as stored.
    let entity = samskab_eventlog::EntityRef::new("rodovre", "volunteer", &id).expect("entity");
    let appended = app
        .append_raw(
            &entity,
            created["position"].as_u64().expect("position"),
            "dk.samskab.volunteer.renamed_in_future.v1",
            json!({"personal": {"name": "Parkeret Hemmelighed"}}),
        )
        .await;
    app.projected(appended.position).await;
    assert_eq!(
        app.parked_by("dk.samskab.volunteer.renamed_in_future.v1")
            .await,
        ["directory", "matching", "notify", "reporting"],
        "the event is parked by each projection that reads volunteers"
    );
    assert_eq!(
        tables_containing(&app.pool, "Hemmelighed").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn an_organisations_contact_is_in_its_export_until_it_is_forgotten() {
    let app = spawn_app().await;
    let token = app.token("rodovre", Role::Caseworker);
    let body = json!({
        "name": "Æblehavens Venner", "kind": "association", "cvr": null,
        "email": "karen@example.dk", "phone": null, "contact_person": "Karen Kontaktsen",
    });
    let (status, created) = app.post("/organisations", &token, &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let export = format!("/organisations/{id}/contact/export");

    let (status, before) = app.get(&export, &token).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["contact"]["person"], "Karen Kontaktsen");
    assert_eq!(
        before["events"][0]["data"]["personal"]["email"],
        "karen@example.dk"
    );
    assert_eq!(before["events"][0]["actor"], "user:tester-caseworker");

    let (status, _) = app
        .post(
            &format!("/organisations/{id}/contact/forget"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let (status, after) = app.get(&export, &token).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["contact"], Value::Null);
    assert!(
        after["events"]
            .as_array()
            .expect("events")
            .iter()
            .all(|e| e["data"]["personal"].is_null()),
        "{after}"
    );
    let (status, _) = app
        .get(
            "/organisations/00000000-0000-0000-0000-000000000000/contact/export",
            &token,
        )
        .await;
    assert_eq!(status, 404);
}
