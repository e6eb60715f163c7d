//! Applications for a grant from a pool, and with them the grant case: drafted, submitted
//! (version 1), amended while the round is open (versions 2, 3, ...), assessed. Every
//! submitted version is kept. What decides and commits money (the decision, its approval, a
//! complaint, a withdrawal) is the pool's (see [`crate::grant_pool`]): the application is told
//! nothing of it, and the API asks the pool before an amendment or an assessment.
//!
//! An applicant that is a person, and the contact person of an informal group, are natural
//! persons: their name and contact sit under `personal`, sealed with the application's own
//! data key. An association's contact person is the organisation's (the directory's), so its
//! application carries no personal data.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::danish_date;
use crate::grant_pool::{ApplicantRef, CaseFacts, CaseRetention};
use crate::{
    Amount, ApplicantKind, Contact, Criterion, CriterionKey, Decider, DomainError, EntityKind,
    GrantApplicationId, GrantPoolId, GrantRoundId, GrantText, GrantTitle, Justification, MAX_SCORE,
    Name, OrganisationId, StaffMember,
};

/// The application decider.
pub struct GrantApplication;

/// One line of the applicant's budget ("Løn til ressourceperson, 10 timer om ugen").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub text: GrantTitle,
    pub amount: Amount,
}

/// The most budget lines an application may have.
pub const MAX_BUDGET_LINES: usize = 50;

/// What is applied for: the content of one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationContent {
    pub title: GrantTitle,
    pub purpose: GrantText,
    pub activities: GrantText,
    pub target_group: GrantText,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    /// Applied for, in øre.
    pub amount_requested: Amount,
    /// What the activity costs, line by line; the lines add up to the amount applied for and
    /// the co-funding.
    pub budget_lines: Vec<BudgetLine>,
    pub expected_volunteers: u32,
    pub expected_participants: u32,
    /// Money from elsewhere (own funds, other foundations), in øre.
    pub co_funding: Amount,
}

impl ApplicationContent {
    fn check(&self) -> Result<(), DomainError> {
        if self.period_to < self.period_from {
            return Err(DomainError::rule(
                "period_to",
                "must be on or after period_from",
            ));
        }
        if self.amount_requested == Amount::ZERO {
            return Err(DomainError::rule("amount_requested", "must be more than 0"));
        }
        if self.budget_lines.is_empty() || self.budget_lines.len() > MAX_BUDGET_LINES {
            return Err(DomainError::rule(
                "budget_lines",
                format!("name 1 to {MAX_BUDGET_LINES} lines"),
            ));
        }
        let total = self
            .budget_lines
            .iter()
            .try_fold(Amount::ZERO, |sum, line| sum.checked_add(line.amount));
        let expected = self.amount_requested.checked_add(self.co_funding);
        if total.is_none() || total != expected {
            return Err(DomainError::rule(
                "budget_lines",
                "the lines must add up to amount_requested plus co_funding",
            ));
        }
        Ok(())
    }
}

/// Personal data of the applicant: the person applying, or an informal group's contact person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantPersonalData {
    pub name: Name,
    pub contact: Option<Contact>,
}

/// Who applies, to which pool and round, and the content as drafted. The payload of `drafted`
/// and `draft_updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDraft {
    pub id: GrantApplicationId,
    pub pool: GrantPoolId,
    /// The round applied in; none for a rolling or partnership pool.
    pub round: Option<GrantRoundId>,
    pub applicant_kind: ApplicantKind,
    /// The association applying (`association` only).
    pub organisation: Option<OrganisationId>,
    /// An informal group's name (`informal_group` only); not personal data.
    pub group_name: Option<GrantTitle>,
    pub content: ApplicationContent,
    /// The person applying, or the group's contact person; `None` for an association. Sealed
    /// by the log.
    pub personal: Option<ApplicantPersonalData>,
}

