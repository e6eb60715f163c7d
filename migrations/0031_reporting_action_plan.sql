-- The action plan: which initiative (indsats) and strategic goal of the municipality's action
-- plan each pool serves, and its kind (a partnership pool's grants are the partnerships), as
-- its creation recorded them. Pools created before these columns existed have them after a
-- rebuild of `reporting`.
ALTER TABLE reporting.grant_pool
    ADD COLUMN kind text,
    ADD COLUMN initiative text,
    ADD COLUMN strategic_goal text;
