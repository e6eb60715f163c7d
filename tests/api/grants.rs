//! §18 grants end to end: pools, rounds, applications and their versions, assessments,
//! decisions with their justification, conflicts of interest, the second approver, a
//! complaint, and the pool's budget under 100 concurrent decisions.

use chrono::{Duration, Utc};
use samskab_api::{Party, Role};
use samskab_e2e::{TestApp, application_content, group_application_body, pool_body, spawn_app};
use serde_json::{Value, json};

/// What a municipality's grants office has in hand: a pool with a year's budget, and the
/// people who work with it.
pub(crate) struct Office {
    pub(crate) admin: String,
    pub(crate) caseworker: String,
    pub(crate) chair: String,
    pub(crate) deputy: String,
    pub(crate) auditor: String,
    pub(crate) pool: String,
}

impl Office {
    /// A pool of `kind` with a budget of `budget` øre for 2026, a second approver above
    /// `threshold` øre, and (a pool in rounds) a round open now.
    pub(crate) async fn new(app: &TestApp, kind: &str, budget: i64, threshold: i64) -> Self {
        let admin = app.token("rodovre", Role::PoolAdministrator);
        let (status, created) = app
            .post("/grant-pools", &admin, &pool_body(kind, threshold))
            .await;
        assert_eq!(status, 201, "{created}");
        let pool = created["id"].as_str().expect("id").to_string();
        let budget_body = json!({ "year": 2026, "amount": budget, "reason": "Budget 2026" });
        app.accepted(&format!("/grant-pools/{pool}/budget"), &admin, &budget_body)
            .await;
        if kind == "rounds" {
            let round = json!({
                "title": "Forårsrunden",
                "opens_at": Utc::now() - Duration::days(10),
                "deadline": Utc::now() + Duration::days(10),
                "decision_expected": (Utc::now() + Duration::days(40)).date_naive(),
            });
            app.accepted(&format!("/grant-pools/{pool}/rounds"), &admin, &round)
                .await;
        }
        Self {
            caseworker: app.staff_token("rodovre", "anna-sagsbehandler", Role::Caseworker),
            chair: app.staff_token("rodovre", "formand", Role::CommitteeMember),
            deputy: app.staff_token("rodovre", "naestformand", Role::CommitteeMember),
            auditor: app.token("rodovre", Role::Auditor),
            admin,
            pool,
        }
    }

    /// An informal group's application for `requested` øre, submitted and assessed by the
    /// case worker (recommending all of it): ready for a decision. Its id.
    pub(crate) async fn assessed(&self, app: &TestApp, title: &str, requested: i64) -> String {
        let body = group_application_body(&self.pool, title, requested, "Birte Skov");
        self.assessed_as(app, &body, requested).await
    }

    /// As [`Office::assessed`], from the application `body` asking for `requested` øre.
    pub(crate) async fn assessed_as(&self, app: &TestApp, body: &Value, requested: i64) -> String {
        let (status, created) = app
            .post("/grant-applications", &self.caseworker, body)
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().expect("id").to_string();
        app.accepted(
            &format!("/grant-applications/{id}/submit"),
            &self.caseworker,
            &json!(null),
        )
        .await;
        app.accepted(
            &format!("/grant-applications/{id}/assessments"),
            &self.caseworker,
            &assessment(requested),
        )
        .await;
        id
    }
}

pub(crate) fn assessment(recommended: i64) -> Value {
    json!({
        "scores": [
            { "criterion": "reach", "score": 4, "note": "Når mange børn" },
            { "criterion": "volunteers", "score": 3 },
        ],
        "recommended": recommended,
        "note": "Anbefales",
    })
}

pub(crate) fn full(amount: i64) -> Value {
    json!({ "outcome": "full", "amount": amount, "year": 2026 })
}

async fn case(app: &TestApp, token: &str, id: &str, position: u64) -> Value {
    let (status, case) = app
        .get(
            &format!("/grant-applications/{id}?min_position={position}"),
            token,
        )
        .await;
    assert_eq!(status, 200, "{case}");
    case
}

