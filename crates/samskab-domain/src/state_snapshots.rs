//! Decision states are kept as snapshots beside the log (the API's `decisions.rs`), as JSON. A
//! state read back from its snapshot and folded on must be the state folded from the whole
//! history; and each state's JSON shape is pinned here to its `STATE_VERSION`, so a change to
//! what a state holds cannot go out without the version bump that retires the old snapshots.

use proptest::collection::vec;
use proptest::prelude::*;

use crate::fixtures::*;
use crate::grant_pool::{PoolBudgetChanged, PoolConflictDeclared};
use crate::values::Purpose;
use crate::volunteer::VolunteerPurposeConsent;
use crate::{
    Amount, ApplicationAssessed, ApplicationVersion, GrantApplication, GrantApplicationEvent,
    GrantOutcome, GrantPool, GrantPoolEvent, Justification, PoolDecision,
};
use crate::{
    ClosingReason, Decider, Match, MatchAccepted, MatchEvent, MatchHoursLogged, MatchNote,
    MatchPaused, MatchSide, MatchStarted, MonthlyMinutes, Municipality, Need, NeedClosed,
    NeedEvent, Organisation, OrganisationEvent, Person, PersonEvent, Volunteer, VolunteerEvent,
    YearMonth,
};

/// The state after `events[..split]`, written as a snapshot and read back, then the rest of
/// the events folded onto it.
fn resumed<D: Decider>(events: &[D::Event], split: usize) -> D::State {
    let split = split.min(events.len());
    let before = D::replay(&events[..split]);
    let snapshot = serde_json::to_value(&before).expect("a state serialises");
    let read: D::State = serde_json::from_value(snapshot).expect("a snapshot deserialises");
    events[split..].iter().fold(read, D::evolve)
}

proptest! {
    #[test]
    fn a_volunteer_resumed_from_a_snapshot_is_the_volunteer_folded_whole(
        events in vec(arb_volunteer_event(volunteer_id()), 0..12),
        split in 0usize..12,
    ) {
        prop_assert_eq!(resumed::<Volunteer>(&events, split), Volunteer::replay(&events));
    }

    #[test]
    fn an_organisation_resumed_from_a_snapshot_is_the_organisation_folded_whole(
        events in vec(arb_organisation_event(org_id()), 0..12),
        split in 0usize..12,
    ) {
        prop_assert_eq!(resumed::<Organisation>(&events, split), Organisation::replay(&events));
    }

    #[test]
    fn a_municipality_resumed_from_a_snapshot_is_the_municipality_folded_whole(
        events in vec(arb_municipality_event("rodovre".into()), 0..4),
        split in 0usize..4,
    ) {
        prop_assert_eq!(resumed::<Municipality>(&events, split), Municipality::replay(&events));
    }

    #[test]
    fn a_need_resumed_from_a_snapshot_is_the_need_folded_whole(
        events in vec(arb_need_event(need_id()), 0..12),
        split in 0usize..12,
    ) {
        prop_assert_eq!(resumed::<Need>(&events, split), Need::replay(&events));
    }

    #[test]
    fn a_person_resumed_from_a_snapshot_is_the_person_folded_whole(
        events in vec(arb_person_event(person_id()), 0..10),
        split in 0usize..10,
    ) {
        prop_assert_eq!(resumed::<Person>(&events, split), Person::replay(&events));
    }

    #[test]
    fn a_webhook_endpoint_resumed_from_a_snapshot_is_the_endpoint_folded_whole(
        events in vec(arb_webhook_endpoint_event(crate::WebhookEndpointId::from_uuid(
            uuid::Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0009)), org_id()), 0..10),
        split in 0usize..10,
    ) {
        prop_assert_eq!(
            resumed::<crate::WebhookEndpoint>(&events, split),
            crate::WebhookEndpoint::replay(&events)
        );
    }

    #[test]
    fn an_umbrella_resumed_from_a_snapshot_is_the_umbrella_folded_whole(
        events in vec(arb_umbrella_event(crate::UmbrellaId::from_uuid(uuid::Uuid::from_u128(4))), 0..6),
        split in 0usize..6,
    ) {
        prop_assert_eq!(
            resumed::<crate::Umbrella>(&events, split),
            crate::Umbrella::replay(&events)
        );
    }

    #[test]
    fn preferences_resumed_from_a_snapshot_are_the_preferences_folded_whole(
        events in vec(arb_notification_preferences_event("volunteer:01950000-0000-7000-8000-000000000003"), 0..8),
        split in 0usize..8,
    ) {
        prop_assert_eq!(
            resumed::<crate::NotificationPreferences>(&events, split),
            crate::NotificationPreferences::replay(&events)
        );
    }

    #[test]
    fn a_match_resumed_from_a_snapshot_is_the_match_folded_whole(
        events in vec(arb_match_event(match_id()), 0..16),
        split in 0usize..16,
    ) {
        prop_assert_eq!(resumed::<Match>(&events, split), Match::replay(&events));
    }
}

