-- The reporting read model's §18 grants (samskab-reporting-worker), versioned as the
-- volunteers are (0021): each row one version, valid from the event that made it so until the
-- event that changed it, keyed by that event's position and index. Amounts are øre. Every
-- figure comes from the pool's events: the pool is where money is decided (a decision, its
-- approval, a complaint, a withdrawal, a payment), so the application's own events (with the
-- applicant's personal data) are never read here.

-- A pool as created: its name, for the report's rows.
CREATE TABLE reporting.grant_pool (
    tenant        text NOT NULL,
    pool_id       uuid NOT NULL,
    name          text NOT NULL,
    created_at    timestamptz NOT NULL,
    -- The creation's log position and index: events of the pool before it change nothing.
    from_position bigint NOT NULL,
    from_index    integer NOT NULL,
    PRIMARY KEY (tenant, pool_id)
);

-- A pool-year's budget, a version per change.
CREATE TABLE reporting.budget_version (
    tenant        text NOT NULL,
    pool_id       uuid NOT NULL,
    year          integer NOT NULL,
    from_position bigint NOT NULL,
    from_index    integer NOT NULL,
    valid_from    timestamptz NOT NULL,
    valid_to      timestamptz,
    budget        bigint NOT NULL CHECK (budget >= 0),
    PRIMARY KEY (tenant, pool_id, year, from_position, from_index),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

CREATE UNIQUE INDEX budget_version_standing
    ON reporting.budget_version (tenant, pool_id, year) WHERE valid_to IS NULL;

-- A grant case as the pool's ledger holds it, a version per event that changes what is
-- counted: a decision (proposed or final), its approval, a complaint that reopens it, a
-- withdrawal, the final report received.
CREATE TABLE reporting.grant_case_version (
    tenant             text NOT NULL,
    application_id     uuid NOT NULL,
    pool_id            uuid NOT NULL,
    from_position      bigint NOT NULL,
    from_index         integer NOT NULL,
    started_by         text NOT NULL CHECK (started_by IN
        ('proposed', 'decided', 'approved', 'reopened', 'withdrawn', 'report_received')),
    valid_from         timestamptz NOT NULL,
    valid_to           timestamptz,
    status             text NOT NULL CHECK (status IN ('proposed', 'decided', 'reopened', 'withdrawn')),
    -- The decision standing, proposed or reopened (NULL when withdrawn).
    outcome            text CHECK (outcome IN ('full', 'partial', 'refused')),
    requested          bigint NOT NULL CHECK (requested >= 0),
    granted            bigint NOT NULL CHECK (granted >= 0),
    -- The budget year the decision is made from, and what it commits in each year: one year
    -- for a grant, a partnership's several. Empty when withdrawn.
    decision_year      integer,
    years              integer[] NOT NULL,
    amounts            bigint[] NOT NULL,
    report_due         date,
    report_received_on date,
    PRIMARY KEY (tenant, application_id, from_position, from_index),
    CHECK (cardinality(years) = cardinality(amounts)),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

CREATE UNIQUE INDEX grant_case_version_standing
    ON reporting.grant_case_version (tenant, application_id) WHERE valid_to IS NULL;
CREATE INDEX grant_case_version_of_pool ON reporting.grant_case_version (tenant, pool_id);

-- Every payment and repayment of a grant, as recorded; counted in the (Danish) year of the
-- day it was paid or repaid.
CREATE TABLE reporting.grant_money (
    tenant         text NOT NULL,
    application_id uuid NOT NULL,
    pool_id        uuid NOT NULL,
    from_position  bigint NOT NULL,
    from_index     integer NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('payment', 'repayment')),
    amount         bigint NOT NULL CHECK (amount >= 0),
    paid_on        date NOT NULL,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant, application_id, from_position, from_index)
);

CREATE INDEX grant_money_of_pool ON reporting.grant_money (tenant, pool_id, paid_on);
