//! The directory projection against real servers: a NATS server of our own per test and a fresh
//! PostgreSQL database per test (see samskab-testkit).
//!
//! - Through the runtime: events are appended with `EventLog::append`, a `Projector` runs in a
//!   task, and the rows are read once the checkpoint has reached the last append.
//! - Direct: `DirectoryProjection::apply` is called inside a transaction with `search_path` set,
//!   as the runtime does, to pin down idempotency and the guards event by event.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::{NewEvent, RecordedEvent};
use samskab_projection::ApplyError;
use samskab_testkit::projection::{ProjectorHarness, migrated_database};
use serde_json::{Value, json};
use sqlx::{PgPool, Row};
use uuid::Uuid;

mod support;
use support::*;

// ---------------------------------------------------------------------------------------------
// Fixtures (the shared ones are `samskab_domain::fixtures`)
// ---------------------------------------------------------------------------------------------

fn withdrawn_at() -> DateTime<Utc> {
    "2025-06-01T12:00:00Z".parse().expect("valid time")
}

fn consent_withdrawn(id: VolunteerId) -> VolunteerEvent {
    VolunteerEvent::ConsentWithdrawn(VolunteerConsentWithdrawn {
        id,
        at: withdrawn_at(),
    })
}

/// The association Æblehaven's id, as a requester of a børneattest (and as the row writes it).
fn aeblehaven() -> (CertificateRequester, String) {
    let id = org_id();
    (PostedBy::Organisation(id), id.to_string())
}

fn certificate_consent(id: VolunteerId, requester: CertificateRequester) -> VolunteerEvent {
    VolunteerEvent::CertificateConsentGiven(VolunteerCertificateStep {
        id,
        requester,
        at: at(2025, 9, 1),
    })
}

fn requested_at() -> DateTime<Utc> {
    "2025-09-02T08:30:00.123456Z".parse().expect("valid time")
}

fn certificate_requested(id: VolunteerId, requester: CertificateRequester) -> VolunteerEvent {
    VolunteerEvent::CertificateRequested(VolunteerCertificateStep {
        id,
        requester,
        at: requested_at(),
    })
}

fn certificate_assessed(
    id: VolunteerId,
    requester: CertificateRequester,
    certificate: ChildCertificate,
) -> VolunteerEvent {
    VolunteerEvent::CertificateAssessed(VolunteerCertificateAssessed {
        id,
        requester,
        certificate: Some(certificate),
        at: at(2025, 9, 20),
    })
}

/// Approved on 2025-09-20, to be renewed by 2028-09-20.
fn approved_2025() -> ChildCertificate {
    ChildCertificate::parse(
        ChildCertificateStatus::Approved,
        Some(date(2025, 9, 20)),
        Some(date(2028, 9, 20)),
    )
    .expect("valid certificate")
}

/// Søren's registration as `decide` writes one: no børneattest yet.
fn registered_without_certificate(id: VolunteerId) -> VolunteerEvent {
    VolunteerEvent::Registered(VolunteerRegistered {
        id,
        personal: Some(volunteer_personal("Søren Ærø Østergaard")),
        profile: volunteer_profile(),
        consent: volunteer_consent(),
    })
}

/// The børneattest's columns of a volunteer's row.
fn certificate_columns(v: &Value) -> Value {
    let mut columns = serde_json::Map::new();
    for column in [
        "child_certificate_status",
        "child_certificate_assessed_on",
        "child_certificate_valid_until",
        "child_certificate_consent_for",
        "child_certificate_requested_by",
        "child_certificate_requested_at",
    ] {
        let value = match &v[column] {
            Value::String(_) if column.ends_with("_at") => json!(micros(&v[column])),
            value => value.clone(),
        };
        columns.insert(column.to_owned(), value);
    }
    Value::Object(columns)
}

// ---------------------------------------------------------------------------------------------
// Harness: NATS + PostgreSQL + a running projector (`DIRECTORY.start_projector()`)
// ---------------------------------------------------------------------------------------------

/// A row of the directory as JSON (every column), or `None` when there is none.
async fn row(pool: &PgPool, table: &str, tenant: &str, id: Uuid) -> anyhow::Result<Option<Value>> {
    DIRECTORY.row(pool, table, tenant, id).await
}

async fn envelope_time(h: &ProjectorHarness, tenant: &str, kind: &str, id: &str) -> Vec<String> {
    let times = h.envelope_times(tenant, kind, id).await.expect("load");
    times.into_iter().map(pg_time).collect()
}

/// How PostgreSQL's `to_jsonb` renders a timestamptz (microseconds, UTC session time zone
/// assumed away by comparing instants).
fn pg_time(time: DateTime<Utc>) -> String {
    time.timestamp_micros().to_string()
}

