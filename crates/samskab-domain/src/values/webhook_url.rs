//! Where an organisation's webhooks are sent.

use serde::{Deserialize, Serialize};

use crate::InvalidValue;

/// An endpoint's URL: `https://host[:port][/path][?query]` (or `http://`, which the sender
/// refuses unless the installation allows it, for a receiver on the same machine), trimmed.
///
/// Deliberately narrower than RFC 3986, so that what is stored can be printed, compared and
/// sent without surprises: a host name or IPv4 address of letters, digits, `.` and `-` (1..=253);
/// a port of 1..=5 digits; a path and query of at most 1700 characters from the URL-safe set
/// (`%`-escapes for the rest); no user or password (a secret would sit in the log in plain
/// text) and no fragment (never sent to a server).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub const MAX_HOST: usize = 253;
    pub const MAX_PATH: usize = 1700;
    /// What may follow the host and port, after the first `/` or `?`.
    pub const PATH_CHARS: &'static str = "-._~!$&'()*+,;=:@%/?";

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let text = input.trim();
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .ok_or_else(|| InvalidValue::new("must start with https:// (or http://)"))?;
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if host.is_empty()
            || host.len() > Self::MAX_HOST
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(InvalidValue::new(
                "must name a host of letters, digits, '.' and '-' (no user or password)",
            ));
        }
        if let Some(port) = port
            && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(InvalidValue::new("must have a port of 1 to 5 digits"));
        }
        if path.chars().count() > Self::MAX_PATH {
            return Err(InvalidValue::new(format!(
                "must have a path and query of at most {} characters",
                Self::MAX_PATH
            )));
        }
        if !path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || Self::PATH_CHARS.contains(c))
        {
            return Err(InvalidValue::new(
                "must have a path of URL-safe characters only (%-escape the rest; no fragment)",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is sent over TLS.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

string_newtype_impls!(WebhookUrl);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_an_http_or_https_address_without_credentials_or_fragment() {
        for ok in [
            "https://hooks.example.dk/samskab",
            "  http://127.0.0.1:8089/hook?token=a%20b ",
            "https://example.dk",
            "https://example.dk?x=1",
        ] {
            assert!(WebhookUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://example.dk",
            "https://",
            "https://user:secret@example.dk/",
            "https://example.dk/#frag",
            "https://example.dk/a b",
            "https://example.dk:/x",
            "https://example.dk:123456/",
            "HTTPS://example.dk",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(WebhookUrl::parse("https://example.dk").is_ok_and(|u| u.is_https()));
        assert!(WebhookUrl::parse("http://example.dk").is_ok_and(|u| !u.is_https()));
    }
}
