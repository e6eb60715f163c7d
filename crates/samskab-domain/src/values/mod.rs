//! Validated value types. Each has a `parse` constructor that returns
//! [`InvalidValue`](crate::InvalidValue) with an English reason; once a value exists, it is
//! valid, and deserialising one re-validates it.

mod age_band;
mod availability;
mod child_certificate;
mod consent;
mod contact;
mod cvr;
mod deactivation_reason;
mod grant_terms;
mod ids;
mod language_code;
mod match_terms;
mod money;
mod monthly_minutes;
mod name;
mod need_text;
mod notification_terms;
mod organisation_kind;
mod person_kind;
mod postcode;
mod tag;
mod target_group;
mod tenant;
pub(crate) mod text;
mod travel_distance;
mod volunteers_wanted;
mod webhook_url;
mod year_month;

pub use age_band::AgeBand;
pub use availability::{Availability, AvailabilitySlot, DayPart, Weekday};
pub use child_certificate::{ChildCertificate, ChildCertificateStatus};
pub use consent::{Consent, ConsentPurpose, Purpose};
pub use contact::{Contact, Email, Phone};
pub use cvr::Cvr;
pub use deactivation_reason::DeactivationReason;
pub use grant_terms::{
    ApplicantKind, Criterion, CriterionKey, GrantOutcome, GrantText, GrantTitle, Justification,
    LegalBasis, MAX_SCORE, PoolKind, StaffMember,
};
pub use ids::{
    DayId, GrantApplicationId, GrantPoolId, GrantRoundId, MatchId, NeedId,
    NotificationPreferencesId, OrganisationId, PersonId, UmbrellaId, VolunteerId,
    WebhookEndpointId,
};
pub use language_code::LanguageCode;
pub use match_terms::{MatchEndReason, MatchNote, MatchSide, ProposedBy};
pub use money::Amount;
pub use monthly_minutes::MonthlyMinutes;
pub use name::Name;
pub use need_text::{ClosingReason, NeedDescription, NeedTitle};
pub use notification_terms::{MailCadence, MessageLanguage};
pub use organisation_kind::OrganisationKind;
pub use person_kind::PersonKind;
pub use postcode::Postcode;
pub use tag::Tag;
pub use target_group::TargetGroup;
pub use tenant::{Kommunekode, TenantId};
pub use travel_distance::TravelKm;
pub use volunteers_wanted::VolunteersWanted;
pub use webhook_url::WebhookUrl;
pub use year_month::YearMonth;