fn micros(value: &Value) -> String {
    let text = value.as_str().expect("timestamp as text");
    DateTime::parse_from_rfc3339(text)
        .expect("rfc3339")
        .timestamp_micros()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Through the runtime
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn municipality_registered_is_inserted() -> anyhow::Result<()> {
    let mut h = DIRECTORY.start_projector().await?;
    let position = h
        .append_domain(
            "rodovre",
            "rodovre",
            &municipality_registered("rodovre", 175, "Rødovre Kommune"),
        )
        .await?;
    h.caught_up().await?;

    let r = sqlx::query(
        "SELECT kommunekode, name, registered_by, position, registered_at
         FROM directory.municipality WHERE tenant = 'rodovre'",
    )
    .fetch_one(&h.pool)
    .await?;
    assert_eq!(r.get::<i32, _>("kommunekode"), 175);
    assert_eq!(r.get::<String, _>("name"), "Rødovre Kommune");
    assert_eq!(r.get::<String, _>("registered_by"), ACTOR);
    assert_eq!(r.get::<i64, _>("position"), i64::try_from(position)?);
    let times = envelope_time(&h, "rodovre", "municipality", "rodovre").await;
    assert_eq!(
        pg_time(r.get::<DateTime<Utc>, _>("registered_at")),
        times[0]
    );
    h.stop().await
}

#[tokio::test]
async fn organisation_registered_updated_and_deactivated() -> anyhow::Result<()> {
    let mut h = DIRECTORY.start_projector().await?;
    let id = OrganisationId::new_v7();
    let key = id.to_string();
    let registered = organisation_details(id, "Rødovre Frivilligcenter");
    h.append_domain(
        "rodovre",
        &key,
        &OrganisationEvent::Registered(registered.clone()),
    )
    .await?;
    h.caught_up().await?;

    let org = row(&h.pool, "organisation", "rodovre", id.as_uuid())
        .await?
        .context("registered organisation")?;
    assert_eq!(org["name"], "Rødovre Frivilligcenter");
    assert_eq!(org["cvr"], "13748136");
    assert_eq!(org["kind"], "association");
    assert_eq!(org["email"], "info@aeblehaven.dk");
    assert_eq!(org["phone"], "+4536377000");
    assert_eq!(org["contact_person"], "Åse Æbelø");
    assert_eq!(org["active"], true);
    assert_eq!(org["deactivated_at"], Value::Null);
    assert_eq!(org["registered_at"], org["updated_at"]);

    // An update replaces the whole record; an informal group without CVR and phone.
    let updated = OrganisationDetails {
        name: name("Æblehavens Venner"),
        cvr: None,
        kind: OrganisationKind::InformalGroup,
        contact: Some(contact_of(Some("venner@aeblehaven.dk"), None, None)),
        ..registered
    };
    let update_position = h
        .append_domain("rodovre", &key, &OrganisationEvent::Updated(updated))
        .await?;
    h.caught_up().await?;
    let org = row(&h.pool, "organisation", "rodovre", id.as_uuid())
        .await?
        .context("updated organisation")?;
    assert_eq!(org["name"], "Æblehavens Venner");
    assert_eq!(org["cvr"], Value::Null);
    assert_eq!(org["kind"], "informal_group");
    assert_eq!(org["email"], "venner@aeblehaven.dk");
    assert_eq!(org["phone"], Value::Null);
    assert_eq!(org["contact_person"], Value::Null);
    assert_eq!(org["active"], true);
    assert_eq!(org["position"], json!(update_position));
    let times = envelope_time(&h, "rodovre", "organisation", &key).await;
    assert_eq!(micros(&org["registered_at"]), times[0]);
    assert_eq!(micros(&org["updated_at"]), times[1]);

    let deactivate_position = h
        .append_domain(
            "rodovre",
            &key,
            &OrganisationEvent::Deactivated(OrganisationDeactivated {
                id,
                reason: Some(DeactivationReason::parse("Fusioneret med Røde Kors")?),
            }),
        )
        .await?;
    h.caught_up().await?;
    let org = row(&h.pool, "organisation", "rodovre", id.as_uuid())
        .await?
        .context("deactivated organisation")?;
    assert_eq!(org["active"], false);
    assert_eq!(org["deactivation_reason"], "Fusioneret med Røde Kors");
    assert_eq!(org["name"], "Æblehavens Venner", "details are kept");
    assert_eq!(org["position"], json!(deactivate_position));
    let times = envelope_time(&h, "rodovre", "organisation", &key).await;
    assert_eq!(micros(&org["deactivated_at"]), times[2]);
    assert_eq!(micros(&org["updated_at"]), times[2]);
    assert_eq!(micros(&org["registered_at"]), times[0]);
    h.stop().await
}

/// Before the workflow, `registered.v1` and `profile_updated.v1` carried the assessment in the
/// profile in plain text: they still project it. A `.v2` assessment the log could not open
/// (the volunteer was forgotten) writes no assessment, and forgetting blanks it.
#[tokio::test]
async fn v1_events_with_the_assessment_in_the_profile_still_project_and_forgetting_blanks_it()
-> anyhow::Result<()> {
    let mut h = DIRECTORY.start_projector().await?;
    let id = VolunteerId::new_v7();
    let key = id.to_string();
    let v1 = |profile_certificate: ChildCertificate| VolunteerProfileV1 {
        profile: volunteer_profile(),
        child_certificate: profile_certificate,
    };
    h.append_domain(
        "rodovre",
        &key,
        &VolunteerEvent::RegisteredV1(VolunteerRegisteredV1 {
            id,
            personal: Some(volunteer_personal("Søren Ærø Østergaard")),
            profile: v1(volunteer_certificate()),
            consent: volunteer_consent(),
        }),
    )
    .await?;
    h.caught_up().await?;
    let v = row(&h.pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("registered volunteer")?;
    assert_eq!(v["child_certificate_status"], "approved");
    assert_eq!(v["child_certificate_assessed_on"], "2025-02-01");
    assert_eq!(v["child_certificate_valid_until"], "2027-02-01");

    let refused = ChildCertificate::parse(
        ChildCertificateStatus::NotApproved,
        Some(date(2025, 10, 1)),
        None,
    )?;
    h.append_domain(
        "rodovre",
        &key,
        &VolunteerEvent::ProfileUpdatedV1(VolunteerProfileUpdatedV1 {
            id,
            personal: Some(volunteer_personal("Søren Ærø Østergaard")),
            profile: v1(refused),
        }),
    )
    .await?;
    h.caught_up().await?;
    let v = row(&h.pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("updated volunteer")?;
    assert_eq!(v["child_certificate_status"], "not_approved");
    assert_eq!(v["child_certificate_assessed_on"], "2025-10-01");

    // A `.v2` update leaves the assessment as it is.
    h.append_domain(
        "rodovre",
        &key,
        &VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
            id,
            personal: Some(volunteer_personal("Søren Østergaard")),
            profile: volunteer_profile(),
        }),
    )
    .await?;
    h.caught_up().await?;
    let v = row(&h.pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("updated volunteer")?;
    assert_eq!(v["name"], "Søren Østergaard");
    assert_eq!(v["child_certificate_status"], "not_approved");

    h.append_domain(
        "rodovre",
        &key,
        &VolunteerEvent::Forgotten(VolunteerForgotten {
            id,
            at: at(2025, 11, 1),
        }),
    )
    .await?;
    h.caught_up().await?;
    let v = row(&h.pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("forgotten volunteer")?;
    assert_eq!(v["status"], "forgotten");
    for column in [
        "child_certificate_status",
        "child_certificate_assessed_on",
        "child_certificate_valid_until",
    ] {
        assert_eq!(v[column], Value::Null, "{column}");
    }
    h.stop().await
}

#[tokio::test]
async fn volunteer_registered_and_profile_updated() -> anyhow::Result<()> {
    let mut h = DIRECTORY.start_projector().await?;
    let id = VolunteerId::new_v7();
    let key = id.to_string();
    let position = h
        .append_domain(
            "rodovre",
            &key,
            &volunteer_registered(id, "Søren Ærø Østergaard"),
        )
        .await?;
    h.caught_up().await?;

    let v = row(&h.pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("registered volunteer")?;
    assert_eq!(v["name"], "Søren Ærø Østergaard");
    assert_eq!(v["email"], "soren@example.dk");
    assert_eq!(v["phone"], "+4512345678");
    assert_eq!(v["birth_year"], 1958);
    assert_eq!(v["postcode"], "2610");
    assert_eq!(v["age_band"], "67_plus");
    assert_eq!(v["skills"], json!(["snedker", "lektiehjælp"]));
    assert_eq!(v["resources"], json!(["har bil"]));
    assert_eq!(v["languages"], json!(["da", "uk"]));
    assert_eq!(v["target_groups"], json!(["children", "refugees"]));
    assert_eq!(
        v["availability"],
        json!({"slots": [{"weekday": "mon", "part": "morning"},
                         {"weekday": "tue", "part": "evening"}],
               "hours_per_week": 5})
    );
    assert_eq!(v["hours_per_week"], 5);
    assert_eq!(v["child_certificate_status"], "not_required");
    assert_eq!(v["child_certificate_assessed_on"], Value::Null);
    assert_eq!(v["child_certificate_valid_until"], Value::Null);
    assert_eq!(
        v["consent_purpose"],
        "Formidling af frivilligt arbejde i Rødovre Kommune"
    );
    assert_eq!(
        micros(&v["consent_given_at"]),
        pg_time(volunteer_consent().given_at)
    );
    assert_eq!(v["consent_withdrawn_at"], Value::Null);
    assert_eq!(v["status"], "active");
    assert_eq!(v["position"], json!(position));

    // A full replacement: new name, no birth year, another postcode, fewer skills.
    let mut changed = volunteer_profile();
    changed.postcode = Postcode::parse("2650")?;
    changed.age_band = AgeBand::From50To66;
    changed.skills = Tag::parse_list(["Bådebygger"])?;
    changed.target_groups = vec![TargetGroup::Elderly];
    let update_position = h
        .append_domain(
            "rodovre",
            &key,
            &VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
                id,
                personal: Some(VolunteerPersonalData {
                    birth_year: None,
                    ..volunteer_personal("Søren Østergaard")
                }),
                profile: changed,
            }),
        )
        .await?;
    h.caught_up().await?;
    let v = row(&h.pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("updated volunteer")?;
    assert_eq!(v["name"], "Søren Østergaard");
    assert_eq!(v["birth_year"], Value::Null);
    assert_eq!(v["postcode"], "2650");
    assert_eq!(v["age_band"], "50_66");
    assert_eq!(v["skills"], json!(["bådebygger"]));
    assert_eq!(v["target_groups"], json!(["elderly"]));
    assert_eq!(v["child_certificate_status"], "not_required");
    assert_eq!(v["child_certificate_assessed_on"], Value::Null);
    assert_eq!(v["status"], "active");
    assert_eq!(
        v["consent_purpose"], "Formidling af frivilligt arbejde i Rødovre Kommune",
        "an update keeps the consent"
    );
    assert_eq!(v["position"], json!(update_position));
    let times = envelope_time(&h, "rodovre", "volunteer", &key).await;
    assert_eq!(micros(&v["registered_at"]), times[0]);
    assert_eq!(micros(&v["updated_at"]), times[1]);
    h.stop().await
}

#[tokio::test]
async fn consent_withdrawal_blanks_personal_data_but_keeps_the_row() -> anyhow::Result<()> {
    let mut h = DIRECTORY.start_projector().await?;
    let id = VolunteerId::new_v7();
    let key = id.to_string();
    h.append_domain(
        "rodovre",
        &key,
        &volunteer_registered(id, "Søren Ærø Østergaard"),
    )
    .await?;
    h.caught_up().await?;
    let before = row(&h.pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("registered")?;

    let position = h
        .append_domain("rodovre", &key, &consent_withdrawn(id))
        .await?;
    h.caught_up().await?;
    let after = row(&h.pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("the row stays")?;

    // The børneattest's assessment is personal data too.
    for personal_column in [
        "name",
        "email",
        "phone",
        "birth_year",
        "child_certificate_status",
        "child_certificate_assessed_on",
        "child_certificate_valid_until",
    ] {
        assert_eq!(after[personal_column], Value::Null, "{personal_column}");
    }
    assert_eq!(after["status"], "consent_withdrawn");
    assert_eq!(
        micros(&after["consent_withdrawn_at"]),
        pg_time(withdrawn_at())
    );
    assert_eq!(after["position"], json!(position));
    for kept in [
        "postcode",
        "age_band",
        "skills",
        "resources",
        "languages",
        "availability",
        "hours_per_week",
        "target_groups",
        "consent_purpose",
        "consent_given_at",
        "registered_at",
    ] {
        assert_eq!(after[kept], before[kept], "{kept} is kept for statistics");
    }
    h.stop().await
}

#[tokio::test]
async fn danish_letters_survive() -> anyhow::Result<()> {
    let mut h = DIRECTORY.start_projector().await?;
    let tenant = "aeroe";
    h.append_domain(
        tenant,
        tenant,
        &municipality_registered(tenant, 492, "Ærø Kommune"),
    )
    .await?;
    let org = OrganisationId::new_v7();
    h.append_domain(
        tenant,
        &org.to_string(),
        &OrganisationEvent::Registered(organisation_details(
            org,
            "Ærøskøbing Ældresagen – Søby Afdeling",
        )),
    )
    .await?;
    let volunteer = VolunteerId::new_v7();
    let mut p = volunteer_profile();
    p.skills = Tag::parse_list(["Børnepasning", "Madlavning på bål", "ÆØÅ-kursus"])?;
    h.append_domain(
        tenant,
        &volunteer.to_string(),
        &VolunteerEvent::Registered(VolunteerRegistered {
            id: volunteer,
            personal: Some(volunteer_personal("Åse Ærbødig-Østergård")),
            profile: p,
            consent: volunteer_consent(),
        }),
    )
    .await?;
    h.caught_up().await?;

    let municipality_name: String =
        sqlx::query_scalar("SELECT name FROM directory.municipality WHERE tenant = $1")
            .bind(tenant)
            .fetch_one(&h.pool)
            .await?;
    assert_eq!(municipality_name, "Ærø Kommune");
    let o = row(&h.pool, "organisation", tenant, org.as_uuid())
        .await?
        .context("organisation")?;
    assert_eq!(o["name"], "Ærøskøbing Ældresagen – Søby Afdeling");
    assert_eq!(o["contact_person"], "Åse Æbelø");
    let v = row(&h.pool, "volunteer", tenant, volunteer.as_uuid())
        .await?
        .context("volunteer")?;
    assert_eq!(v["name"], "Åse Ærbødig-Østergård");
    assert_eq!(
        v["skills"],
        json!(["børnepasning", "madlavning på bål", "æøå-kursus"])
    );
    // The GIN index answers a query by a skill with Danish letters.
    let found: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM directory.volunteer WHERE tenant = $1 AND skills @> $2",
    )
    .bind(tenant)
    .bind(vec!["børnepasning"])
    .fetch_one(&h.pool)
    .await?;
    assert_eq!(found, 1);
    h.stop().await
}

#[tokio::test]
async fn two_tenants_with_the_same_data_stay_separate_rows() -> anyhow::Result<()> {
    let mut h = DIRECTORY.start_projector().await?;
    let org = OrganisationId::new_v7();
    let volunteer = VolunteerId::new_v7();
    for tenant in ["rodovre", "roskilde"] {
        h.append_domain(
            tenant,
            &org.to_string(),
            &OrganisationEvent::Registered(organisation_details(org, "Frivilligcentret")),
        )
        .await?;
        h.append_domain(
            tenant,
            &volunteer.to_string(),
            &volunteer_registered(volunteer, "Søren Østergaard"),
        )
        .await?;
    }
    // Only Roskilde's volunteer withdraws; only Rødovre's organisation is deactivated.
    h.append_domain(
        "roskilde",
        &volunteer.to_string(),
        &consent_withdrawn(volunteer),
    )
    .await?;
    h.append_domain(
        "rodovre",
        &org.to_string(),
        &OrganisationEvent::Deactivated(OrganisationDeactivated {
            id: org,
            reason: None,
        }),
    )
    .await?;
    h.caught_up().await?;

    let counts: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM directory.organisation),
                (SELECT count(*) FROM directory.volunteer)",
    )
    .fetch_one(&h.pool)
    .await?;
    assert_eq!(counts, (2, 2));

    let rodovre_v = row(&h.pool, "volunteer", "rodovre", volunteer.as_uuid())
        .await?
        .context("rodovre volunteer")?;
    let roskilde_v = row(&h.pool, "volunteer", "roskilde", volunteer.as_uuid())
        .await?
        .context("roskilde volunteer")?;
    assert_eq!(rodovre_v["status"], "active");
    assert_eq!(rodovre_v["name"], "Søren Østergaard");
    assert_eq!(roskilde_v["status"], "consent_withdrawn");
    assert_eq!(roskilde_v["name"], Value::Null);

    let rodovre_o = row(&h.pool, "organisation", "rodovre", org.as_uuid())
        .await?
        .context("rodovre organisation")?;
    let roskilde_o = row(&h.pool, "organisation", "roskilde", org.as_uuid())
        .await?
        .context("roskilde organisation")?;
    assert_eq!(rodovre_o["active"], false);
    assert_eq!(roskilde_o["active"], true);
    h.stop().await
}

#[tokio::test]
async fn an_unknown_event_type_is_parked_and_the_events_after_it_are_applied() -> anyhow::Result<()>
{
    let mut h = DIRECTORY.start_projector().await?;
    let id = VolunteerId::new_v7();
    let key = id.to_string();
    h.append_domain(
        "rodovre",
        &key,
        &volunteer_registered(id, "Søren Østergaard"),
    )
    .await?;
    let teleported = h
        .append(
            "rodovre",
            "volunteer",
            &key,
            vec![NewEvent {
                event_type: "dk.samskab.volunteer.teleported.v1".into(),
                data: json!({"id": key, "to": "Bornholm"}),
            }],
        )
        .await?;
    let withdrawn = h
        .append_domain("rodovre", &key, &consent_withdrawn(id))
        .await?;
    let other = VolunteerId::new_v7();
    h.append_domain(
        "rodovre",
        &other.to_string(),
        &volunteer_registered(other, "Åse Ærbødig"),
    )
    .await?;
    h.caught_up().await?;

    let parked = sqlx::query(
        "SELECT projection, position, event_index, event_type, error, payload
         FROM samskab_runtime.parked_event",
    )
    .fetch_all(&h.pool)
    .await?;
    assert_eq!(parked.len(), 1, "exactly the unknown event is parked");
    let p = &parked[0];
    assert_eq!(p.get::<String, _>("projection"), "directory");
    assert_eq!(p.get::<i64, _>("position"), i64::try_from(teleported)?);
    assert_eq!(p.get::<i32, _>("event_index"), 0);
    assert_eq!(
        p.get::<String, _>("event_type"),
        "dk.samskab.volunteer.teleported.v1"
    );
    assert!(
        p.get::<String, _>("error")
            .contains("dk.samskab.volunteer.teleported.v1"),
        "the error names the type"
    );

    let v = row(&h.pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("volunteer")?;
    assert_eq!(v["status"], "consent_withdrawn");
    assert_eq!(v["position"], json!(withdrawn));
    assert!(
        row(&h.pool, "volunteer", "rodovre", other.as_uuid())
            .await?
            .is_some()
    );
    h.stop().await
}

// ---------------------------------------------------------------------------------------------
// Direct: apply inside a transaction, as the runtime does
// ---------------------------------------------------------------------------------------------

/// Every row of the directory, as JSON, in key order.
async fn snapshot(pool: &PgPool) -> anyhow::Result<Value> {
    Ok(sqlx::query_scalar(
        "SELECT jsonb_build_object(
            'municipality', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY tenant), '[]')
                             FROM directory.municipality t),
            'organisation', (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY tenant, id), '[]')
                             FROM directory.organisation t),
            'volunteer',    (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY tenant, id), '[]')
                             FROM directory.volunteer t))",
    )
    .fetch_one(pool)
    .await?)
}

