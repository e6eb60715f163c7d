//! samskab domain: the entities of volunteer social work in Danish municipalities, as pure
//! deciders.
//!
//! **Invariant:** this crate does no I/O and knows nothing of NATS, SQL or HTTP. The API loads
//! state, calls [`Decider::decide`], and appends the events; workers fold events into read
//! models. Keeping the rules here, pure, is what lets them be tested in milliseconds with
//! given/when/then tests and replayed from the log at any time.
//!
//! Layout:
//! - [`values`]: validated value types (`TenantId`, `Cvr`, `Name`, ...). Each has a `parse`
//!   constructor returning [`InvalidValue`], so bad input is turned away at the edge and the rest
//!   of the code never sees an invalid value. Deserialisation re-validates.
//! - [`decider`]: the [`Decider`] and [`DomainEvent`] traits the API and event log code against.
//! - [`municipality`], [`organisation`], [`volunteer`], [`need`], [`matches`](mod@matches),
//!   [`person`], [`notification`], [`notification_preferences`], [`webhook_endpoint`], [`day`] (the
//!   log's clock): one decider per entity.

#[macro_use]
mod macros;

pub mod calendar;
pub mod day;
pub mod decider;
pub mod domain_error;
pub mod entity_kind;
pub mod grant_application;
pub mod grant_pool;
pub mod invalid_value;
pub mod matches;
pub mod municipality;
pub mod need;
pub mod notification;
pub mod notification_preferences;
pub mod organisation;
pub mod person;
pub mod ranking;
pub mod suppression;
pub mod umbrella;
pub mod values;
pub mod volunteer;
pub mod webhook_endpoint;

/// Values, entities and proptest strategies for tests, here and in other crates (`fixtures`
/// feature).
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;

#[cfg(test)]
mod state_snapshots;

pub use day::{Day, DayBegan, DayCommand, DayEvent, DayState};
pub use decider::{Decider, DomainEvent, EventDecodeError};
pub use domain_error::DomainError;
pub use entity_kind::EntityKind;
pub use grant_application::{
    ApplicantPersonalData, ApplicationAssessed, ApplicationContent, ApplicationDraft,
    ApplicationForgotten, ApplicationVersion, BudgetLine, CriterionScore, ForgottenApplication,
    GrantApplication, GrantApplicationCommand, GrantApplicationEvent, GrantApplicationState,
    SubmittedApplication,
};
pub use grant_pool::{
    ApplicantRef, CASE_RETENTION_YEARS, CaseFacts, CaseRetention, CaseStatus, DecisionTerms,
    GrantPool, GrantPoolCommand, GrantPoolEvent, GrantPoolState, PoolDecision, PoolDetails,
    PoolFinalReport, PoolFinalReportApproved, PoolLedger, PoolPayment, PoolRepayment, PoolRound,
    YearlyAmount,
};
pub use invalid_value::InvalidValue;
pub use matches::{
    Counterpart, Match, MatchAccepted, MatchCommand, MatchDeclined, MatchDetails, MatchEnded,
    MatchEvent, MatchHoursLogged, MatchPaused, MatchProposed, MatchResumed, MatchStarted,
    MatchState, lasted_months_on,
};
pub use municipality::{
    Municipality, MunicipalityCommand, MunicipalityEvent, MunicipalityMatchingWeights,
    MunicipalityRegistered, MunicipalityState, MunicipalityUmbrellasShared,
};
pub use need::{
    Need, NeedClosed, NeedCommand, NeedDetails, NeedEvent, NeedPlace, NeedReopened, NeedSchedule,
    NeedState, PostedBy,
};
pub use notification::{
    Notification, NotificationCommand, NotificationEvent, NotificationId, NotificationRead,
    NotificationState,
};
pub use notification_preferences::{
    NotificationPreferences, NotificationPreferencesCommand, NotificationPreferencesEvent,
    NotificationPreferencesState, Preferences, PreferencesSet,
};
pub use organisation::{
    Organisation, OrganisationCommand, OrganisationContactForgotten, OrganisationDeactivated,
    OrganisationDetails, OrganisationEvent, OrganisationState, OrganisationUmbrellaSet,
};
pub use person::{
    Person, PersonCommand, PersonDetails, PersonEvent, PersonForgotten, PersonPersonalData,
    PersonState,
};
pub use umbrella::{Umbrella, UmbrellaCommand, UmbrellaDetails, UmbrellaEvent, UmbrellaState};
pub use values::*;
pub use volunteer::{
    CertificateCase, CertificateRequest, CertificateRequester, EARLIEST_YEAR, Volunteer,
    VolunteerCertificateAssessed, VolunteerCertificateAssessedV1, VolunteerCertificateStep,
    VolunteerCommand, VolunteerConsentWithdrawn, VolunteerDetails, VolunteerEvent,
    VolunteerForgotten, VolunteerOtherMunicipalities, VolunteerPersonalData, VolunteerProfile,
    VolunteerProfileUpdated, VolunteerProfileUpdatedV1, VolunteerProfileV1,
    VolunteerPurposeConsent, VolunteerRegistered, VolunteerRegisteredV1, VolunteerState,
    YEARS_AHEAD,
};
pub use webhook_endpoint::{
    WebhookEndpoint, WebhookEndpointCommand, WebhookEndpointDetails, WebhookEndpointEvent,
    WebhookEndpointState, WebhookEndpointSwitched, WebhookEndpointUrlChanged,
};
