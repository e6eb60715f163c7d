//! Master keys: they wrap the data keys, and never leave the process's memory.
//!
//! Configured as `SAMSKAB_MASTER_KEYS="<id>:<base64 of 32 bytes>[,<id>:<base64>...]"`. The first
//! is the active key: new data keys are wrapped with it. The others only unwrap the data keys
//! wrapped before a rotation, so rotating the master key is: put a new key first, keep the old
//! ones after it. The log is never re-encrypted; each stored data key names its master key's id.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::{Deserialize, Serialize};

use crate::cipher::{DataKey, KEY_BYTES, NONCE_BYTES, Sealed, SecretKey};

/// The master keys of this installation, the active one first.
#[derive(Clone)]
pub struct MasterKeys {
    active: String,
    keys: BTreeMap<String, SecretKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MasterKeyError {
    #[error("no master key is given: SAMSKAB_MASTER_KEYS is empty")]
    Empty,
    #[error(
        "master key {position} is not `<id>:<base64 of {KEY_BYTES} bytes>` (the id: a-z, 0-9 and '-', 1 to 32 characters)"
    )]
    Shape { position: usize },
    #[error("master key {id:?} is not {KEY_BYTES} bytes of base64")]
    Length { id: String },
    #[error("master key {id:?} is given twice")]
    Duplicate { id: String },
    #[error("master key {id:?} is not random (one byte repeated, or the same as another key)")]
    NotRandom { id: String },
}

impl MasterKeys {
    /// Parses `SAMSKAB_MASTER_KEYS`. Never echoes key bytes in an error.
    pub fn parse(text: &str) -> Result<Self, MasterKeyError> {
        let mut active = None;
        let mut keys = BTreeMap::new();
        for (index, entry) in text.split(',').map(str::trim).enumerate() {
            if entry.is_empty() && text.trim().is_empty() {
                return Err(MasterKeyError::Empty);
            }
            let position = index + 1;
            let (id, encoded) = entry
                .split_once(':')
                .ok_or(MasterKeyError::Shape { position })?;
            let id_ok = (1..=32).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !id_ok {
                return Err(MasterKeyError::Shape { position });
            }
            let bytes = STANDARD
                .decode(encoded)
                .or_else(|_| URL_SAFE.decode(encoded))
                .map_err(|_| MasterKeyError::Length { id: id.into() })?;
            let bytes: [u8; KEY_BYTES] = bytes
                .try_into()
                .map_err(|_| MasterKeyError::Length { id: id.into() })?;
            if bytes.iter().all(|b| *b == bytes[0]) {
                return Err(MasterKeyError::NotRandom { id: id.into() });
            }
            let key = SecretKey::from_bytes(bytes);
            if keys.values().any(|other| other == &key) {
                return Err(MasterKeyError::NotRandom { id: id.into() });
            }
            if keys.insert(id.to_string(), key).is_some() {
                return Err(MasterKeyError::Duplicate { id: id.into() });
            }
            active.get_or_insert_with(|| id.to_string());
        }
        let active = active.ok_or(MasterKeyError::Empty)?;
        Ok(Self { active, keys })
    }

    /// A fresh random master key (tests, `samskab tokens`-style set-up of a development box).
    pub fn generate(id: &str) -> Self {
        let mut keys = BTreeMap::new();
        keys.insert(id.to_string(), SecretKey::generate());
        Self {
            active: id.into(),
            keys,
        }
    }

    /// One random master key per process, the same for every caller: what tests and the
    /// benchmark seal with (a process's events outlive it only in a test's own server).
    pub fn ephemeral() -> Self {
        static EPHEMERAL: std::sync::OnceLock<MasterKeys> = std::sync::OnceLock::new();
        EPHEMERAL
            .get_or_init(|| MasterKeys::generate("ephemeral"))
            .clone()
    }

    /// The setting's text for these keys, active first (for a development `.env`).
    pub fn to_setting(&self) -> String {
        let mut entries = vec![self.entry(&self.active)];
        entries.extend(
            self.keys
                .keys()
                .filter(|id| **id != self.active)
                .map(|id| self.entry(id)),
        );
        entries.join(",")
    }

    fn entry(&self, id: &str) -> String {
        let bytes = self.keys.get(id).map(|k| *k.expose()).unwrap_or_default();
        format!("{id}:{}", STANDARD.encode(bytes))
    }

    /// The id of the key new data keys are wrapped with.
    pub fn active_id(&self) -> &str {
        &self.active
    }

