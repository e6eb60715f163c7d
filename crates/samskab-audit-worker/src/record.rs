//! One record of the audit trail, what its hash is computed over, and how it is read back.
//!
//! **The hash input.** A record's hash is the lower-case hex SHA-256 of the UTF-8 bytes of
//! the canonical JSON (RFC 8785, [`crate::canonical`]) of this object, whose members are the
//! record's columns except `hash`:
//!
//! ```text
//! { "actor": text, "application_id": uuid or null, "entity_id": text, "entity_kind": text,
//!   "event_id": uuid, "event_type": text, "had_personal": bool, "occurred_at": time,
//!   "payload": the payload without `personal`, as JSON, "pool_id": uuid, "position": integer,
//!   "prev_hash": 64 hex digits, "seq": integer, "tenant": text }
//! ```
//!
//! UUIDs are lower-case and hyphenated; `occurred_at` is the envelope's time in UTC with
//! exactly six fractional digits and a `Z`, `2026-04-01T00:00:00.000000Z` ([`timestamp`]):
//! microseconds, because that is what `timestamptz` keeps, so the text hashed on writing is the
//! text read back. The first record of a municipality links to [`GENESIS`] (64 zeros).

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::canonical::{self, CanonicalError};

/// The `prev_hash` of a municipality's first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The columns a record is read with, in the order [`RecordRow`] expects.
pub(crate) const COLUMNS: &str = "tenant, seq, position, event_id, event_type, entity_kind, \
     entity_id, pool_id, application_id, occurred_at, actor, had_personal, payload, prev_hash, \
     hash";

/// A record of the audit trail, with its content in full.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub tenant: String,
    pub seq: i64,
    pub position: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub pool_id: Uuid,
    pub application_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    /// The payload had a `personal` member, which is not kept (see the crate's docs).
    pub had_personal: bool,
    /// The event payload without `personal`.
    pub payload: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    /// The object the hash is computed over: every column but `hash`.
    pub fn hash_input(&self) -> Value {
        json!({
            "tenant": self.tenant,
            "seq": self.seq,
            "position": self.position,
            "event_id": self.event_id.to_string(),
            "event_type": self.event_type,
            "entity_kind": self.entity_kind,
            "entity_id": self.entity_id,
            "pool_id": self.pool_id.to_string(),
            "application_id": self.application_id.map(|id| id.to_string()),
            "occurred_at": timestamp(self.occurred_at),
            "actor": self.actor,
            "had_personal": self.had_personal,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
        })
    }

    /// The hash its content (and its link to the record before) gives.
    pub fn compute_hash(&self) -> Result<String, CanonicalError> {
        let mut text = String::with_capacity(512);
        self.write_canonical(&mut text, None)?;
        Ok(hex::encode(Sha256::digest(text.as_bytes())))
    }

    /// Writes the canonical JSON of [`Record::hash_input`], or with `hash` of
    /// [`Record::to_json`] (which is then canonical too), straight from the fields: the same
    /// text as `canonical::to_string` of those values (a test says so), without building them.
    /// The members in UTF-16 order, which for these names is the alphabet's.
    pub(crate) fn write_canonical(
        &self,
        out: &mut String,
        hash: Option<&str>,
    ) -> Result<(), CanonicalError> {
        let uuid = |out: &mut String, id: &Uuid| {
            out.push('"');
            let _ = write!(out, "{}", id.hyphenated());
            out.push('"');
        };
        out.push_str("{\"actor\":");
        canonical::write_string(out, &self.actor);
        out.push_str(",\"application_id\":");
        match &self.application_id {
            Some(id) => uuid(out, id),
            None => out.push_str("null"),
        }
        out.push_str(",\"entity_id\":");
        canonical::write_string(out, &self.entity_id);
        out.push_str(",\"entity_kind\":");
        canonical::write_string(out, &self.entity_kind);
        out.push_str(",\"event_id\":");
        uuid(out, &self.event_id);
        out.push_str(",\"event_type\":");
        canonical::write_string(out, &self.event_type);
        out.push_str(",\"had_personal\":");
        out.push_str(if self.had_personal { "true" } else { "false" });
        if let Some(hash) = hash {
            out.push_str(",\"hash\":");
            canonical::write_string(out, hash);
        }
        out.push_str(",\"occurred_at\":");
        canonical::write_string(out, &timestamp(self.occurred_at));
        out.push_str(",\"payload\":");
        canonical::write_value(out, &self.payload)?;
        out.push_str(",\"pool_id\":");
        uuid(out, &self.pool_id);
        out.push_str(",\"position\":");
        canonical::write_integer(out, self.position)?;
        out.push_str(",\"prev_hash\":");
        canonical::write_string(out, &self.prev_hash);
        out.push_str(",\"seq\":");
        canonical::write_integer(out, self.seq)?;
        out.push_str(",\"tenant\":");
        canonical::write_string(out, &self.tenant);
        out.push('}');
        Ok(())
    }

    /// The record as an export shows it: the hash input and the hash.
    pub fn to_json(&self) -> Value {
        let mut value = self.hash_input();
        if let Value::Object(members) = &mut value {
            members.insert("hash".into(), Value::String(self.hash.clone()));
        }
        value
    }
}

/// Lower-case hex SHA-256 of the canonical JSON of `value`.
pub fn hash_of(value: &Value) -> Result<String, CanonicalError> {
    Ok(hex::encode(Sha256::digest(canonical::to_vec(value)?)))
}

