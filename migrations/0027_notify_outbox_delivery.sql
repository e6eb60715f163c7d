-- The notify outbox and its delivery.
--
-- notify.outbox (the notifications read model, samskab-notify-worker): each message that is
-- also to go out by another channel than the in-app inbox, written by the projection in the
-- same transaction as its checkpoint, so a message and its sending are committed together or
-- not at all. Rebuilt with the rest of `notify`.
CREATE TABLE notify.outbox (
    tenant     text NOT NULL,
    message_id uuid NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('email')),
    -- As notify.message.recipient: 'organisation:<uuid>' or 'volunteer:<uuid>'. No address:
    -- the sender looks it up when it sends, so a forgotten person's is found nowhere here.
    recipient  text NOT NULL,
    PRIMARY KEY (message_id, channel)
);

-- The delivery schema (samskab-delivery): the sender's own state, which a rebuild of
-- `notify` never touches. That is what makes a rebuild send nothing twice.
CREATE SCHEMA delivery;

-- How far the sender has taken the outbox into its queue: the greatest message id queued
-- (message ids are in log order, NotificationId). One row. It starts after every message
-- there is now, so the messages made before the outbox existed are not mailed when a rebuild
-- writes them into it.
CREATE TABLE delivery.cursor (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    message_id uuid NOT NULL
);
INSERT INTO delivery.cursor (one, message_id)
SELECT true, coalesce((SELECT id FROM notify.message ORDER BY id DESC LIMIT 1),
    '00000000-0000-0000-0000-000000000000');

-- Each delivery: queued from the outbox, then delivered, or retried with backoff until it is
-- parked, or dropped (no message or no address any more: the recipient was forgotten, or has
-- no e-mail address). Its id, the message's, is what the receiver sees (Message-ID, and the
-- webhook-id to come), so a delivery sent again after a crash can be recognised.
CREATE TABLE delivery.delivery (
    message_id      uuid NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email')),
    tenant          text NOT NULL,
    recipient       text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'parked', 'dropped')),
    -- Attempts made, and of them the ones that failed.
    attempts        integer NOT NULL DEFAULT 0,
    failures        integer NOT NULL DEFAULT 0,
    queued_at       timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    finished_at     timestamptz,
    -- Why the last attempt failed, or why it was dropped: a status code and a class, never
    -- the server's own text (which may name the address).
    last_error      text,
    PRIMARY KEY (message_id, channel)
);
CREATE INDEX delivery_due ON delivery.delivery (next_attempt_at) WHERE status = 'pending';
CREATE INDEX delivery_by_status ON delivery.delivery (status, message_id);
