//! Grant cases: an application to a pool, drafted, submitted and amended by the applicant (an
//! association's own token, or a case worker for an informal group or a person), assessed by a
//! case worker, decided by a committee member (and above the pool's threshold approved by a
//! second), reopened by a complaint. The application's content is its own entity's
//! (`grant_application`); the decision, its approval, a complaint and a withdrawal are the
//! pool's, because they commit its money (see `samskab_domain::grant_pool`). Each handler reads
//! what the rule needs from both logs, and the decider of the entity it changes decides.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use samskab_domain::calendar::danish_date;
use samskab_domain::grant_application::SubmissionWindow;
use samskab_domain::{
    Amount, ApplicantKind, ApplicantPersonalData, ApplicationContent, ApplicationDraft, BudgetLine,
    Contact, CriterionKey, CriterionScore, DecisionTerms, Email, GrantApplication,
    GrantApplicationCommand, GrantApplicationId, GrantApplicationState, GrantOutcome, GrantPool,
    GrantPoolCommand, GrantPoolId, GrantRoundId, GrantText, GrantTitle, Justification, Name,
    OrganisationId, Phone, PoolKind, PoolLedger, StaffMember, YearlyAmount,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::access;
use crate::auth::Principal;
use crate::body::{JsonBody, whole};
use crate::commands::{CommandAccepted, CommandRequest, NO_BODY, domain_error};
use crate::fields::FieldCheck;
use crate::ownership;
use crate::problem::ApiError;
use crate::read::{
    Consistency, GRANTS, Page, QueryParams, check_filter, check_limit, page, wait_for,
};
use crate::routes::grant_pools::{YEARS, staff_member};
use crate::routes::{EntityId, current, municipality_or_organisation};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(draft_application, list_applications))
        .routes(routes!(get_application, update_draft))
        .routes(routes!(submit_application))
        .routes(routes!(amend_application))
        .routes(routes!(withdraw_application))
        .routes(routes!(assess_application))
        .routes(routes!(request_second_assessment))
        .routes(routes!(decide_application))
        .routes(routes!(approve_decision))
        .routes(routes!(complain))
        .routes(routes!(record_payment))
        .routes(routes!(receive_final_report))
        .routes(routes!(approve_final_report))
        .routes(routes!(record_repayment))
        .routes(routes!(list_versions))
}

/// One line of the applicant's budget.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetLineInput {
    #[schema(schema_with = schema::grant_title)]
    pub text: String,
    /// In øre.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000_000i64)]
    pub amount: i64,
}

/// What is applied for, and (for an informal group or a person) who applies. Personal data:
/// `applicant_name`, `applicant_email`, `applicant_phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationContentInput {
    /// An informal group's name; for an informal group only.
    #[serde(default)]
    #[schema(schema_with = schema::grant_title_or_null)]
    pub group_name: Option<String>,
    /// The person applying, or an informal group's contact person; none for an association
    /// (its contact is the organisation's). Personal data.
    #[serde(default)]
    #[schema(schema_with = schema::name_or_null)]
    pub applicant_name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::email_or_null)]
    pub applicant_email: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::phone_or_null)]
    pub applicant_phone: Option<String>,
    #[schema(schema_with = schema::grant_title)]
    pub title: String,
    #[schema(schema_with = schema::grant_text)]
    pub purpose: String,
    #[schema(schema_with = schema::grant_text)]
    pub activities: String,
    #[schema(schema_with = schema::grant_text)]
    pub target_group: String,
    /// In 2000 to 2100.
    pub period_from: NaiveDate,
    /// On or after `period_from`, in 2000 to 2100.
    pub period_to: NaiveDate,
    /// Applied for, in øre: more than 0.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 1, maximum = 1_000_000_000_000i64)]
    pub amount_requested: i64,
    /// 1 to 50 lines that add up to `amount_requested` plus `co_funding`.
    #[schema(min_items = 1, max_items = 50)]
    pub budget_lines: Vec<BudgetLineInput>,
    #[serde(deserialize_with = "whole::u32")]
    #[schema(value_type = u32, minimum = 0, maximum = 100000)]
    pub expected_volunteers: u32,
    #[serde(deserialize_with = "whole::u32")]
    #[schema(value_type = u32, minimum = 0, maximum = 1000000)]
    pub expected_participants: u32,
    /// Money from elsewhere, in øre.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000_000i64)]
    pub co_funding: i64,
}

/// A new application (a draft) to a pool.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    /// A pool of the caller's municipality that takes applications from `applicant_kind`.
    pub pool_id: Uuid,
    /// The round applied in (a pool in rounds); absent or null: the round open when the
    /// application is submitted.
    #[serde(default)]
    pub round_id: Option<Uuid>,
    #[schema(schema_with = schema::applicant_kind)]
    pub applicant_kind: String,
    /// The association applying: registered and active in the caller's municipality. An
    /// organisation's token applies as itself (absent or null means itself).
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    pub content: ApplicationContentInput,
}

/// Bounds that keep a typo from becoming a statistic (the document states them too).
const MAX_EXPECTED_VOLUNTEERS: u32 = 100_000;
const MAX_EXPECTED_PARTICIPANTS: u32 = 1_000_000;

struct ParsedContent {
    content: ApplicationContent,
    group_name: Option<GrantTitle>,
    personal: Option<ApplicantPersonalData>,
}

