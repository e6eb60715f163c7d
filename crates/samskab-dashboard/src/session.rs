//! Signing in: the page takes a token (from the municipality's identity provider, as the API
//! does) and keeps it in a cookie that only these pages read.
//!
//! The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page
//! sends it), `Path=/dashboard`, and `Secure` but on a loopback host, where browsers treat
//! plain http as secure. The API accepts it only on the dashboards' GETs
//! (`samskab_api::auth`), so a page that tricked a browser into a request could still change
//! nothing. The token's expiry holds as on every request; signing out forgets the cookie.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samskab_api::access;
use samskab_api::auth::DASHBOARD_COOKIE;
use samskab_api::{AppState, Principal};
use serde::Deserialize;

use crate::layout;

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
}

pub async fn sign_in_page() -> Response {
    layout::sign_in(StatusCode::OK, None)
}

/// A token that holds, of a role that may see the overview: to the overview with the cookie.
/// Any other: the form again, saying why.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<SignIn>, FormRejection>,
) -> Response {
    let Ok(Form(SignIn { token })) = form else {
        return layout::sign_in(
            StatusCode::BAD_REQUEST,
            Some("Skriv din adgangsnøgle i feltet, og log ind."),
        );
    };
    let token = token.trim();
    let principal = match Principal::from_token(&state, token).await {
        Ok(principal) => principal,
        Err(refused) => {
            tracing::debug!(error = %refused, "dashboard sign-in refused");
            return layout::sign_in(
                StatusCode::UNAUTHORIZED,
                Some("Adgangsnøglen gælder ikke. Den kan være udløbet eller fra en anden kommune."),
            );
        }
    };
    let home = layout::home_of(&principal);
    let may_see = access::lookup("GET", home)
        .and_then(|row| row.roles)
        .is_some_and(|roles| principal.roles.iter().any(|r| roles.contains(r)));
    if !may_see {
        return layout::error_page(
            StatusCode::FORBIDDEN,
            "Ikke for din rolle",
            "Adgangsnøglen gælder, men din rolle kan ikke se oversigterne. De er for kommunens \
             sagsbehandlere, revisorer, udvalgsmedlemmer og puljeadministratorer, og for \
             paraplyorganisationer.",
        );
    }
    let attributes = cookie_attributes(&headers);
    let Ok(cookie) = HeaderValue::from_str(&format!("{DASHBOARD_COOKIE}={token}; {attributes}"))
    else {
        // A verified token is base64url and dots; anything else never got here.
        return layout::sign_in(
            StatusCode::BAD_REQUEST,
            Some("Adgangsnøglen kan ikke bruges."),
        );
    };
    tracing::info!(tenant = %principal.tenant.as_str(), actor = %principal.actor, "dashboard sign-in");
    redirect_with(cookie, home)
}

/// Forgets the cookie, back to the sign-in page.
pub async fn sign_out(headers: HeaderMap) -> Response {
    let attributes = cookie_attributes(&headers);
    match HeaderValue::from_str(&format!("{DASHBOARD_COOKIE}=; Max-Age=0; {attributes}")) {
        Ok(cookie) => redirect_with(cookie, "/dashboard/sign-in"),
        Err(_) => layout::sign_in(StatusCode::OK, None),
    }
}

fn redirect_with(cookie: HeaderValue, to: &'static str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, HeaderValue::from_static(to)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

fn cookie_attributes(headers: &HeaderMap) -> &'static str {
    if is_loopback(headers) {
        "Path=/dashboard; HttpOnly; SameSite=Strict"
    } else {
        "Path=/dashboard; HttpOnly; SameSite=Strict; Secure"
    }
}

/// Whether the request names a loopback host (`localhost`, `127.0.0.1`, `[::1]`, any port).
fn is_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(value).expect("host"));
        headers
    }

    #[test]
    fn the_cookie_is_secure_but_on_a_loopback_host() {
        for loopback in ["localhost", "127.0.0.1:8080", "[::1]:443", "localhost:3000"] {
            assert!(
                !cookie_attributes(&host(loopback)).contains("Secure"),
                "{loopback}"
            );
        }
        for public in [
            "samskab.dk",
            "127.0.0.1.evil.dk",
            "localhost.dk:80",
            "[2001:db8::1]",
        ] {
            assert!(
                cookie_attributes(&host(public)).contains("Secure"),
                "{public}"
            );
        }
        assert!(cookie_attributes(&HeaderMap::new()).contains("Secure"));
        assert!(cookie_attributes(&host("x")).contains("HttpOnly; SameSite=Strict"));
    }
}