#[tokio::test]
async fn an_association_drafts_submits_and_amends_and_the_decision_records_the_version_it_stood_on()
{
    let app = spawn_app().await;
    let office = Office::new(&app, "rounds", 30_000_000, 10_000_000).await;
    let organisation = app.organisation(&office.caseworker, "Æblehaven").await;
    let applicant = app.party_token(
        "rodovre",
        Party::Organisation(organisation.parse().expect("uuid")),
    );
    let draft = json!({
        "pool_id": office.pool,
        "applicant_kind": "association",
        "content": application_content("Lektiecafé", 5_000_000),
    });
    let (status, created) = app.post("/grant-applications", &applicant, &draft).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let position = created["position"].as_u64().expect("position");
    let drafted = case(&app, &applicant, &id, position).await;
    assert_eq!(drafted["status"], "draft");
    assert_eq!(drafted["waiting_for"], "applicant");
    assert_eq!(drafted["organisation_id"], organisation);

    app.accepted(
        &format!("/grant-applications/{id}/submit"),
        &applicant,
        &json!(null),
    )
    .await;
    // A new version while the round is open: asks for less.
    let amended = app
        .accepted(
            &format!("/grant-applications/{id}/amend"),
            &applicant,
            &application_content("Lektiecafé", 4_000_000),
        )
        .await;
    let (status, versions) = app
        .get(
            &format!("/grant-applications/{id}/versions?min_position={amended}"),
            &applicant,
        )
        .await;
    assert_eq!(status, 200, "{versions}");
    let requested: Vec<_> = versions
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["version"].clone(),
                v["content"]["amount_requested"].clone(),
            )
        })
        .collect();
    assert_eq!(
        requested,
        vec![(json!(1), json!(5_000_000)), (json!(2), json!(4_000_000))]
    );
    let submitted = case(&app, &office.caseworker, &id, amended).await;
    assert_eq!(submitted["waiting_for"], "assessment");
    assert_eq!(submitted["days_since_submission"], 0);
    assert!(submitted["round_id"].is_string(), "{submitted}");

    app.accepted(
        &format!("/grant-applications/{id}/assessments"),
        &office.caseworker,
        &assessment(4_000_000),
    )
    .await;
    // The applicant's own token can decide nothing.
    let (status, _) = app
        .post(
            &format!("/grant-applications/{id}/decision"),
            &applicant,
            &full(4_000_000),
        )
        .await;
    assert_eq!(status, 403);
    let decided = app
        .accepted(
            &format!("/grant-applications/{id}/decision"),
            &office.chair,
            &full(4_000_000),
        )
        .await;
    let decided_case = case(&app, &office.auditor, &id, decided).await;
    assert_eq!(decided_case["status"], "decided");
    assert_eq!(decided_case["granted"], 4_000_000);
    assert_eq!(decided_case["waiting_for"], "payment");
    assert_eq!(
        decided_case["report_due"], "2027-09-30",
        "three months after the period"
    );
    let decision = &decided_case["decisions"][0];
    assert_eq!(decision["version"], 2, "{decision}");
    assert_eq!(decision["decided_by"], "user:formand");
    assert_eq!(decision["assessed_by"], json!(["user:anna-sagsbehandler"]));
    assert_eq!(
        decided_case["assessments"][0]["total"], 72,
        "60·4/5 + 40·3/5"
    );
    // A decided application is no longer amended or withdrawn.
    let (status, answer) = app
        .post(
            &format!("/grant-applications/{id}/amend"),
            &applicant,
            &application_content("Lektiecafé", 3_000_000),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    let (status, answer) = app
        .post(
            &format!("/grant-applications/{id}/withdraw"),
            &applicant,
            &json!(null),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    // The pool's year: 40.000 kr. of 300.000 kr. committed.
    let (_, pool) = app
        .get(
            &format!("/grant-pools/{}?min_position={decided}", office.pool),
            &applicant,
        )
        .await;
    assert_eq!(
        pool["years"],
        json!([{ "year": 2026, "budget": 30_000_000, "committed": 4_000_000, "available": 26_000_000 }])
    );
    assert_eq!(pool["budget_changes"][0]["reason"], "Budget 2026");
    assert_eq!(pool["rounds"].as_array().map(Vec::len), Some(1));
    // A deactivated association's own token applies no more.
    app.accepted(
        &format!("/organisations/{organisation}/deactivate"),
        &office.caseworker,
        &json!({ "reason": "Foreningen er nedlagt" }),
    )
    .await;
    let (status, answer) = app.post("/grant-applications", &applicant, &draft).await;
    assert_eq!(status, 403, "{answer}");
}

#[tokio::test]
async fn an_application_after_the_deadline_is_refused_and_appends_nothing() {
    let app = spawn_app().await;
    let office = Office::new(&app, "rounds", 30_000_000, 10_000_000).await;
    let closed = json!({
        "title": "Efterårsrunden 2025",
        "opens_at": "2025-08-01T08:00:00+02:00",
        "deadline": "2025-09-15T12:00:00+02:00",
        "decision_expected": "2025-10-15",
    });
    let position = app
        .accepted(
            &format!("/grant-pools/{}/rounds", office.pool),
            &office.admin,
            &closed,
        )
        .await;
    let (_, pool) = app
        .get(
            &format!("/grant-pools/{}?min_position={position}", office.pool),
            &office.admin,
        )
        .await;
    let rounds = pool["rounds"].as_array().expect("rounds");
    let late_round = rounds
        .iter()
        .find(|r| r["title"] == "Efterårsrunden 2025")
        .expect("the closed round");
    assert_eq!(late_round["deadline_local"], "2025-09-15T12:00:00+02:00");
    let mut body = group_application_body(&office.pool, "For sent", 100_000, "Birte Skov");
    body["round_id"] = late_round["id"].clone();
    let (status, created) = app
        .post("/grant-applications", &office.caseworker, &body)
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id");
    let before = app.appended().await;
    let (status, answer) = app
        .post(
            &format!("/grant-applications/{id}/submit"),
            &office.caseworker,
            &json!(null),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("deadline passed")),
        "{answer}"
    );
    assert_eq!(app.appended().await, before);
}