/// The one text form of a time in hashes, signatures and exports: UTC, microseconds, `Z`.
pub fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `time` as `timestamptz` keeps it. PostgreSQL would round nanoseconds to the nearest
/// microsecond; truncating here means the time hashed is exactly the time stored.
pub fn to_micros(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(6)
}

/// A record as the table holds it: the payload as its text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct RecordRow {
    pub tenant: String,
    pub seq: i64,
    pub position: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub pool_id: Uuid,
    pub application_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub had_personal: bool,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

impl RecordRow {
    /// The record, or the seq and event id of a row whose payload is not JSON (which only a
    /// change to the table makes).
    pub fn into_record(self) -> Result<Record, (i64, Uuid)> {
        match serde_json::from_str(&self.payload) {
            Ok(payload) => Ok(Record {
                tenant: self.tenant,
                seq: self.seq,
                position: self.position,
                event_id: self.event_id,
                event_type: self.event_type,
                entity_kind: self.entity_kind,
                entity_id: self.entity_id,
                pool_id: self.pool_id,
                application_id: self.application_id,
                occurred_at: self.occurred_at,
                actor: self.actor,
                had_personal: self.had_personal,
                payload,
                prev_hash: self.prev_hash,
                hash: self.hash,
            }),
            Err(_) => Err((self.seq, self.event_id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            tenant: "rodovre".into(),
            seq: 1,
            position: 7,
            event_id: Uuid::from_u128(1),
            event_type: "dk.samskab.grant_pool.created.v1".into(),
            entity_kind: "grant-pool".into(),
            entity_id: Uuid::from_u128(2).to_string(),
            pool_id: Uuid::from_u128(2),
            application_id: None,
            occurred_at: DateTime::from_timestamp(1_775_001_600, 123_456_789).expect("time"),
            actor: "user:admin".into(),
            had_personal: false,
            payload: json!({"id": Uuid::from_u128(2).to_string(), "name": "§18-puljen"}),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn the_hash_input_is_every_column_but_the_hash() -> Result<(), CanonicalError> {
        let record = record();
        assert_eq!(
            canonical::to_string(&record.hash_input())?,
            concat!(
                r#"{"actor":"user:admin","application_id":null,"#,
                r#""entity_id":"00000000-0000-0000-0000-000000000002","entity_kind":"grant-pool","#,
                r#""event_id":"00000000-0000-0000-0000-000000000001","#,
                r#""event_type":"dk.samskab.grant_pool.created.v1","had_personal":false,"#,
                r#""occurred_at":"2026-04-01T00:00:00.123456Z","#,
                r#""payload":{"id":"00000000-0000-0000-0000-000000000002","name":"§18-puljen"},"#,
                r#""pool_id":"00000000-0000-0000-0000-000000000002","position":7,"#,
                r#""prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","#,
                r#""seq":1,"tenant":"rodovre"}"#
            )
        );
        assert_eq!(record.compute_hash()?.len(), 64);
        Ok(())
    }

    /// The canonical text written from the fields is the canonical JSON of the values, with
    /// and without the hash, for payloads that need escapes, sorting and every kind of value.
    #[test]
    fn the_canonical_text_is_written_straight_from_the_fields() -> Result<(), CanonicalError> {
        let mut record = record();
        let payloads = [
            json!({"id": "x", "name": "§18-puljen"}),
            json!({
                "title": "Ældre Sagen: \"Hjælp\" \\ møde\u{0}\u{1f}\u{7f}\u{2028}\t\n\r\u{8}\u{c}",
                "z": [1, -2, true, false, null, {"b": [], "a": {}}],
                "\u{fb33}": 1, "\u{1f600}": 2, "\u{e5}": 3, "\u{e6}": 4, "\r": 5, "": 6,
                "amount": 1_000_000_000_000_i64, "min": -9_007_199_254_740_991_i64,
            }),
            json!([]),
        ];
        for (i, payload) in payloads.into_iter().enumerate() {
            record.payload = payload;
            record.application_id = (i % 2 == 1).then(|| Uuid::from_u128(0xabcdef));
            record.had_personal = i % 2 == 1;
            record.actor = format!("user:\"{i}\"\u{e6}");
            let mut written = String::new();
            record.write_canonical(&mut written, None)?;
            assert_eq!(written, canonical::to_string(&record.hash_input())?);
            assert_eq!(record.compute_hash()?, hash_of(&record.hash_input())?);
            record.hash = hash_of(&record.hash_input())?;
            let mut written = String::new();
            record.write_canonical(&mut written, Some(&record.hash))?;
            assert_eq!(written, canonical::to_string(&record.to_json())?);
        }
        record.seq = 1 << 53;
        assert!(matches!(
            record.compute_hash(),
            Err(CanonicalError::UnsafeInteger(_))
        ));
        Ok(())
    }

    #[test]
    fn times_are_microseconds_in_utc() {
        let time = DateTime::from_timestamp(1_775_001_600, 123_456_789).expect("time");
        assert_eq!(timestamp(to_micros(time)), "2026-04-01T00:00:00.123456Z");
        assert_eq!(
            timestamp(DateTime::from_timestamp(1_775_001_600, 0).expect("time")),
            "2026-04-01T00:00:00.000000Z"
        );
    }
}