/// One life of each entity, in log order.
fn life_of_every_entity() -> Vec<RecordedEvent> {
    let org = OrganisationId::new_v7();
    let volunteer = VolunteerId::new_v7();
    let (o, v) = (org.to_string(), volunteer.to_string());
    let details = organisation_details(org, "Rødovre Frivilligcenter");
    vec![
        DIRECTORY.recorded(
            "rodovre",
            "rodovre",
            1,
            &municipality_registered("rodovre", 175, "Rødovre Kommune"),
        ),
        DIRECTORY.recorded(
            "rodovre",
            &o,
            2,
            &OrganisationEvent::Registered(details.clone()),
        ),
        DIRECTORY.recorded(
            "rodovre",
            &o,
            3,
            &OrganisationEvent::Updated(OrganisationDetails {
                name: name("Æblehavens Venner"),
                ..details
            }),
        ),
        DIRECTORY.recorded(
            "rodovre",
            &o,
            4,
            &OrganisationEvent::Deactivated(OrganisationDeactivated {
                id: org,
                reason: Some(DeactivationReason::parse("Lukket").expect("valid")),
            }),
        ),
        DIRECTORY.recorded(
            "rodovre",
            &v,
            5,
            &volunteer_registered(volunteer, "Søren Østergaard"),
        ),
        DIRECTORY.recorded(
            "rodovre",
            &v,
            6,
            &VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
                id: volunteer,
                personal: Some(volunteer_personal("Søren Ø.")),
                profile: volunteer_profile(),
            }),
        ),
        // The børneattest approved, and a renewal under way when consent is withdrawn.
        DIRECTORY.recorded(
            "rodovre",
            &v,
            7,
            &certificate_consent(volunteer, aeblehaven().0),
        ),
        DIRECTORY.recorded(
            "rodovre",
            &v,
            8,
            &certificate_requested(volunteer, aeblehaven().0),
        ),
        DIRECTORY.recorded(
            "rodovre",
            &v,
            9,
            &certificate_assessed(volunteer, aeblehaven().0, approved_2025()),
        ),
        DIRECTORY.recorded(
            "rodovre",
            &v,
            10,
            &certificate_consent(volunteer, PostedBy::Municipality),
        ),
        DIRECTORY.recorded(
            "rodovre",
            &v,
            11,
            &certificate_requested(volunteer, PostedBy::Municipality),
        ),
        DIRECTORY.recorded("rodovre", &v, 12, &consent_withdrawn(volunteer)),
    ]
}

