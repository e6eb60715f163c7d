//! The read model agrees with the deciders: for any sequence of an entity's events, the
//! directory row after projecting them equals the row built from the state `evolve` folds from
//! the same events. That is what lets the API answer queries from the read model and decide
//! commands on the folded state without the two ever telling a different story.
//!
//! The sequences are any order of any events (`samskab_domain::fixtures::arb_*_event`), not
//! only what `decide` would append, because `evolve` and the projection both promise to cope
//! with events out of place. Each sequence is applied either event by event or through the batch
//! path the runtime uses, some events twice in a row (a redelivery), and at the end one earlier
//! event again at its old position (a stale redelivery); none of that may change the outcome.
//!
//! A row holds more than the state (times and positions from the envelope, statistics kept
//! after a withdrawal); the comparison covers every column the state determines.

use anyhow::Context;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use samskab_domain::fixtures::{
    arb_municipality_event, arb_organisation_event, arb_volunteer_event,
};
use samskab_domain::{
    Decider, Municipality, MunicipalityState, Organisation, OrganisationDetails, OrganisationId,
    OrganisationState, Purpose, Volunteer, VolunteerId, VolunteerState,
};
use samskab_eventlog::RecordedEvent;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

mod support;
use support::*;

const TENANT: &str = "rodovre";

/// How a sequence reaches the projection.
#[derive(Debug, Clone)]
struct Delivery {
    /// Through `apply_batch` in one transaction (runs of registrations in one statement), or
    /// one `apply` per event.
    batched: bool,
    /// Per event: delivered a second time right after itself.
    repeated: Vec<bool>,
    /// One earlier event delivered again after all the others, at its old position.
    stale: prop::sample::Index,
}

fn arb_delivery() -> impl Strategy<Value = Delivery> {
    (
        any::<bool>(),
        proptest::collection::vec(any::<bool>(), 8),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(batched, repeated, stale)| Delivery {
            batched,
            repeated,
            stale,
        })
}

/// Runs `case` on generated values against one migrated database. Deterministic, so CI sees the
/// same cases every time; a failure shows the minimal sequence proptest shrank it to.
fn check<S: Strategy>(
    strategy: S,
    case: impl AsyncFn(&PgPool, S::Value) -> anyhow::Result<()>,
) -> anyhow::Result<()>
where
    S::Value: Clone + std::fmt::Debug,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pool = runtime.block_on(migrated_database())?;
    let config = Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    runner
        .run(&strategy, |value| {
            runtime
                .block_on(case(&pool, value))
                .map_err(|error| TestCaseError::fail(format!("{error:#}")))
        })
        .map_err(|error| anyhow::anyhow!("{error}"))
}

/// Projects `events` as `delivery` says.
async fn project(
    pool: &PgPool,
    events: &[RecordedEvent],
    delivery: &Delivery,
) -> anyhow::Result<()> {
    let mut delivered = Vec::new();
    for (event, repeated) in events
        .iter()
        .zip(delivery.repeated.iter().chain(std::iter::repeat(&false)))
    {
        delivered.push(event.clone());
        if *repeated {
            delivered.push(event.clone());
        }
    }
    if delivery.batched {
        apply_batch_all(pool, &delivered).await?;
    } else {
        apply_all(pool, &delivered.iter().collect::<Vec<_>>()).await?;
    }
    if !events.is_empty() {
        apply_all(pool, &[delivery.stale.get(events)]).await?;
    }
    Ok(())
}

/// Removes what an earlier case left for this key: while shrinking, proptest tries many
/// sequences for the same entity.
async fn clear(pool: &PgPool, table: &str, tenant: &str, id: Option<Uuid>) -> anyhow::Result<()> {
    let sql = format!(
        "DELETE FROM directory.{table} WHERE tenant = $1 {}",
        if id.is_some() { "AND id = $2" } else { "" }
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant);
    if let Some(id) = id {
        query = query.bind(id);
    }
    query.execute(pool).await?;
    Ok(())
}