fn parse_content(input: &ApplicationContentInput) -> Result<ParsedContent, ApiError> {
    let mut f = FieldCheck::default();
    let group_name = f.check(
        "content.group_name",
        GrantTitle::parse_optional(input.group_name.as_deref()),
    );
    let name = f.optional(
        "content.applicant_name",
        input.applicant_name.as_deref(),
        Name::parse,
    );
    let email = f.optional(
        "content.applicant_email",
        input.applicant_email.as_deref(),
        Email::parse,
    );
    let phone = f.optional(
        "content.applicant_phone",
        input.applicant_phone.as_deref(),
        Phone::parse,
    );
    let title = f.check("content.title", GrantTitle::parse(&input.title));
    let purpose = f.check("content.purpose", GrantText::parse(&input.purpose));
    let activities = f.check("content.activities", GrantText::parse(&input.activities));
    let target_group = f.check(
        "content.target_group",
        GrantText::parse(&input.target_group),
    );
    for (field, day) in [
        ("content.period_from", input.period_from),
        ("content.period_to", input.period_to),
    ] {
        if !YEARS.contains(&chrono::Datelike::year(&day)) {
            f.fail(field, "must be in 2000 to 2100");
        }
    }
    if input.expected_volunteers > MAX_EXPECTED_VOLUNTEERS {
        f.fail(
            "content.expected_volunteers",
            format!("must be at most {MAX_EXPECTED_VOLUNTEERS}"),
        );
    }
    if input.expected_participants > MAX_EXPECTED_PARTICIPANTS {
        f.fail(
            "content.expected_participants",
            format!("must be at most {MAX_EXPECTED_PARTICIPANTS}"),
        );
    }
    let amount_requested = f.check(
        "content.amount_requested",
        Amount::from_ore(input.amount_requested),
    );
    let co_funding = f.check("content.co_funding", Amount::from_ore(input.co_funding));
    let mut budget_lines = Vec::new();
    for (i, line) in input.budget_lines.iter().enumerate() {
        let text = f.check(
            &format!("content.budget_lines[{i}].text"),
            GrantTitle::parse(&line.text),
        );
        let amount = f.check(
            &format!("content.budget_lines[{i}].amount"),
            Amount::from_ore(line.amount),
        );
        if let (Some(text), Some(amount)) = (text, amount) {
            budget_lines.push(BudgetLine { text, amount });
        }
    }
    f.finish()?;
    let (
        Some(group_name),
        Some(name),
        Some(email),
        Some(phone),
        Some(title),
        Some(purpose),
        Some(activities),
        Some(target_group),
        Some(amount_requested),
        Some(co_funding),
    ) = (
        group_name,
        name,
        email,
        phone,
        title,
        purpose,
        activities,
        target_group,
        amount_requested,
        co_funding,
    )
    else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let personal = match name {
        Some(name) => Some(ApplicantPersonalData {
            name,
            contact: Contact::parse(email, phone, None).ok(),
        }),
        None if email.is_some() || phone.is_some() => {
            return Err(ApiError::invalid(
                "content.applicant_name",
                "name the person the e-mail or phone reaches",
            ));
        }
        None => None,
    };
    Ok(ParsedContent {
        content: ApplicationContent {
            title,
            purpose,
            activities,
            target_group,
            period_from: input.period_from,
            period_to: input.period_to,
            amount_requested,
            budget_lines,
            expected_volunteers: input.expected_volunteers,
            expected_participants: input.expected_participants,
            co_funding,
        },
        group_name,
        personal,
    })
}

/// The pool of the caller's municipality, as its log has it now; `field` names where the
/// request named it (a pool that does not exist is that field's 422, or the path's 404).
async fn pool_ledger(
    state: &AppState,
    principal: &Principal,
    pool: GrantPoolId,
) -> Result<Option<PoolLedger>, ApiError> {
    Ok(current::<GrantPool>(state, principal, pool.as_uuid())
        .await?
        .ledger()
        .cloned())
}

/// The application the path names, as its log has it, and its pool's ledger.
pub(crate) async fn case_of(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<(GrantApplicationState, PoolLedger), ApiError> {
    let application = current::<GrantApplication>(state, principal, id).await?;
    let Some(draft) = application.draft() else {
        return Err(ApiError::NotFound);
    };
    let ledger = pool_ledger(state, principal, draft.pool)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("an application names no pool")))?;
    Ok((application, ledger))
}

/// Start an application to a pool, as a draft: changed with `PUT`, then submitted.
#[utoipa::path(post, path = "/grant-applications", tag = "grants", request_body = ApplicationInput,
    responses((status = 201, body = CommandAccepted)), security(("bearer" = [])))]
async fn draft_application(
    State(state): State<AppState>,
    cmd: CommandRequest,
    body: JsonBody<ApplicationInput>,
) -> Result<Response, ApiError> {
    let input = &body.value;
    let kind = ApplicantKind::parse(&input.applicant_kind)
        .map_err(|e| ApiError::invalid("applicant_kind", e.0))?;
    let parsed = parse_content(&input.content)?;
    // An organisation's token applies as itself, an association.
    let organisation = match cmd.principal.organisation() {
        Some(me) => {
            if kind != ApplicantKind::Association {
                return Err(ApiError::Forbidden(
                    "an organisation's token applies as its own association",
                ));
            }
            ownership::check_own_name(
                &cmd.principal,
                input.organisation_id.or(Some(me)),
                "an organisation's token applies in its own name only",
            )?;
            Some(me)
        }
        None => input.organisation_id,
    };
    let pool_id = GrantPoolId::from(input.pool_id);
    let Some(ledger) = pool_ledger(&state, &cmd.principal, pool_id).await? else {
        return Err(ApiError::invalid("pool_id", "no such grant pool"));
    };
    let details = ledger.details().map_err(domain_error)?;
    if !details.accepts(kind) {
        return Err(ApiError::invalid(
            "applicant_kind",
            format!("the pool does not take applications from a {kind}"),
        ));
    }
    let round = input.round_id.map(GrantRoundId::from);
    if round.is_some() {
        ledger.submission_window(round).map_err(domain_error)?;
    }
    if let Some(organisation) = organisation {
        let active = municipality_or_organisation(
            &state,
            &cmd.principal,
            Some(organisation),
            "the organisation is deactivated and cannot apply",
        )
        .await;
        match active {
            // Its own token speaks for an organisation that may no longer act: refused, like
            // a token for something that is not its own (a case worker naming it gets the
            // field's reason).
            Err(ApiError::Invalid(_)) if cmd.principal.organisation().is_some() => {
                return Err(ApiError::Forbidden(
                    "a deactivated organisation's token can no longer apply",
                ));
            }
            other => {
                other?;
            }
        }
    }
    let id = GrantApplicationId::from(cmd.new_id::<GrantApplication>());
    let draft = ApplicationDraft {
        id,
        pool: pool_id,
        round,
        applicant_kind: kind,
        organisation: organisation.map(OrganisationId::from),
        group_name: parsed.group_name,
        content: parsed.content,
        personal: parsed.personal,
    };
    cmd.create::<GrantApplication>(id, &body.digest, GrantApplicationCommand::Draft(draft))
        .await
}