#[tokio::test]
async fn applying_an_event_twice_leaves_the_same_rows() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    for event in &life_of_every_entity() {
        DIRECTORY.apply_all(&pool, &[event]).await?;
        let once = snapshot(&pool).await?;
        DIRECTORY.apply_all(&pool, &[event]).await?;
        assert_eq!(
            snapshot(&pool).await?,
            once,
            "{} applied twice",
            event.envelope.event_type
        );
    }
    Ok(())
}

#[tokio::test]
async fn applying_a_batch_equals_applying_each_event_in_order() -> anyhow::Result<()> {
    // Runs of registrations (written with one statement) around other events, a second
    // registration of the same volunteer inside a run, and a forgotten person.
    let mut events = Vec::new();
    let ids: Vec<VolunteerId> = (0..5).map(|_| VolunteerId::new_v7()).collect();
    for (n, id) in ids.iter().enumerate() {
        events.push(DIRECTORY.recorded(
            "rodovre",
            &id.to_string(),
            n as u64 + 1,
            &volunteer_registered(*id, "Åse Ærø"),
        ));
    }
    events.push(DIRECTORY.recorded(
        "rodovre",
        &ids[0].to_string(),
        6,
        &volunteer_registered(ids[0], "Second Registration"),
    ));
    events.push(DIRECTORY.recorded(
        "rodovre",
        &ids[1].to_string(),
        7,
        &consent_withdrawn(ids[1]),
    ));
    let forgotten = VolunteerId::new_v7();
    let VolunteerEvent::Registered(mut shredded) = volunteer_registered(forgotten, "x") else {
        anyhow::bail!("a registration");
    };
    shredded.personal = None;
    events.push(DIRECTORY.recorded(
        "roskilde",
        &forgotten.to_string(),
        8,
        &VolunteerEvent::Registered(shredded),
    ));
    for (n, mut event) in life_of_every_entity().into_iter().enumerate() {
        event.position = 9 + n as u64;
        events.push(event);
    }

    let one_by_one = migrated_database().await?;
    DIRECTORY
        .apply_all(&one_by_one, &events.iter().collect::<Vec<_>>())
        .await?;
    let batched = migrated_database().await?;
    DIRECTORY.apply_batch_all(&batched, &events).await?;
    let expected = snapshot(&one_by_one).await?;
    assert_eq!(snapshot(&batched).await?, expected);
    assert_eq!(expected["volunteer"].as_array().map(Vec::len), Some(7));
    Ok(())
}