/// The row's columns that `columns` names, as JSON; timestamps as microseconds since the epoch
/// (what PostgreSQL keeps), so that a row compares with a state whatever the session time zone.
async fn row(
    pool: &PgPool,
    table: &str,
    tenant: &str,
    id: Option<Uuid>,
    columns: &[&str],
) -> anyhow::Result<Option<Value>> {
    let sql = format!(
        "SELECT to_jsonb(t) FROM directory.{table} t WHERE tenant = $1 {}",
        if id.is_some() { "AND id = $2" } else { "" }
    );
    let mut query = sqlx::query_scalar::<_, Value>(sqlx::AssertSqlSafe(sql)).bind(tenant);
    if let Some(id) = id {
        query = query.bind(id);
    }
    let Some(Value::Object(all)) = query.fetch_optional(pool).await? else {
        return Ok(None);
    };
    let mut picked = Map::new();
    for column in columns {
        let value = all.get(*column).cloned().context("no such column")?;
        picked.insert((*column).to_owned(), micros_if_time(column, value)?);
    }
    Ok(Some(Value::Object(picked)))
}

fn micros_if_time(column: &str, value: Value) -> anyhow::Result<Value> {
    match (column.ends_with("_at"), &value) {
        (true, Value::String(text)) => Ok(json!(
            chrono::DateTime::parse_from_rfc3339(text)?.timestamp_micros()
        )),
        _ => Ok(value),
    }
}

fn micros(time: chrono::DateTime<chrono::Utc>) -> Value {
    json!(time.timestamp_micros())
}