/// If this fails, what a decision state holds has changed: bump that decider's
/// `STATE_VERSION` (snapshots of the old shape are then not used) and pin the new JSON here.
#[test]
fn each_states_snapshot_shape_is_pinned_to_its_version() {
    let volunteer = Volunteer::replay(&[
        volunteer_registered(volunteer_id(), "Søren Snedker"),
        VolunteerEvent::PurposeConsentGiven(VolunteerPurposeConsent {
            id: volunteer_id(),
            purpose: Purpose::Matching,
            at: at(2025, 3, 2),
        }),
    ]);
    let organisation = Organisation::replay(&[OrganisationEvent::Registered(
        organisation_details(org_id(), "Æblehaven"),
    )]);
    let municipality =
        Municipality::replay(&[municipality_registered("rodovre", 175, "Rødovre Kommune")]);
    let need = Need::replay(&[
        NeedEvent::Published(need_details(need_id(), "Lektiehjælp til ukrainske børn")),
        NeedEvent::Closed(NeedClosed {
            id: need_id(),
            reason: ClosingReason::parse("Vi har fundet frivillige nok").ok(),
            at: at(2026, 1, 15),
        }),
    ]);
    let hours = |period: &str, minutes: u32, on| {
        MatchEvent::HoursLogged(MatchHoursLogged {
            id: match_id(),
            period: YearMonth::parse(period).expect("valid month"),
            minutes: MonthlyMinutes::parse(minutes).expect("valid minutes"),
            at: on,
        })
    };
    let a_match = Match::replay(&[
        match_proposed(match_id()),
        MatchEvent::Accepted(MatchAccepted {
            id: match_id(),
            side: MatchSide::Volunteer,
            at: at(2025, 9, 4),
        }),
        MatchEvent::Started(MatchStarted {
            id: match_id(),
            on: date(2025, 9, 9),
            at: at(2025, 9, 5),
        }),
        hours("2025-09", 480, at(2025, 10, 1)),
        hours("2025-11", 360, at(2025, 12, 1)),
        MatchEvent::Paused(MatchPaused {
            id: match_id(),
            reason: MatchNote::parse_optional(Some("Juleferie")).expect("valid note"),
            at: at(2025, 12, 15),
        }),
    ]);
    let person = Person::replay(&[PersonEvent::Registered(person_details(
        person_id(),
        "Familien Kovalenko",
    ))]);
    let (pool, application) = grant_states();
    let shape = |state: serde_json::Result<String>| state.expect("a state serialises");
    assert_eq!(
        (
            Volunteer::STATE_VERSION,
            shape(serde_json::to_string(&volunteer))
        ),
        (3, PINNED_VOLUNTEER.to_string())
    );
    assert_eq!(
        (
            Organisation::STATE_VERSION,
            shape(serde_json::to_string(&organisation))
        ),
        (1, PINNED_ORGANISATION.to_string())
    );
    assert_eq!(
        (
            Municipality::STATE_VERSION,
            shape(serde_json::to_string(&municipality))
        ),
        (3, PINNED_MUNICIPALITY.to_string())
    );
    assert_eq!(
        (Need::STATE_VERSION, shape(serde_json::to_string(&need))),
        (1, PINNED_NEED.to_string())
    );
    assert_eq!(
        (Match::STATE_VERSION, shape(serde_json::to_string(&a_match))),
        (1, PINNED_MATCH.to_string())
    );
    assert_eq!(
        (Person::STATE_VERSION, shape(serde_json::to_string(&person))),
        (1, PINNED_PERSON.to_string())
    );
    assert_eq!(
        (
            GrantPool::STATE_VERSION,
            shape(serde_json::to_string(&pool))
        ),
        (2, PINNED_GRANT_POOL.to_string())
    );
    assert_eq!(
        (
            GrantApplication::STATE_VERSION,
            shape(serde_json::to_string(&application))
        ),
        (1, PINNED_GRANT_APPLICATION.to_string())
    );
    let read =
        crate::Notification::replay(&[crate::NotificationEvent::Read(crate::NotificationRead {
            id: crate::NotificationId::of(7, 0, 0),
            at: at(2026, 12, 1),
        })]);
    assert_eq!(
        (
            crate::Notification::STATE_VERSION,
            shape(serde_json::to_string(&read))
        ),
        (1, PINNED_NOTIFICATION.to_string())
    );
    let endpoint = crate::WebhookEndpoint::replay(&[crate::WebhookEndpointEvent::Registered(
        crate::WebhookEndpointDetails {
            id: crate::WebhookEndpointId::from_uuid(uuid::Uuid::from_u128(
                0x0195_0000_0000_7000_8000_0000_0000_0009,
            )),
            organisation: org_id(),
            url: crate::WebhookUrl::parse("https://hooks.example.dk/samskab").expect("url"),
        },
    )]);
    assert_eq!(
        (
            crate::WebhookEndpoint::STATE_VERSION,
            shape(serde_json::to_string(&endpoint))
        ),
        (1, PINNED_WEBHOOK_ENDPOINT.to_string())
    );
    let recipient = "organisation:01950000-0000-7000-8000-000000000001";
    let preferences =
        crate::NotificationPreferences::replay(&[crate::NotificationPreferencesEvent::Set(
            crate::PreferencesSet {
                id: crate::NotificationPreferencesId::of_recipient(recipient),
                recipient: recipient.into(),
                preferences: crate::Preferences {
                    email: false,
                    language: crate::MessageLanguage::English,
                    cadence: crate::MailCadence::DailyDigest,
                },
            },
        )]);
    assert_eq!(
        (
            crate::NotificationPreferences::STATE_VERSION,
            shape(serde_json::to_string(&preferences))
        ),
        (1, PINNED_PREFERENCES.to_string())
    );
    let district =
        crate::Umbrella::replay(&[crate::UmbrellaEvent::Registered(crate::UmbrellaDetails {
            id: crate::UmbrellaId::from_uuid(uuid::Uuid::from_u128(2)),
            name: name("Rotary Distrikt 1470"),
            parent: Some(crate::UmbrellaId::from_uuid(uuid::Uuid::from_u128(1))),
        })]);
    assert_eq!(
        (
            crate::Umbrella::STATE_VERSION,
            shape(serde_json::to_string(&district))
        ),
        (1, PINNED_UMBRELLA.to_string())
    );
}