impl ApplicationDraft {
    fn check(&self) -> Result<(), DomainError> {
        match self.applicant_kind {
            ApplicantKind::Association => {
                if self.organisation.is_none() {
                    return Err(DomainError::rule(
                        "organisation_id",
                        "an association applies as its organisation",
                    ));
                }
                if self.personal.is_some() || self.group_name.is_some() {
                    return Err(DomainError::rule(
                        "applicant",
                        "an association's contact is its organisation's; name no person or group",
                    ));
                }
            }
            ApplicantKind::InformalGroup | ApplicantKind::Person => {
                if self.organisation.is_some() {
                    return Err(DomainError::rule(
                        "organisation_id",
                        "only an association applies as an organisation",
                    ));
                }
                if self.personal.is_none() {
                    return Err(DomainError::rule(
                        "applicant",
                        "name the person applying, or the group's contact person",
                    ));
                }
                let group = self.applicant_kind == ApplicantKind::InformalGroup;
                if group != self.group_name.is_some() {
                    return Err(DomainError::rule(
                        "group_name",
                        "an informal group, and only one, has a group name",
                    ));
                }
            }
        }
        self.content.check()
    }

    /// Who the application is from, for conflicts of interest.
    pub fn applicant(&self) -> ApplicantRef {
        match self.organisation {
            Some(organisation) => ApplicantRef::Organisation(organisation),
            None => ApplicantRef::Application(self.id),
        }
    }
}

/// One submitted version: the payload of `submitted` (version 1) and `amended`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationVersion {
    pub id: GrantApplicationId,
    pub version: u32,
    /// The round it was submitted in (a pool in rounds); set by the first submission.
    pub round: Option<GrantRoundId>,
    pub at: DateTime<Utc>,
    pub content: ApplicationContent,
    pub group_name: Option<GrantTitle>,
    pub personal: Option<ApplicantPersonalData>,
}

/// A score of one criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionScore {
    pub criterion: CriterionKey,
    /// 0..=[`MAX_SCORE`].
    pub score: u8,
    pub note: Option<GrantText>,
}

/// Payload of `assessed`: a case worker's scores of each criterion of the pool, and the amount
/// they recommend. The latest of each assessor counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationAssessed {
    pub id: GrantApplicationId,
    /// The version assessed.
    pub version: u32,
    pub assessor: StaffMember,
    pub scores: Vec<CriterionScore>,
    /// The weighted total, 0..=100 (the pool's weights).
    pub total: u8,
    pub recommended: Amount,
    pub note: Option<GrantText>,
    pub at: DateTime<Utc>,
}

/// Payload of `second_assessment_requested`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSecondAssessmentRequested {
    pub id: GrantApplicationId,
    pub by: StaffMember,
    pub reason: Justification,
    pub at: DateTime<Utc>,
}

domain_events! {
    /// What happens to an application.
    pub enum GrantApplicationEvent for EntityKind::GrantApplication {
        Drafted(ApplicationDraft) = DRAFTED_V1 => "dk.samskab.grant_application.drafted.v1",
        DraftUpdated(ApplicationDraft) = DRAFT_UPDATED_V1 => "dk.samskab.grant_application.draft_updated.v1",
        Submitted(ApplicationVersion) = SUBMITTED_V1 => "dk.samskab.grant_application.submitted.v1",
        Amended(ApplicationVersion) = AMENDED_V1 => "dk.samskab.grant_application.amended.v1",
        Assessed(ApplicationAssessed) = ASSESSED_V1 => "dk.samskab.grant_application.assessed.v1",
        SecondAssessmentRequested(ApplicationSecondAssessmentRequested) = SECOND_ASSESSMENT_REQUESTED_V1 => "dk.samskab.grant_application.second_assessment_requested.v1",
        Forgotten(ApplicationForgotten) = FORGOTTEN_V1 => "dk.samskab.grant_application.forgotten.v1",
    }
}

