//! What an umbrella's report is counted over, against a real PostgreSQL: for any sequence of an
//! organisation's events, the standing membership version says what `Organisation::evolve`
//! folds (its umbrella, and whether it still counts: not once deactivated); a municipality's
//! sharing is a version per change, from its registration on, and a redelivery writes nothing.

use proptest::prelude::*;
use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_testkit::projection::migrated_database;
use serde_json::{Value, json};

mod support;
use support::{REPORTING, TENANT, all_rows, standing_follows_state};

fn membership_of(state: &OrganisationState) -> Option<Value> {
    match state {
        OrganisationState::NotRegistered => None,
        OrganisationState::Active(d) => Some(json!({
            "umbrella_id": d.umbrella.map(|u| u.as_uuid()), "active": true })),
        OrganisationState::Deactivated(d) => Some(json!({
            "umbrella_id": d.umbrella.map(|u| u.as_uuid()), "active": false })),
    }
}

#[test]
fn the_standing_membership_is_the_folded_organisations() -> anyhow::Result<()> {
    standing_follows_state::<Organisation>(
        "organisation_umbrella_version",
        "organisation_id",
        "",
        |id| {
            proptest::collection::vec(arb_organisation_event(OrganisationId::from_uuid(id)), 1..8)
                .boxed()
        },
        membership_of,
    )
}

#[tokio::test]
async fn a_municipalitys_sharing_is_a_version_per_change_from_its_registration()
-> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let tenant = TenantId::parse(TENANT).map_err(anyhow::Error::msg)?;
    let rotary = UmbrellaId::from_uuid(uuid::Uuid::from_u128(1));
    let shared = |umbrellas: Vec<UmbrellaId>| {
        MunicipalityEvent::UmbrellasShared(MunicipalityUmbrellasShared {
            tenant: tenant.clone(),
            umbrellas,
            at: chrono::Utc::now(),
        })
    };
    let recorded = |position: u64, event: &MunicipalityEvent| {
        REPORTING.recorded(TENANT, TENANT, position, event)
    };
    // Shared before the registration (cannot have been decided): nothing, as in `evolve`.
    let early = recorded(1, &shared(vec![rotary]));
    REPORTING
        .apply_batch_all(&pool, std::slice::from_ref(&early))
        .await?;
    assert_eq!(all_rows(&pool, "umbrella_share_version").await?, json!([]));
    let events = [
        recorded(2, &municipality_registered(TENANT, 175, "Rødovre Kommune")),
        recorded(3, &shared(vec![rotary])),
        recorded(4, &shared(vec![])),
    ];
    REPORTING.apply_batch_all(&pool, &events).await?;
    let rows: Vec<(Vec<uuid::Uuid>, bool)> = sqlx::query_as(
        "SELECT umbrellas, valid_to IS NULL FROM reporting.umbrella_share_version
         WHERE tenant = $1 ORDER BY from_position",
    )
    .bind(TENANT)
    .fetch_all(&pool)
    .await?;
    assert_eq!(
        rows,
        vec![
            (vec![], false),
            (vec![rotary.as_uuid()], false),
            (vec![], true)
        ]
    );
    let once = all_rows(&pool, "umbrella_share_version").await?;
    REPORTING.apply_batch_all(&pool, &events).await?;
    assert_eq!(
        all_rows(&pool, "umbrella_share_version").await?,
        once,
        "redelivered"
    );
    Ok(())
}