const PINNED_UMBRELLA: &str = r#"{"Registered":{"id":"00000000-0000-0000-0000-000000000002","name":"Rotary Distrikt 1470","parent":"00000000-0000-0000-0000-000000000001"}}"#;

const PINNED_PREFERENCES: &str =
    r#"{"set":{"email":false,"language":"en","cadence":"daily_digest"}}"#;

const PINNED_WEBHOOK_ENDPOINT: &str = r#"{"Registered":{"details":{"id":"01950000-0000-7000-8000-000000000009","organisation":"01950000-0000-7000-8000-000000000001","url":"https://hooks.example.dk/samskab"},"enabled":true}}"#;

const PINNED_NOTIFICATION: &str = r#"{"Read":{"at":"2026-12-01T10:00:00Z"}}"#;

/// A pool with a budget, a conflict declared and a decision; an application submitted and
/// assessed. Their snapshots (maps keyed by year and by id, a set of pairs) read back as they
/// were.
fn grant_states() -> (
    <GrantPool as Decider>::State,
    <GrantApplication as Decider>::State,
) {
    let draft = group_application(
        grant_application_id(),
        grant_pool_id(),
        kroner(40_000),
        "Birte Skov",
    );
    let pool_events = [
        GrantPoolEvent::Created(grant_pool_details(grant_pool_id())),
        GrantPoolEvent::BudgetChanged(PoolBudgetChanged {
            id: grant_pool_id(),
            year: 2026,
            amount: kroner(300_000),
            previous: Amount::ZERO,
            reason: Justification::parse("Budget 2026").expect("reason"),
            by: staff("admin"),
            at: at(2026, 1, 5),
        }),
        GrantPoolEvent::ConflictDeclared(PoolConflictDeclared {
            id: grant_pool_id(),
            member: staff("bo"),
            applicant: draft.applicant(),
            reason: None,
            at: at(2026, 3, 1),
        }),
        GrantPoolEvent::Decided(PoolDecision {
            id: grant_pool_id(),
            application: grant_application_id(),
            version: 1,
            applicant: draft.applicant(),
            outcome: GrantOutcome::Full,
            amount: kroner(40_000),
            requested: kroner(40_000),
            year: 2026,
            justification: None,
            decided_by: staff("chair"),
            assessed_by: vec![staff("anna")],
            report_due: Some(date(2027, 3, 31)),
            years: vec![],
            duties: None,
            at: at(2026, 4, 1),
        }),
    ];
    let application_events = [
        GrantApplicationEvent::Drafted(draft.clone()),
        GrantApplicationEvent::Submitted(ApplicationVersion {
            id: draft.id,
            version: 1,
            round: draft.round,
            at: at(2026, 2, 1),
            content: draft.content.clone(),
            group_name: draft.group_name.clone(),
            personal: draft.personal.clone(),
        }),
        GrantApplicationEvent::Assessed(ApplicationAssessed {
            id: draft.id,
            version: 1,
            assessor: staff("anna"),
            scores: vec![],
            total: 60,
            recommended: kroner(40_000),
            note: None,
            at: at(2026, 3, 10),
        }),
    ];
    let pool = GrantPool::replay(&pool_events);
    let application = GrantApplication::replay(&application_events);
    for split in 0..=pool_events.len() {
        assert_eq!(resumed::<GrantPool>(&pool_events, split), pool);
    }
    for split in 0..=application_events.len() {
        assert_eq!(
            resumed::<GrantApplication>(&application_events, split),
            application
        );
    }
    (pool, application)
}

