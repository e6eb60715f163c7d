//! Verification of the chains as the table holds them: every record's hash recomputed from its
//! content, every link to the record before, the numbering, and the head. What it names is the
//! first problem of each municipality's chain, as precisely as the table allows.
//!
//! What it cannot see, by its nature: records appended at the end by someone who computes the
//! hashes and updates `audit.head` too, or a chain rewritten whole. Against those, a head signed
//! in an export (or written down elsewhere) is the anchor: the rewritten chain no longer leads
//! to it.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::record::{COLUMNS, GENESIS, RecordRow};

/// Records read per query: a chain is read in pages, never whole.
const PAGE: i64 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What is wrong with a chain, at the first record where it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The record's hash does not match its content: the content was changed after it was
    /// recorded (or the hash was).
    Changed { seq: i64, event_id: Uuid },
    /// The numbering jumps from `after_seq` to `seq`: the records between were deleted.
    Missing {
        after_seq: i64,
        seq: i64,
        event_id: Uuid,
    },
    /// Two records have the same number (only possible once the table's key is gone).
    Repeated { seq: i64, event_id: Uuid },
    /// The record at `seq` does not belong: the record after it links past it, to the one
    /// before it. It was inserted (and the rest renumbered).
    Inserted { seq: i64, event_id: Uuid },
    /// The record at `seq` links to a record of the chain that is not the one before it: the
    /// record it was appended after is now at `follows_seq`. Records were reordered.
    Reordered {
        seq: i64,
        event_id: Uuid,
        follows_seq: i64,
        follows_event_id: Uuid,
    },
    /// The record links to no record of the chain: the one before it was deleted and the rest
    /// renumbered, or it was changed and its hash recomputed.
    BrokenLink { seq: i64, event_id: Uuid },
    /// `audit.head` does not name the chain's last record: records were deleted from the end,
    /// or appended without the projection.
    Head {
        head_seq: Option<i64>,
        last_seq: Option<i64>,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Changed { seq, event_id } => write!(
                f,
                "record {seq} (event {event_id}) was changed: its hash does not match its content"
            ),
            Problem::Missing {
                after_seq,
                seq,
                event_id,
            } => write!(
                f,
                "records {}..{} are missing: after record {after_seq} comes record {seq} \
                 (event {event_id})",
                after_seq + 1,
                seq - 1
            ),
            Problem::Repeated { seq, event_id } => {
                write!(f, "record {seq} (event {event_id}) repeats a number")
            }
            Problem::Inserted { seq, event_id } => write!(
                f,
                "record {seq} (event {event_id}) was inserted: the record after it links to the \
                 one before it"
            ),
            Problem::Reordered {
                seq,
                event_id,
                follows_seq,
                follows_event_id,
            } => write!(
                f,
                "records were reordered: record {seq} (event {event_id}) was appended after the \
                 record now at {follows_seq} (event {follows_event_id})"
            ),
            Problem::BrokenLink { seq, event_id } => write!(
                f,
                "record {seq} (event {event_id}) does not link to the record before it, nor to \
                 any record of the chain"
            ),
            Problem::Head { head_seq, last_seq } => write!(
                f,
                "the head names record {head_seq:?}, the chain ends at record {last_seq:?}"
            ),
        }
    }
}

/// One municipality's chain, verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub tenant: String,
    /// Records read and checked (all of the chain's, also past a problem).
    pub records: u64,
    /// The last record's number and hash.
    pub last_seq: Option<i64>,
    pub last_hash: Option<String>,
    /// The first problem, or `None` for an intact chain.
    pub problem: Option<Problem>,
}

/// Every chain verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub chains: Vec<ChainReport>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.chains.iter().all(|chain| chain.problem.is_none())
    }

    /// Records checked, over all chains.
    pub fn records(&self) -> u64 {
        self.chains.iter().map(|chain| chain.records).sum()
    }

    /// The report of `tenant`'s chain.
    pub fn chain(&self, tenant: &str) -> Option<&ChainReport> {
        self.chains.iter().find(|chain| chain.tenant == tenant)
    }
}