impl GrantApplicationEvent {
    pub fn id(&self) -> GrantApplicationId {
        match self {
            GrantApplicationEvent::Drafted(e) | GrantApplicationEvent::DraftUpdated(e) => e.id,
            GrantApplicationEvent::Submitted(e) | GrantApplicationEvent::Amended(e) => e.id,
            GrantApplicationEvent::Assessed(e) => e.id,
            GrantApplicationEvent::SecondAssessmentRequested(e) => e.id,
            GrantApplicationEvent::Forgotten(e) => e.id,
        }
    }
}

/// Payload of `forgotten`: the applicant's personal data erased (GDPR art. 17), once the case
/// no longer has to be kept; it carries none itself. The application's data key is erased
/// with it, so the name and contact in every earlier event can never be read again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationForgotten {
    pub id: GrantApplicationId,
    pub at: DateTime<Utc>,
}

/// An application whose applicant is forgotten: as it stood, without personal data. Nothing
/// changes it any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgottenApplication {
    /// The draft or the submitted application, every version's `personal` taken out.
    pub application: GrantApplicationState,
    pub at: DateTime<Utc>,
}

/// A submitted application: the draft with its latest content, every version, and the
/// assessments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedApplication {
    pub draft: ApplicationDraft,
    pub versions: Vec<ApplicationVersion>,
    pub assessments: Vec<ApplicationAssessed>,
    pub second_assessment: Option<ApplicationSecondAssessmentRequested>,
}

impl SubmittedApplication {
    pub fn version(&self) -> u32 {
        self.versions.last().map(|v| v.version).unwrap_or(0)
    }

    /// Who has assessed it, each once, in the order of their first assessment.
    pub fn assessors(&self) -> Vec<StaffMember> {
        let mut assessors: Vec<StaffMember> = Vec::new();
        for a in &self.assessments {
            if !assessors.contains(&a.assessor) {
                assessors.push(a.assessor.clone());
            }
        }
        assessors
    }