/// Change a draft (the whole content; who applies, to which pool, stays).
#[utoipa::path(put, path = "/grant-applications/{id}", tag = "grants",
    request_body = ApplicationContentInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn update_draft(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<ApplicationContentInput>,
) -> Result<Response, ApiError> {
    let parsed = parse_content(&body.value)?;
    let command = GrantApplicationCommand::UpdateDraft {
        content: parsed.content,
        group_name: parsed.group_name,
        personal: parsed.personal,
    };
    cmd.change::<GrantApplication>(GrantApplicationId::from(id), &body.digest, command)
        .await
}

/// The round a submission goes to, and its window: the round the draft names, or (a pool in
/// rounds) the one open now; none for a pool without rounds.
fn submission_round(
    ledger: &PoolLedger,
    named: Option<GrantRoundId>,
    now: DateTime<Utc>,
) -> Result<(Option<GrantRoundId>, SubmissionWindow), ApiError> {
    let details = ledger.details().map_err(domain_error)?;
    if named.is_none() && details.kind == PoolKind::Rounds {
        let open = ledger
            .rounds
            .iter()
            .find(|r| r.opens_at <= now && now <= r.deadline);
        return match open {
            Some(r) => Ok((Some(r.round), Some((r.opens_at, r.deadline)))),
            None => Err(ApiError::Conflict(
                "no application round of the pool is open now".into(),
            )),
        };
    }
    let window = ledger.submission_window(named).map_err(domain_error)?;
    Ok((named, window))
}

/// Submit the draft (version 1): in its round's window, or the round open now.
#[utoipa::path(post, path = "/grant-applications/{id}/submit", tag = "grants",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn submit_application(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    let (application, ledger) = case_of(&state, &cmd.principal, id).await?;
    let now = Utc::now();
    let command = match &application {
        GrantApplicationState::Draft(draft) => {
            let (round, window) = submission_round(&ledger, draft.round, now)?;
            GrantApplicationCommand::Submit {
                round,
                window,
                at: now,
            }
        }
        // Submitted already: the decider answers that nothing changes.
        _ => GrantApplicationCommand::Submit {
            round: application.draft().and_then(|d| d.round),
            window: None,
            at: now,
        },
    };
    cmd.change::<GrantApplication>(GrantApplicationId::from(id), NO_BODY, command)
        .await
}

/// A new version of a submitted application while its round is open and it is not decided
/// (every version is kept: `GET /grant-applications/{id}/versions`).
#[utoipa::path(post, path = "/grant-applications/{id}/amend", tag = "grants",
    request_body = ApplicationContentInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn amend_application(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<ApplicationContentInput>,
) -> Result<Response, ApiError> {
    let parsed = parse_content(&body.value)?;
    let (application, ledger) = case_of(&state, &cmd.principal, id).await?;
    let application_id = GrantApplicationId::from(id);
    ledger
        .check_case_open(application_id, false)
        .map_err(domain_error)?;
    let round = application.draft().and_then(|d| d.round);
    let window = match round {
        Some(_) => ledger.submission_window(round).map_err(domain_error)?,
        None => None,
    };
    let command = GrantApplicationCommand::Amend {
        content: parsed.content,
        group_name: parsed.group_name,
        personal: parsed.personal,
        window,
        at: Utc::now(),
    };
    cmd.change::<GrantApplication>(application_id, &body.digest, command)
        .await
}

/// Withdraw a submitted application before it is decided. Recorded by the pool, whose
/// decisions it comes before.
#[utoipa::path(post, path = "/grant-applications/{id}/withdraw", tag = "grants",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn withdraw_application(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    let (application, ledger) = case_of(&state, &cmd.principal, id).await?;
    let (Some(case), Some(details)) = (application.facts(), ledger.details.as_ref()) else {
        return Err(ApiError::NotFound);
    };
    let command = GrantPoolCommand::Withdraw {
        case,
        by: staff_member(&cmd.principal)?,
        at: Utc::now(),
    };
    cmd.change::<GrantPool>(details.id, NO_BODY, command).await
}

/// A score of one criterion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreInput {
    /// A criterion of the pool.
    #[schema(schema_with = schema::criterion_key)]
    pub criterion: String,
    /// 0 (not met) to 5 (fully met).
    #[serde(deserialize_with = "whole::u8")]
    #[schema(value_type = u8, minimum = 0, maximum = 5)]
    pub score: u8,
    #[serde(default)]
    #[schema(schema_with = schema::grant_text_or_null)]
    pub note: Option<String>,
}

