-- Notification preferences (issue 10), in the notifications read model.
--
-- notify.preference: each inbox's preferences, as its events have them; an inbox without a
-- row has the defaults (mailed, in Danish, at once). The projection reads them at each
-- message's place in the log, so a rebuild writes each message in the same language to the
-- same channels.
CREATE TABLE notify.preference (
    tenant      text NOT NULL,
    id          uuid NOT NULL,
    recipient   text NOT NULL,
    email       boolean NOT NULL,
    language    text NOT NULL CHECK (language IN ('da', 'en')),
    cadence     text NOT NULL CHECK (cadence IN ('immediate', 'daily_digest')),
    updated_at  timestamptz NOT NULL,
    position    bigint NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, recipient)
);

-- The language a message is written in: its mail's words around it are in the same one.
ALTER TABLE notify.message
    ADD COLUMN language text NOT NULL DEFAULT 'da' CHECK (language IN ('da', 'en'));

-- A decision proposed above the threshold, in English too: the association is told it when
-- the second approver makes it final, in the language it prefers then.
ALTER TABLE notify.grant_applicant ADD COLUMN proposed_body_en text;

-- A channel is 'email', 'digest' (mailed with the recipient's other messages of the day, in
-- the morning) or 'webhook:<endpoint id>'.
ALTER TABLE notify.outbox DROP CONSTRAINT outbox_channel_check,
    ADD CONSTRAINT outbox_channel_check
        CHECK (channel IN ('email', 'digest') OR channel ~ '^webhook:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
ALTER TABLE delivery.delivery DROP CONSTRAINT delivery_channel_check,
    ADD CONSTRAINT delivery_channel_check
        CHECK (channel IN ('email', 'digest') OR channel ~ '^webhook:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
