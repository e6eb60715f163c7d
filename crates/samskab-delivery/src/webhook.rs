//! A message as a webhook, and its posting: JSON, signed per Standard Webhooks
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`), over HTTPS (rustls with the
//! Mozilla roots of `webpki-roots`, so the host's certificate store plays no part).
//!
//! The `webhook-id` is the message's id: a copy sent again (a retry, or a crash after
//! sending) carries the same one, so a receiver drops it. The timestamp is the attempt's, so a
//! receiver may refuse old ones (replays) as the standard suggests (five minutes).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::Failure;
use crate::signing::WebhookKey;

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<bytes::Bytes>,
>;

/// Posts webhooks.
pub struct WebhookSender {
    client: Client,
    key: WebhookKey,
    /// Plain `http://` and addresses on this machine or its private networks allowed: for a
    /// receiver on the same machine (development, tests), never in production, where an
    /// endpoint must not reach the installation's own services.
    allow_local: bool,
}

/// How long a receiver has to answer, connection included.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

/// What one delivery posts.
pub(crate) struct Hook<'a> {
    pub id: Uuid,
    pub tenant: &'a str,
    pub endpoint: Uuid,
    pub url: &'a str,
    pub recipient: &'a str,
    pub rule: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    pub created_at: DateTime<Utc>,
}

/// The body: Standard Webhooks' `type`, `timestamp` and `data`.
#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: DateTime<Utc>,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    id: Uuid,
    recipient: &'a str,
    rule: &'a str,
    subject: &'a str,
    body: &'a str,
    link: &'a str,
    created_at: DateTime<Utc>,
}

impl WebhookSender {
    pub fn new(key: WebhookKey, allow_local: bool) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS for webhooks")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        // hyper follows no redirect: one would send the signed body where the owner did not say.
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        Ok(Self {
            client,
            key,
            allow_local,
        })
    }

    pub(crate) async fn send(&self, hook: &Hook<'_>) -> Result<(), Failure> {
        if let Some(refused) = self.refused(hook.url) {
            return Err(Failure::Permanent(refused.into()));
        }
        let payload = Payload {
            kind: format!("notification.{}", hook.rule),
            timestamp: hook.created_at,
            data: Data {
                id: hook.id,
                recipient: hook.recipient,
                rule: hook.rule,
                subject: hook.subject,
                body: hook.body,
                link: hook.link,
                created_at: hook.created_at,
            },
        };
        let body = serde_json::to_vec(&payload)
            .map_err(|_| Failure::Permanent("the message does not serialise".into()))?;
        let id = hook.id.to_string();
        let timestamp = Utc::now().timestamp();
        let signature = self
            .key
            .secret_for(hook.tenant, hook.endpoint)
            .sign(&id, timestamp, &body);
        let request = hyper::Request::post(hook.url)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("samskab-webhooks/", env!("CARGO_PKG_VERSION")),
            )
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .map_err(|_| Failure::Permanent("the endpoint's URL cannot be posted to".into()))?;
        match tokio::time::timeout(ANSWER_WITHIN, self.client.request(request)).await {
            Ok(Ok(response)) => classify(response.status().as_u16()),
            Err(_) => Err(Failure::Transient(
                "the endpoint did not answer in time".into(),
            )),
            Ok(Err(_)) => Err(Failure::Transient(
                "no HTTP conversation (connection refused or broken, or TLS failed)".into(),
            )),
        }
    }

    /// Why this URL is not posted to here, if it is not.
    fn refused(&self, url: &str) -> Option<&'static str> {
        if self.allow_local {
            return None;
        }
        let Some(rest) = url.strip_prefix("https://") else {
            return Some("plain http is not allowed for webhooks here");
        };
        let host = rest.split(['/', '?', ':']).next().unwrap_or_default();
        let local = host.starts_with('[')
            || host.eq_ignore_ascii_case("localhost")
            || host.to_ascii_lowercase().ends_with(".localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| match ip {
                IpAddr::V4(v4) => {
                    v4.is_loopback()
                        || v4.is_private()
                        || v4.is_link_local()
                        || v4.is_unspecified()
                        || v4.is_broadcast()
                }
                IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified(),
            });
        local.then_some("an address on this machine or a private network is not allowed here")
    }
}

/// 2xx is delivered. 408, 429 and 5xx are tried again; the rest will not get better by
/// itself (a 401 from a receiver with the wrong secret, a 404, a 410 Gone): parked for the
/// operator, who can try it again once the owner has fixed it. Never the answer's body.
fn classify(status: u16) -> Result<(), Failure> {
    match status {
        200..=299 => Ok(()),
        408 | 429 | 500..=599 => Err(Failure::Transient(format!("HTTP {status} (transient)"))),
        300..=399 => Err(Failure::Permanent(format!(
            "HTTP {status} (redirects are not followed)"
        ))),
        _ => Err(Failure::Permanent(format!("HTTP {status} (permanent)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(allow_local: bool) -> WebhookSender {
        use base64::Engine;
        let key = base64::engine::general_purpose::STANDARD.encode((0u8..32).collect::<Vec<_>>());
        WebhookSender::new(WebhookKey::from_base64(&key).expect("key"), allow_local)
            .expect("sender")
    }

    #[test]
    fn in_production_only_https_to_public_hosts_is_posted() {
        let production = sender(false);
        assert_eq!(production.refused("https://hooks.example.dk/x"), None);
        assert_eq!(production.refused("https://93.184.216.34:8443/x"), None);
        for refused in [
            "http://hooks.example.dk/x",
            "https://localhost/x",
            "https://127.0.0.1:5432/",
            "https://10.0.0.8/",
            "https://192.168.1.1?x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
        ] {
            assert!(production.refused(refused).is_some(), "{refused}");
        }
        assert_eq!(sender(true).refused("http://127.0.0.1:9000/hook"), None);
    }

    #[test]
    fn answers_are_delivered_retried_or_parked_by_their_status() {
        assert!(classify(204).is_ok());
        for transient in [408, 429, 500, 503] {
            assert!(matches!(classify(transient), Err(Failure::Transient(_))));
        }
        for permanent in [301, 400, 401, 404, 410] {
            assert!(matches!(classify(permanent), Err(Failure::Permanent(_))));
        }
    }
}
