//! Exports: the records of one grant case, or of one pool-year, as they stood at a time, with
//! what proves them: the links from the first record exported to the municipality's head as of
//! that time, and a signature over that head, the scope and every link.
//!
//! **As of.** Only records with `occurred_at <= as_of` are exported (the case as it stood
//! then), and the head is the chain's last record with `occurred_at <= as_of`. The links are
//! `(seq, prev_hash, hash)` of every record of the municipality from the first exported record
//! up to the head, the other cases' records without their content; with them, each exported
//! record's hash, recomputed from its content, leads link by link to the signed head. An export
//! with no record has no links, and its head is the head as of then (seq 0 and [`GENESIS`] for
//! a municipality whose chain had not started).
//!
//! **What is signed** (format `samskab.audit.export.v2`, [`FORMAT`]): not the head alone but a
//! statement that binds the whole proof, the UTF-8 bytes of the canonical JSON (RFC 8785) of
//!
//! ```text
//! {"as_of": time, "format": "samskab.audit.export.v2", "hash": hex, "links_digest": hex,
//!  "scope": scope, "seq": integer, "tenant": text}
//! ```
//!
//! - `as_of`, `hash`, `seq`, `tenant`: the head's (the export's `head` member), `as_of` in the
//!   one time format of [`crate::record::timestamp`];
//! - `format`: the export's `format` member, so that a signature of one format is never read
//!   as one of another;
//! - `scope`: the export's `scope` member as it is (`{"kind": "case", "application_id"}` or
//!   `{"kind": "pool_year", "pool_id", "year"}`), so that one case's export cannot be passed
//!   off as another's;
//! - `links_digest`: the lower-case hex SHA-256 of the UTF-8 bytes of the canonical JSON of
//!   the export's `links` array exactly as exported, in its order, each link
//!   `{"hash": hex, "prev_hash": hex, "seq": integer}` (so `[{"hash":"…","prev_hash":"…",
//!   "seq":7},…]`; an export without links: the digest of `[]`,
//!   `4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945`).
//!
//! The signature is Ed25519 over those bytes ([`Export::signed_bytes`]). So every link is
//! signed, also those of records not exported, whose hashes nobody outside can recompute: a
//! record changed in the file with its hash and its links patched to match no longer leads to
//! what was signed. (Format v1 signed `{as_of, hash, seq, tenant}` only, which left the links
//! of records not exported unchecked claims; `verify_export.py` refuses v1 files.)
//!
//! **A pool-year** (`export_pool_year`) is, as of the time:
//! - of the pool's own records: its creation, every conflict of interest declared (they bind
//!   every year's cases), each change of the year's budget (`budget_changed` with that
//!   `year`), and each round whose deadline falls in the year (Danish calendar);
//! - every record of each application to the pool that belongs to the year: one with a
//!   decision (`decided` or `decision_proposed`) for that budget `year`; or, never decided,
//!   one first submitted in that (Danish) year, so that pending and withdrawn cases of the
//!   year are in it too. A draft never submitted and never decided belongs to no year.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use samskab_domain::calendar::danish_date;
use samskab_domain::{GrantApplicationEvent, GrantPoolEvent};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use sha2::{Digest, Sha256};

use crate::canonical::CanonicalError;
use crate::parallel;
use crate::record::{self, COLUMNS, GENESIS, Record, RecordRow};
use crate::signing::Signer;
use crate::verify::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The stored records do not prove themselves: nothing is signed. `samskab audit verify`
    /// says more.
    #[error("the audit chain is not intact: {0}")]
    Corrupt(Problem),
    #[error("the head has no canonical form: {0}")]
    Canonical(#[from] CanonicalError),
}

/// What an export is of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExportScope {
    Case { application_id: Uuid },
    PoolYear { pool_id: Uuid, year: i32 },
}

/// One record's place in the chain, without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Link {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
}

/// The export format's name and version, the first member a reader checks, and a member of
/// what is signed.
pub const FORMAT: &str = "samskab.audit.export.v2";

/// A municipality's chain head as of a time: the export's `head` member, part of what its
/// signature is over ([`Export::signed_statement`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub tenant: String,
    pub seq: i64,
    pub hash: String,
    pub as_of: DateTime<Utc>,
}

impl Head {
    pub fn to_json(&self) -> Value {
        json!({
            "tenant": self.tenant,
            "seq": self.seq,
            "hash": self.hash,
            "as_of": record::timestamp(self.as_of),
        })
    }
}

/// `links` as their canonical JSON (RFC 8785), appended to `out`: `[{"hash":…,"prev_hash":…,
/// "seq":…},…]`, what [`links_digest`] hashes and what the export's JSON holds.
pub(crate) fn write_links(out: &mut String, links: &[Link]) {
    use std::fmt::Write as _;
    out.push('[');
    for (i, link) in links.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"hash\":");
        crate::canonical::write_string(out, &link.hash);
        out.push_str(",\"prev_hash\":");
        crate::canonical::write_string(out, &link.prev_hash);
        let _ = write!(out, ",\"seq\":{}}}", link.seq);
    }
    out.push(']');
}

