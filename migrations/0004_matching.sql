-- The matching read model (worker: samskab-matching-worker): what matching searches and ranks.
-- So far the needs (behov), one row each, tenant-scoped; the volunteers' matching profiles,
-- børneattest assessments and matches come in later migrations. Rebuilt from the log by
-- cloning these tables into a fresh schema, as every projection is (see README.md here).
CREATE SCHEMA matching;

CREATE TABLE matching.checkpoint (
    projection text PRIMARY KEY,
    position   bigint NOT NULL
);

-- A need as posted, open or closed (closed ones stay: matches and statistics refer to them).
-- No person's data: who posted it is the municipality or an organisation.
CREATE TABLE matching.need (
    tenant              text NOT NULL,
    id                  uuid NOT NULL,
    -- 'municipality' or 'organisation' (then organisation_id is set).
    posted_by           text NOT NULL,
    organisation_id     uuid,
    title               text NOT NULL,
    description         text NOT NULL,
    target_groups       text[] NOT NULL,
    skills_required     text[] NOT NULL,
    skills_nice_to_have text[] NOT NULL,
    languages           text[] NOT NULL,
    -- NULL when the work is remote.
    postcode            text,
    remote              boolean NOT NULL,
    -- 'on_date' (schedule_date set) or 'weekly' (slots and hours_per_week set).
    schedule_kind       text NOT NULL,
    schedule_date       date,
    -- [{"weekday": "tue", "part": "evening"}, ...], as a volunteer's availability slots.
    slots               jsonb,
    hours_per_week      integer,
    volunteers_wanted   integer NOT NULL,
    starts_on           date NOT NULL,
    ends_on             date,
    children_under_15   boolean NOT NULL,
    -- 'open' or 'closed'.
    status              text NOT NULL,
    closed_at           timestamptz,
    closing_reason      text,
    published_at        timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    -- Log position of the last event applied to this row.
    position            bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX need_by_status ON matching.need (tenant, status, id);
CREATE INDEX need_by_organisation ON matching.need (tenant, organisation_id, id);
CREATE INDEX need_by_postcode ON matching.need (tenant, postcode);
CREATE INDEX need_by_skill ON matching.need USING gin (skills_required);
CREATE INDEX need_by_target_group ON matching.need USING gin (target_groups);
