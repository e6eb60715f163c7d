-- A volunteer can be forgotten at their request (GDPR art. 17): the row keeps what is not
-- personal (for statistics) and records when; status 'forgotten'.
ALTER TABLE directory.volunteer ADD COLUMN forgotten_at timestamptz;
