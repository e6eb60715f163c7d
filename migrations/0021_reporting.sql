-- The reporting read model (worker: samskab-reporting-worker): figures by municipality,
-- period and dimension, as they stood on any day. A report "as of" an instant is a WHERE over
-- these rows, not a replay: each row is one version of a thing, valid from the event that
-- made it so until the event that changed it (valid_to NULL: it still is).
--
-- No personal data: a volunteer's version holds the profile the statistics are made of
-- (postcode, age band, skills, target groups), which the log keeps in plain text and which
-- stays after a forgetting (the person's name, contact and birth year are sealed and never
-- read here).
CREATE SCHEMA reporting;

CREATE TABLE reporting.checkpoint (
    projection text PRIMARY KEY,
    position   bigint NOT NULL
);

CREATE TABLE reporting.volunteer_version (
    tenant         text NOT NULL,
    volunteer_id   uuid NOT NULL,
    -- The event that began this version: its log position and index in its message, the
    -- idempotency key (a redelivery finds its own version and writes nothing).
    from_position  bigint NOT NULL,
    from_index     integer NOT NULL,
    -- What began it.
    started_by     text NOT NULL
        CHECK (started_by IN ('registered', 'profile_updated', 'consent_withdrawn', 'forgotten')),
    valid_from     timestamptz NOT NULL,
    -- The next version's valid_from; NULL while this one stands.
    valid_to       timestamptz,
    status         text NOT NULL CHECK (status IN ('active', 'consent_withdrawn', 'forgotten')),
    -- When the volunteer was registered (the first version's valid_from), on every version.
    registered_at  timestamptz NOT NULL,
    postcode       text NOT NULL,
    age_band       text NOT NULL,
    skills         text[] NOT NULL,
    target_groups  text[] NOT NULL,
    PRIMARY KEY (tenant, volunteer_id, from_position, from_index),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

-- One standing version per volunteer: what every write's guard relies on.
CREATE UNIQUE INDEX volunteer_version_standing
    ON reporting.volunteer_version (tenant, volunteer_id) WHERE valid_to IS NULL;

-- A report reads one municipality's versions begun before its cut.
CREATE INDEX volunteer_version_by_time ON reporting.volunteer_version (tenant, valid_from);
