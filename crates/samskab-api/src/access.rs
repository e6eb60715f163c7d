//! Who may do what: **one table**, every route and the roles that may call it. The router
//! checks it before any handler runs (`enforce`), so a handler never decides access on its own,
//! and a route missing from the table is refused to everyone (fail closed).
//!
//! ARCHITECTURE.md shows the same table (`markdown()` renders it; a test keeps the two equal),
//! and `tests/api/access.rs` calls every route with a token of every role and checks the answer
//! against it.
//!
//! What a role *sees* on a route it may call is the other half: on a route that shows persons,
//! only the roles in [`SEES_PERSONS`] see personal data, børneattest and consent.

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{Principal, Role};
use crate::ownership;
use crate::problem::ApiError;
use crate::state::AppState;

/// One route: its method and path as the router and the OpenAPI document spell them.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub method: &'static str,
    pub path: &'static str,
    /// The roles that may call it; `None` when it needs no token at all.
    pub roles: Option<&'static [Role]>,
    /// It shows persons (volunteers, later mentees, applicants, ...): a role outside
    /// [`SEES_PERSONS`] gets them without personal data, børneattest and consent.
    pub persons: bool,
}

use Role::{
    Auditor, Caseworker, CommitteeMember, Operator, Organisation, PlatformAdmin, PoolAdministrator,
    Umbrella, Volunteer,
};

const fn open(method: &'static str, path: &'static str) -> Access {
    Access {
        method,
        path,
        roles: None,
        persons: false,
    }
}

const fn only(method: &'static str, path: &'static str, roles: &'static [Role]) -> Access {
    Access {
        method,
        path,
        roles: Some(roles),
        persons: false,
    }
}

/// A query that shows persons.
const fn persons(method: &'static str, path: &'static str, roles: &'static [Role]) -> Access {
    Access {
        method,
        path,
        roles: Some(roles),
        persons: true,
    }
}

/// Municipal staff who read.
const READERS: &[Role] = &[Caseworker, Auditor];
/// A caseworker, or the volunteer themself (their own only: `ownership.rs`).
const CASEWORKER_OR_VOLUNTEER: &[Role] = &[Caseworker, Volunteer];
/// A caseworker, or the organisation itself (its own only).
const CASEWORKER_OR_ORGANISATION: &[Role] = &[Caseworker, Organisation];
/// A caseworker, or either side of a match (each its own only).
const CASEWORKER_OR_PARTIES: &[Role] = &[Caseworker, Volunteer, Organisation];
/// Staff who read, or the organisation itself (its own only).
const READERS_OR_ORGANISATION: &[Role] = &[Caseworker, Auditor, Organisation];
/// Staff who read, or either side (each its own only).
const READERS_OR_PARTIES: &[Role] = &[Caseworker, Auditor, Volunteer, Organisation];

/// Municipal staff who work with grants, and the auditor, who reads every grant case.
const GRANT_READERS: &[Role] = &[Caseworker, CommitteeMember, PoolAdministrator, Auditor];
/// Grant staff and auditors, or the applicant organisation itself (its own only).
const GRANT_READERS_OR_APPLICANT: &[Role] = &[
    Caseworker,
    CommitteeMember,
    PoolAdministrator,
    Auditor,
    Organisation,
];
/// Municipal staff who read the municipality's figures (counts, never persons).
const REPORT_READERS: &[Role] = &[Caseworker, Auditor, CommitteeMember, PoolAdministrator];
/// The report across municipalities (suppressed, no municipality's own figures beyond what a
/// published statistic shows): any municipality's report readers, and the platform's admin.
const NATIONAL_REPORT_READERS: &[Role] = &[
    PlatformAdmin,
    Caseworker,
    Auditor,
    CommitteeMember,
    PoolAdministrator,
];
/// A caseworker (for an applicant without a token of its own: an informal group, a person), or
/// the applicant organisation itself.
const CASEWORKER_OR_APPLICANT: &[Role] = &[Caseworker, Organisation];
/// Who assesses and decides, each declaring their own conflicts of interest.
const CASE_HANDLERS: &[Role] = &[Caseworker, CommitteeMember];

