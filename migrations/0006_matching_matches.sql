-- Matches (matchning) in the matching read model (worker: samskab-matching-worker): a
-- volunteer paired with a need, one row per match, mirroring `Match::evolve`. A match names
-- its two sides by id only, so no person's data is here (the note is free text that the
-- domain tells its writers not to fill with personal details; see `MatchNote`).
CREATE TABLE matching.match (
    tenant               text NOT NULL,
    id                   uuid NOT NULL,
    volunteer_id         uuid NOT NULL,
    -- The counterpart: a need for now (`Counterpart::Need`).
    need_id              uuid NOT NULL,
    -- 'coordinator' or 'volunteer': whose side proposed (and so has accepted).
    proposed_by          text NOT NULL,
    note                 text,
    proposed_at          timestamptz NOT NULL,
    -- 'proposed', 'agreed', 'active', 'paused', 'declined' or 'ended' (`MatchState::stage`,
    -- in snake case).
    status               text NOT NULL,
    volunteer_accepted   boolean NOT NULL,
    counterpart_accepted boolean NOT NULL,
    -- Set when declined: by 'volunteer' or 'counterpart', when, and why (optional).
    declined_by          text,
    declined_at          timestamptz,
    decline_reason       text,
    -- The first day the pair met; NULL until started (and for a match ended before it started).
    started_on           date,
    -- Set while paused.
    paused_since         timestamptz,
    pause_reason         text,
    -- Set when ended, with the `MatchEndReason`.
    ended_at             timestamptz,
    end_reason           text,
    -- Minutes of volunteer work per month: {"2026-11": 240, ...}; the latest figure for a
    -- month replaces the earlier one.
    minutes              jsonb NOT NULL,
    updated_at           timestamptz NOT NULL,
    position             bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
-- A need's matches (its candidates leave out volunteers already matched to it; it is filled
-- when enough are active), and a volunteer's.
CREATE INDEX match_by_need ON matching.match (tenant, need_id, status);
CREATE INDEX match_by_volunteer ON matching.match (tenant, volunteer_id, status);