#[tokio::test]
async fn a_refusal_needs_a_justification_and_someone_with_a_conflict_of_interest_decides_nothing() {
    let app = spawn_app().await;
    let office = Office::new(&app, "rolling", 30_000_000, 10_000_000).await;
    let id = office.assessed(&app, "Strikkecafé", 2_000_000).await;
    let decision = format!("/grant-applications/{id}/decision");
    let refusal = json!({ "outcome": "refused", "amount": 0, "year": 2026 });
    let (status, answer) = app.post(&decision, &office.chair, &refusal).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "justification", "{answer}");
    let partial =
        json!({ "outcome": "partial", "amount": 2_000_000, "year": 2026, "justification": "x" });
    let (status, answer) = app.post(&decision, &office.chair, &partial).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "amount", "{answer}");

    // The chair declares a conflict of interest with the group (its application).
    app.accepted(
        &format!("/grant-pools/{}/conflicts", office.pool),
        &office.chair,
        &json!({ "application_id": id, "reason": "Min søster leder gruppen" }),
    )
    .await;
    let before = app.appended().await;
    let (status, answer) = app.post(&decision, &office.chair, &full(2_000_000)).await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("inhabilitet")),
        "{answer}"
    );
    // A case worker with a conflict assesses nothing either.
    let conflicted = app.staff_token("rodovre", "bo-sagsbehandler", Role::Caseworker);
    app.accepted(
        &format!("/grant-pools/{}/conflicts", office.pool),
        &conflicted,
        &json!({ "application_id": id }),
    )
    .await;
    let before_assessment = app.appended().await;
    let (status, _) = app
        .post(
            &format!("/grant-applications/{id}/assessments"),
            &conflicted,
            &assessment(1_000_000),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(app.appended().await, before_assessment);
    assert!(before_assessment > before, "the declaration was appended");

    // The deputy refuses it, with a justification that the case shows.
    let refusal = json!({
        "outcome": "refused", "amount": 0, "year": 2026,
        "justification": "Aktiviteten ligger uden for puljens formål.",
    });
    let position = app.accepted(&decision, &office.deputy, &refusal).await;
    let refused = case(&app, &office.caseworker, &id, position).await;
    assert_eq!(refused["outcome"], "refused");
    assert_eq!(
        refused["decisions"][0]["justification"],
        "Aktiviteten ligger uden for puljens formål."
    );
    // Who applies is personal data: the case worker sees it, the auditor not.
    assert_eq!(refused["applicant_name"], "Birte Skov");
    let audited = case(&app, &office.auditor, &id, position).await;
    assert_eq!(audited["applicant_name"], Value::Null);
    assert_eq!(audited["applicant_email"], Value::Null);
    assert_eq!(audited["decisions"][0]["outcome"], "refused");
}