/// The `links_digest` of what is signed: lower-case hex SHA-256 of the canonical JSON of the
/// links array (the module's docs).
pub fn links_digest(links: &[Link]) -> String {
    let mut text = String::with_capacity(2 + 170 * links.len());
    write_links(&mut text, links);
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The statement signed, from its parts as an export's JSON holds them: its `format`, `scope`,
/// `head` (`{tenant, seq, hash, as_of}`) and `links_digest` (of its `links`). `None` when
/// `head` is not an object. To check an export's JSON in Rust: rebuild it with
/// `record::hash_of(&json["links"])` as the digest and [`crate::verify_signature`] its
/// canonical bytes.
pub fn statement(format: &str, scope: &Value, head: &Value, links_digest: &str) -> Option<Value> {
    let head = head.as_object()?;
    let member = |name: &str| head.get(name).cloned().unwrap_or(Value::Null);
    Some(json!({
        "as_of": member("as_of"),
        "format": format,
        "hash": member("hash"),
        "links_digest": links_digest,
        "scope": scope,
        "seq": member("seq"),
        "tenant": member("tenant"),
    }))
}

/// An export: the records in full, the links to the head, the head, its signature (base64)
/// and the public key (base64) that checks it. Render it with [`crate::to_json`],
/// [`crate::to_csv`] or [`crate::to_html`].
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub scope: ExportScope,
    pub records: Vec<Record>,
    pub links: Vec<Link>,
    pub head: Head,
    pub signature: String,
    pub public_key: String,
}

impl Export {
    /// What the signature is over (the module's docs): head, format, scope and the digest of
    /// the links.
    pub fn signed_statement(&self) -> Value {
        json!({
            "as_of": record::timestamp(self.head.as_of),
            "format": FORMAT,
            "hash": self.head.hash,
            "links_digest": links_digest(&self.links),
            "scope": self.scope,
            "seq": self.head.seq,
            "tenant": self.head.tenant,
        })
    }

    /// The bytes signed: the canonical JSON of [`Export::signed_statement`].
    pub fn signed_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        crate::canonical::to_vec(&self.signed_statement())
    }
}

/// The grant case `application_id` of `tenant` as it stood at `as_of`: every record of the
/// application's own events and of its pool's events about it.
pub async fn export_case(
    pool: &PgPool,
    tenant: &str,
    application_id: Uuid,
    as_of: DateTime<Utc>,
    signer: &Signer,
) -> Result<Export, ExportError> {
    let as_of = record::to_micros(as_of);
    let sql = format!(
        "SELECT {COLUMNS} FROM audit.record \
         WHERE tenant = $1 AND application_id = $2 AND occurred_at <= $3 ORDER BY seq"
    );
    let rows: Vec<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(application_id)
        .bind(as_of)
        .fetch_all(pool)
        .await?;
    let records = into_records(rows)?;
    let scope = ExportScope::Case { application_id };
    assemble(pool, tenant, scope, records, as_of, signer).await
}

/// The pool-year `year` of `pool_id` as it stood at `as_of` (which records: the module's docs).
pub async fn export_pool_year(
    pool: &PgPool,
    tenant: &str,
    pool_id: Uuid,
    year: i32,
    as_of: DateTime<Utc>,
    signer: &Signer,
) -> Result<Export, ExportError> {
    let as_of = record::to_micros(as_of);
    let sql = format!(
        "SELECT {COLUMNS} FROM audit.record \
         WHERE tenant = $1 AND pool_id = $2 AND occurred_at <= $3 ORDER BY seq"
    );
    let rows: Vec<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(pool_id)
        .bind(as_of)
        .fetch_all(pool)
        .await?;
    let records = of_pool_year(into_records(rows)?, year);
    let scope = ExportScope::PoolYear { pool_id, year };
    assemble(pool, tenant, scope, records, as_of, signer).await
}

/// The rows' records, their payloads read on every core.
fn into_records(rows: Vec<RecordRow>) -> Result<Vec<Record>, ExportError> {
    parallel::map(rows, RecordRow::into_record)
        .into_iter()
        .map(|record| {
            record
                .map_err(|(seq, event_id)| ExportError::Corrupt(Problem::Changed { seq, event_id }))
        })
        .collect()
}

