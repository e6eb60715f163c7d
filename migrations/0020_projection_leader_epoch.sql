-- Who leads each projection, and the epoch it took over with (samskab-projection's leader.rs).
-- A copy that wins the leader lock raises the epoch; every batch transaction then checks that
-- its leader's epoch is still the one here (one row by its key) before it writes. Before, the
-- batch looked for the leader's lock in pg_locks, which takes every lock-manager partition
-- lock and walks the lock tables: one such scan per batch and projection, a cost that grows
-- with the load and with every projection added.
CREATE TABLE samskab_runtime.projection_leader (
    projection text        PRIMARY KEY,
    epoch      bigint      NOT NULL,
    pid        integer     NOT NULL,
    since      timestamptz NOT NULL DEFAULT now()
);
