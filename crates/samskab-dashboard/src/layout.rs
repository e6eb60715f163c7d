//! What every page shares: the shell (language, skip link, navigation, sign-out), the figure
//! boxes the tests and screen readers find by name, the headers that keep a page private, and
//! the error pages that the API's problem details become here.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use samskab_api::Principal;

/// A municipality's pages in the navigation, in its order.
const NAVIGATION: &[(&str, &str)] = &[
    ("/dashboard", "Overblik"),
    ("/dashboard/matching", "Behov og match"),
    ("/dashboard/grants", "§18-puljer"),
    ("/dashboard/action-plan", "Handleplan"),
];

/// An umbrella organisation's page: it sees no municipality's own.
const UMBRELLA_NAVIGATION: &[(&str, &str)] = &[("/dashboard/umbrella", "Paraplyorganisation")];

/// Where a viewer lands after signing in: their first page.
pub fn home_of(viewer: &Principal) -> &'static str {
    if viewer.umbrella().is_some() {
        UMBRELLA_NAVIGATION[0].0
    } else {
        NAVIGATION[0].0
    }
}

/// A page of figures: `controls` (the period asked for) stay while `figures` are fetched
/// again every `refresh` (`assets/dashboard.js` asks for `?part=figures`).
pub struct Page<'a> {
    pub path: &'a str,
    pub title: &'a str,
    pub viewer: &'a Principal,
    pub refresh: Duration,
    pub controls: Markup,
    pub figures: Markup,
}

/// Whether a request asks only for the figures (the script's refresh).
pub fn figures_only(part: Option<&str>) -> bool {
    part == Some("figures")
}

impl Page<'_> {
    pub fn render(self, figures_only: bool) -> Response {
        if figures_only {
            return html_response(StatusCode::OK, self.figures);
        }
        let body = html! {
            (header_of(self.path, Some(self.viewer)))
            main id="indhold" tabindex="-1" {
                h1 { (self.title) }
                (self.controls)
                div id="figures" data-refresh-ms=(self.refresh.as_millis()) {
                    (self.figures)
                }
                p.status role="status" aria-live="polite" {}
            }
        };
        html_response(StatusCode::OK, shell(self.title, body))
    }
}

/// The document around a page's body.
fn shell(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="da" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Samskab" }
                link rel="stylesheet" href="/dashboard/assets/dashboard.css";
                script src="/dashboard/assets/dashboard.js" defer {}
            }
            body {
                a.skip href="#indhold" { "Gå til indholdet" }
                (body)
                footer {
                    p { "Samskab: frivillighed og §18 i kommunerne. Tallene tæller personer, men viser ingen." }
                }
            }
        }
    }
}

fn header_of(current: &str, viewer: Option<&Principal>) -> Markup {
    html! {
        header.top {
            p.brand { "Samskab" }
            @if let Some(viewer) = viewer {
                @if viewer.umbrella().is_some() {
                    p.tenant { "Paraplyorganisation" }
                } @else {
                    p.tenant { "Kommune: " strong { (viewer.tenant.as_str()) } }
                }
                nav aria-label="Oversigter" {
                    ul {
                        @for (path, name) in navigation_of(viewer) {
                            li {
                                @if *path == current {
                                    a href=(path) aria-current="page" { (name) }
                                } @else {
                                    a href=(path) { (name) }
                                }
                            }
                        }
                    }
                }
                form.sign-out method="post" action="/dashboard/sign-out" {
                    button type="submit" { "Log ud" }
                }
            }
        }
    }
}

fn navigation_of(viewer: &Principal) -> &'static [(&'static str, &'static str)] {
    if viewer.umbrella().is_some() {
        UMBRELLA_NAVIGATION
    } else {
        NAVIGATION
    }
}

/// One key figure: its name, and its value written for people; `key` and the raw `value` are
/// for machines (the browser test reads them).
pub fn figure(key: &str, name: &str, value: i64, shown: &str) -> Markup {
    html! {
        div.figure {
            dt { (name) }
            dd data-figure=(key) data-value=(value) { (shown) }
        }
    }
}