/// A case worker's assessment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    /// Each of the pool's criteria scored once.
    #[schema(max_items = 12)]
    pub scores: Vec<ScoreInput>,
    /// The amount recommended, in øre: at most the amount applied for.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000_000i64)]
    pub recommended: i64,
    #[serde(default)]
    #[schema(schema_with = schema::grant_text_or_null)]
    pub note: Option<String>,
}

/// Assess a submitted application: a score per criterion with notes, and a recommended amount.
/// Not by someone who declared a conflict of interest with the applicant; a second assessor
/// only after a second assessment was asked for. An assessor's new assessment replaces theirs.
#[utoipa::path(post, path = "/grant-applications/{id}/assessments", tag = "grants",
    request_body = AssessmentInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn assess_application(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<AssessmentInput>,
) -> Result<Response, ApiError> {
    let input = &body.value;
    let mut f = FieldCheck::default();
    let mut scores = Vec::new();
    for (i, s) in input.scores.iter().enumerate() {
        let criterion = f.check(
            &format!("scores[{i}].criterion"),
            CriterionKey::parse(&s.criterion),
        );
        let note = f.check(
            &format!("scores[{i}].note"),
            GrantText::parse_optional(s.note.as_deref()),
        );
        if let (Some(criterion), Some(note)) = (criterion, note) {
            scores.push(CriterionScore {
                criterion,
                score: s.score,
                note,
            });
        }
    }
    let recommended = f.check("recommended", Amount::from_ore(input.recommended));
    let note = f.check("note", GrantText::parse_optional(input.note.as_deref()));
    f.finish()?;
    let (Some(recommended), Some(note)) = (recommended, note) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let (application, ledger) = case_of(&state, &cmd.principal, id).await?;
    let application_id = GrantApplicationId::from(id);
    let assessor = staff_member(&cmd.principal)?;
    let (Some(facts), Some(details)) = (application.facts(), ledger.details.as_ref()) else {
        return Err(ApiError::NotFound);
    };
    ledger
        .check_not_conflicted(&assessor, facts.applicant)
        .map_err(domain_error)?;
    ledger
        .check_case_open(application_id, true)
        .map_err(domain_error)?;
    let command = GrantApplicationCommand::Assess {
        assessor,
        criteria: details.criteria.clone(),
        scores,
        recommended,
        note,
        at: Utc::now(),
    };
    cmd.change::<GrantApplication>(application_id, &body.digest, command)
        .await
}

/// Why a second assessment, a complaint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[schema(schema_with = schema::justification)]
    pub reason: String,
}

/// Ask for a second assessment (by another case worker). Asking again changes nothing.
#[utoipa::path(post, path = "/grant-applications/{id}/second-assessment", tag = "grants",
    request_body = ReasonInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn request_second_assessment(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<ReasonInput>,
) -> Result<Response, ApiError> {
    let reason =
        Justification::parse(&body.value.reason).map_err(|e| ApiError::invalid("reason", e.0))?;
    let (_, ledger) = case_of(&state, &cmd.principal, id).await?;
    let application_id = GrantApplicationId::from(id);
    ledger
        .check_case_open(application_id, true)
        .map_err(domain_error)?;
    let command = GrantApplicationCommand::RequestSecondAssessment {
        by: staff_member(&cmd.principal)?,
        reason,
        at: Utc::now(),
    };
    cmd.change::<GrantApplication>(application_id, &body.digest, command)
        .await
}

/// A decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `full` (the amount applied for), `partial` (more than 0, less than applied for) or
    /// `refused` (0).
    #[schema(schema_with = schema::grant_outcome)]
    pub outcome: String,
    /// Granted, in øre.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000_000i64)]
    pub amount: i64,
    /// The budget year it is granted from: one the pool has a budget for.
    #[serde(deserialize_with = "whole::u16")]
    #[schema(value_type = u16, minimum = 2000, maximum = 2100)]
    pub year: u16,
    /// The justification (begrundelse): required for `partial` and `refused`.
    #[serde(default)]
    #[schema(schema_with = schema::justification_or_null)]
    pub justification: Option<String>,
    /// A partnership pool's multi-year agreement: 2 to 5 consecutive years from `year`, each
    /// with its amount (at most the amount applied for, which is a year's), reserved against
    /// each year's budget; `amount` is their sum. Absent or empty for any other grant and for
    /// a refusal.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub years: Vec<YearAmountInput>,
    /// What the grantee undertakes ("en ressourceperson 10-12 timer om ugen"); blank or null
    /// for nothing.
    #[serde(default)]
    #[schema(schema_with = schema::grant_text_or_null)]
    pub duties: Option<String>,
}

/// One year of a multi-year agreement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearAmountInput {
    #[serde(deserialize_with = "whole::u16")]
    #[schema(value_type = u16, minimum = 2000, maximum = 2100)]
    pub year: u16,
    /// In øre.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000_000i64)]
    pub amount: i64,
}

