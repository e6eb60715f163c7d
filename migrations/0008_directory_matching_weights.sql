-- Each municipality's matching weights (directory read model, worker:
-- samskab-directory-worker): the points per criterion its candidates and suggestions are ranked
-- by, as `samskab_domain::ranking::Weights` serialises them. Written at registration (the
-- installation's default) and when the municipality sets its own; NULL only on rows from
-- before this migration, which mean the default too (a rebuild fills them in).
ALTER TABLE directory.municipality ADD COLUMN matching_weights jsonb;