#[tokio::test]
async fn replaying_old_events_after_newer_ones_changes_nothing() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let events = life_of_every_entity();
    let all: Vec<&RecordedEvent> = events.iter().collect();
    DIRECTORY.apply_all(&pool, &all).await?;
    let final_state = snapshot(&pool).await?;
    // A redelivery of the whole history, e.g. after a lost checkpoint: nothing rolls back, and
    // in particular the withdrawn volunteer's personal data does not come back.
    DIRECTORY.apply_all(&pool, &all).await?;
    assert_eq!(snapshot(&pool).await?, final_state);
    let volunteer = &final_state["volunteer"][0];
    assert_eq!(volunteer["status"], "consent_withdrawn");
    assert_eq!(volunteer["name"], Value::Null);
    // Nor does the renewal under way at the withdrawal, nor the approval before it.
    assert_eq!(volunteer["child_certificate_requested_by"], Value::Null);
    assert_eq!(volunteer["child_certificate_status"], Value::Null);
    Ok(())
}

#[tokio::test]
async fn a_forgotten_person_is_projected_without_personal_data() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let event = VolunteerEvent::Registered(VolunteerRegistered {
        id,
        personal: None,
        profile: volunteer_profile(),
        consent: volunteer_consent(),
    });
    DIRECTORY
        .apply_all(
            &pool,
            &[&DIRECTORY.recorded("rodovre", &id.to_string(), 1, &event)],
        )
        .await?;
    let v = row(&pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("row")?;
    for personal_column in ["name", "email", "phone", "birth_year"] {
        assert_eq!(v[personal_column], Value::Null, "{personal_column}");
    }
    assert_eq!(v["postcode"], "2610");
    assert_eq!(v["status"], "active");
    Ok(())
}

