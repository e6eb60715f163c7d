-- The day (in Denmark) a match ended, as its end recorded it (the event's own time, which
-- `Match::evolve` and the retention figures count by): on the ended version and none before.
-- Matches ended before this column existed have it after a rebuild of `reporting`.
ALTER TABLE reporting.match_version ADD COLUMN ended_on date;
