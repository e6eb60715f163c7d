//! The dashboards: what a municipality's staff open every morning, at `/dashboard`.
//!
//! - **Pages, not an app.** Each page is HTML rendered on the server (`maud`), with its charts
//!   as SVG from the server (`chart.rs`) and each chart's figures also as a table; a small
//!   script (`assets/dashboard.js`) only fetches the page's figures again every
//!   [`DashboardConfig::refresh`], so they move as the projections do. Nothing else runs in
//!   the browser, and without the script the page is whole.
//! - **The figures are the API's.** A page calls the same report code as `GET /reports/...`
//!   (`samskab_api::routes::reports::load`), on the reporting read model only.
//! - **The same tokens, the same table.** Every page is a row of `samskab_api::access::ACCESS`
//!   and passes `access::enforce` like any route. The browser holds the token in a cookie set by
//!   the sign-in page (`session.rs`), which the API accepts only for these pages' GETs, so the
//!   cookie can change nothing. The tenant is the token's, as everywhere.
//! - **Danish first**, for a screen reader and a keyboard too (WCAG 2.1 AA): `lang="da"`, a skip
//!   link, headings in order, labelled forms, charts with a name and a table, contrast checked
//!   by axe-core in `tests/api/dashboard.rs`.
//!
//! A page: `overview.rs` (volunteers, needs and matches, grants), `grants.rs` (each §18 pool),
//! `matching.rs` (needs, matches, hours and retention), `action_plan.rs` (the action plan's
//! initiatives: their pools, grants and partnerships), and for an umbrella organisation's token
//! `umbrella.rs` (its members' volunteers in the municipalities that share, suppressed). What
//! they share: `layout.rs` (the shell,
//! the error pages), `format.rs` (numbers, kroner and times as Danes write them).

mod action_plan;
mod chart;
mod format;
mod grants;
mod layout;
mod matching;
mod overview;
mod session;
mod umbrella;

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use samskab_api::AppState;

/// Every route this crate serves, as `access::ACCESS` names them: the access test checks that
/// the table covers these with the API's routes, and no others.
pub const PAGES: &[(&str, &str)] = &[
    ("GET", "/dashboard/sign-in"),
    ("POST", "/dashboard/sign-in"),
    ("POST", "/dashboard/sign-out"),
    ("GET", "/dashboard/assets/dashboard.css"),
    ("GET", "/dashboard/assets/dashboard.js"),
    ("GET", "/dashboard"),
    ("GET", "/dashboard/grants"),
    ("GET", "/dashboard/matching"),
    ("GET", "/dashboard/action-plan"),
    ("GET", "/dashboard/umbrella"),
];

/// Settings of the dashboards.
#[derive(Debug, Clone, Copy)]
pub struct DashboardConfig {
    /// How often an open page fetches its figures again; zero: never.
    pub refresh: Duration,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            refresh: Duration::from_secs(30),
        }
    }
}

/// The dashboards' routes, behind the access table, with their errors as pages.
pub fn pages(state: &AppState, config: DashboardConfig) -> Router {
    let routes = Router::new()
        .route(
            "/dashboard/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/dashboard/sign-out", post(session::sign_out))
        .route("/dashboard/assets/dashboard.css", get(layout::stylesheet))
        .route("/dashboard/assets/dashboard.js", get(layout::script))
        .route("/dashboard", get(overview::page))
        .route("/dashboard/grants", get(grants::page))
        .route("/dashboard/matching", get(matching::page))
        .route("/dashboard/action-plan", get(action_plan::page))
        .route("/dashboard/umbrella", get(umbrella::page));
    samskab_api::guard(routes, state)
        // Outside the access check, so its refusals (problem details) become pages too.
        .layer(axum::middleware::map_response(layout::problems_as_pages))
        .layer(axum::Extension(config))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state.clone())
}
