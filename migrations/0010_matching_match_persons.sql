-- The other side of a match may be a person (a mentee, a family: `Counterpart::Person`)
-- instead of a need (matching read model, worker: samskab-matching-worker). Exactly one of the
-- two is set.
ALTER TABLE matching.match ALTER COLUMN need_id DROP NOT NULL;
ALTER TABLE matching.match ADD COLUMN person_id uuid;
ALTER TABLE matching.match ADD CONSTRAINT match_has_one_counterpart
    CHECK ((need_id IS NULL) <> (person_id IS NULL));
-- A person's matches (a pair is matched once at a time; an organisation lists those of the
-- persons it looks after).
CREATE INDEX match_by_person ON matching.match (tenant, person_id, status);
