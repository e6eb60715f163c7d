//! The audit chain against real servers: through the real projector on a NATS server of its
//! own with two municipalities interleaved (each its own chain, numbered 1, 2, 3, ...), a
//! forgetting and a rebuild after it (the same records, hash for hash), redeliveries (nothing
//! changes), and what each record holds (never personal data).

use samskab_audit_worker::{AuditProjection, GENESIS, verify};
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::EntityRef;
use samskab_projection::{ApplyError, Projector, ProjectorConfig};
use samskab_testkit::projection::migrated_database;
use serde_json::{Value, json};

mod support;
use support::*;

/// Each municipality's records are numbered 1..=n and each links to the one before.
fn assert_chained(records: &[Value], n: usize) {
    assert_eq!(records.len(), n);
    let mut prev = GENESIS.to_owned();
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["seq"], json!(i + 1), "{record}");
        assert_eq!(record["prev_hash"], json!(prev), "{record}");
        prev = record["hash"].as_str().expect("hash").to_owned();
    }
}

#[tokio::test]
async fn two_municipalities_through_the_projector_then_forgotten_and_rebuilt() -> anyhow::Result<()>
{
    let story = story()?;
    let mut h = AUDIT.start_projector().await?;
    // Interleaved: Rødovre's event, then Hvidovre's, ...; both chains share the log.
    for logged in &story.log {
        logged.append_in(&mut h, RODOVRE).await?;
        logged.append_in(&mut h, HVIDOVRE).await?;
    }
    // An event of another entity shares the stream and is no grant case.
    let organisation = organisation_details(org_id(), "Æblehaven");
    h.append_domain(
        RODOVRE,
        org_id(),
        &OrganisationEvent::Registered(organisation),
    )
    .await?;
    h.caught_up().await?;

    let n = story.log.len();
    for tenant in [RODOVRE, HVIDOVRE] {
        let records = records(&h.pool, tenant).await?;
        assert_chained(&records, n);
        // Log positions increase along the chain; the events are the story's, in order.
        let types: Vec<&str> = records
            .iter()
            .map(|r| r["event_type"].as_str().unwrap_or_default())
            .collect();
        let expected: Vec<&str> = story.log.iter().map(|l| l.event_type()).collect();
        assert_eq!(types, expected);
        assert!(
            records
                .windows(2)
                .all(|w| w[0]["position"].as_i64() < w[1]["position"].as_i64())
        );
    }
    let report = verify(&h.pool, None).await?;
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.records(), 2 * n as u64);

    // The contact person's name reached the projection opened, and no record holds it.
    let before = everything(&h.pool).await?;
    assert!(!format!("{before:?}").contains(CONTACT));

    // Forget the knitting club's contact person (its data key is erased), then rebuild: the
    // log now reads `personal` as null, and every record and head comes out as before.
    let log = h.log.clone();
    let pool = h.pool.clone();
    for tenant in [RODOVRE, HVIDOVRE] {
        let entity = EntityRef::new(
            tenant,
            EntityKind::GrantApplication.as_str(),
            &group().to_string(),
        )?;
        assert!(log.forget(&entity).await?, "the application had a data key");
    }
    let projector = Projector::new(
        AuditProjection,
        log,
        pool.clone(),
        ProjectorConfig::default(),
    );
    projector.rebuild(|_, _| {}).await?;
    assert_eq!(
        everything(&pool).await?,
        before,
        "rebuilt after a forgetting"
    );
    assert!(verify(&pool, None).await?.is_ok());
    h.stop().await
}