/// Decide an assessed application, on its latest submitted version: the pool's budget of the
/// year is never over-committed (409 with what is left). Above the pool's threshold the
/// decision awaits a second approver. Not by someone who declared a conflict of interest.
#[utoipa::path(post, path = "/grant-applications/{id}/decision", tag = "grants",
    request_body = DecisionInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn decide_application(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<DecisionInput>,
) -> Result<Response, ApiError> {
    let input = &body.value;
    let mut f = FieldCheck::default();
    let outcome = f.check("outcome", GrantOutcome::parse(&input.outcome));
    let amount = f.check("amount", Amount::from_ore(input.amount));
    let year = i32::from(input.year);
    if !YEARS.contains(&year) {
        f.fail("year", "must be 2000 to 2100");
    }
    let justification = f.check(
        "justification",
        Justification::parse_optional(input.justification.as_deref()),
    );
    let duties = f.check("duties", GrantText::parse_optional(input.duties.as_deref()));
    let mut years = Vec::new();
    for (i, y) in input.years.iter().enumerate() {
        let year = i32::from(y.year);
        if !YEARS.contains(&year) {
            f.fail(&format!("years[{i}].year"), "must be 2000 to 2100");
        }
        if let Some(amount) = f.check(&format!("years[{i}].amount"), Amount::from_ore(y.amount)) {
            years.push(YearlyAmount { year, amount });
        }
    }
    f.finish()?;
    let (Some(outcome), Some(amount), Some(justification), Some(duties)) =
        (outcome, amount, justification, duties)
    else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let application = current::<GrantApplication>(&state, &cmd.principal, id).await?;
    let (Some(case), Some(draft)) = (application.facts(), application.draft()) else {
        return Err(ApiError::NotFound);
    };
    let now = Utc::now();
    let today = danish_date(now);
    let overdue_elsewhere = match draft.organisation {
        Some(organisation) => {
            overdue_in_other_pools(&state, &cmd.principal, organisation, draft.pool, today).await?
        }
        None => None,
    };
    let command = GrantPoolCommand::Decide {
        case,
        terms: DecisionTerms {
            outcome,
            amount,
            year,
            years,
            justification,
            duties,
        },
        by: staff_member(&cmd.principal)?,
        at: now,
        today,
        overdue_elsewhere,
    };
    cmd.change::<GrantPool>(draft.pool, &body.digest, command)
        .await
}

/// The due day of a final report `organisation` has overdue in another pool of the
/// municipality (the pool decided on checks its own ledger), from the grants read model: what
/// it showed a moment ago is what the applicant and the case worker saw too.
async fn overdue_in_other_pools(
    state: &AppState,
    principal: &Principal,
    organisation: OrganisationId,
    pool: GrantPoolId,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, ApiError> {
    let due: Option<NaiveDate> = sqlx::query_scalar(sqlx::AssertSqlSafe(overdue_sql()))
        .bind(principal.tenant.as_str())
        .bind(organisation.as_uuid())
        .bind(pool.as_uuid())
        .bind(today)
        .fetch_one(&state.pool)
        .await?;
    Ok(due)
}

/// A payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// In øre: more than 0; with what is paid already, at most the grant.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 1, maximum = 1_000_000_000_000i64)]
    pub amount: i64,
    /// The day it was paid: in 2000 or later, not after today (in Denmark).
    pub paid_on: NaiveDate,
    /// The payment's reference in the municipality's accounts.
    #[schema(schema_with = schema::grant_title)]
    pub reference: String,
}

fn parse_payment(input: &PaymentInput) -> Result<(Amount, NaiveDate, GrantTitle), ApiError> {
    let mut f = FieldCheck::default();
    let amount = f.check("amount", Amount::from_ore(input.amount));
    let reference = f.check("reference", GrantTitle::parse(&input.reference));
    if chrono::Datelike::year(&input.paid_on) < *YEARS.start()
        || input.paid_on > danish_date(Utc::now())
    {
        f.fail("paid_on", "must be in 2000 or later and not after today");
    }
    f.finish()?;
    match (amount, reference) {
        (Some(amount), Some(reference)) => Ok((amount, input.paid_on, reference)),
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        ))),
    }
}

/// Record a payment of a final grant (instalments add up to at most the grant).
#[utoipa::path(post, path = "/grant-applications/{id}/payments", tag = "grants",
    request_body = PaymentInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn record_payment(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<PaymentInput>,
) -> Result<Response, ApiError> {
    let (amount, paid_on, reference) = parse_payment(&body.value)?;
    to_pool(&state, cmd, id, &body.digest, |application, by, at| {
        GrantPoolCommand::RecordPayment {
            application,
            amount,
            paid_on,
            reference,
            by,
            at,
        }
    })
    .await
}

/// Record a repayment of what was paid and not spent (after the final report's approval).
#[utoipa::path(post, path = "/grant-applications/{id}/repayments", tag = "grants",
    request_body = PaymentInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn record_repayment(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<PaymentInput>,
) -> Result<Response, ApiError> {
    let (amount, repaid_on, reference) = parse_payment(&body.value)?;
    to_pool(&state, cmd, id, &body.digest, |application, by, at| {
        GrantPoolCommand::RecordRepayment {
            application,
            amount,
            repaid_on,
            reference,
            by,
            at,
        }
    })
    .await
}

/// The final report: the accounts (what was spent) and what was done.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinalReportInput {
    /// Spent of the grant, in øre.
    #[serde(deserialize_with = "whole::ore")]
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000_000_000i64)]
    pub spent: i64,
    #[schema(schema_with = schema::grant_text)]
    pub narrative: String,
    /// The accounts are audited: required for a grant above the pool's
    /// `audited_accounts_above`.
    pub audited: bool,
}

/// Hand in the final report of a grant (received today); a report handed in again replaces
/// it until it is approved.
#[utoipa::path(post, path = "/grant-applications/{id}/final-report", tag = "grants",
    request_body = FinalReportInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn receive_final_report(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<FinalReportInput>,
) -> Result<Response, ApiError> {
    let input = &body.value;
    let mut f = FieldCheck::default();
    let spent = f.check("spent", Amount::from_ore(input.spent));
    let narrative = f.check("narrative", GrantText::parse(&input.narrative));
    f.finish()?;
    let (Some(spent), Some(narrative)) = (spent, narrative) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a field failed without a reason"
        )));
    };
    let audited = input.audited;
    to_pool(&state, cmd, id, &body.digest, |application, by, at| {
        GrantPoolCommand::ReceiveFinalReport {
            application,
            spent,
            narrative,
            audited,
            received_on: danish_date(at),
            by,
            at,
        }
    })
    .await
}