/// The records of a pool (in chain order) that belong to `year`.
fn of_pool_year(records: Vec<Record>, year: i32) -> Vec<Record> {
    let payload_year = |r: &Record| r.payload.get("year").and_then(Value::as_i64);
    let danish_year = |r: &Record, member: &str| {
        r.payload
            .get(member)
            .and_then(Value::as_str)
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|time| i64::from(danish_date(time.with_timezone(&Utc)).year()))
    };
    let year = i64::from(year);

    let mut decided: BTreeMap<Uuid, BTreeSet<i64>> = BTreeMap::new();
    let mut first_submitted: BTreeMap<Uuid, Option<i64>> = BTreeMap::new();
    for r in &records {
        let Some(application) = r.application_id else {
            continue;
        };
        match r.event_type.as_str() {
            GrantPoolEvent::DECIDED_V1 | GrantPoolEvent::DECISION_PROPOSED_V1 => {
                if let Some(y) = payload_year(r) {
                    decided.entry(application).or_default().insert(y);
                }
            }
            GrantApplicationEvent::SUBMITTED_V1 => {
                first_submitted
                    .entry(application)
                    .or_insert_with(|| danish_year(r, "at"));
            }
            _ => {}
        }
    }
    let in_year = |application: &Uuid| match decided.get(application) {
        Some(years) => years.contains(&year),
        None => first_submitted.get(application).copied().flatten() == Some(year),
    };

    records
        .into_iter()
        .filter(|r| match r.application_id {
            Some(application) => in_year(&application),
            None => match r.event_type.as_str() {
                GrantPoolEvent::CREATED_V1 | GrantPoolEvent::CONFLICT_DECLARED_V1 => true,
                GrantPoolEvent::BUDGET_CHANGED_V1 => payload_year(r) == Some(year),
                GrantPoolEvent::ROUND_OPENED_V1 => danish_year(r, "deadline") == Some(year),
                // A pool-level event of a type this build does not know: kept, as the case
                // file should rather show too much of the pool than hide something.
                _ => true,
            },
        })
        .collect()
}

/// The links and the signed head for `records`, checked before anything is signed.
async fn assemble(
    pool: &PgPool,
    tenant: &str,
    scope: ExportScope,
    records: Vec<Record>,
    as_of: DateTime<Utc>,
    signer: &Signer,
) -> Result<Export, ExportError> {
    let head: Option<(i64, String)> = sqlx::query_as(
        "SELECT seq, hash FROM audit.record WHERE tenant = $1 AND occurred_at <= $2 \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(tenant)
    .bind(as_of)
    .fetch_optional(pool)
    .await?;
    let (head_seq, head_hash) = head.unwrap_or_else(|| (0, GENESIS.to_owned()));
    let head = Head {
        tenant: tenant.to_owned(),
        seq: head_seq,
        hash: head_hash,
        as_of,
    };
    let links: Vec<Link> = match records.first() {
        Some(first) => {
            sqlx::query_as(
                "SELECT seq, prev_hash, hash FROM audit.record \
                 WHERE tenant = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
            )
            .bind(tenant)
            .bind(first.seq)
            .bind(head.seq)
            .fetch_all(pool)
            .await?
        }
        None => Vec::new(),
    };
    if let Some(problem) = check(&records, &links, &head) {
        return Err(ExportError::Corrupt(problem));
    }
    let mut export = Export {
        scope,
        records,
        links,
        head,
        signature: String::new(),
        public_key: signer.public_key_base64(),
    };
    export.signature = signer.sign_base64(&export.signed_bytes()?);
    Ok(export)
}

/// What `verify_export.py` checks, checked before signing, so that an export never signs a
/// head its own records do not lead to: each record intact and at its link, the links
/// contiguous and chained, the last one the head.
fn check(records: &[Record], links: &[Link], head: &Head) -> Option<Problem> {
    let by_seq: BTreeMap<i64, &Link> = links.iter().map(|link| (link.seq, link)).collect();
    // Every record's hash recomputed, on every core.
    let intact: Vec<bool> = parallel::chunks(records, |chunk| {
        chunk
            .iter()
            .map(|r| r.compute_hash().is_ok_and(|hash| hash == r.hash))
            .collect::<Vec<_>>()
    })
    .concat();
    for (r, intact) in records.iter().zip(intact) {
        let linked = by_seq
            .get(&r.seq)
            .is_some_and(|link| link.hash == r.hash && link.prev_hash == r.prev_hash);
        if !intact || !linked {
            return Some(Problem::Changed {
                seq: r.seq,
                event_id: r.event_id,
            });
        }
    }
    for pair in links.windows(2) {
        let [before, link] = pair else { continue };
        if link.seq != before.seq + 1 || link.prev_hash != before.hash {
            return Some(Problem::BrokenLink {
                seq: link.seq,
                event_id: records
                    .iter()
                    .find(|r| r.seq >= link.seq)
                    .map_or(Uuid::nil(), |r| r.event_id),
            });
        }
    }
    match links.last() {
        Some(last) if last.seq != head.seq || last.hash != head.hash => Some(Problem::Head {
            head_seq: Some(head.seq),
            last_seq: Some(last.seq),
        }),
        _ => None,
    }
}