/// A section `title` (heading id `id`) holding a table with `columns` and `rows`, or `empty`
/// when there are no rows; the table scrolls on its own on a narrow screen, and can be reached
/// with the keyboard to do so.
pub fn table_section(
    id: &str,
    title: &str,
    empty: &str,
    columns: &[&str],
    rows: Option<Markup>,
) -> Markup {
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (title) }
            @match rows {
                None => p { (empty) },
                Some(rows) => div.table-scroll role="region" aria-labelledby=(id) tabindex="0" {
                    table {
                        thead { tr { @for column in columns { th scope="col" { (column) } } } }
                        tbody { (rows) }
                    }
                },
            }
        }
    }
}

/// A figure that is a count.
pub fn count_figure(key: &str, name: &str, value: u64) -> Markup {
    let value = i64::try_from(value).unwrap_or(i64::MAX);
    figure(key, name, value, &crate::format::count(value))
}

/// A page as a response: HTML that is never cached, framed, sniffed or sent on as a referrer,
/// and that loads nothing but its own stylesheet and script.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The sign-in page; `problem` says why the last try did not sign in.
pub fn sign_in(status: StatusCode, problem: Option<&str>) -> Response {
    let body = html! {
        (header_of("", None))
        main id="indhold" tabindex="-1" {
            h1 { "Log ind" }
            p { "Oversigterne er for kommunens medarbejdere. Log ind med den adgangsnøgle (token), "
                "som din kommunes login har givet dig." }
            @if let Some(problem) = problem {
                p.problem id="sign-in-problem" role="alert" { (problem) }
            }
            form method="post" action="/dashboard/sign-in" {
                label for="token" { "Adgangsnøgle (token)" }
                @if problem.is_some() {
                    input id="token" name="token" type="password" autocomplete="off" required
                        aria-invalid="true" aria-describedby="sign-in-problem";
                } @else {
                    input id="token" name="token" type="password" autocomplete="off" required;
                }
                button type="submit" { "Log ind" }
            }
        }
    };
    html_response(status, shell("Log ind", body))
}

/// A page that says what went wrong, and the way back.
pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = html! {
        (header_of("", None))
        main id="indhold" tabindex="-1" {
            h1 { (title) }
            p { (detail) }
            p { a href="/dashboard" { "Til overblikket" } " · " a href="/dashboard/sign-in" { "Log ind som en anden" } }
        }
    };
    html_response(status, shell(title, body))
}

/// The API's refusals (problem details, from the access table or a handler) as pages: no
/// token, or one that no longer holds, is the sign-in page (still a 401); a role that may not
/// see the page, a bad period, a read model that lags: a page that says so.
pub async fn problems_as_pages(headers: HeaderMap, response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let detail = problem_text(&problem);
    match status {
        StatusCode::UNAUTHORIZED => {
            // A first visit has no cookie and needs no reproach.
            let had_token = samskab_api::auth::dashboard_cookie_in(&headers).is_some();
            sign_in(
                status,
                had_token.then_some("Adgangsnøglen gælder ikke (længere). Log ind igen."),
            )
        }
        StatusCode::FORBIDDEN => error_page(
            status,
            "Ikke for din rolle",
            "Din rolle kan ikke se denne oversigt. Oversigterne er for kommunens sagsbehandlere, \
             revisorer, udvalgsmedlemmer og puljeadministratorer.",
        ),
        s if s.is_client_error() => error_page(s, "Forespørgslen kan ikke besvares", &detail),
        s => error_page(
            s,
            "Tallene kan ikke vises lige nu",
            &format!("Prøv igen om lidt. ({detail})"),
        ),
    }
}

/// What a problem says: its detail, or each field and its reason.
fn problem_text(problem: &serde_json::Value) -> String {
    if let Some(detail) = problem["detail"].as_str() {
        return detail.to_owned();
    }
    let reasons: Vec<String> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{}: {}",
                e["field"].as_str().unwrap_or("?"),
                e["reason"].as_str().unwrap_or("")
            )
        })
        .collect();
    if reasons.is_empty() {
        problem["title"].as_str().unwrap_or("fejl").to_owned()
    } else {
        reasons.join("; ")
    }
}

pub async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../assets/dashboard.css"),
    )
}

pub async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../assets/dashboard.js"),
    )
}

fn asset(content_type: &'static str, text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        text,
    )
        .into_response()
}
