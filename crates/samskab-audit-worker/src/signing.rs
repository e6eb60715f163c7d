//! The Ed25519 key an export is signed with (RFC 8032, `ed25519-dalek`); what it signs:
//! [`crate::export`].
//!
//! The key is a 32-byte seed given in base64 (standard alphabet, padded: 44 characters), which
//! the binary reads from `SAMSKAB_AUDIT_SIGNING_KEY`. The public key travels in every export,
//! so an export checks on its own; whoever must know that it came from this municipality's
//! system pins the public key (`verify_export.py --public-key`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

/// Why a key or a signature does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    #[error("the signing key is not base64 of 32 bytes")]
    BadSeed,
    #[error("the public key is not base64 of an Ed25519 public key")]
    BadPublicKey,
    #[error("the signature is not base64 of 64 bytes")]
    BadSignature,
    #[error("the signature does not verify")]
    Invalid,
}

/// Signs exports. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("public_key", &self.public_key_base64())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The key of a 32-byte seed in base64 (surrounding whitespace, as a file or an
    /// environment variable may have, is ignored).
    pub fn from_base64_seed(seed: &str) -> Result<Self, SignerError> {
        let bytes = STANDARD
            .decode(seed.trim())
            .map_err(|_| SignerError::BadSeed)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| SignerError::BadSeed)?;
        Ok(Self::from_seed(seed))
    }

    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The public key, base64 of its 32 bytes.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.key.verifying_key().as_bytes())
    }

    /// The signature of `message`, base64 of its 64 bytes.
    pub fn sign_base64(&self, message: &[u8]) -> String {
        STANDARD.encode(self.key.sign(message).to_bytes())
    }
}

/// Checks a base64 signature of `message` by a base64 public key (strictly: RFC 8032's
/// checks, and no small-order keys).
pub fn verify_signature(
    public_key: &str,
    message: &[u8],
    signature: &str,
) -> Result<(), SignerError> {
    let key: [u8; 32] = STANDARD
        .decode(public_key)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SignerError::BadPublicKey)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| SignerError::BadPublicKey)?;
    let signature: [u8; 64] = STANDARD
        .decode(signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SignerError::BadSignature)?;
    key.verify_strict(message, &Signature::from_bytes(&signature))
        .map_err(|_| SignerError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 § 7.1, test 1: the empty message.
    #[test]
    fn rfc_8032_test_vector_1() -> Result<(), SignerError> {
        let seed = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .map_err(|_| SignerError::BadSeed)?;
        let signer = Signer::from_base64_seed(&STANDARD.encode(seed))?;
        assert_eq!(
            hex::encode(
                STANDARD
                    .decode(signer.public_key_base64())
                    .map_err(|_| SignerError::BadPublicKey)?
            ),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let signature = signer.sign_base64(b"");
        assert_eq!(
            hex::encode(
                STANDARD
                    .decode(&signature)
                    .map_err(|_| SignerError::BadSignature)?
            ),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        verify_signature(&signer.public_key_base64(), b"", &signature)?;
        assert_eq!(
            verify_signature(&signer.public_key_base64(), b"x", &signature),
            Err(SignerError::Invalid)
        );
        Ok(())
    }

    #[test]
    fn a_seed_must_be_32_bytes_of_base64() {
        assert_eq!(
            Signer::from_base64_seed("c2hvcnQ=").map(|_| ()),
            Err(SignerError::BadSeed)
        );
        assert_eq!(
            Signer::from_base64_seed("not base64!").map(|_| ()),
            Err(SignerError::BadSeed)
        );
        let signer = Signer::from_seed([7; 32]);
        assert!(!format!("{signer:?}").contains(&STANDARD.encode([7u8; 32])));
    }
}