const PINNED_VOLUNTEER: &str = r#"{"Active":{"id":"01950000-0000-7000-8000-000000000002","personal":{"name":"Søren Snedker","contact":{"email":"soren@example.dk","phone":"+4512345678","person":null},"birth_year":1958},"profile":{"postcode":"2610","age_band":"67_plus","skills":["snedker","lektiehjælp"],"resources":["har bil"],"languages":["da","uk"],"availability":{"slots":[{"weekday":"mon","part":"morning"},{"weekday":"tue","part":"evening"}],"hours_per_week":5},"target_groups":["children","refugees"]},"consent":{"purpose":"Formidling af frivilligt arbejde i Rødovre Kommune","given_at":"2025-03-01T10:00:00Z"},"purposes":{"matching":"2025-03-02T10:00:00Z"},"child_certificate":{"status":"not_required","assessed_on":null,"valid_until":null},"certificate_case":{"consent_for":null,"request":null},"other_municipalities":[]}}"#;
const PINNED_ORGANISATION: &str = r#"{"Active":{"id":"01950000-0000-7000-8000-000000000001","name":"Æblehaven","cvr":"13748136","kind":"association","personal":{"email":"info@aeblehaven.dk","phone":"+4536377000","person":"Åse Æbelø"}}}"#;
const PINNED_MUNICIPALITY: &str = r#"{"Registered":{"details":{"tenant":"rodovre","kommunekode":175,"name":"Rødovre Kommune"},"weights":{"skills_required":35,"skills_nice_to_have":15,"languages":10,"distance":20,"availability":10,"interests":10},"shared_with":[]}}"#;
const PINNED_NEED: &str = r#"{"Closed":{"details":{"id":"01950000-0000-7000-8000-000000000003","posted_by":{"kind":"organisation","organisation_id":"01950000-0000-7000-8000-000000000001"},"title":"Lektiehjælp til ukrainske børn","description":"Røde Kors i Rødovre genstarter Lektiehjælpen. Vi søger to frivillige, der vil hjælpe ukrainske børn i 1.-6. klasse med lektierne tirsdag aften i Rødovre Frivilligcenter.\nDet er en fordel, hvis du taler ukrainsk eller russisk.","target_groups":["children","refugees"],"skills_required":["lektiehjælp"],"skills_nice_to_have":["matematik","dansk som andetsprog"],"languages":["da","uk"],"place":{"kind":"at_postcode","postcode":"2610"},"schedule":{"kind":"weekly","slots":[{"weekday":"tue","part":"evening"}],"hours_per_week":2},"volunteers_wanted":2,"starts_on":"2025-09-02","ends_on":"2026-06-30","children_under_15":true},"closed_at":"2026-01-15T10:00:00Z","reason":"Vi har fundet frivillige nok"}}"#;
const PINNED_MATCH: &str = r#"{"Paused":{"proposal":{"id":"01950000-0000-7000-8000-000000000004","volunteer_id":"01950000-0000-7000-8000-000000000002","counterpart":{"kind":"need","id":"01950000-0000-7000-8000-000000000003"},"proposed_by":"coordinator","note":"Tirsdag aften passer begge parter, og der er brug for en, der taler ukrainsk.","at":"2025-09-03T10:00:00Z"},"started_on":"2025-09-09","minutes":{"2025-09":480,"2025-11":360},"since":"2025-12-15T10:00:00Z","reason":"Juleferie"}}"#;
const PINNED_PERSON: &str = r#"{"Registered":{"id":"01950000-0000-7000-8000-000000000005","kind":"family","registered_by":{"kind":"organisation","organisation_id":"01950000-0000-7000-8000-000000000001"},"postcode":"2610","languages":["uk","ru"],"children_under_15":true,"personal":{"name":"Familien Kovalenko","contact":{"email":null,"phone":"+4520304050","person":null}}}}"#;
const PINNED_GRANT_POOL: &str = r#"{"Created":{"details":{"id":"01990000-0000-7000-8000-000000000901","name":"§18-puljen","legal_basis":"serviceloven-18","purpose":"Støtte til frivilligt socialt arbejde i Rødovre","kind":"rounds","applicants":["association","informal_group"],"criteria":[{"key":"reach","title":"reach","weight":60},{"key":"volunteers","title":"volunteers","weight":40}],"second_approval_above":10000000,"audited_accounts_above":2000000,"initiative":null,"strategic_goal":null},"budgets":{"2026":30000000},"committed":{"2026":4000000},"rounds":[],"conflicts":[["user:bo",{"application":"01990000-0000-7000-8000-000000000903"}]],"cases":{"01990000-0000-7000-8000-000000000903":{"status":"decided","decision":{"id":"01990000-0000-7000-8000-000000000901","application":"01990000-0000-7000-8000-000000000903","version":1,"applicant":{"application":"01990000-0000-7000-8000-000000000903"},"outcome":"full","amount":4000000,"requested":4000000,"year":2026,"justification":null,"decided_by":"user:chair","assessed_by":["user:anna"],"report_due":"2027-03-31","at":"2026-04-01T10:00:00Z"},"follow_up":{"paid":0,"report":null,"repayment_due":null,"repaid":0},"last_event_at":"2026-04-01T10:00:00Z"}}}}"#;
const PINNED_GRANT_APPLICATION: &str = r#"{"Submitted":{"draft":{"id":"01990000-0000-7000-8000-000000000903","pool":"01990000-0000-7000-8000-000000000901","round":"01990000-0000-7000-8000-000000000902","applicant_kind":"informal_group","organisation":null,"group_name":"Strikkeklubben i Islev","content":{"title":"Lektiecafé","purpose":"Lektiehjælp til børn i Islev","activities":"To eftermiddage om ugen","target_group":"Skolebørn 7-14 år","period_from":"2026-08-01","period_to":"2027-06-30","amount_requested":4000000,"budget_lines":[{"text":"Materialer og forplejning","amount":4000000}],"expected_volunteers":8,"expected_participants":40,"co_funding":0},"personal":{"name":"Birte Skov","contact":{"email":"info@aeblehaven.dk","phone":"+4536377000","person":"Anne Hansen"}}},"versions":[{"id":"01990000-0000-7000-8000-000000000903","version":1,"round":"01990000-0000-7000-8000-000000000902","at":"2026-02-01T10:00:00Z","content":{"title":"Lektiecafé","purpose":"Lektiehjælp til børn i Islev","activities":"To eftermiddage om ugen","target_group":"Skolebørn 7-14 år","period_from":"2026-08-01","period_to":"2027-06-30","amount_requested":4000000,"budget_lines":[{"text":"Materialer og forplejning","amount":4000000}],"expected_volunteers":8,"expected_participants":40,"co_funding":0},"group_name":"Strikkeklubben i Islev","personal":{"name":"Birte Skov","contact":{"email":"info@aeblehaven.dk","phone":"+4536377000","person":"Anne Hansen"}}}],"assessments":[{"id":"01990000-0000-7000-8000-000000000903","version":1,"assessor":"user:anna","scores":[],"total":60,"recommended":4000000,"note":null,"at":"2026-03-10T10:00:00Z"}],"second_assessment":null}}"#;