fn columns_of(expected: &Option<Value>) -> Vec<&str> {
    match expected {
        Some(Value::Object(map)) => map.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whose row a case is about: the subject's tenant and entity id, and the row's key.
#[derive(Debug, Clone)]
struct Key {
    tenant: String,
    entity_id: String,
    /// `None` for a table keyed by the tenant alone (the municipality).
    row_id: Option<Uuid>,
}

impl Key {
    /// An entity of `TENANT`, keyed by its id.
    fn entity(id: Uuid) -> Self {
        Self {
            tenant: TENANT.to_owned(),
            entity_id: id.to_string(),
            row_id: Some(id),
        }
    }
}

/// The property for one kind of entity: for any 1..8 of its events (from `events`, given the
/// key), delivered as [`arb_delivery`] says, the row in `table` is the one `expected_row`
/// builds from the folded state.
fn rows_follow_state<D: Decider>(
    table: &'static str,
    keys: impl Strategy<Value = Key> + 'static,
    events: impl Fn(&Key) -> BoxedStrategy<D::Event> + 'static,
    expected_row: fn(&D::State) -> Option<Value>,
) -> anyhow::Result<()> {
    let events = std::sync::Arc::new(events);
    let strategy = keys.prop_flat_map(move |key| {
        (
            proptest::collection::vec(events(&key), 1..8),
            Just(key),
            arb_delivery(),
        )
    });
    check(strategy, async |pool, (events, key, delivery)| {
        clear(pool, table, &key.tenant, key.row_id).await?;
        let recorded: Vec<_> = events
            .iter()
            .zip(1u64..)
            .map(|(event, position)| recorded(&key.tenant, &key.entity_id, position, event))
            .collect();
        project(pool, &recorded, &delivery).await?;
        let expected = expected_row(&D::replay(&events));
        let actual = row(pool, table, &key.tenant, key.row_id, &columns_of(&expected)).await?;
        anyhow::ensure!(
            actual == expected,
            "row {actual:#?}\nstate says {expected:#?}"
        );
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Volunteer
// ---------------------------------------------------------------------------------------------

/// The `directory.volunteer` row a volunteer's state implies, or `None` for no row.
/// The purposes' names sorted, as the row keeps them.
fn purpose_names(
    purposes: &std::collections::BTreeMap<Purpose, DateTime<Utc>>,
) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = purposes.keys().map(|p| p.as_str()).collect();
    names.sort_unstable();
    names
}

fn volunteer_row(state: &VolunteerState) -> Option<Value> {
    match state {
        VolunteerState::NotRegistered => None,
        VolunteerState::Active(details) => {
            let personal = details.personal.as_ref();
            let profile = &details.profile;
            let certificate = &profile.child_certificate;
            Some(json!({
                "name": personal.map(|p| p.name.as_str()),
                "email": personal.and_then(|p| p.contact.email()).map(|e| e.as_str()),
                "phone": personal.and_then(|p| p.contact.phone()).map(|p| p.as_str()),
                "birth_year": personal.and_then(|p| p.birth_year),
                "postcode": profile.postcode.as_str(),
                "age_band": profile.age_band.as_str(),
                "skills": profile.skills.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                "resources": profile.resources.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                "languages": profile.languages.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
                "availability": profile.availability,
                "hours_per_week": profile.availability.hours_per_week(),
                "target_groups": profile.target_groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
                "child_certificate_status": certificate.status().as_str(),
                "child_certificate_assessed_on": certificate.assessed_on(),
                "child_certificate_valid_until": certificate.valid_until(),
                "consent_purpose": details.consent.purpose.as_str(),
                "consent_given_at": micros(details.consent.given_at),
                "consent_withdrawn_at": null,
                // Sorted by name, as the row keeps them.
                "purposes": purpose_names(&details.purposes),
                "status": "active",
            }))
        }
        // What stays after a withdrawal (postcode, skills, ...) is the last profile, which the
        // state no longer holds; what the state says is that the personal data is gone.
        VolunteerState::ConsentWithdrawn { withdrawn_at, .. } => Some(json!({
            "name": null,
            "email": null,
            "phone": null,
            "birth_year": null,
            "consent_withdrawn_at": micros(*withdrawn_at),
            "purposes": [],
            "status": "consent_withdrawn",
        })),
        // Forgotten: the same, whether consent was withdrawn before or not.
        VolunteerState::Forgotten { forgotten_at, .. } => Some(json!({
            "name": null,
            "email": null,
            "phone": null,
            "birth_year": null,
            "forgotten_at": micros(*forgotten_at),
            "purposes": [],
            "status": "forgotten",
        })),
    }
}

#[test]
fn a_volunteers_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    rows_follow_state::<Volunteer>(
        "volunteer",
        any::<u128>().prop_map(|n| Key::entity(Uuid::from_u128(n))),
        |key| arb_volunteer_event(VolunteerId::from_uuid(key.row_id.expect("keyed by id"))).boxed(),
        volunteer_row,
    )
}

// ---------------------------------------------------------------------------------------------
// Organisation
// ---------------------------------------------------------------------------------------------

fn organisation_fields(details: &OrganisationDetails, active: bool) -> Value {
    let contact = details.contact.as_ref();
    json!({
        "name": details.name.as_str(),
        "cvr": details.cvr.as_ref().map(|c| c.as_str()),
        "kind": details.kind.as_str(),
        "email": contact.and_then(|c| c.email()).map(|e| e.as_str()),
        "phone": contact.and_then(|c| c.phone()).map(|p| p.as_str()),
        "contact_person": contact.and_then(|c| c.person()).map(|n| n.as_str()),
        "active": active,
    })
}

/// The `directory.organisation` row an organisation's state implies. When it is deactivated,
/// the time and reason of the deactivation are the envelope's and the event's, not the state's.
fn organisation_row(state: &OrganisationState) -> Option<Value> {
    match state {
        OrganisationState::NotRegistered => None,
        OrganisationState::Active(details) => {
            let mut row = organisation_fields(details, true);
            row["deactivated_at"] = Value::Null;
            row["deactivation_reason"] = Value::Null;
            Some(row)
        }
        OrganisationState::Deactivated(details) => Some(organisation_fields(details, false)),
    }
}

#[test]
fn an_organisations_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    rows_follow_state::<Organisation>(
        "organisation",
        any::<u128>().prop_map(|n| Key::entity(Uuid::from_u128(n))),
        |key| {
            arb_organisation_event(OrganisationId::from_uuid(key.row_id.expect("keyed by id")))
                .boxed()
        },
        organisation_row,
    )
}

// ---------------------------------------------------------------------------------------------
// Municipality
// ---------------------------------------------------------------------------------------------

fn municipality_row(state: &MunicipalityState) -> Option<Value> {
    match state {
        MunicipalityState::NotRegistered => None,
        MunicipalityState::Registered(e) => Some(json!({
            "kommunekode": e.kommunekode.as_u16(),
            "name": e.name.as_str(),
        })),
    }
}

#[test]
fn a_municipalitys_row_is_the_row_of_its_folded_state() -> anyhow::Result<()> {
    // The municipality is the tenant, so every case has a tenant of its own.
    rows_follow_state::<Municipality>(
        "municipality",
        "t-[a-z0-9]{16}".prop_map(|tenant| Key {
            entity_id: tenant.clone(),
            tenant,
            row_id: None,
        }),
        |key| arb_municipality_event(key.tenant.clone()).boxed(),
        municipality_row,
    )
}