#[tokio::test]
async fn above_the_threshold_a_second_approver_makes_it_final_and_a_complaint_reopens_it() {
    let app = spawn_app().await;
    let office = Office::new(&app, "rolling", 30_000_000, 10_000_000).await;
    let id = office.assessed(&app, "Stort projekt", 15_000_000).await;
    let position = app
        .accepted(
            &format!("/grant-applications/{id}/decision"),
            &office.chair,
            &full(15_000_000),
        )
        .await;
    let proposed = case(&app, &office.chair, &id, position).await;
    assert_eq!(proposed["status"], "proposed");
    assert_eq!(proposed["waiting_for"], "second_approval");
    let approval = format!("/grant-applications/{id}/decision/approval");
    let (status, answer) = app.post(&approval, &office.chair, &json!(null)).await;
    assert_eq!(status, 409, "the one who decided cannot approve: {answer}");
    let position = app.accepted(&approval, &office.deputy, &json!(null)).await;
    let approved = case(&app, &office.chair, &id, position).await;
    assert_eq!(approved["status"], "decided");
    assert_eq!(approved["decisions"][0]["approved_by"], "user:naestformand");

    // The decision is never edited: a complaint reopens it, and it is decided again.
    let (status, _) = app
        .post(
            &format!("/grant-applications/{id}/decision"),
            &office.chair,
            &full(15_000_000),
        )
        .await;
    assert_eq!(status, 409);
    let position = app
        .accepted(
            &format!("/grant-applications/{id}/complaint"),
            &office.caseworker,
            &json!({ "reason": "Ansøger klager over vilkårene" }),
        )
        .await;
    let reopened = case(&app, &office.caseworker, &id, position).await;
    assert_eq!(reopened["status"], "reopened");
    assert_eq!(reopened["waiting_for"], "decision");
    let partial = json!({
        "outcome": "partial", "amount": 9_000_000, "year": 2026,
        "justification": "Puljen rummer ikke hele beløbet.",
    });
    let position = app
        .accepted(
            &format!("/grant-applications/{id}/decision"),
            &office.deputy,
            &partial,
        )
        .await;
    let decided = case(&app, &office.caseworker, &id, position).await;
    assert_eq!(
        decided["status"], "decided",
        "9.000.000 øre is within the threshold"
    );
    assert_eq!(decided["granted"], 9_000_000);
    let decisions = decided["decisions"].as_array().expect("decisions");
    assert_eq!(decisions.len(), 2);
    assert_eq!(
        decisions[0]["reopened_reason"],
        "Ansøger klager over vilkårene"
    );
    assert_eq!(
        decisions[0]["amount"], 15_000_000,
        "the first decision is kept as made"
    );
    let (_, pool) = app
        .get(
            &format!("/grant-pools/{}?min_position={position}", office.pool),
            &office.admin,
        )
        .await;
    assert_eq!(pool["years"][0]["committed"], 9_000_000);
}