/// Approve the final report: what was paid and not spent is then to be repaid.
#[utoipa::path(post, path = "/grant-applications/{id}/final-report/approval", tag = "grants",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn approve_final_report(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    to_pool(&state, cmd, id, NO_BODY, |application, by, at| {
        GrantPoolCommand::ApproveFinalReport {
            application,
            by,
            at,
        }
    })
    .await
}

/// Approve, as the second approver (neither the one who decided nor an assessor), a decision
/// above the pool's threshold: it is then final.
#[utoipa::path(post, path = "/grant-applications/{id}/decision/approval", tag = "grants",
    params(("id" = Uuid, Path)), responses((status = 202, body = CommandAccepted)),
    security(("bearer" = [])))]
async fn approve_decision(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
) -> Result<Response, ApiError> {
    to_pool(&state, cmd, id, NO_BODY, |application, by, at| {
        GrantPoolCommand::Approve {
            application,
            by,
            at,
        }
    })
    .await
}

/// Record a complaint (klage) about a final decision: it reopens the case, which is decided
/// again; the decision itself is never edited.
#[utoipa::path(post, path = "/grant-applications/{id}/complaint", tag = "grants",
    request_body = ReasonInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn complain(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<ReasonInput>,
) -> Result<Response, ApiError> {
    let reason =
        Justification::parse(&body.value.reason).map_err(|e| ApiError::invalid("reason", e.0))?;
    to_pool(&state, cmd, id, &body.digest, |application, by, at| {
        GrantPoolCommand::Reopen {
            application,
            reason,
            by,
            at,
        }
    })
    .await
}

/// A command to the pool application `id` was made to, about that application, by the caller
/// at the server's time: an approval, a complaint, and what follows a grant. Every one of them
/// is the pool's, because it concerns the pool's money.
async fn to_pool(
    state: &AppState,
    cmd: CommandRequest,
    id: Uuid,
    body_digest: &str,
    command: impl FnOnce(GrantApplicationId, StaffMember, DateTime<Utc>) -> GrantPoolCommand,
) -> Result<Response, ApiError> {
    let pool = pool_of(state, &cmd.principal, id).await?;
    let by = staff_member(&cmd.principal)?;
    let command = command(GrantApplicationId::from(id), by, Utc::now());
    cmd.change::<GrantPool>(pool, body_digest, command).await
}

/// The pool application `id` was made to; 404 if there is no such application.
async fn pool_of(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<GrantPoolId, ApiError> {
    current::<GrantApplication>(state, principal, id)
        .await?
        .draft()
        .map(|d| d.pool)
        .ok_or(ApiError::NotFound)
}

/// A grant case as the case list shows it. The applicant's name, e-mail and phone are personal
/// data: null for roles that see no persons' data.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ApplicationSummary {
    pub id: Uuid,
    pub pool_id: Uuid,
    pub round_id: Option<Uuid>,
    pub applicant_kind: String,
    pub organisation_id: Option<Uuid>,
    pub group_name: Option<String>,
    pub applicant_name: Option<String>,
    pub applicant_email: Option<String>,
    pub applicant_phone: Option<String>,
    pub title: String,
    /// draft, submitted, proposed (awaits a second approver), decided, reopened or withdrawn.
    pub status: String,
    /// The last submitted version; 0 for a draft.
    pub version: i32,
    /// In øre.
    pub amount_requested: i64,
    /// The latest assessment's recommendation, in øre.
    pub recommended: Option<i64>,
    /// The standing (or proposed) decision's amount, in øre.
    pub granted: Option<i64>,
    pub outcome: Option<String>,
    pub decision_year: Option<i32>,
    /// Paid of the grant, in øre.
    pub paid: i64,
    /// When the final report is due (a grant of more than 0).
    pub report_due: Option<NaiveDate>,
    /// The day the final report was received.
    pub report_received_on: Option<NaiveDate>,
    /// The final report is due and not received (in Danish dates): the applicant gets no
    /// new grant until it is.
    pub report_overdue: bool,
    pub report_approved_at: Option<DateTime<Utc>>,
    /// What was paid and not spent, once the report is approved, in øre.
    pub repayment_due: Option<i64>,
    pub repaid: i64,
    pub submitted_at: Option<DateTime<Utc>>,
    /// Days since the first submission, counted in Danish dates.
    pub days_since_submission: Option<i32>,
    /// What the case waits for: `applicant` (a draft), `assessment`, `second_assessment`,
    /// `decision`, `second_approval`; after a grant `payment`, `final_report`,
    /// `report_approval`, `repayment`; null when it waits for nothing (and once the
    /// applicant is forgotten).
    pub waiting_for: Option<String>,
    /// When the applicant's personal data was forgotten (`POST .../forget`); null while kept.
    pub forgotten_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub position: i64,
}

impl ApplicationSummary {
    fn for_principal(mut self, principal: &Principal) -> Self {
        if !access::sees_persons(principal) {
            self.applicant_name = None;
            self.applicant_email = None;
            self.applicant_phone = None;
        }
        self
    }
}

