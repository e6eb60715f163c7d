//! The catalogue of read models: each projection's name and PostgreSQL schema.
//!
//! The API reads read models and the workers write them; both name them from here, so the API
//! needs no worker crate and a query says which projection it reads (and `min_position` waits
//! for that one). Adding a read model: a constant here, its worker crate, and one line in the
//! binary's registry (`crates/samskab/src/projections.rs`).

/// A read model: the projection that writes it and the schema that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadModel {
    /// Durable consumer name and checkpoint key, `[a-z_]+`.
    pub name: &'static str,
    /// The PostgreSQL schema holding its tables and its `checkpoint` table.
    pub schema: &'static str,
}

/// Municipalities, organisations and volunteers (`samskab-directory-worker`).
pub const DIRECTORY: ReadModel = ReadModel {
    name: "directory",
    schema: "directory",
};

/// Needs, and what matching searches and ranks (`samskab-matching-worker`).
pub const MATCHING: ReadModel = ReadModel {
    name: "matching",
    schema: "matching",
};

/// Grant pools and grant cases: budgets, rounds, applications, assessments, decisions
/// (`samskab-grants-worker`).
pub const GRANTS: ReadModel = ReadModel {
    name: "grants",
    schema: "grants",
};

/// The audit trail of every grant case: each record chained by SHA-256 to the one before it
/// in its municipality (`samskab-audit-worker`).
pub const AUDIT: ReadModel = ReadModel {
    name: "audit",
    schema: "audit",
};

/// Versions of what the municipalities' figures count, each valid from one event to the next,
/// so a report as of any day is a query (`samskab-reporting-worker`).
pub const REPORTING: ReadModel = ReadModel {
    name: "reporting",
    schema: "reporting",
};

/// The messages the notification rules make from events, each recipient's in-app inbox, and
/// what the recipient did with them (`samskab-notify-worker`).
pub const NOTIFY: ReadModel = ReadModel {
    name: "notify",
    schema: "notify",
};