#[tokio::test]
async fn a_hundred_concurrent_decisions_racing_for_the_last_of_a_budget_never_over_commit() {
    let app = spawn_app().await;
    // 1.000.000 øre; 100 applications of 30.000 øre each: 33 fit.
    let office = Office::new(&app, "rolling", 1_000_000, 100_000_000).await;
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(
            office
                .assessed(&app, &format!("Ansøgning {i}"), 30_000)
                .await,
        );
    }
    let decisions = ids.iter().map(|id| {
        let app = &app;
        let chair = &office.chair;
        async move {
            app.post(
                &format!("/grant-applications/{id}/decision"),
                chair,
                &full(30_000),
            )
            .await
        }
    });
    let answers = futures::future::join_all(decisions).await;
    let granted: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 202)
        .map(|(_, body)| body)
        .collect();
    let losers: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 409)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(granted.len(), 33, "{answers:?}");
    assert_eq!(losers.len(), 67, "every other answer is a 409: {answers:?}");
    for loser in &losers {
        let detail = loser["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("budget for 2026 has"), "{loser}");
    }
    let last = granted
        .iter()
        .filter_map(|b| b["position"].as_u64())
        .max()
        .expect("positions");
    // Nothing acknowledged is lost: the read model holds exactly the 33, and what is left.
    let (status, list) = app
        .get(
            &format!(
                "/grant-applications?pool_id={}&status=decided&limit=200&min_position={last}",
                office.pool
            ),
            &office.auditor,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(33));
    let (_, pool) = app
        .get(&format!("/grant-pools/{}", office.pool), &office.auditor)
        .await;
    assert_eq!(
        pool["years"][0],
        json!({ "year": 2026, "budget": 1_000_000, "committed": 990_000, "available": 10_000 })
    );
}

#[tokio::test]
async fn a_grant_is_paid_in_instalments_reported_on_and_an_overdue_report_blocks_the_next_grant() {
    let app = spawn_app().await;
    let office = Office::new(&app, "rolling", 30_000_000, 10_000_000).await;
    let organisation = app.organisation(&office.caseworker, "Æblehaven").await;
    let applicant = app.party_token(
        "rodovre",
        Party::Organisation(organisation.parse().expect("uuid")),
    );
    // A period that ended long ago: the final report was due 2025-04-30.
    let mut content = application_content("Sommerlejr 2025", 3_000_000);
    content["period_from"] = json!("2025-01-01");
    content["period_to"] = json!("2025-01-31");
    let apply = |content: Value, pool: &str| json!({ "pool_id": pool, "applicant_kind": "association", "content": content });
    let (status, created) = app
        .post(
            "/grant-applications",
            &applicant,
            &apply(content, &office.pool),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    for (step, body) in [
        ("submit", json!(null)),
        ("assessments", assessment(3_000_000)),
    ] {
        let token = if step == "submit" {
            &applicant
        } else {
            &office.caseworker
        };
        app.accepted(&format!("/grant-applications/{id}/{step}"), token, &body)
            .await;
    }
    app.accepted(
        &format!("/grant-applications/{id}/decision"),
        &office.chair,
        &full(3_000_000),
    )
    .await;
    // Paid in two instalments, never more than granted.
    let pay =
        |amount: i64| json!({ "amount": amount, "paid_on": "2025-02-01", "reference": "Bilag 17" });
    let payments = format!("/grant-applications/{id}/payments");
    app.accepted(&payments, &office.caseworker, &pay(2_000_000))
        .await;
    let (status, answer) = app
        .post(&payments, &office.caseworker, &pay(1_000_001))
        .await;
    assert_eq!(status, 409, "{answer}");
    let paid = app
        .accepted(&payments, &office.caseworker, &pay(1_000_000))
        .await;
    let overdue = case(&app, &office.caseworker, &id, paid).await;
    assert_eq!(overdue["paid"], 3_000_000);
    assert_eq!(overdue["report_overdue"], true);
    assert_eq!(overdue["waiting_for"], "final_report");
    assert_eq!(overdue["payments"].as_array().map(Vec::len), Some(2));
    let (_, listed) = app
        .get(
            &format!("/grant-applications?report_overdue=true&min_position={paid}"),
            &office.auditor,
        )
        .await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    // No new grant while it is overdue, from another pool either (read from the read model).
    let other = Office::new(&app, "rolling", 30_000_000, 10_000_000).await;
    let (status, created) = app
        .post(
            "/grant-applications",
            &applicant,
            &apply(application_content("Vinterlejr", 1_000_000), &other.pool),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let next = created["id"].as_str().expect("id").to_string();
    app.accepted(
        &format!("/grant-applications/{next}/submit"),
        &applicant,
        &json!(null),
    )
    .await;
    app.accepted(
        &format!("/grant-applications/{next}/assessments"),
        &other.caseworker,
        &assessment(1_000_000),
    )
    .await;
    let before = app.appended().await;
    let (status, answer) = app
        .post(
            &format!("/grant-applications/{next}/decision"),
            &other.chair,
            &full(1_000_000),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("2025-04-30")),
        "{answer}"
    );
    assert_eq!(app.appended().await, before);

    // The report: 25.000 kr. spent of 30.000 kr. (above 20.000 kr., so audited accounts).
    let report = format!("/grant-applications/{id}/final-report");
    let unaudited = json!({ "spent": 2_500_000, "narrative": "40 børn på lejr", "audited": false });
    let (status, answer) = app.post(&report, &applicant, &unaudited).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "audited");
    let audited = json!({ "spent": 2_500_000, "narrative": "40 børn på lejr", "audited": true });
    let received = app.accepted(&report, &applicant, &audited).await;
    app.projected(received).await;
    let approved = app
        .accepted(
            &format!("/grant-applications/{id}/final-report/approval"),
            &office.caseworker,
            &json!(null),
        )
        .await;
    let reported = case(&app, &office.caseworker, &id, approved).await;
    assert_eq!(reported["report_overdue"], false);
    assert_eq!(reported["repayment_due"], 500_000);
    assert_eq!(reported["waiting_for"], "repayment");
    let repaid = app
        .accepted(
            &format!("/grant-applications/{id}/repayments"),
            &office.caseworker,
            &json!({ "amount": 500_000, "paid_on": "2025-06-01", "reference": "Indbetaling 3" }),
        )
        .await;
    assert_eq!(
        case(&app, &office.caseworker, &id, repaid).await["waiting_for"],
        Value::Null
    );
    // Received: the next grant is made.
    app.accepted(
        &format!("/grant-applications/{next}/decision"),
        &other.chair,
        &full(1_000_000),
    )
    .await;
}