#[tokio::test]
async fn a_profile_update_without_a_registration_writes_nothing() -> anyhow::Result<()> {
    // As in the decider: without a registration there is no consent to hold the data under.
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let event = VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
        id,
        personal: Some(volunteer_personal("Søren")),
        profile: volunteer_profile(),
    });
    DIRECTORY
        .apply_all(
            &pool,
            &[&DIRECTORY.recorded("rodovre", &id.to_string(), 1, &event)],
        )
        .await?;
    assert_eq!(
        row(&pool, "volunteer", "rodovre", id.as_uuid()).await?,
        None
    );
    Ok(())
}

/// Applies `event` to volunteer `id` of Rødovre at `position`, and returns the row.
async fn volunteer_after(
    pool: &PgPool,
    id: VolunteerId,
    position: u64,
    event: &VolunteerEvent,
) -> anyhow::Result<Value> {
    let recorded = DIRECTORY.recorded("rodovre", &id.to_string(), position, event);
    DIRECTORY.apply_all(pool, &[&recorded]).await?;
    row(pool, "volunteer", "rodovre", id.as_uuid())
        .await?
        .context("the volunteer's row")
}

#[tokio::test]
async fn a_child_certificate_is_consented_to_requested_and_approved() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let (organisation, organisation_text) = aeblehaven();
    let v = volunteer_after(&pool, id, 1, &registered_without_certificate(id)).await?;
    assert_eq!(
        certificate_columns(&v),
        json!({
            "child_certificate_status": "not_required",
            "child_certificate_assessed_on": null,
            "child_certificate_valid_until": null,
            "child_certificate_consent_for": null,
            "child_certificate_requested_by": null,
            "child_certificate_requested_at": null,
        })
    );

    let v = volunteer_after(&pool, id, 2, &certificate_consent(id, organisation)).await?;
    assert_eq!(v["child_certificate_status"], "not_required");
    assert_eq!(v["child_certificate_consent_for"], json!(organisation_text));
    assert_eq!(v["child_certificate_requested_by"], Value::Null);
    assert_eq!(v["position"], 2);

    // The request uses the consent up and makes the børneattest "requested".
    let v = volunteer_after(&pool, id, 3, &certificate_requested(id, organisation)).await?;
    assert_eq!(
        certificate_columns(&v),
        json!({
            "child_certificate_status": "requested",
            "child_certificate_assessed_on": null,
            "child_certificate_valid_until": null,
            "child_certificate_consent_for": null,
            "child_certificate_requested_by": organisation_text,
            "child_certificate_requested_at": pg_time(requested_at()),
        })
    );
    assert_eq!(v["position"], 3);

    // The assessment is the outcome, and the case is closed.
    let v = volunteer_after(
        &pool,
        id,
        4,
        &certificate_assessed(id, organisation, approved_2025()),
    )
    .await?;
    let approved = json!({
        "child_certificate_status": "approved",
        "child_certificate_assessed_on": "2025-09-20",
        "child_certificate_valid_until": "2028-09-20",
        "child_certificate_consent_for": null,
        "child_certificate_requested_by": null,
        "child_certificate_requested_at": null,
    });
    assert_eq!(certificate_columns(&v), approved);
    assert_eq!(v["position"], 4);
    assert_eq!(
        v["name"], "Søren Ærø Østergaard",
        "the rest of the row stays"
    );
    assert_eq!(v["status"], "active");

    // Every step again, at its own position: nothing rolls back.
    for (position, event) in [
        certificate_consent(id, organisation),
        certificate_requested(id, organisation),
        certificate_assessed(id, organisation, approved_2025()),
    ]
    .iter()
    .enumerate()
    {
        let again = volunteer_after(&pool, id, position as u64 + 2, event).await?;
        assert_eq!(again, v, "{} again", event.event_type());
    }
    Ok(())
}

