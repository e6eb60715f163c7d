-- The reporting read model's needs and matches (samskab-reporting-worker), versioned as the
-- volunteers are (0021): each row one version, valid from the event that made it so until the
-- event that changed it, keyed by that event's position and index.

CREATE TABLE reporting.need_version (
    tenant         text NOT NULL,
    need_id        uuid NOT NULL,
    from_position  bigint NOT NULL,
    from_index     integer NOT NULL,
    started_by     text NOT NULL CHECK (started_by IN ('published', 'updated', 'closed', 'reopened')),
    valid_from     timestamptz NOT NULL,
    valid_to       timestamptz,
    status         text NOT NULL CHECK (status IN ('open', 'closed')),
    -- When the need was first known (published, or updated without a publication before it).
    published_at   timestamptz NOT NULL,
    posted_by      text NOT NULL CHECK (posted_by IN ('municipality', 'organisation')),
    PRIMARY KEY (tenant, need_id, from_position, from_index),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

CREATE UNIQUE INDEX need_version_standing
    ON reporting.need_version (tenant, need_id) WHERE valid_to IS NULL;
CREATE INDEX need_version_by_time ON reporting.need_version (tenant, valid_from);

CREATE TABLE reporting.match_version (
    tenant               text NOT NULL,
    match_id             uuid NOT NULL,
    from_position        bigint NOT NULL,
    from_index           integer NOT NULL,
    started_by           text NOT NULL CHECK (started_by IN
        ('proposed', 'accepted', 'declined', 'started', 'paused', 'resumed', 'ended')),
    valid_from           timestamptz NOT NULL,
    valid_to             timestamptz,
    stage                text NOT NULL CHECK (stage IN
        ('proposed', 'agreed', 'active', 'paused', 'declined', 'ended')),
    volunteer_id         uuid NOT NULL,
    -- The other side: a need, or a person (one of the two).
    need_id              uuid,
    person_id            uuid,
    proposed_at          timestamptz NOT NULL,
    volunteer_accepted   boolean NOT NULL,
    counterpart_accepted boolean NOT NULL,
    -- When both sides had accepted; NULL before.
    agreed_at            timestamptz,
    -- The first day the pair met; NULL before the start (and for a match ended unstarted).
    started_on           date,
    PRIMARY KEY (tenant, match_id, from_position, from_index),
    CHECK ((need_id IS NULL) <> (person_id IS NULL)),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

CREATE UNIQUE INDEX match_version_standing
    ON reporting.match_version (tenant, match_id) WHERE valid_to IS NULL;
CREATE INDEX match_version_by_time ON reporting.match_version (tenant, valid_from);

-- Minutes logged for a month of a match: every figure as logged (the latest one logged by an
-- instant is the month's figure then, since a correction is the figure again).
CREATE TABLE reporting.match_hours (
    tenant        text NOT NULL,
    match_id      uuid NOT NULL,
    month         text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
    from_position bigint NOT NULL,
    from_index    integer NOT NULL,
    logged_at     timestamptz NOT NULL,
    minutes       integer NOT NULL CHECK (minutes >= 0),
    PRIMARY KEY (tenant, match_id, month, from_position, from_index)
);

CREATE INDEX match_hours_by_month ON reporting.match_hours (tenant, month);