const SUMMARY_COLUMNS: &str = "id, pool_id, round_id, applicant_kind, organisation_id, \
    group_name, applicant_name, applicant_email, applicant_phone, title, status, version, \
    amount_requested, recommended, granted, outcome, decision_year, paid, report_due, \
    report_received_on, \
    coalesce(status = 'decided' AND report_received_on IS NULL \
      AND report_due < (now() AT TIME ZONE 'Europe/Copenhagen')::date, false) AS report_overdue, \
    report_approved_at, repayment_due, repaid, submitted_at, \
    ((now() AT TIME ZONE 'Europe/Copenhagen')::date \
      - (submitted_at AT TIME ZONE 'Europe/Copenhagen')::date) AS days_since_submission, \
    CASE WHEN forgotten_at IS NOT NULL THEN NULL ELSE CASE status \
      WHEN 'draft' THEN 'applicant' \
      WHEN 'submitted' THEN CASE \
        WHEN cardinality(assessors) = 0 THEN 'assessment' \
        WHEN second_assessment_requested AND cardinality(assessors) < 2 THEN 'second_assessment' \
        ELSE 'decision' END \
      WHEN 'reopened' THEN 'decision' \
      WHEN 'proposed' THEN 'second_approval' \
      WHEN 'decided' THEN CASE \
        WHEN coalesce(granted, 0) = 0 THEN NULL \
        WHEN paid < granted THEN 'payment' \
        WHEN report_received_on IS NULL THEN 'final_report' \
        WHEN report_approved_at IS NULL THEN 'report_approval' \
        WHEN repaid < coalesce(repayment_due, 0) THEN 'repayment' END \
    END END AS waiting_for, forgotten_at, updated_at, position";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplicationFilter {
    pub pool_id: Option<Uuid>,
    pub round_id: Option<Uuid>,
    #[param(schema_with = schema::grant_status_or_null)]
    pub status: Option<String>,
    /// An association's applications.
    pub organisation_id: Option<Uuid>,
    /// Only the grants whose final report is overdue (`true`), or those whose is not.
    pub report_overdue: Option<bool>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<Uuid>,
    /// Wait until the read model reflects this log position (from a command's answer).
    pub min_position: Option<u64>,
}

/// The case list: applications by pool, round and status, with the amounts requested,
/// recommended and granted, the days since submission and what each waits for. An
/// organisation's token lists its own.
#[utoipa::path(get, path = "/grant-applications", tag = "grants", params(ApplicationFilter),
    responses((status = 200, body = Page<ApplicationSummary>)), security(("bearer" = [])))]
async fn list_applications(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(filter): QueryParams<ApplicationFilter>,
) -> Result<axum::Json<Page<ApplicationSummary>>, ApiError> {
    let limit = check_limit(filter.limit)?;
    let status = check_filter("status", filter.status.as_deref(), |s| {
        if schema::GRANT_STATUSES.contains(&s) {
            Ok(s.to_string())
        } else {
            Err(samskab_domain::InvalidValue(format!(
                "must be one of: {}",
                schema::GRANT_STATUSES.join(", ")
            )))
        }
    })?;
    let organisation = ownership::narrowed(principal.organisation(), filter.organisation_id)?;
    wait_for(&state, GRANTS, filter.min_position).await?;
    let rows: Vec<ApplicationSummary> = sqlx::query_as(sqlx::AssertSqlSafe(list_sql()))
        .bind(principal.tenant.as_str())
        .bind(filter.pool_id)
        .bind(filter.round_id)
        .bind(status)
        .bind(organisation)
        .bind(filter.report_overdue)
        .bind(filter.after)
        .bind(limit + 1)
        .fetch_all(&state.pool)
        .await?;
    let rows = rows
        .into_iter()
        .map(|a| a.for_principal(&principal))
        .collect();
    Ok(axum::Json(page(rows, limit, |a| a.id)))
}

/// An assessment.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AssessmentView {
    pub assessor: String,
    pub version: i32,
    /// `[{"criterion", "score", "note"}]`
    #[schema(value_type = Vec<Object>)]
    pub scores: sqlx::types::Json<serde_json::Value>,
    /// The weighted total, 0 to 100.
    pub total: i16,
    pub recommended: i64,
    pub note: Option<String>,
    pub assessed_at: DateTime<Utc>,
}

/// A decision, as made: never edited; a complaint marks it reopened.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct DecisionView {
    pub version: i32,
    pub outcome: String,
    pub amount: i64,
    pub requested: i64,
    pub year: i32,
    pub justification: Option<String>,
    pub decided_by: String,
    pub assessed_by: Vec<String>,
    pub decided_at: DateTime<Utc>,
    /// The amount of each budget year it commits (`[{"year", "amount"}]`; one for a grant of
    /// a year, several for a partnership agreement).
    #[schema(value_type = Vec<Object>)]
    pub years: sqlx::types::Json<serde_json::Value>,
    /// What the grantee undertakes.
    pub duties: Option<String>,
    pub awaits_approval: bool,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub reopened_by: Option<String>,
    pub reopened_reason: Option<String>,
    pub reopened_at: Option<DateTime<Utc>>,
}

/// A grant case whole: the summary, the content as it stands, every assessment and every
/// decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationCase {
    #[serde(flatten)]
    pub summary: ApplicationSummary,
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
    pub assessments: Vec<AssessmentView>,
    pub decisions: Vec<DecisionView>,
    /// Payments and repayments, in the order recorded.
    pub payments: Vec<PaymentView>,
}

/// A payment or a repayment.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct PaymentView {
    /// `payment` or `repayment`.
    pub kind: String,
    pub amount: i64,
    pub paid_on: NaiveDate,
    pub reference: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    #[sqlx(flatten)]
    summary: ApplicationSummary,
    content: sqlx::types::Json<serde_json::Value>,
}

/// One grant case.
#[utoipa::path(get, path = "/grant-applications/{id}", tag = "grants",
    params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = ApplicationCase)), security(("bearer" = [])))]