#[tokio::test]
async fn a_renewal_keeps_the_approval_and_shows_the_pending_request() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7();
    let (organisation, _) = aeblehaven();
    let mut position = 0;
    for event in [
        registered_without_certificate(id),
        certificate_consent(id, organisation),
        certificate_requested(id, organisation),
        certificate_assessed(id, organisation, approved_2025()),
    ] {
        position += 1;
        volunteer_after(&pool, id, position, &event).await?;
    }

    // This time the municipality renews it.
    let v = volunteer_after(
        &pool,
        id,
        5,
        &certificate_consent(id, PostedBy::Municipality),
    )
    .await?;
    assert_eq!(v["child_certificate_consent_for"], "municipality");
    let v = volunteer_after(
        &pool,
        id,
        6,
        &certificate_requested(id, PostedBy::Municipality),
    )
    .await?;
    assert_eq!(
        certificate_columns(&v),
        json!({
            "child_certificate_status": "approved",
            "child_certificate_assessed_on": "2025-09-20",
            "child_certificate_valid_until": "2028-09-20",
            "child_certificate_consent_for": null,
            "child_certificate_requested_by": "municipality",
            "child_certificate_requested_at": pg_time(requested_at()),
        }),
        "the standing approval holds while the renewal is under way"
    );

    // Not approved this time: no day to renew by, and the case is closed.
    let refused = ChildCertificate::parse(
        ChildCertificateStatus::NotApproved,
        Some(date(2025, 10, 1)),
        None,
    )?;
    let v = volunteer_after(
        &pool,
        id,
        7,
        &certificate_assessed(id, PostedBy::Municipality, refused),
    )
    .await?;
    assert_eq!(
        certificate_columns(&v),
        json!({
            "child_certificate_status": "not_approved",
            "child_certificate_assessed_on": "2025-10-01",
            "child_certificate_valid_until": null,
            "child_certificate_consent_for": null,
            "child_certificate_requested_by": null,
            "child_certificate_requested_at": null,
        })
    );

    // A request under way when consent is withdrawn goes with it, and the assessment too: it
    // is personal data.
    volunteer_after(&pool, id, 8, &certificate_consent(id, organisation)).await?;
    volunteer_after(&pool, id, 9, &certificate_requested(id, organisation)).await?;
    let v = volunteer_after(&pool, id, 10, &consent_withdrawn(id)).await?;
    assert_eq!(v["status"], "consent_withdrawn");
    assert_eq!(
        certificate_columns(&v),
        json!({
            "child_certificate_status": null,
            "child_certificate_assessed_on": null,
            "child_certificate_valid_until": null,
            "child_certificate_consent_for": null,
            "child_certificate_requested_by": null,
            "child_certificate_requested_at": null,
        })
    );
    // And no step changes the row after it.
    for (event, later) in [
        certificate_consent(id, organisation),
        certificate_requested(id, organisation),
        certificate_assessed(id, organisation, approved_2025()),
    ]
    .iter()
    .zip(11u64..)
    {
        let after = volunteer_after(&pool, id, later, event).await?;
        assert_eq!(after, v, "{}", event.event_type());
    }
    Ok(())
}

