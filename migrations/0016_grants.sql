-- The grants read model (worker: samskab-grants-worker): §18 grant pools, their budgets and
-- rounds, and every application as a grant case, with its versions, assessments and
-- decisions. Amounts are øre (bigint). Rebuilt from the log by cloning these tables into a
-- fresh schema, as every projection is.
CREATE SCHEMA grants;

CREATE TABLE grants.checkpoint (
    projection text PRIMARY KEY,
    position   bigint NOT NULL
);

-- A pool as created (grant_pool.created.v1).
CREATE TABLE grants.pool (
    tenant                 text NOT NULL,
    id                     uuid NOT NULL,
    name                   text NOT NULL,
    -- 'serviceloven-18' or 'other'.
    legal_basis            text NOT NULL,
    purpose                text NOT NULL,
    -- 'rounds', 'rolling' or 'partnership'.
    kind                   text NOT NULL,
    -- Who may apply: 'association', 'informal_group', 'person'.
    applicants             text[] NOT NULL,
    -- [{"key", "title", "weight"}], the weights adding up to 100.
    criteria               jsonb NOT NULL,
    second_approval_above  bigint NOT NULL,
    audited_accounts_above bigint NOT NULL,
    initiative             text,
    strategic_goal         text,
    created_at             timestamptz NOT NULL,
    position               bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- The budget of each pool-year as it stands. What is committed is summed from the
-- applications' standing decisions (proposed or final) when read.
CREATE TABLE grants.pool_year (
    tenant     text NOT NULL,
    pool_id    uuid NOT NULL,
    year       integer NOT NULL,
    budget     bigint NOT NULL,
    updated_at timestamptz NOT NULL,
    position   bigint NOT NULL,
    PRIMARY KEY (tenant, pool_id, year)
);

-- Every change of a budget, with its reason (budget_changed.v1).
CREATE TABLE grants.budget_change (
    tenant     text NOT NULL,
    pool_id    uuid NOT NULL,
    position   bigint NOT NULL,
    year       integer NOT NULL,
    amount     bigint NOT NULL,
    previous   bigint NOT NULL,
    reason     text NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, pool_id, position)
);

-- Application rounds (round_opened.v1).
CREATE TABLE grants.round (
    tenant            text NOT NULL,
    id                uuid NOT NULL,
    pool_id           uuid NOT NULL,
    title             text NOT NULL,
    opens_at          timestamptz NOT NULL,
    deadline          timestamptz NOT NULL,
    decision_expected date NOT NULL,
    position          bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX round_of_pool ON grants.round (tenant, pool_id, deadline);

-- Conflicts of interest (inhabilitet) declared in a pool: the member takes no part in the
-- applicant's cases. The applicant is an organisation, or (an informal group, a person) the
-- application itself.
CREATE TABLE grants.conflict (
    tenant         text NOT NULL,
    pool_id        uuid NOT NULL,
    member         text NOT NULL,
    -- 'organisation' or 'application'.
    applicant_kind text NOT NULL,
    applicant_id   uuid NOT NULL,
    reason         text,
    declared_at    timestamptz NOT NULL,
    position       bigint NOT NULL,
    PRIMARY KEY (tenant, pool_id, member, applicant_id)
);

-- One row per application: the grant case as it stands, which the case list reads. The
-- applicant's name, e-mail and phone are personal data (a person applying, an informal group's
-- contact person); an association's contact is the organisation's.
CREATE TABLE grants.application (
    tenant                text NOT NULL,
    id                    uuid NOT NULL,
    pool_id               uuid NOT NULL,
    round_id              uuid,
    -- 'association', 'informal_group' or 'person'.
    applicant_kind        text NOT NULL,
    organisation_id       uuid,
    group_name            text,
    applicant_name        text,
    applicant_email       text,
    applicant_phone       text,
    title                 text NOT NULL,
    amount_requested      bigint NOT NULL,
    co_funding            bigint NOT NULL,
    period_from           date NOT NULL,
    period_to             date NOT NULL,
    -- The content as it stands (the draft, or the last submitted version).
    content               jsonb NOT NULL,
    -- 'draft', 'submitted', 'proposed' (awaits a second approver), 'decided', 'reopened'
    -- (by a complaint; awaits a new decision) or 'withdrawn'.
    status                text NOT NULL,
    -- The last submitted version; 0 for a draft.
    version               integer NOT NULL,
    submitted_at          timestamptz,
    last_submitted_at     timestamptz,
    -- Who has assessed it, in order; the latest assessment's total and recommendation.
    assessors             text[] NOT NULL,
    assessment_total      smallint,
    recommended           bigint,
    second_assessment_requested boolean NOT NULL,
    -- The standing (or proposed, or reopened) decision.
    outcome               text,
    granted               bigint,
    decision_year         integer,
    -- The standing decision's amount per budget year, [{"year", "amount"}]: one for a grant of
    -- a year, several for a partnership agreement. What a pool-year has committed sums these.
    decision_years        jsonb,
    decided_version       integer,
    justification         text,
    decided_by            text,
    decided_at            timestamptz,
    approved_by           text,
    approved_at           timestamptz,
    reopened_reason       text,
    reopened_at           timestamptz,
    withdrawn_at          timestamptz,
    drafted_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    position              bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX application_of_pool ON grants.application (tenant, pool_id, status);
CREATE INDEX application_of_organisation ON grants.application (tenant, organisation_id);

-- Every submitted version of an application, as submitted (personal data excepted, which the
-- application row and the export hold).
CREATE TABLE grants.application_version (
    tenant         text NOT NULL,
    application_id uuid NOT NULL,
    version        integer NOT NULL,
    submitted_at   timestamptz NOT NULL,
    group_name     text,
    content        jsonb NOT NULL,
    position       bigint NOT NULL,
    PRIMARY KEY (tenant, application_id, version)
);

-- Every assessment (the latest of each assessor counts).
CREATE TABLE grants.assessment (
    tenant         text NOT NULL,
    application_id uuid NOT NULL,
    position       bigint NOT NULL,
    assessor       text NOT NULL,
    version        integer NOT NULL,
    -- [{"criterion", "score", "note"}]
    scores         jsonb NOT NULL,
    total          smallint NOT NULL,
    recommended    bigint NOT NULL,
    note           text,
    assessed_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant, application_id, position)
);

-- Every decision ever made on an application, never edited: a complaint reopens the standing
-- one (reopened_*), and the next decision is a row of its own.
CREATE TABLE grants.decision (
    tenant         text NOT NULL,
    application_id uuid NOT NULL,
    position       bigint NOT NULL,
    pool_id        uuid NOT NULL,
    -- True while it awaits a second approver.
    awaits_approval boolean NOT NULL,
    version        integer NOT NULL,
    outcome        text NOT NULL,
    amount         bigint NOT NULL,
    requested      bigint NOT NULL,
    year           integer NOT NULL,
    justification  text,
    decided_by     text NOT NULL,
    assessed_by    text[] NOT NULL,
    decided_at     timestamptz NOT NULL,
    -- What it commits per budget year, [{"year", "amount"}].
    years          jsonb NOT NULL,
    -- What the grantee undertakes (a partnership's duties).
    duties         text,
    approved_by    text,
    approved_at    timestamptz,
    reopened_by    text,
    reopened_reason text,
    reopened_at    timestamptz,
    PRIMARY KEY (tenant, application_id, position)
);