/// The table. Keep the order of ARCHITECTURE.md: by room, commands before queries.
pub const ACCESS: &[Access] = &[
    open("GET", "/health"),
    open("GET", "/ready"),
    open("GET", "/openapi.json"),
    only("GET", "/ops/projections", &[Operator]),
    only("GET", "/ops/deliveries", &[Operator]),
    only("POST", "/ops/deliveries/{id}/retry", &[Operator]),
    only("GET", "/metrics", &[Operator]),
    only("POST", "/municipalities", &[PlatformAdmin]),
    only(
        "GET",
        "/municipalities",
        &[PlatformAdmin, Caseworker, Auditor],
    ),
    only(
        "GET",
        "/municipalities/current",
        &[PlatformAdmin, Caseworker, Auditor],
    ),
    only(
        "PUT",
        "/municipalities/current/matching-weights",
        &[Caseworker],
    ),
    only("PUT", "/municipalities/current/umbrellas", &[Caseworker]),
    only("POST", "/umbrellas", &[PlatformAdmin]),
    only("PUT", "/umbrellas/{id}", &[PlatformAdmin]),
    only(
        "GET",
        "/umbrellas",
        &[PlatformAdmin, Caseworker, Auditor, Umbrella],
    ),
    only(
        "GET",
        "/umbrellas/{id}",
        &[PlatformAdmin, Caseworker, Auditor, Umbrella],
    ),
    only("POST", "/organisations", &[Caseworker]),
    only("PUT", "/organisations/{id}", &[Caseworker]),
    only("POST", "/organisations/{id}/deactivate", &[Caseworker]),
    only(
        "PUT",
        "/organisations/{id}/umbrella",
        CASEWORKER_OR_ORGANISATION,
    ),
    only("POST", "/organisations/{id}/contact/forget", &[Caseworker]),
    only("GET", "/organisations/{id}/contact/export", &[Caseworker]),
    persons("GET", "/organisations", READERS),
    persons("GET", "/organisations/{id}", READERS_OR_ORGANISATION),
    only("POST", "/persons", CASEWORKER_OR_ORGANISATION),
    only("PUT", "/persons/{id}", CASEWORKER_OR_ORGANISATION),
    only("POST", "/persons/{id}/forget", &[Caseworker]),
    only("GET", "/persons/{id}/export", &[Caseworker]),
    persons("GET", "/persons", &[Caseworker, Auditor, Organisation]),
    persons("GET", "/persons/{id}", &[Caseworker, Auditor, Organisation]),
    only("POST", "/volunteers", &[Caseworker]),
    only("PUT", "/volunteers/{id}", &[Caseworker]),
    only(
        "POST",
        "/volunteers/{id}/consent/withdraw",
        CASEWORKER_OR_VOLUNTEER,
    ),
    only("PUT", "/volunteers/{id}/consents", CASEWORKER_OR_VOLUNTEER),
    only(
        "PUT",
        "/volunteers/{id}/municipalities",
        CASEWORKER_OR_VOLUNTEER,
    ),
    only("POST", "/volunteers/{id}/forget", &[Caseworker]),
    only("GET", "/volunteers/{id}/export", CASEWORKER_OR_VOLUNTEER),
    only(
        "POST",
        "/volunteers/{id}/child-certificate/consent",
        CASEWORKER_OR_VOLUNTEER,
    ),
    only(
        "POST",
        "/volunteers/{id}/child-certificate/request",
        CASEWORKER_OR_ORGANISATION,
    ),
    only(
        "POST",
        "/volunteers/{id}/child-certificate/assessment",
        CASEWORKER_OR_ORGANISATION,
    ),
    persons("GET", "/volunteers", READERS),
    persons("GET", "/volunteers/{id}", &[Caseworker, Auditor, Volunteer]),
    only("POST", "/needs", CASEWORKER_OR_ORGANISATION),
    only("PUT", "/needs/{id}", CASEWORKER_OR_ORGANISATION),
    only("POST", "/needs/{id}/close", CASEWORKER_OR_ORGANISATION),
    only("POST", "/needs/{id}/reopen", CASEWORKER_OR_ORGANISATION),
    only("GET", "/needs", READERS_OR_ORGANISATION),
    only("GET", "/needs/{id}", READERS_OR_ORGANISATION),
    only("GET", "/needs/{id}/candidates", CASEWORKER_OR_ORGANISATION),
    only(
        "GET",
        "/volunteers/{id}/suggestions",
        CASEWORKER_OR_VOLUNTEER,
    ),
    only("POST", "/matches", CASEWORKER_OR_PARTIES),
    only("POST", "/matches/{id}/accept", CASEWORKER_OR_PARTIES),
    only("POST", "/matches/{id}/decline", CASEWORKER_OR_PARTIES),
    only("POST", "/matches/{id}/start", CASEWORKER_OR_ORGANISATION),
    only("POST", "/matches/{id}/hours", CASEWORKER_OR_PARTIES),
    only("POST", "/matches/{id}/pause", CASEWORKER_OR_ORGANISATION),
    only("POST", "/matches/{id}/resume", CASEWORKER_OR_ORGANISATION),
    only("POST", "/matches/{id}/end", CASEWORKER_OR_ORGANISATION),
    only("GET", "/matches", READERS_OR_PARTIES),
    only("GET", "/matches/retention", READERS),
    only("GET", "/matches/{id}", READERS_OR_PARTIES),
    only("GET", "/reports/volunteers", REPORT_READERS),
    only("GET", "/reports/matching", REPORT_READERS),
    only("GET", "/reports/grants", REPORT_READERS),
    only("GET", "/reports/action-plan", REPORT_READERS),
    only("GET", "/reports/umbrella/volunteers", &[Umbrella]),
    only("GET", "/notifications", &[Volunteer, Organisation]),
    only(
        "POST",
        "/notifications/{id}/read",
        &[Volunteer, Organisation],
    ),
    only(
        "GET",
        "/notification-preferences",
        &[Volunteer, Organisation],
    ),
    only(
        "PUT",
        "/notification-preferences",
        &[Volunteer, Organisation],
    ),
    only("POST", "/webhook-endpoints", CASEWORKER_OR_ORGANISATION),
    only("PUT", "/webhook-endpoints/{id}", CASEWORKER_OR_ORGANISATION),
    only(
        "POST",
        "/webhook-endpoints/{id}/disable",
        CASEWORKER_OR_ORGANISATION,
    ),
    only(
        "POST",
        "/webhook-endpoints/{id}/enable",
        CASEWORKER_OR_ORGANISATION,
    ),
    only("GET", "/webhook-endpoints", READERS_OR_ORGANISATION),
    only("GET", "/webhook-endpoints/{id}", READERS_OR_ORGANISATION),
    only(
        "GET",
        "/webhook-endpoints/{id}/secret",
        CASEWORKER_OR_ORGANISATION,
    ),
    only(
        "GET",
        "/reports/national/volunteers",
        NATIONAL_REPORT_READERS,
    ),
    only("POST", "/grant-pools", &[PoolAdministrator]),
    only("POST", "/grant-pools/{id}/budget", &[PoolAdministrator]),
    only("POST", "/grant-pools/{id}/rounds", &[PoolAdministrator]),
    only("POST", "/grant-pools/{id}/conflicts", CASE_HANDLERS),
    only("GET", "/grant-pools", GRANT_READERS_OR_APPLICANT),
    only("GET", "/grant-pools/{id}", GRANT_READERS_OR_APPLICANT),
    only("POST", "/grant-applications", CASEWORKER_OR_APPLICANT),
    only("PUT", "/grant-applications/{id}", CASEWORKER_OR_APPLICANT),
    only(
        "POST",
        "/grant-applications/{id}/submit",
        CASEWORKER_OR_APPLICANT,
    ),
    only(
        "POST",
        "/grant-applications/{id}/amend",
        CASEWORKER_OR_APPLICANT,
    ),
    only(
        "POST",
        "/grant-applications/{id}/withdraw",
        CASEWORKER_OR_APPLICANT,
    ),
    only(
        "POST",
        "/grant-applications/{id}/assessments",
        &[Caseworker],
    ),
    only(
        "POST",
        "/grant-applications/{id}/second-assessment",
        CASE_HANDLERS,
    ),
    only(
        "POST",
        "/grant-applications/{id}/decision",
        &[CommitteeMember],
    ),
    only(
        "POST",
        "/grant-applications/{id}/decision/approval",
        &[CommitteeMember],
    ),
    only("POST", "/grant-applications/{id}/complaint", &[Caseworker]),
    only("POST", "/grant-applications/{id}/payments", &[Caseworker]),
    only(
        "POST",
        "/grant-applications/{id}/final-report",
        CASEWORKER_OR_APPLICANT,
    ),
    only(
        "POST",
        "/grant-applications/{id}/final-report/approval",
        &[Caseworker],
    ),
    only("POST", "/grant-applications/{id}/repayments", &[Caseworker]),
    only("POST", "/grant-applications/{id}/forget", &[Caseworker]),
    only("GET", "/grant-applications/{id}/export", &[Caseworker]),
    persons("GET", "/grant-applications", GRANT_READERS_OR_APPLICANT),
    persons(
        "GET",
        "/grant-applications/{id}",
        GRANT_READERS_OR_APPLICANT,
    ),
    only(
        "GET",
        "/grant-applications/{id}/versions",
        GRANT_READERS_OR_APPLICANT,
    ),
    only(
        "GET",
        "/grant-applications/{id}/audit",
        GRANT_READERS_OR_APPLICANT,
    ),
    only("GET", "/grant-pools/{id}/audit", GRANT_READERS),
    // The dashboards (`samskab-dashboard`): HTML pages of the same figures as the reports.
    open("GET", "/dashboard/sign-in"),
    open("POST", "/dashboard/sign-in"),
    open("POST", "/dashboard/sign-out"),
    open("GET", "/dashboard/assets/dashboard.css"),
    open("GET", "/dashboard/assets/dashboard.js"),
    only("GET", "/dashboard", REPORT_READERS),
    only("GET", "/dashboard/grants", REPORT_READERS),
    only("GET", "/dashboard/matching", REPORT_READERS),
    only("GET", "/dashboard/action-plan", REPORT_READERS),
    only("GET", "/dashboard/umbrella", &[Umbrella]),
];