    /// What the pool is told before it decides.
    pub fn facts(&self) -> CaseFacts {
        CaseFacts {
            application: self.draft.id,
            version: self.version(),
            applicant: self.draft.applicant(),
            applicant_kind: self.draft.applicant_kind,
            requested: self.draft.content.amount_requested,
            assessed_by: self.assessors(),
            period_to: self.draft.content.period_to,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GrantApplicationState {
    #[default]
    NotDrafted,
    Draft(Box<ApplicationDraft>),
    Submitted(Box<SubmittedApplication>),
    Forgotten(Box<ForgottenApplication>),
}

impl GrantApplicationState {
    pub fn draft(&self) -> Option<&ApplicationDraft> {
        match self {
            GrantApplicationState::NotDrafted => None,
            GrantApplicationState::Draft(draft) => Some(draft),
            GrantApplicationState::Submitted(s) => Some(&s.draft),
            GrantApplicationState::Forgotten(f) => f.application.draft(),
        }
    }

    /// The state with no personal data in it: the draft's and every version's taken out.
    fn without_personal(self) -> Self {
        match self {
            GrantApplicationState::Draft(mut draft) => {
                draft.personal = None;
                GrantApplicationState::Draft(draft)
            }
            GrantApplicationState::Submitted(mut s) => {
                s.draft.personal = None;
                for version in &mut s.versions {
                    version.personal = None;
                }
                GrantApplicationState::Submitted(s)
            }
            other => other,
        }
    }

    /// What the pool is told: a draft is version 0, never submitted.
    pub fn facts(&self) -> Option<CaseFacts> {
        match self {
            GrantApplicationState::NotDrafted => None,
            GrantApplicationState::Draft(draft) => Some(CaseFacts {
                application: draft.id,
                version: 0,
                applicant: draft.applicant(),
                applicant_kind: draft.applicant_kind,
                requested: draft.content.amount_requested,
                assessed_by: vec![],
                period_to: draft.content.period_to,
            }),
            GrantApplicationState::Submitted(s) => Some(s.facts()),
            GrantApplicationState::Forgotten(f) => f.application.facts(),
        }
    }
}

pub use crate::grant_pool::SubmissionWindow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantApplicationCommand {
    Draft(ApplicationDraft),
    UpdateDraft {
        content: ApplicationContent,
        group_name: Option<GrantTitle>,
        personal: Option<ApplicantPersonalData>,
    },
    /// Submits the draft in `round` (the one it names, or the round open now), whose window
    /// the caller read from the pool.
    Submit {
        round: Option<GrantRoundId>,
        window: SubmissionWindow,
        at: DateTime<Utc>,
    },
    /// A new version while the round is open (the caller checked with the pool that the case
    /// is not decided or withdrawn).
    Amend {
        content: ApplicationContent,
        group_name: Option<GrantTitle>,
        personal: Option<ApplicantPersonalData>,
        window: SubmissionWindow,
        at: DateTime<Utc>,
    },
    /// The caller checked with the pool that the assessor has no conflict of interest and the
    /// case is open; `criteria` are the pool's.
    Assess {
        assessor: StaffMember,
        criteria: Vec<Criterion>,
        scores: Vec<CriterionScore>,
        recommended: Amount,
        note: Option<GrantText>,
        at: DateTime<Utc>,
    },
    RequestSecondAssessment {
        by: StaffMember,
        reason: Justification,
        at: DateTime<Utc>,
    },
    /// Erase the applicant's personal data: a draft's at once, a submitted case's once the
    /// pool's `retention` of it has run out (see [`crate::grant_pool::retention`]).
    Forget {
        retention: CaseRetention,
        at: DateTime<Utc>,
    },
}

fn check_window(window: &SubmissionWindow, at: DateTime<Utc>) -> Result<(), DomainError> {
    let Some((opens_at, deadline)) = window else {
        return Ok(());
    };
    if at < *opens_at {
        return Err(DomainError::conflict(format!(
            "the round opens at {} (UTC); it takes no applications before",
            opens_at.format("%Y-%m-%d %H:%M")
        )));
    }
    if at > *deadline {
        return Err(DomainError::conflict(format!(
            "the round's deadline passed at {} (UTC)",
            deadline.format("%Y-%m-%d %H:%M")
        )));
    }
    Ok(())
}

/// Forgets the applicant of a draft or a submitted application, if the case allows it.
fn decide_forget(
    state: &GrantApplicationState,
    retention: CaseRetention,
    at: DateTime<Utc>,
) -> Result<Vec<GrantApplicationEvent>, DomainError> {
    let Some(draft) = state.draft() else {
        return Ok(vec![]);
    };
    if draft.applicant_kind == ApplicantKind::Association {
        return Err(DomainError::conflict(
            "an association's application holds no personal data; its contact person is \
             the organisation's, forgotten there",
        ));
    }
    if let GrantApplicationState::Submitted(_) = state {
        match retention {
            CaseRetention::Open => {
                return Err(DomainError::conflict(
                    "the grant case is open (not decided, or its follow-up not finished); the \
                     applicant's personal data is kept while it is handled and five years \
                     after",
                ));
            }
            CaseRetention::KeptUntil(day) if !retention.expired_on(danish_date(at)) => {
                return Err(DomainError::conflict(format!(
                    "the grant case must be kept until {day} (five years after the year it \
                     closed, bogføringsloven § 10); the applicant's personal data can be \
                     forgotten after that"
                )));
            }
            CaseRetention::KeptUntil(_) => {}
        }
    }
    Ok(vec![GrantApplicationEvent::Forgotten(
        ApplicationForgotten { id: draft.id, at },
    )])
}

/// The weighted total of `scores` over `criteria`, 0..=100; every criterion scored once.
pub fn weighted_total(
    criteria: &[Criterion],
    scores: &[CriterionScore],
) -> Result<u8, DomainError> {
    if scores.len() != criteria.len() {
        return Err(DomainError::rule(
            "scores",
            format!("score each of the pool's {} criteria once", criteria.len()),
        ));
    }
    let mut total: u32 = 0;
    for criterion in criteria {
        let Some(score) = scores.iter().find(|s| s.criterion == criterion.key) else {
            return Err(DomainError::rule(
                "scores",
                format!("the criterion {} has no score", criterion.key),
            ));
        };
        if score.score > MAX_SCORE {
            return Err(DomainError::rule(
                "scores",
                format!("a score is 0 to {MAX_SCORE}"),
            ));
        }
        total += u32::from(criterion.weight) * u32::from(score.score);
    }
    // Weights add up to 100, so the total is at most 100 * MAX_SCORE.
    Ok(u8::try_from(total / u32::from(MAX_SCORE)).unwrap_or(100))
}

impl Decider for GrantApplication {
    const KIND: EntityKind = EntityKind::GrantApplication;
    type State = GrantApplicationState;
    const STATE_VERSION: u32 = 1;
    type Command = GrantApplicationCommand;
    type Event = GrantApplicationEvent;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, DomainError> {
        use GrantApplicationCommand as C;
        use GrantApplicationEvent as E;
        use GrantApplicationState as S;
        let not_found = || DomainError::NotFound {
            kind: EntityKind::GrantApplication,
        };
        match (state, command) {
            (S::NotDrafted, C::Draft(draft)) => {
                draft.check()?;
                Ok(vec![E::Drafted(draft.clone())])
            }
            (_, C::Draft(_)) => Err(DomainError::AlreadyExists {
                kind: EntityKind::GrantApplication,
            }),
            (S::NotDrafted, _) => Err(not_found()),
            (S::Forgotten(_), C::Forget { .. }) => Ok(vec![]),
            (S::Forgotten(_), _) => Err(DomainError::conflict(
                "the applicant is forgotten; the application no longer changes",
            )),
            (S::Draft(_) | S::Submitted(_), C::Forget { retention, at }) => {
                decide_forget(state, *retention, *at)
            }
            (
                S::Draft(draft),
                C::UpdateDraft {
                    content,
                    group_name,
                    personal,
                },
            ) => {
                let updated = ApplicationDraft {
                    content: content.clone(),
                    group_name: group_name.clone(),
                    personal: personal.clone(),
                    ..(**draft).clone()
                };
                updated.check()?;
                if updated == **draft {
                    return Ok(vec![]);
                }
                Ok(vec![E::DraftUpdated(updated)])
            }
            (S::Submitted(_), C::UpdateDraft { .. }) => Err(DomainError::conflict(
                "the application is submitted; amend it instead",
            )),
            (S::Draft(draft), C::Submit { round, window, at }) => {
                check_window(window, *at)?;
                if draft.round.is_some() && draft.round != *round {
                    return Err(DomainError::rule(
                        "round_id",
                        "the application is for another round",
                    ));
                }
                Ok(vec![E::Submitted(ApplicationVersion {
                    id: draft.id,
                    version: 1,
                    round: *round,
                    at: *at,
                    content: draft.content.clone(),
                    group_name: draft.group_name.clone(),
                    personal: draft.personal.clone(),
                })])
            }
            (S::Submitted(_), C::Submit { .. }) => Ok(vec![]),
            (S::Draft(_), C::Amend { .. }) => Err(DomainError::conflict(
                "the application is a draft; change the draft, then submit it",
            )),
            (
                S::Submitted(submitted),
                C::Amend {
                    content,
                    group_name,
                    personal,
                    window,
                    at,
                },
            ) => {
                check_window(window, *at)?;
                let amended = ApplicationDraft {
                    content: content.clone(),
                    group_name: group_name.clone(),
                    personal: personal.clone(),
                    ..submitted.draft.clone()
                };
                amended.check()?;
                if amended == submitted.draft {
                    return Ok(vec![]);
                }
                Ok(vec![E::Amended(ApplicationVersion {
                    id: amended.id,
                    version: submitted.version() + 1,
                    round: amended.round,
                    at: *at,
                    content: amended.content,
                    group_name: amended.group_name,
                    personal: amended.personal,
                })])
            }
            (S::Draft(_), C::Assess { .. } | C::RequestSecondAssessment { .. }) => Err(
                DomainError::conflict("the application has not been submitted"),
            ),
            (
                S::Submitted(submitted),
                C::Assess {
                    assessor,
                    criteria,
                    scores,
                    recommended,
                    note,
                    at,
                },
            ) => {
                let total = weighted_total(criteria, scores)?;
                if *recommended > submitted.draft.content.amount_requested {
                    return Err(DomainError::rule(
                        "recommended",
                        format!(
                            "must be at most the amount applied for, {}",
                            submitted.draft.content.amount_requested
                        ),
                    ));
                }
                let assessors = submitted.assessors();
                let allowed = if submitted.second_assessment.is_some() {
                    2
                } else {
                    1
                };
                if !assessors.contains(assessor) && assessors.len() >= allowed {
                    return Err(DomainError::conflict(if allowed == 1 {
                        "the application is assessed; ask for a second assessment first"
                    } else {
                        "the application already has its two assessments"
                    }));
                }
                Ok(vec![E::Assessed(ApplicationAssessed {
                    id: submitted.draft.id,
                    version: submitted.version(),
                    assessor: assessor.clone(),
                    scores: scores.clone(),
                    total,
                    recommended: *recommended,
                    note: note.clone(),
                    at: *at,
                })])
            }
            (S::Submitted(submitted), C::RequestSecondAssessment { by, reason, at }) => {
                if submitted.assessments.is_empty() {
                    return Err(DomainError::conflict(
                        "the application has no first assessment yet",
                    ));
                }
                if submitted.second_assessment.is_some() {
                    return Ok(vec![]);
                }
                Ok(vec![E::SecondAssessmentRequested(
                    ApplicationSecondAssessmentRequested {
                        id: submitted.draft.id,
                        by: by.clone(),
                        reason: reason.clone(),
                        at: *at,
                    },
                )])
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        use GrantApplicationEvent as E;
        use GrantApplicationState as S;
        match (state, event) {
            (S::NotDrafted, E::Drafted(draft)) => S::Draft(Box::new(draft.clone())),
            (state, E::Drafted(_)) => state,
            (S::Draft(_), E::DraftUpdated(draft)) => S::Draft(Box::new(draft.clone())),
            (S::Draft(draft), E::Submitted(version)) => {
                S::Submitted(Box::new(SubmittedApplication {
                    draft: ApplicationDraft {
                        round: version.round.or(draft.round),
                        content: version.content.clone(),
                        group_name: version.group_name.clone(),
                        personal: version.personal.clone(),
                        ..*draft
                    },
                    versions: vec![version.clone()],
                    assessments: vec![],
                    second_assessment: None,
                }))
            }
            (S::Submitted(mut s), E::Amended(version)) => {
                s.draft.content = version.content.clone();
                s.draft.group_name = version.group_name.clone();
                s.draft.personal = version.personal.clone();
                s.versions.push(version.clone());
                S::Submitted(s)
            }
            (S::Submitted(mut s), E::Assessed(assessment)) => {
                s.assessments.push(assessment.clone());
                S::Submitted(s)
            }
            (S::Submitted(mut s), E::SecondAssessmentRequested(request)) => {
                s.second_assessment = Some(request.clone());
                S::Submitted(s)
            }
            (state @ (S::Draft(_) | S::Submitted(_)), E::Forgotten(forgotten)) => {
                S::Forgotten(Box::new(ForgottenApplication {
                    application: state.without_personal(),
                    at: forgotten.at,
                }))
            }
            // Anything else cannot have been decided on that state; keep it.
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests;
