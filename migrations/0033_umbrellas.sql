-- Umbrella organisations and their districts (Rotary Danmark → Distrikt 1470 → a club), the
-- organisations that are their members, and the municipalities that share their figures with
-- them.

-- The directory: what the API lists.
CREATE TABLE directory.umbrella (
    -- Always the platform tenant: an umbrella belongs to the installation.
    tenant        text NOT NULL,
    id            uuid NOT NULL,
    name          text NOT NULL,
    parent_id     uuid,
    registered_at timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    position      bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
ALTER TABLE directory.organisation ADD COLUMN umbrella_id uuid;
ALTER TABLE directory.municipality ADD COLUMN shared_with uuid[] NOT NULL DEFAULT '{}';

-- Reporting: the tree, and versions of membership and sharing, so that an umbrella's report
-- "as of" a past instant counts the members and the municipalities of then.
CREATE TABLE reporting.umbrella (
    id        uuid PRIMARY KEY,
    parent_id uuid,
    name      text NOT NULL,
    position  bigint NOT NULL
);

CREATE TABLE reporting.organisation_umbrella_version (
    tenant          text NOT NULL,
    organisation_id uuid NOT NULL,
    from_position   bigint NOT NULL,
    from_index      integer NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz,
    -- NULL: a member of none.
    umbrella_id     uuid,
    -- A deactivated organisation is a member of nothing any more (its history stays).
    active          boolean NOT NULL,
    PRIMARY KEY (tenant, organisation_id, from_position, from_index),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX organisation_umbrella_standing
    ON reporting.organisation_umbrella_version (tenant, organisation_id) WHERE valid_to IS NULL;

CREATE TABLE reporting.umbrella_share_version (
    tenant        text NOT NULL,
    from_position bigint NOT NULL,
    from_index    integer NOT NULL,
    valid_from    timestamptz NOT NULL,
    valid_to      timestamptz,
    -- Every umbrella the municipality shares with (and so with its districts).
    umbrellas     uuid[] NOT NULL,
    PRIMARY KEY (tenant, from_position, from_index),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX umbrella_share_standing
    ON reporting.umbrella_share_version (tenant) WHERE valid_to IS NULL;

-- What was there before this migration: every organisation a member of none, every
-- municipality sharing with no one, as of its registration, from the directory (which has
-- them all). Without these rows a membership or a sharing decided after an upgrade would find
-- no version to follow (the projection begins versions only at a registration, as `evolve`
-- does). Keyed at the directory row's position, so that replaying older events changes
-- nothing; a rebuild replays the log and makes the same versions from the events.
INSERT INTO reporting.organisation_umbrella_version
    (tenant, organisation_id, from_position, from_index, valid_from, umbrella_id, active)
SELECT tenant, id, position, 0, registered_at, NULL, active FROM directory.organisation;

INSERT INTO reporting.umbrella_share_version
    (tenant, from_position, from_index, valid_from, umbrellas)
SELECT tenant, position, 0, registered_at, '{}' FROM directory.municipality;
