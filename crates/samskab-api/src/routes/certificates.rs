//! The børneattest as a workflow (børneattestloven): the volunteer consents that a body (the
//! municipality, or the organisation they will work with children for) requests their
//! børneattest; that body requests it from the police; it records its assessment: approved,
//! until the day it must be renewed, or not approved. The certificate itself never enters the
//! system. Commands to the `Volunteer` decider, which keeps the order of the steps; the
//! directory shows where a volunteer's case stands, and matching uses the assessment (a need
//! with children under 15 gets only volunteers with a valid approval).

use axum::extract::State;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use samskab_domain::{
    CertificateRequester, OrganisationId, PostedBy, Volunteer, VolunteerCommand, VolunteerId,
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::Principal;
use crate::body::JsonBody;
use crate::commands::{CommandAccepted, CommandRequest};
use crate::ownership;
use crate::problem::ApiError;
use crate::routes::{EntityId, municipality_or_organisation};
use crate::schema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(consent_to_certificate))
        .routes(routes!(request_certificate))
        .routes(routes!(assess_certificate))
}

/// Who the step is for or by.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequesterInput {
    /// The organisation (registered and active in the caller's municipality) that requests the
    /// børneattest. Absent or null: the municipality; for an organisation's token, itself (it
    /// names no other).
    pub organisation_id: Option<Uuid>,
}

/// The requester named: an organisation must be registered and active in the caller's
/// municipality. An organisation's token names itself.
async fn requester(
    state: &AppState,
    principal: &Principal,
    organisation: Option<Uuid>,
) -> Result<CertificateRequester, ApiError> {
    // An organisation's token speaks for itself: naming none is naming itself.
    let organisation = organisation.or(principal.organisation());
    ownership::check_own_name(principal, organisation, IN_OWN_NAME)?;
    municipality_or_organisation(
        state,
        principal,
        organisation,
        "the organisation is deactivated and requests no børneattest",
    )
    .await
}

const IN_OWN_NAME: &str =
    "an organisation's token requests and assesses a børneattest in its own name (organisation_id)";

/// Record the volunteer's consent that the municipality or an organisation requests their
/// børneattest. Used up by the request; the same consent again changes nothing.
#[utoipa::path(post, path = "/volunteers/{id}/child-certificate/consent", tag = "volunteers",
    request_body = RequesterInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn consent_to_certificate(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<RequesterInput>,
) -> Result<Response, ApiError> {
    let requester = requester(&state, &cmd.principal, body.value.organisation_id).await?;
    let command = VolunteerCommand::ConsentToCertificate {
        requester,
        at: Utc::now(),
    };
    cmd.change::<Volunteer>(VolunteerId::from(id), &body.digest, command)
        .await
}

/// Record that the børneattest was requested, by the body the volunteer consented to. 409
/// without that consent, or while an earlier request awaits its assessment.
#[utoipa::path(post, path = "/volunteers/{id}/child-certificate/request", tag = "volunteers",
    request_body = RequesterInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn request_certificate(
    State(state): State<AppState>,
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<RequesterInput>,
) -> Result<Response, ApiError> {
    let requester = requester(&state, &cmd.principal, body.value.organisation_id).await?;
    let command = VolunteerCommand::RequestCertificate {
        requester,
        at: Utc::now(),
    };
    cmd.change::<Volunteer>(VolunteerId::from(id), &body.digest, command)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateAssessmentInput {
    /// The body that requested the børneattest, which assesses it. Absent or null: the
    /// municipality; for an organisation's token, itself (it names no other).
    pub organisation_id: Option<Uuid>,
    #[schema(schema_with = schema::certificate_result)]
    pub result: String,
    /// When it was assessed: not before it was requested, and not in the future (in Denmark).
    pub assessed_on: NaiveDate,
    /// An approval holds until this day, by which it must be renewed: after `assessed_on`, at
    /// most 10 years from now. Required when approved; absent or null when not approved.
    pub valid_until: Option<NaiveDate>,
}

/// Record the assessment of a requested børneattest: approved until it must be renewed, or not
/// approved.
#[utoipa::path(post, path = "/volunteers/{id}/child-certificate/assessment", tag = "volunteers",
    request_body = CertificateAssessmentInput, params(("id" = Uuid, Path)),
    responses((status = 202, body = CommandAccepted)), security(("bearer" = [])))]
async fn assess_certificate(
    cmd: CommandRequest,
    EntityId(id): EntityId,
    body: JsonBody<CertificateAssessmentInput>,
) -> Result<Response, ApiError> {
    let input = &body.value;
    let approved = match input.result.as_str() {
        "approved" => true,
        "not_approved" => false,
        _ => {
            return Err(ApiError::invalid(
                "result",
                format!("must be one of: {}", schema::CERTIFICATE_RESULTS.join(", ")),
            ));
        }
    };
    // The body that requested it is checked by the decider (only it assesses); whether it is
    // still active does not change what it found.
    let organisation = input.organisation_id.or(cmd.principal.organisation());
    ownership::check_own_name(&cmd.principal, organisation, IN_OWN_NAME)?;
    let requester = match organisation {
        None => PostedBy::Municipality,
        Some(id) => PostedBy::Organisation(OrganisationId::from(id)),
    };
    let command = VolunteerCommand::AssessCertificate {
        requester,
        approved,
        assessed_on: input.assessed_on,
        valid_until: input.valid_until,
        at: Utc::now(),
    };
    cmd.change::<Volunteer>(VolunteerId::from(id), &body.digest, command)
        .await
}
