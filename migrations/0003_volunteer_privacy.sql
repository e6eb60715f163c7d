-- Privacy of volunteers (issue 7):
-- * a volunteer can be forgotten at their request (GDPR art. 17): the row keeps what is not
--   personal (for statistics) and records when; status 'forgotten';
-- * consent per purpose (matching, contact, notifications): the purposes given, sorted by name.
ALTER TABLE directory.volunteer ADD COLUMN forgotten_at timestamptz;
ALTER TABLE directory.volunteer ADD COLUMN purposes text[] NOT NULL DEFAULT '{}';
CREATE INDEX volunteer_by_purpose ON directory.volunteer USING gin (purposes);
