//! `notify.message` against a real PostgreSQL: the organisation's messages from a need's
//! match and a pool's decisions (the above-threshold proposal told only at its approval), the
//! recipient's read kept, and a redelivery (in order and reversed) that changes no row.

use samskab_domain::fixtures::*;
use samskab_domain::*;
use samskab_eventlog::RecordedEvent;
use samskab_testkit::projection::{migrated_database, time_at};
use serde_json::Value;
use sqlx::PgPool;

mod support;
use support::*;

/// The canonical organisation's need, a volunteer proposed for it who declines; a proposal
/// above the threshold, approved; and the message of the approval read.
fn events() -> Vec<RecordedEvent> {
    let (need, matched, pool) = (need_id(), match_id(), grant_pool_id());
    let application = grant_application_id();
    let proposal = MatchEvent::Proposed(MatchProposed {
        details: MatchDetails {
            id: matched,
            volunteer_id: volunteer_id(),
            counterpart: Counterpart::Need(need),
            proposed_by: ProposedBy::Coordinator,
            note: None,
            volunteer_municipality: None,
        },
        at: time_at(2),
    });
    let declined = MatchEvent::Declined(MatchDeclined {
        id: matched,
        side: MatchSide::Volunteer,
        reason: None,
        at: time_at(3),
    });
    let approved = GrantPoolEvent::DecisionApproved(grant_pool::PoolDecisionApproved {
        id: pool,
        application,
        approved_by: staff("udvalg-2"),
        at: time_at(5),
    });
    let read = NotificationEvent::Read(NotificationRead {
        id: NotificationId::of(5, 0, 0),
        at: time_at(6),
    });
    vec![
        recorded(
            need.as_uuid(),
            1,
            &NeedEvent::Published(need_details(need, "Lektiehjælp")),
        ),
        recorded(matched.as_uuid(), 2, &proposal),
        recorded(matched.as_uuid(), 3, &declined),
        recorded(
            pool.as_uuid(),
            4,
            &GrantPoolEvent::DecisionProposed(decision(application, kroner(150_000))),
        ),
        recorded(pool.as_uuid(), 5, &approved),
        recorded(NotificationId::of(5, 0, 0).as_uuid(), 6, &read),
    ]
}

async fn messages(pool: &PgPool) -> anyhow::Result<Vec<Value>> {
    Ok(sqlx::query_scalar(
        "SELECT jsonb_build_object('id', id, 'recipient', recipient, 'rule', rule,
            'read', read_at IS NOT NULL, 'from', from_position)
         FROM notify.message ORDER BY from_position",
    )
    .fetch_all(pool)
    .await?)
}

#[tokio::test]
async fn the_organisation_is_told_once_of_each_and_its_read_is_kept() -> anyhow::Result<()> {
    let pool = migrated_database().await?;
    let events = events();
    let all: Vec<&RecordedEvent> = events.iter().collect();
    NOTIFY.apply_all(&pool, &all).await?;
    let recipient = samskab_projection::Recipient::Organisation(org_id().as_uuid()).to_string();
    let found = messages(&pool).await?;
    let expected: Vec<Value> = [
        (2, "match_proposed", false),
        (3, "match_declined", false),
        (5, "grant_approved", true),
    ]
    .iter()
    .map(|(from, rule, read)| {
        serde_json::json!({
            "id": NotificationId::of(*from, 0, 0).as_uuid(), "recipient": recipient,
            "rule": rule, "read": read, "from": from,
        })
    })
    .collect();
    assert_eq!(
        found, expected,
        "nothing for the proposal at 4 until its approval"
    );

    NOTIFY.apply_all(&pool, &all).await?;
    let reversed: Vec<&RecordedEvent> = events.iter().rev().collect();
    NOTIFY.apply_all(&pool, &reversed).await?;
    assert_eq!(
        messages(&pool).await?,
        expected,
        "a redelivery changes nothing"
    );
    Ok(())
}
