//! The AEAD: XChaCha20-Poly1305 (RustCrypto, audited by NCC Group). Its 192-bit nonce is drawn
//! at random for every seal, which is safe for any number of messages under one key, so no
//! counter has to be kept anywhere (AES-256-GCM's 96-bit nonce is not safe to draw at random
//! for as many messages as a master key wraps).

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes of a key (data key or master key).
pub const KEY_BYTES: usize = 32;
/// Bytes of a nonce.
pub const NONCE_BYTES: usize = 24;
/// Random bytes of a data key's id (shown as hex).
const ID_BYTES: usize = 12;

/// A 256-bit symmetric key. Its bytes are wiped from memory when it is dropped, and it never
/// prints.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_BYTES]);

impl SecretKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = [0u8; KEY_BYTES];
        bytes.copy_from_slice(&key);
        Self(bytes)
    }

    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(bytes)
    }

    pub(crate) fn expose(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// Encrypts `plaintext` bound to `aad`: the ciphertext opens only with the same `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Sealed {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce fails only for a plaintext beyond the cipher's
        // limit (256 GiB); nothing we seal comes near.
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let mut nonce_bytes = [0u8; NONCE_BYTES];
        nonce_bytes.copy_from_slice(&nonce);
        Sealed {
            nonce: nonce_bytes,
            ciphertext,
        }
    }

    /// Decrypts what [`SecretKey::seal`] made with the same `aad`. Any other key, `aad`, nonce
    /// or a changed byte is [`Tampered`].
    pub fn open(&self, aad: &[u8], sealed: &Sealed) -> Result<Vec<u8>, Tampered> {
        self.cipher()
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| Tampered)
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// A data key and its id. A subject has one data key at a time; the id says which one sealed
/// a ciphertext, so a subject given a new key after a forgetting (an organisation's next
/// contact person) still reads older events as forgotten instead of failing on them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DataKey {
    pub id: String,
    pub secret: SecretKey,
}

impl DataKey {
    /// A fresh key and id from the operating system's CSPRNG, in one call (a registration
    /// makes one of these; every system call on that path shows in its cost).
    pub fn generate() -> Self {
        use chacha20poly1305::aead::rand_core::RngCore;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut random = [0u8; ID_BYTES + KEY_BYTES];
        OsRng.fill_bytes(&mut random);
        let (id_bytes, key_bytes) = random.split_at(ID_BYTES);
        let mut id = String::with_capacity(2 * ID_BYTES);
        for b in id_bytes {
            id.push(char::from(HEX[usize::from(b >> 4)]));
            id.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        let mut secret = [0u8; KEY_BYTES];
        secret.copy_from_slice(key_bytes);
        random.zeroize();
        Self {
            id,
            secret: SecretKey::from_bytes(secret),
        }
    }
}

/// A nonce and the ciphertext with its 16-byte tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: [u8; NONCE_BYTES],
    pub ciphertext: Vec<u8>,
}

/// The ciphertext does not open with this key and associated data: another key, moved from
/// another event or subject, or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the ciphertext does not open with this key and associated data")]
pub struct Tampered;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_with_the_same_key_and_associated_data() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"rodovre|volunteer/1|event-1", b"Soeren");
        assert_eq!(
            key.open(b"rodovre|volunteer/1|event-1", &sealed),
            Ok(b"Soeren".to_vec())
        );
        assert_eq!(
            key.open(b"rodovre|volunteer/1|event-2", &sealed),
            Err(Tampered)
        );
        assert_eq!(
            SecretKey::generate().open(b"rodovre|volunteer/1|event-1", &sealed),
            Err(Tampered)
        );
        let mut changed = sealed.clone();
        changed.ciphertext[0] ^= 1;
        assert_eq!(
            key.open(b"rodovre|volunteer/1|event-1", &changed),
            Err(Tampered)
        );
    }

    #[test]
    fn every_seal_draws_a_new_nonce() {
        let key = SecretKey::generate();
        let a = key.seal(b"", b"same");
        let b = key.seal(b"", b"same");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }
}