/// Verifies the chain of `tenant`, or of every municipality with one.
pub async fn verify(pool: &PgPool, tenant: Option<&str>) -> Result<VerifyReport, VerifyError> {
    let tenants: Vec<String> = match tenant {
        Some(tenant) => vec![tenant.to_owned()],
        None => {
            sqlx::query_scalar(
                "SELECT tenant FROM audit.head UNION SELECT DISTINCT tenant FROM audit.record \
                 ORDER BY 1",
            )
            .fetch_all(pool)
            .await?
        }
    };
    let mut chains = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        chains.push(verify_chain(pool, &tenant).await?);
    }
    Ok(VerifyReport { chains })
}

/// The last record seen, as the next one is checked against it.
struct Seen {
    seq: i64,
    hash: String,
    event_id: Uuid,
}

async fn verify_chain(pool: &PgPool, tenant: &str) -> Result<ChainReport, VerifyError> {
    // Every stored hash and where it is: which record a broken link points to. 64 bytes and a
    // number per record, read once; the records themselves are read in pages.
    let hashes: Vec<(i64, String, Uuid)> =
        sqlx::query_as("SELECT seq, hash, event_id FROM audit.record WHERE tenant = $1")
            .bind(tenant)
            .fetch_all(pool)
            .await?;
    let at: HashMap<String, (i64, Uuid)> = hashes
        .into_iter()
        .map(|(seq, hash, event_id)| (hash, (seq, event_id)))
        .collect();

    let mut problem: Option<Problem> = None;
    let mut records = 0u64;
    let mut before: Option<Seen> = None;
    let mut two_before: Option<Seen> = None;
    let sql = format!(
        "SELECT {COLUMNS} FROM audit.record WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    );
    let mut after = i64::MIN;
    loop {
        let page: Vec<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(tenant)
            .bind(after)
            .bind(PAGE)
            .fetch_all(pool)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for row in page {
            records += 1;
            let seen = Seen {
                seq: row.seq,
                hash: row.hash.clone(),
                event_id: row.event_id,
            };
            if problem.is_none() {
                problem = check(&row, before.as_ref(), two_before.as_ref(), &at);
            }
            two_before = before.replace(seen);
        }
    }

    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit.head WHERE tenant = $1")
            .bind(tenant)
            .fetch_optional(pool)
            .await?;
    let last = before.as_ref().map(|seen| (seen.seq, seen.hash.clone()));
    if problem.is_none() && head != last {
        problem = Some(Problem::Head {
            head_seq: head.map(|(seq, _)| seq),
            last_seq: last.as_ref().map(|(seq, _)| *seq),
        });
    }
    Ok(ChainReport {
        tenant: tenant.to_owned(),
        records,
        last_seq: last.as_ref().map(|(seq, _)| *seq),
        last_hash: last.map(|(_, hash)| hash),
        problem,
    })
}

/// The problem `row` shows, given the records before it: its number first (a gap is a
/// deletion), then its link (an insertion or a reordering), then its content.
fn check(
    row: &RecordRow,
    before: Option<&Seen>,
    two_before: Option<&Seen>,
    at: &HashMap<String, (i64, Uuid)>,
) -> Option<Problem> {
    let (seq, event_id) = (row.seq, row.event_id);
    let expected_seq = before.map_or(1, |b| b.seq + 1);
    if seq < expected_seq {
        return Some(Problem::Repeated { seq, event_id });
    }
    if seq > expected_seq {
        return Some(Problem::Missing {
            after_seq: expected_seq - 1,
            seq,
            event_id,
        });
    }
    let expected_prev = before.map_or(GENESIS, |b| b.hash.as_str());
    if row.prev_hash != expected_prev {
        if let (Some(inserted), Some(two)) = (before, two_before)
            && row.prev_hash == two.hash
        {
            return Some(Problem::Inserted {
                seq: inserted.seq,
                event_id: inserted.event_id,
            });
        }
        return Some(match at.get(&row.prev_hash) {
            Some(&(follows_seq, follows_event_id)) => Problem::Reordered {
                seq,
                event_id,
                follows_seq,
                follows_event_id,
            },
            None => Problem::BrokenLink { seq, event_id },
        });
    }
    let intact = match row.clone().into_record() {
        Ok(record) => record.compute_hash().is_ok_and(|hash| hash == record.hash),
        Err(_) => false,
    };
    (!intact).then_some(Problem::Changed { seq, event_id })
}
