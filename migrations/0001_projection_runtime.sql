-- The projection runtime's own tables (crate samskab-projection). Projections keep their rows
-- and checkpoint in their own schema; what belongs to no one projection lives here.
CREATE SCHEMA samskab_runtime;

-- Events a projection could not apply. Parked in the same transaction as the batch around
-- them, so an event is either applied or parked, never dropped in silence; the worker goes on
-- with the events behind it. Re-applied by fixing the projection and rebuilding it.
-- event_index is the event's place in its message; -1 when the message itself did not decode.
CREATE TABLE samskab_runtime.parked_event (
    projection  text        NOT NULL,
    position    bigint      NOT NULL,
    event_index integer     NOT NULL,
    subject     text        NOT NULL,
    event_type  text        NOT NULL,
    error       text        NOT NULL,
    payload     jsonb       NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, position, event_index)
);