#[tokio::test]
async fn what_a_record_holds() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let story = story()?;
    let events = story.recorded(RODOVRE, 1, 1);
    AUDIT.apply_batch_all(&pool, &events).await?;
    let records = records(&pool, RODOVRE).await?;
    let pool_id = grant_pool_id().to_string();
    let club = group().to_string();

    let created = &records[0];
    assert_eq!(created["entity_kind"], "grant-pool");
    assert_eq!(created["pool_id"], json!(pool_id));
    assert_eq!(created["application_id"], Value::Null);
    assert_eq!(created["actor"], ACTOR);
    assert_eq!(created["event_id"], json!(events[0].envelope.id));
    assert_eq!(created["had_personal"], false);

    // The draft: its pool from the payload, its contact person removed and noted.
    let drafted = &records[story.index_of(GrantApplicationEvent::DRAFTED_V1)?];
    assert_eq!(drafted["application_id"], json!(club));
    assert_eq!(drafted["pool_id"], json!(pool_id));
    assert_eq!(drafted["had_personal"], true);
    let payload: Value = serde_json::from_str(drafted["payload"].as_str().unwrap_or_default())?;
    assert!(payload.get("personal").is_none());
    assert_eq!(payload["group_name"], "Strikkeklubben i Islev");
    // The payload is kept as its canonical JSON.
    assert_eq!(
        drafted["payload"].as_str(),
        Some(samskab_audit_worker::canonical::to_string(&payload)?.as_str())
    );

    // Later events of the application name no pool: the draft's record says which.
    let assessed = &records[story.index_of(GrantApplicationEvent::ASSESSED_V1)?];
    assert_eq!(assessed["pool_id"], json!(pool_id));
    assert_eq!(assessed["application_id"], json!(club));
    // The pool's decision is the case's record too.
    let decided = &records[story.index_of(GrantPoolEvent::DECIDED_V1)?];
    assert_eq!(decided["entity_kind"], "grant-pool");
    assert_eq!(decided["application_id"], json!(club));
    // An association's draft carries `personal: null`: noted as there, as after a forgetting.
    let association_draft = records
        .iter()
        .find(|r| r["application_id"] == json!(association().to_string()))
        .expect("a record of the association");
    assert_eq!(association_draft["had_personal"], true);
    assert!(!format!("{records:?}").contains(CONTACT));
    Ok(())
}

/// Apply twice, same records: a lost checkpoint, stale redeliveries one by one in reverse, and
/// each event twice in a row through the batch path.
#[tokio::test]
async fn redelivery_changes_nothing() -> anyhow::Result<()> {
    let story = story()?;
    let mut events = story.recorded(RODOVRE, 1, 2);
    events.extend(story.recorded(HVIDOVRE, 2, 2));
    events.sort_by_key(|e| e.position);
    let pool = migrated_database().await?;
    let all: Vec<_> = events.iter().collect();
    AUDIT.apply_all(&pool, &all).await?;
    let once = everything(&pool).await?;
    assert_eq!(once.0.len(), events.len());

    AUDIT.apply_all(&pool, &all).await?;
    assert_eq!(everything(&pool).await?, once, "delivered again");
    for event in all.iter().rev() {
        AUDIT.apply_all(&pool, &[event]).await?;
    }
    assert_eq!(everything(&pool).await?, once, "delivered again in reverse");

    let fresh = migrated_database().await?;
    let doubled: Vec<_> = events.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
    AUDIT.apply_batch_all(&fresh, &doubled).await?;
    assert_eq!(everything(&fresh).await?, once, "each event twice in a row");
    Ok(())
}

/// An application's event without its draft before it names no pool: parked, not guessed.
#[tokio::test]
async fn an_application_without_its_draft_is_refused() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let story = story()?;
    let submitted = &story.log[story.index_of(GrantApplicationEvent::SUBMITTED_V1)?];
    let result = AUDIT
        .apply_all(&pool, &[&submitted.recorded(RODOVRE, 1)])
        .await;
    assert!(
        matches!(result, Err(ApplyError::Malformed(_))),
        "{result:?}"
    );

    // And a payload naming another entity than its subject.
    let created = story.log[0].recorded(RODOVRE, 1);
    let mut elsewhere = created.clone();
    elsewhere.envelope.entityid = uuid::Uuid::now_v7().to_string();
    let result = AUDIT.apply_all(&pool, &[&elsewhere]).await;
    assert!(
        matches!(result, Err(ApplyError::Malformed(_))),
        "{result:?}"
    );
    Ok(())
}
