-- Webhooks: an organisation's endpoints, and the outbox channel that posts to them.
--
-- notify.webhook_endpoint (the notifications read model): each endpoint as its events have
-- it. The projection writes a message's outbox row for each endpoint enabled for its recipient
-- at the message's place in the log, so a rebuild writes the same rows. No secret here: it is
-- derived from the installation's webhook key and the endpoint's id when a delivery is signed.
CREATE TABLE notify.webhook_endpoint (
    tenant          text NOT NULL,
    id              uuid NOT NULL,
    organisation_id uuid NOT NULL,
    url             text NOT NULL,
    enabled         boolean NOT NULL,
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    position        bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX webhook_endpoint_of_organisation ON notify.webhook_endpoint (tenant, organisation_id);

-- A channel is 'email' or 'webhook:<endpoint id>': each endpoint's delivery of a message is
-- its own, retried and parked on its own.
ALTER TABLE notify.outbox DROP CONSTRAINT outbox_channel_check,
    ADD CONSTRAINT outbox_channel_check
        CHECK (channel = 'email' OR channel ~ '^webhook:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
ALTER TABLE delivery.delivery DROP CONSTRAINT delivery_channel_check,
    ADD CONSTRAINT delivery_channel_check
        CHECK (channel = 'email' OR channel ~ '^webhook:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