#[tokio::test]
async fn undecodable_events_are_apply_errors_and_other_kinds_are_ignored() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let id = VolunteerId::new_v7().to_string();

    let unknown = DIRECTORY.recorded_raw(
        "rodovre",
        "volunteer",
        &id,
        1,
        "dk.samskab.volunteer.teleported.v1",
        json!({}),
    );
    assert!(matches!(
        DIRECTORY.apply_all(&pool, &[&unknown]).await,
        Err(ApplyError::UnknownEventType(t)) if t == "dk.samskab.volunteer.teleported.v1"
    ));

    let malformed = DIRECTORY.recorded_raw(
        "rodovre",
        "volunteer",
        &id,
        2,
        VolunteerEvent::REGISTERED_V1,
        json!({"id": id, "profile": "not a profile"}),
    );
    assert!(matches!(
        DIRECTORY.apply_all(&pool, &[&malformed]).await,
        Err(ApplyError::Malformed(_))
    ));

    // The payload names another volunteer than the subject: writing it would put one person's
    // data into another's row.
    let elsewhere = DIRECTORY.recorded(
        "rodovre",
        &id,
        3,
        &volunteer_registered(VolunteerId::new_v7(), "X"),
    );
    assert!(matches!(
        DIRECTORY.apply_all(&pool, &[&elsewhere]).await,
        Err(ApplyError::Malformed(_))
    ));
    // A municipality registered under another tenant's subject.
    let foreign = DIRECTORY.recorded(
        "rodovre",
        "rodovre",
        4,
        &municipality_registered("roskilde", 265, "Roskilde"),
    );
    assert!(matches!(
        DIRECTORY.apply_all(&pool, &[&foreign]).await,
        Err(ApplyError::Malformed(_))
    ));

    let grant = DIRECTORY.recorded_raw(
        "rodovre",
        "grant",
        &id,
        5,
        "dk.samskab.grant.decided.v1",
        json!({"anything": true}),
    );
    DIRECTORY.apply_all(&pool, &[&grant]).await?;
    assert_eq!(
        snapshot(&pool).await?,
        json!({"municipality": [], "organisation": [], "volunteer": []})
    );
    Ok(())
}

/// Not a pass/fail test: how fast `apply` writes, in the runtime's shape (500 events per
/// transaction, search_path set), without NATS in the way. Run with
/// `cargo nextest run -p samskab-directory-worker --run-ignored only --no-capture`.
#[tokio::test]
#[ignore = "measurement"]
async fn apply_throughput() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let ids: Vec<VolunteerId> = (0..10_000).map(|_| VolunteerId::new_v7()).collect();
    let mut events = Vec::with_capacity(ids.len() * 2);
    for (n, id) in ids.iter().enumerate() {
        let position = u64::try_from(n)? + 1;
        events.push(DIRECTORY.recorded(
            "rodovre",
            &id.to_string(),
            position,
            &volunteer_registered(*id, "Søren Østergaard"),
        ));
    }
    let updates = std::env::var("APPLY_THROUGHPUT_UPDATES").map_or(true, |v| v != "0");
    for (n, id) in ids.iter().enumerate().filter(|_| updates) {
        let position = u64::try_from(ids.len() + n)? + 1;
        events.push(DIRECTORY.recorded(
            "rodovre",
            &id.to_string(),
            position,
            &VolunteerEvent::ProfileUpdated(VolunteerProfileUpdated {
                id: *id,
                personal: Some(volunteer_personal("Søren Ø.")),
                profile: volunteer_profile(),
            }),
        ));
    }
    let started = Instant::now();
    for batch in events.chunks(500) {
        DIRECTORY.apply_batch_all(&pool, batch).await?;
    }
    let elapsed = started.elapsed();
    println!(
        "{} events in {elapsed:?}: {:.0} events/s",
        events.len(),
        events.len() as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