#[tokio::test]
async fn a_case_is_exported_as_it_stood_on_any_day_and_the_stdlib_verifier_checks_its_signed_chain()
{
    let app = spawn_app().await;
    let office = Office::new(&app, "rolling", 30_000_000, 10_000_000).await;
    let id = office.assessed(&app, "Strikkecafé", 2_000_000).await;
    let before_decision = Utc::now();
    let decided = app
        .accepted(
            &format!("/grant-applications/{id}/decision"),
            &office.chair,
            &full(2_000_000),
        )
        .await;
    let (status, export) = app
        .get(
            &format!("/grant-applications/{id}/audit?min_position={decided}"),
            &office.auditor,
        )
        .await;
    assert_eq!(status, 200, "{export}");
    let types: Vec<&str> = export["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["event_type"].as_str())
        .collect();
    assert!(
        types.contains(&"dk.samskab.grant_pool.decided.v1"),
        "{types:?}"
    );
    assert!(
        types.contains(&"dk.samskab.grant_application.submitted.v1"),
        "{types:?}"
    );
    // No third party's personal data: the contact person is nowhere in it.
    assert!(!export.to_string().contains("Birte Skov"), "{export}");
    // The verifier that needs no samskab code checks it, and refuses it tampered with.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("export.json");
    std::fs::write(&file, export.to_string()).expect("write");
    let script = samskab_testkit::repo_root().join("deploy/audit/verify_export.py");
    let verified = std::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
        .expect("python3");
    assert!(
        verified.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    let tampered = export
        .to_string()
        .replace("\"amount\":2000000", "\"amount\":2000001");
    assert_ne!(
        tampered,
        export.to_string(),
        "the decision's amount is in the export"
    );
    std::fs::write(&file, tampered).expect("write");
    let refused = std::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
        .expect("python3");
    assert!(!refused.status.success());
    // As it stood before the decision: no decision in it.
    let as_of = before_decision.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (status, earlier) = app
        .get(
            &format!(
                "/grant-applications/{id}/audit?as_of={}",
                as_of.replace('+', "%2B")
            ),
            &office.auditor,
        )
        .await;
    assert_eq!(status, 200, "{earlier}");
    assert!(
        !earlier.to_string().contains("grant_pool.decided"),
        "{earlier}"
    );
    // The same as a CSV and a printable case file.
    for (format, content_type, decided) in [
        ("csv", "text/csv", "grant_pool.decided"),
        ("html", "text/html", "Afgørelse truffet"),
    ] {
        let response = app
            .http
            .get(app.url(&format!("/grant-applications/{id}/audit?format={format}")))
            .bearer_auth(&office.auditor)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        let header = response.headers()["content-type"]
            .to_str()
            .expect("type")
            .to_string();
        assert!(header.starts_with(content_type), "{header}");
        let body = response.text().await.expect("body");
        assert!(body.contains(decided), "{format}: {body}");
    }
    // The pool's year.
    let (status, year) = app
        .get(
            &format!("/grant-pools/{}/audit?year=2026", office.pool),
            &office.auditor,
        )
        .await;
    assert_eq!(status, 200, "{year}");
    assert!(year.to_string().contains("budget_changed"), "{year}");
}

#[tokio::test]
async fn a_partnership_agreement_is_granted_for_three_years_each_reserved_against_its_budget() {
    let app = spawn_app().await;
    let office = Office::new(&app, "partnership", 100_000_000, 100_000_000).await;
    for year in [2027, 2028] {
        app.accepted(
            &format!("/grant-pools/{}/budget", office.pool),
            &office.admin,
            &json!({ "year": year, "amount": 15_000_000, "reason": "Partnerskaber" }),
        )
        .await;
    }
    // 100.000 kr. a year, for 2026–2028: 2027 and 2028 have 150.000 kr. each.
    let id = office.assessed(&app, "Ressourceperson", 10_000_000).await;
    let years = json!([
        { "year": 2026, "amount": 10_000_000 },
        { "year": 2027, "amount": 10_000_000 },
        { "year": 2028, "amount": 10_000_000 },
    ]);
    let agreement = json!({
        "outcome": "full", "amount": 30_000_000, "year": 2026, "years": years,
        "duties": "En ressourceperson 10-12 timer om ugen",
    });
    let decided = app
        .accepted(
            &format!("/grant-applications/{id}/decision"),
            &office.chair,
            &agreement,
        )
        .await;
    let (_, pool) = app
        .get(
            &format!("/grant-pools/{}?min_position={decided}", office.pool),
            &office.auditor,
        )
        .await;
    let committed: Vec<_> = pool["years"]
        .as_array()
        .expect("years")
        .iter()
        .map(|y| (y["year"].clone(), y["committed"].clone()))
        .collect();
    assert_eq!(
        committed,
        vec![
            (json!(2026), json!(10_000_000)),
            (json!(2027), json!(10_000_000)),
            (json!(2028), json!(10_000_000)),
        ]
    );
    let decision = &case(&app, &office.auditor, &id, decided).await["decisions"][0];
    assert_eq!(decision["years"], years);
    assert_eq!(decision["duties"], "En ressourceperson 10-12 timer om ugen");
    // A second agreement over the same years finds 2027 short (150.000 − 100.000 kr. left).
    let second = office.assessed(&app, "Endnu en", 10_000_000).await;
    let before = app.appended().await;
    let (status, answer) = app
        .post(
            &format!("/grant-applications/{second}/decision"),
            &office.chair,
            &agreement,
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("budget for 2027 has 50.000,00 kr. left")),
        "{answer}"
    );
    assert_eq!(app.appended().await, before);
}

#[tokio::test]
async fn an_applicant_is_forgotten_at_once_from_a_draft_and_from_a_case_only_once_it_need_not_be_kept()
 {
    let app = spawn_app().await;
    let office = Office::new(&app, "rolling", 30_000_000, 10_000_000).await;
    let name = "Birte Glemmesen-Skov";
    let email = "birte.glemmesen@example.dk";
    let mut body = group_application_body(&office.pool, "Strikkecafé i Islev", 500_000, name);
    body["content"]["applicant_email"] = json!(email);
    let (status, drafted) = app
        .post("/grant-applications", &office.caseworker, &body)
        .await;
    assert_eq!(status, 201, "{drafted}");
    let draft = drafted["id"].as_str().expect("id").to_string();
    crate::privacy::until_on_disk(&app, &drafted["event_ids"][0]).await;
    assert!(
        app.nats
            .files_containing(name.as_bytes())
            .expect("search")
            .is_empty(),
        "the applicant is sealed in the log from the first event"
    );

    // Exported (GDPR art. 15) with the name, and forgotten: a draft is no case.
    let (status, export) = app
        .get(
            &format!("/grant-applications/{draft}/export"),
            &office.caseworker,
        )
        .await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["application"]["personal"]["name"], name, "{export}");
    let forget = format!("/grant-applications/{draft}/forget");
    let position = app
        .accepted(&forget, &office.caseworker, &json!(null))
        .await;
    let forgotten = case(&app, &office.caseworker, &draft, position).await;
    assert_eq!(forgotten["applicant_name"], Value::Null, "{forgotten}");
    assert_eq!(forgotten["applicant_email"], Value::Null);
    assert!(forgotten["forgotten_at"].is_string(), "{forgotten}");
    assert_eq!(
        forgotten["waiting_for"],
        Value::Null,
        "nothing waits on a forgotten draft"
    );
    assert_eq!(forgotten["amount_requested"], 500_000, "the figures stay");
    let (status, refused) = app
        .post(
            &format!("/grant-applications/{draft}/submit"),
            &office.caseworker,
            &json!(null),
        )
        .await;
    assert_eq!(
        status, 409,
        "a forgotten application changes no more: {refused}"
    );
    let (_, export) = app
        .get(
            &format!("/grant-applications/{draft}/export"),
            &office.caseworker,
        )
        .await;
    assert!(!export.to_string().contains(name), "{export}");
    // A repeat is harmless.
    app.accepted(&forget, &office.caseworker, &json!(null))
        .await;

    // A submitted case is kept while it is open, and once refused until the end of the fifth
    // year after: the 409 says until when, and nothing is appended.
    let case_id = office.assessed(&app, "Lektiecafé", 400_000).await;
    let case_forget = format!("/grant-applications/{case_id}/forget");
    let before = app.appended().await;
    let (status, open) = app
        .post(&case_forget, &office.caseworker, &json!(null))
        .await;
    assert_eq!(status, 409, "{open}");
    assert!(
        open["detail"]
            .as_str()
            .is_some_and(|d| d.contains("is open")),
        "{open}"
    );
    let refusal = json!({
        "outcome": "refused", "amount": 0, "year": 2026,
        "justification": "Aktiviteten ligger uden for puljens formål.",
    });
    app.accepted(
        &format!("/grant-applications/{case_id}/decision"),
        &office.chair,
        &refusal,
    )
    .await;
    let kept_until = format!("{}-12-31", chrono::Datelike::year(&Utc::now()) + 5);
    let decided = app.appended().await;
    let (status, kept) = app
        .post(&case_forget, &office.caseworker, &json!(null))
        .await;
    assert_eq!(status, 409, "{kept}");
    assert!(
        kept["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&kept_until)),
        "{kept} names {kept_until}"
    );
    assert_eq!(
        app.appended().await,
        decided,
        "a refused forget appends nothing"
    );
    assert!(decided > before);
    // Its export holds the pool's decision on it beside its own events.
    let (_, export) = app
        .get(
            &format!("/grant-applications/{case_id}/export"),
            &office.caseworker,
        )
        .await;
    let case_events: Vec<&str> = export["case_events"]
        .as_array()
        .expect("case events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        case_events,
        ["dk.samskab.grant_pool.decided.v1"],
        "{export}"
    );
    assert_eq!(export["versions"][0]["personal"]["name"], "Birte Skov");
    // Only a case worker forgets or exports.
    let (status, _) = app.post(&case_forget, &office.chair, &json!(null)).await;
    assert_eq!(status, 403);

    // After a rebuild the forgotten applicant is still nowhere, the kept one is there.
    app.rebuild_all().await;
    let (_, rebuilt) = app
        .get(&format!("/grant-applications/{draft}"), &office.caseworker)
        .await;
    assert_eq!(rebuilt["applicant_name"], Value::Null, "{rebuilt}");
    assert!(rebuilt["forgotten_at"].is_string());
    let (_, kept) = app
        .get(
            &format!("/grant-applications/{case_id}"),
            &office.caseworker,
        )
        .await;
    assert_eq!(kept["applicant_name"], "Birte Skov");
    for needle in [name, email] {
        assert_eq!(
            crate::privacy::tables_containing(&app.pool, needle).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
}
