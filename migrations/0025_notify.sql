-- The notifications read model (worker: samskab-notify-worker): the messages the rules make
-- from events, each for one recipient's in-app inbox, and what the recipient did with them.
-- A message's id is derived from its event's place in the log (NotificationId::of), so a
-- rebuild makes the same messages with the same ids, and the recipient's own events (read)
-- find them again. No personal data: a message names no person, only what happened and where
-- to look (the recipients are organisations, by id).
CREATE SCHEMA notify;

CREATE TABLE notify.checkpoint (
    projection text PRIMARY KEY,
    position   bigint NOT NULL
);

-- Which organisation posted a need (a need posted by the municipality has none here): whom a
-- match on the need concerns.
CREATE TABLE notify.need_owner (
    tenant          text NOT NULL,
    need_id         uuid NOT NULL,
    organisation_id uuid NOT NULL,
    PRIMARY KEY (tenant, need_id)
);

-- Which organisation a match concerns (the one that posted its need), from its proposal.
CREATE TABLE notify.match_owner (
    tenant          text NOT NULL,
    match_id        uuid NOT NULL,
    organisation_id uuid NOT NULL,
    PRIMARY KEY (tenant, match_id)
);

-- Which association an application is from, from the pool's decisions on it; and the text of
-- a decision proposed above the pool's threshold, told when the second approver makes it final.
CREATE TABLE notify.grant_applicant (
    tenant          text NOT NULL,
    application_id  uuid NOT NULL,
    organisation_id uuid NOT NULL,
    proposed_body   text,
    PRIMARY KEY (tenant, application_id)
);

-- A message in a recipient's inbox.
CREATE TABLE notify.message (
    tenant        text NOT NULL,
    id            uuid NOT NULL,
    -- 'organisation:<uuid>' (volunteers and staff come with their consent and preferences).
    recipient     text NOT NULL,
    rule          text NOT NULL CHECK (rule IN ('match_proposed', 'match_accepted',
        'match_declined', 'grant_decided', 'grant_approved', 'payment_recorded')),
    subject       text NOT NULL,
    body          text NOT NULL,
    -- The API path the message is about.
    link          text NOT NULL,
    created_at    timestamptz NOT NULL,
    read_at       timestamptz,
    from_position bigint NOT NULL,
    from_index    integer NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE INDEX message_of_recipient ON notify.message (tenant, recipient, id DESC);
