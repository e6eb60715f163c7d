//! Privacy by construction: personal data sealed with a key per data subject (crypto-shredding).
//!
//! - [`cipher`]: the AEAD (XChaCha20-Poly1305) and [`SecretKey`], wiped on drop.
//! - [`master`]: [`MasterKeys`] from `SAMSKAB_MASTER_KEYS`, each with an id; they wrap the data
//!   keys, so the master key can be rotated without re-encrypting the log.
//! - [`vault`]: the data keys in the JetStream stream `SAMSKAB_KEYS`; [`Vault::forget`] erases
//!   a subject's key, after which nothing sealed with it can be opened again.
//! - [`personal`]: the convention that an event payload's member `personal` holds the personal
//!   data, and sealing and opening it.
//!
//! The event log (`samskab-eventlog`) seals on append and opens on every read; nothing else in
//! the system sees a ciphertext or a key.

pub mod cipher;
pub mod master;
pub mod personal;
pub mod stream_check;
pub mod vault;

pub use cipher::{DataKey, SecretKey, Tampered};
pub use master::{MasterKeyError, MasterKeys};
pub use vault::{DataSubject, KeyStoreConfig, PendingKey, Vault, VaultError};
