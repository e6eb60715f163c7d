-- The audit trail of every §18 grant case (worker: samskab-audit-worker): one record per
-- event of a grant pool or a grant application, chained per municipality: each record's hash
-- is SHA-256 over the canonical JSON (RFC 8785) of its content and the hash of the record
-- before it (`prev_hash`), so a changed, inserted, deleted or reordered record shows when the
-- chain is verified, and a signed head in an export proves the records up to it. Rebuilt from
-- the log by cloning these tables into a fresh schema, as every projection is; the records
-- come out the same (the same events, in the same order, never with personal data), so a
-- rebuild, also after a forgetting, reproduces every hash and every head already signed.
CREATE SCHEMA audit;

CREATE TABLE audit.checkpoint (
    projection text PRIMARY KEY,
    position   bigint NOT NULL
);

CREATE TABLE audit.record (
    tenant         text NOT NULL,
    -- 1, 2, 3, ... per tenant, without gaps.
    seq            bigint NOT NULL CHECK (seq >= 1),
    -- The log position (stream sequence) of the event's message.
    position       bigint NOT NULL,
    event_id       uuid NOT NULL,
    event_type     text NOT NULL,
    -- 'grant-pool' or 'grant-application'.
    entity_kind    text NOT NULL,
    entity_id      text NOT NULL,
    -- The pool the record belongs to: the pool's own id for its events, the application's
    -- pool for an application's events.
    pool_id        uuid NOT NULL,
    -- The grant case: the application's id for its events and for the pool's events about one
    -- (decided, approved, reopened, withdrawn); NULL for the pool's own (created, budget,
    -- round, conflict).
    application_id uuid,
    -- The envelope's time, to the microsecond.
    occurred_at    timestamptz NOT NULL,
    actor          text NOT NULL,
    -- Whether the payload had a `personal` member, which the record never keeps.
    had_personal   boolean NOT NULL,
    -- The payload's canonical JSON (RFC 8785), without `personal`.
    payload        text NOT NULL,
    -- Lower-case hex SHA-256; 64 zeros before the first record.
    prev_hash      text NOT NULL,
    hash           text NOT NULL,
    PRIMARY KEY (tenant, seq),
    UNIQUE (tenant, event_id)
);
CREATE INDEX record_of_application ON audit.record (tenant, application_id, seq);
CREATE INDEX record_of_pool ON audit.record (tenant, pool_id, seq);
CREATE INDEX record_by_time ON audit.record (tenant, occurred_at);

-- Each municipality's last record: what the next one links to, and what verification checks
-- the chain's end against (a record deleted from the end shows here).
CREATE TABLE audit.head (
    tenant text PRIMARY KEY,
    seq    bigint NOT NULL,
    hash   text NOT NULL
);
