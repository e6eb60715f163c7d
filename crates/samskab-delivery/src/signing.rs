//! Standard Webhooks signing (<https://www.standardwebhooks.com>): each endpoint's secret,
//! derived from the installation's webhook key, and the `webhook-signature` of a delivery.
//!
//! The secret is `HMAC-SHA256(key, "samskab webhook secret v1" 0 tenant 0 endpoint id)`: the
//! same key and endpoint always give the same secret, so it is stored nowhere (no event, no
//! table, no backup holds it) and the API shows it to the endpoint's owner by deriving it
//! again. Changing the key changes every endpoint's secret; a new secret for one endpoint is
//! a new endpoint.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

const SECRET_PREFIX: &str = "whsec_";

/// The installation's webhook key (`SAMSKAB_WEBHOOK_KEY`): 32 random bytes, in base64.
#[derive(Clone)]
pub struct WebhookKey([u8; 32]);

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(..)")
    }
}

impl WebhookKey {
    /// Refuses anything but 32 bytes, and 32 bytes with fewer than 16 different values (a
    /// placeholder, a repeated character: not a random key).
    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(text.trim())
            .context("SAMSKAB_WEBHOOK_KEY is not base64")?;
        let key: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            anyhow::anyhow!(
                "SAMSKAB_WEBHOOK_KEY holds {} bytes, not 32 (head -c 32 /dev/urandom | base64)",
                bytes.len()
            )
        })?;
        let mut seen = [false; 256];
        key.iter().for_each(|b| seen[usize::from(*b)] = true);
        if seen.iter().filter(|s| **s).count() < 16 {
            bail!("SAMSKAB_WEBHOOK_KEY is not random (head -c 32 /dev/urandom | base64)");
        }
        Ok(Self(key))
    }

    /// The signing secret of endpoint `endpoint` of `tenant`.
    pub fn secret_for(&self, tenant: &str, endpoint: Uuid) -> WebhookSecret {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(b"samskab webhook secret v1\0");
        mac.update(tenant.as_bytes());
        mac.update(b"\0");
        mac.update(endpoint.as_bytes());
        WebhookSecret(mac.finalize().into_bytes().to_vec())
    }
}

/// An endpoint's signing secret: `whsec_` and the base64 of its bytes, as Standard Webhooks'
/// libraries take it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// Reads `whsec_<base64>` (a receiver's configuration).
    pub fn parse(text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(SECRET_PREFIX)?;
        STANDARD.decode(encoded).ok().map(Self)
    }

    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` header of a delivery: `v1,` and the base64 of
    /// `HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let signature = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(signature))
    }

    /// Whether one of the header's space-separated signatures is this secret's for the
    /// delivery (compared in constant time), as a receiver checks it.
    pub fn verifies(&self, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        header.split(' ').any(|signature| {
            signature
                .strip_prefix("v1,")
                .and_then(|b64| STANDARD.decode(b64).ok())
                .is_some_and(|bytes| self.mac(id, timestamp, body).verify_slice(&bytes).is_ok())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in the Standard Webhooks specification and its reference libraries' tests.
    #[test]
    fn a_signature_is_the_one_the_standard_gives_for_its_example() {
        let secret =
            WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let body = br#"{"test": 2432232314}"#;
        let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret.verifies(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            body,
            &signature
        ));
        assert!(!secret.verifies(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_331,
            body,
            &signature
        ));
        assert!(!secret.verifies("msg_other", 1_614_265_330, body, &signature));
    }

    #[test]
    fn each_endpoint_has_its_own_secret_and_the_same_one_each_time() {
        let key =
            WebhookKey::from_base64(&STANDARD.encode((0u8..32).collect::<Vec<_>>())).expect("key");
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(key.secret_for("rodovre", a), key.secret_for("rodovre", a));
        assert_ne!(key.secret_for("rodovre", a), key.secret_for("rodovre", b));
        assert_ne!(key.secret_for("rodovre", a), key.secret_for("aarhus", a));
        let secret = key.secret_for("rodovre", a);
        assert_eq!(WebhookSecret::parse(&secret.to_whsec()), Some(secret));
    }

    #[test]
    fn a_placeholder_or_short_key_is_refused() {
        assert!(WebhookKey::from_base64(&STANDARD.encode([b'x'; 32])).is_err());
        assert!(WebhookKey::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(WebhookKey::from_base64("not base64!").is_err());
    }
}
