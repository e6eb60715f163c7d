//! The event log: one JetStream stream, the single source of truth.
//!
//! - [`LogConfig`] and [`EventLog::connect`]: the stream is created or updated at start-up
//!   (file storage, tenant-first subjects, delete and purge denied, direct get and atomic
//!   publish allowed).
//! - [`EntityRef`]: the subject of one entity, `samskab.ev.<tenant>.<kind>.<id>`, built only from
//!   validated tokens.
//! - [`EventEnvelope`]: the CloudEvents-shaped record of one event.
//! - [`EventLog::append`]: the events of one command in **one message** (a CloudEvents JSON
//!   batch), guarded by `Nats-Expected-Last-Subject-Sequence` and the command's idempotency key.
//! - [`EventLog::load`]: an entity's history by batch direct get.
//! - Personal data (`personal.rs`): an event payload's `personal` member is sealed with its
//!   entity's data key on append and opened on every read; [`EventLog::forget`] erases the key.
//! - Snapshots (`snapshot.rs`): an entity's decision state beside the log, sealed like its
//!   personal data, so a command on a long-lived entity need not load its whole history.

mod append;
mod atomic;
mod config;
mod envelope;
mod error;
pub mod idempotency;
mod load;
mod log;
mod personal;
mod snapshot;
mod subject;

pub use append::{Appended, CommandMeta, NewEvent};
pub use atomic::AtomicPart;
pub use config::{LogConfig, PersonalData};
pub use envelope::{CONTENT_TYPE, EventEnvelope, RecordedEvent, decode_message};
pub use error::{AppendError, LoadError, LogError};
pub use idempotency::StoredCommand;
pub use load::History;
pub use log::EventLog;
pub use personal::{OpeningKeys, sealed_subjects, withhold_personal_data};
pub use snapshot::Snapshot;
pub use subject::{EntityRef, InvalidToken, validate_token};
