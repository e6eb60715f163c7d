-- The directory read model (worker: samskab-directory-worker): municipalities, organisations
-- and volunteers, one row each, tenant-scoped. Rebuilt from the log by cloning these tables
-- into a fresh schema (CREATE TABLE .. LIKE .. INCLUDING ALL), so every table the projection
-- writes lives in this schema and this file is the one place its DDL is written.
CREATE SCHEMA directory;

-- Where the projection has applied the log up to (stream sequence); updated in the same
-- transaction as the rows, which is what makes redelivery harmless.
CREATE TABLE directory.checkpoint (
    projection text PRIMARY KEY,
    position   bigint NOT NULL
);

CREATE TABLE directory.municipality (
    tenant        text PRIMARY KEY,
    kommunekode   integer NOT NULL,
    name          text NOT NULL,
    registered_at timestamptz NOT NULL,
    registered_by text NOT NULL,
    position      bigint NOT NULL
);

CREATE TABLE directory.organisation (
    tenant              text NOT NULL,
    id                  uuid NOT NULL,
    name                text NOT NULL,
    cvr                 text,
    kind                text NOT NULL,
    email               text,
    phone               text,
    contact_person      text,
    active              boolean NOT NULL,
    deactivated_at      timestamptz,
    deactivation_reason text,
    registered_at       timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    -- Log position of the last event applied to this row: the version a client saw.
    position            bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX organisation_by_name ON directory.organisation (tenant, lower(name));
CREATE INDEX organisation_by_cvr ON directory.organisation (tenant, cvr) WHERE cvr IS NOT NULL;

-- Personal data (name, email, phone, birth_year) sits in its own columns so it can be blanked
-- when consent is withdrawn while the rest (statistics, matching history) stays.
CREATE TABLE directory.volunteer (
    tenant                        text NOT NULL,
    id                            uuid NOT NULL,
    name                          text,
    email                         text,
    phone                         text,
    birth_year                    integer,
    postcode                      text NOT NULL,
    age_band                      text NOT NULL,
    skills                        text[] NOT NULL,
    resources                     text[] NOT NULL,
    languages                     text[] NOT NULL,
    availability                  jsonb NOT NULL,
    hours_per_week                integer NOT NULL,
    target_groups                 text[] NOT NULL,
    child_certificate_status      text NOT NULL,
    child_certificate_assessed_on date,
    child_certificate_valid_until date,
    consent_purpose               text,
    consent_given_at              timestamptz,
    consent_withdrawn_at          timestamptz,
    status                        text NOT NULL,
    registered_at                 timestamptz NOT NULL,
    updated_at                    timestamptz NOT NULL,
    position                      bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX volunteer_by_postcode ON directory.volunteer (tenant, postcode);
CREATE INDEX volunteer_by_skill ON directory.volunteer USING gin (skills);
CREATE INDEX volunteer_by_target_group ON directory.volunteer USING gin (target_groups);