async fn get_application(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<ApplicationCase>, ApiError> {
    wait_for(&state, GRANTS, consistency.min_position).await?;
    let tenant = principal.tenant.as_str();
    let (row, assessments, decisions, payments) = tokio::try_join!(
        sqlx::query_as::<_, CaseRow>(sqlx::AssertSqlSafe(get_sql()))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&state.pool),
        sqlx::query_as::<_, AssessmentView>(sqlx::AssertSqlSafe(assessments_sql()))
            .bind(tenant)
            .bind(id)
            .fetch_all(&state.pool),
        sqlx::query_as::<_, DecisionView>(sqlx::AssertSqlSafe(decisions_sql()))
            .bind(tenant)
            .bind(id)
            .fetch_all(&state.pool),
        sqlx::query_as::<_, PaymentView>(sqlx::AssertSqlSafe(payments_sql()))
            .bind(tenant)
            .bind(id)
            .fetch_all(&state.pool),
    )?;
    let row = row.ok_or(ApiError::NotFound)?;
    Ok(axum::Json(ApplicationCase {
        summary: row.summary.for_principal(&principal),
        content: row.content.0,
        assessments,
        decisions,
        payments,
    }))
}

/// A submitted version, as submitted.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct VersionView {
    pub version: i32,
    pub submitted_at: DateTime<Utc>,
    pub group_name: Option<String>,
    #[schema(value_type = Object)]
    pub content: sqlx::types::Json<serde_json::Value>,
}

/// Every submitted version of an application, oldest first.
#[utoipa::path(get, path = "/grant-applications/{id}/versions", tag = "grants",
    params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = Vec<VersionView>)), security(("bearer" = [])))]
async fn list_versions(
    State(state): State<AppState>,
    principal: Principal,
    EntityId(id): EntityId,
    QueryParams(consistency): QueryParams<Consistency>,
) -> Result<axum::Json<Vec<VersionView>>, ApiError> {
    wait_for(&state, GRANTS, consistency.min_position).await?;
    let tenant = principal.tenant.as_str();
    let exists: Option<(Uuid,)> = sqlx::query_as(sqlx::AssertSqlSafe(exists_sql()))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&state.pool)
        .await?;
    if exists.is_none() {
        return Err(ApiError::NotFound);
    }
    let versions = sqlx::query_as(sqlx::AssertSqlSafe(versions_sql()))
        .bind(tenant)
        .bind(id)
        .fetch_all(&state.pool)
        .await?;
    Ok(axum::Json(versions))
}

/// Every read-model statement of this room, for the schema check in `tests/api/read_models.rs`.
pub(crate) fn read_sql() -> Vec<(&'static str, String)> {
    vec![
        ("GET /grant-applications", list_sql()),
        ("GET /grant-applications/{id}", get_sql()),
        (
            "GET /grant-applications/{id} assessments",
            assessments_sql(),
        ),
        ("GET /grant-applications/{id} decisions", decisions_sql()),
        ("GET /grant-applications/{id}/versions", versions_sql()),
        ("GET /grant-applications/{id}/versions exists", exists_sql()),
        ("GET /grant-applications/{id} payments", payments_sql()),
        (
            "POST /grant-applications/{id}/decision overdue",
            overdue_sql(),
        ),
    ]
}

fn list_sql() -> String {
    format!(
        "SELECT {SUMMARY_COLUMNS} FROM {schema}.application
     WHERE tenant = $1
       AND ($2::uuid IS NULL OR pool_id = $2)
       AND ($3::uuid IS NULL OR round_id = $3)
       AND ($4::text IS NULL OR status = $4)
       AND ($5::uuid IS NULL OR organisation_id = $5)
       AND ($6::boolean IS NULL OR $6 = coalesce(status = 'decided' AND report_received_on IS NULL
             AND report_due < (now() AT TIME ZONE 'Europe/Copenhagen')::date, false))
       AND ($7::uuid IS NULL OR id > $7)
     ORDER BY id LIMIT $8",
        schema = GRANTS.schema
    )
}

fn get_sql() -> String {
    format!(
        "SELECT {SUMMARY_COLUMNS}, content FROM {schema}.application WHERE tenant = $1 AND id = $2",
        schema = GRANTS.schema
    )
}

fn exists_sql() -> String {
    format!(
        "SELECT id FROM {schema}.application WHERE tenant = $1 AND id = $2",
        schema = GRANTS.schema
    )
}

fn assessments_sql() -> String {
    format!(
        "SELECT assessor, version, scores, total, recommended, note, assessed_at
     FROM {schema}.assessment WHERE tenant = $1 AND application_id = $2 ORDER BY position",
        schema = GRANTS.schema
    )
}

fn decisions_sql() -> String {
    format!(
        "SELECT version, outcome, amount, requested, year, justification, decided_by, assessed_by,
            decided_at, years, duties, awaits_approval, approved_by, approved_at, reopened_by, reopened_reason,
            reopened_at
     FROM {schema}.decision WHERE tenant = $1 AND application_id = $2 ORDER BY position",
        schema = GRANTS.schema
    )
}

fn payments_sql() -> String {
    format!(
        "SELECT kind, amount, paid_on, reference, recorded_by, recorded_at FROM {schema}.payment
     WHERE tenant = $1 AND application_id = $2 ORDER BY position",
        schema = GRANTS.schema
    )
}

fn overdue_sql() -> String {
    format!(
        "SELECT min(report_due) FROM {schema}.application
     WHERE tenant = $1 AND organisation_id = $2 AND pool_id <> $3 AND status = 'decided'
       AND report_received_on IS NULL AND report_due < $4",
        schema = GRANTS.schema
    )
}

fn versions_sql() -> String {
    format!(
        "SELECT version, submitted_at, group_name, content FROM {schema}.application_version
     WHERE tenant = $1 AND application_id = $2 ORDER BY version",
        schema = GRANTS.schema
    )
}