/// The roles that see a person's personal data, børneattest and consent where a route shows
/// persons; every other role that may call the route sees the rest (statistics, skills). The
/// party roles reach only their own entity (`ownership.rs`): a volunteer sees themself, an
/// organisation its own contact person. A committee member sees who applies for a grant
/// (forvaltningsloven: the decision is about them).
pub const SEES_PERSONS: &[Role] = &[Caseworker, CommitteeMember, Volunteer, Organisation];

/// Whether `principal` sees persons' personal data (see [`SEES_PERSONS`]).
pub fn sees_persons(principal: &Principal) -> bool {
    principal.roles.iter().any(|r| SEES_PERSONS.contains(r))
}

/// The row of `method path`, if the table has one. `HEAD` is a `GET` without the body.
pub fn lookup(method: &str, path: &str) -> Option<&'static Access> {
    let method = if method.eq_ignore_ascii_case("HEAD") {
        "GET"
    } else {
        method
    };
    ACCESS
        .iter()
        .find(|a| a.method.eq_ignore_ascii_case(method) && a.path == path)
}

/// The methods the table has for `path`, as an `Allow` header lists them.
fn allowed_methods(path: &str) -> String {
    ACCESS
        .iter()
        .filter(|a| a.path == path)
        .map(|a| a.method)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Middleware on every matched route: no row → 403 for everyone; an open row → on; otherwise
/// the token must be valid (401) and carry one of the row's roles (403). The principal is left
/// in the request's extensions, so the handler's `Principal` does not verify the token again.
pub async fn enforce(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let Some(matched) = matched else {
        return ApiError::Forbidden("this route is in no one's access table").into_response();
    };
    let Some(row) = lookup(request.method().as_str(), matched.as_str()) else {
        // A method the path does not have (TRACE /health): 405, as without the table. A route
        // the router has and the table lacks lands here too, and is refused all the same.
        let allow = allowed_methods(matched.as_str());
        if allow.is_empty() {
            return ApiError::Forbidden("this route is in no one's access table").into_response();
        }
        return (
            axum::http::StatusCode::METHOD_NOT_ALLOWED,
            [(axum::http::header::ALLOW, allow)],
        )
            .into_response();
    };
    let Some(roles) = row.roles else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let principal = match Principal::from_request_parts(&mut parts, &state).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    if !principal.roles.iter().any(|r| roles.contains(r)) {
        return ApiError::Forbidden("your role may not do this").into_response();
    }
    // A party token reaches only its own: the entity the path names is checked here; what a
    // body or a query names, by the handler (`ownership.rs`).
    if let Some(party) = principal.party
        && let Some(id) = path_id(&mut parts, &state).await
    {
        match ownership::check_path(&state, &principal, party, matched.as_str(), id).await {
            Ok(None) => {}
            Ok(Some(elsewhere)) => {
                parts.extensions.insert(ownership::PathTenant(elsewhere));
            }
            Err(refused) => return refused.into_response(),
        }
    }
    parts.extensions.insert(principal);
    next.run(Request::from_parts(parts, body)).await
}

/// The path's `{id}`, if it has one and it is a UUID (one that is not names nothing: the
/// handler answers 404).
async fn path_id(parts: &mut axum::http::request::Parts, state: &AppState) -> Option<uuid::Uuid> {
    let params = RawPathParams::from_request_parts(parts, state).await.ok()?;
    params
        .iter()
        .find(|(name, _)| *name == "id")
        .and_then(|(_, value)| uuid::Uuid::try_parse(value).ok())
}

/// The table as ARCHITECTURE.md shows it: a row per route, a column per role.
pub fn markdown() -> String {
    let mut out = String::from("| Route |");
    for role in Role::ALL {
        out.push_str(&format!(" `{}` |", role.as_str()));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for row in ACCESS {
        out.push_str(&format!("| `{} {}` |", row.method, row.path));
        for role in Role::ALL {
            let cell = match row.roles {
                None => "open",
                Some(roles) if !roles.contains(&role) => "—",
                Some(_) if role.is_party_role() => "own",
                Some(_) if row.persons && !SEES_PERSONS.contains(&role) => "yes, without persons",
                Some(_) => "yes",
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}