    /// Wraps a data key for `subject` with the active master key; the subject is bound as
    /// associated data, so a wrapped key copied to another subject does not unwrap.
    pub fn wrap(&self, subject: &str, data_key: &DataKey) -> WrappedKey {
        let master = &self.keys[&self.active];
        let sealed = master.seal(&wrap_aad(subject, &data_key.id), data_key.secret.expose());
        WrappedKey {
            master_key_id: self.active.clone(),
            data_key_id: data_key.id.clone(),
            nonce: STANDARD.encode(sealed.nonce),
            wrapped: STANDARD.encode(&sealed.ciphertext),
        }
    }

    /// Unwraps what [`MasterKeys::wrap`] made for `subject`, with the master key it names.
    pub fn unwrap(&self, subject: &str, wrapped: &WrappedKey) -> Result<DataKey, UnwrapError> {
        let master =
            self.keys
                .get(&wrapped.master_key_id)
                .ok_or_else(|| UnwrapError::UnknownMasterKey {
                    id: wrapped.master_key_id.clone(),
                })?;
        let nonce: [u8; NONCE_BYTES] = STANDARD
            .decode(&wrapped.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(UnwrapError::Tampered)?;
        let ciphertext = STANDARD
            .decode(&wrapped.wrapped)
            .map_err(|_| UnwrapError::Tampered)?;
        let bytes = master
            .open(
                &wrap_aad(subject, &wrapped.data_key_id),
                &Sealed { nonce, ciphertext },
            )
            .map_err(|_| UnwrapError::Tampered)?;
        let bytes: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| UnwrapError::Tampered)?;
        Ok(DataKey {
            id: wrapped.data_key_id.clone(),
            secret: SecretKey::from_bytes(bytes),
        })
    }
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeys")
            .field("active", &self.active)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn wrap_aad(subject: &str, data_key_id: &str) -> Vec<u8> {
    format!("samskab.data-key.v1|{subject}|{data_key_id}").into_bytes()
}

/// A data key as stored: wrapped by the master key `master_key_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    pub master_key_id: String,
    /// Which data key of the subject this is (see [`DataKey`]).
    pub data_key_id: String,
    /// Base64.
    pub nonce: String,
    /// Base64 of the wrapped key and its tag.
    pub wrapped: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnwrapError {
    #[error(
        "the data key is wrapped with master key {id:?}, which is not configured (SAMSKAB_MASTER_KEYS)"
    )]
    UnknownMasterKey { id: String },
    #[error("the wrapped data key does not open: changed, or stored under another subject")]
    Tampered,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_master_key_still_unwraps_what_the_old_one_wrapped() -> Result<(), MasterKeyError> {
        let old = MasterKeys::generate("2025-01");
        let data_key = DataKey::generate();
        let wrapped_before = old.wrap("rodovre.volunteer.1", &data_key);

        let new_first = MasterKeys::generate("2026-11");
        let rotated =
            MasterKeys::parse(&format!("{},{}", new_first.to_setting(), old.to_setting()))?;
        assert_eq!(rotated.active_id(), "2026-11");
        assert_eq!(
            rotated.unwrap("rodovre.volunteer.1", &wrapped_before),
            Ok(data_key.clone())
        );
        let wrapped_after = rotated.wrap("rodovre.volunteer.1", &data_key);
        assert_eq!(wrapped_after.master_key_id, "2026-11");
        assert_eq!(
            old.unwrap("rodovre.volunteer.1", &wrapped_after),
            Err(UnwrapError::UnknownMasterKey {
                id: "2026-11".into()
            })
        );
        Ok(())
    }

    #[test]
    fn a_wrapped_key_moved_to_another_subject_does_not_unwrap() {
        let master = MasterKeys::generate("k1");
        let wrapped = master.wrap("rodovre.volunteer.1", &DataKey::generate());
        assert_eq!(
            master.unwrap("rodovre.volunteer.2", &wrapped),
            Err(UnwrapError::Tampered)
        );
    }

    #[test]
    fn the_setting_is_checked_and_never_echoes_key_bytes() {
        let zeros = STANDARD.encode([0u8; 32]);
        let short = STANDARD.encode([7u8; 16]);
        let cases = [
            ("", MasterKeyError::Empty),
            ("k1", MasterKeyError::Shape { position: 1 }),
            ("K1:abc", MasterKeyError::Shape { position: 1 }),
            (
                &format!("k1:{short}") as &str,
                MasterKeyError::Length { id: "k1".into() },
            ),
            (
                &format!("k1:{zeros}"),
                MasterKeyError::NotRandom { id: "k1".into() },
            ),
        ];
        for (text, expected) in cases {
            let error = MasterKeys::parse(text).err();
            assert_eq!(error.as_ref(), Some(&expected), "{text:?}");
            let shown = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(!shown.contains(&zeros) && !shown.contains(&short));
        }
        let one = MasterKeys::generate("k1").to_setting();
        let twice = format!("{one},{one}");
        assert!(MasterKeys::parse(&twice).is_err());
        assert!(MasterKeys::parse(&one).is_ok());
    }
}
