-- The other municipalities a volunteer may also be matched in (issue 8: "same municipality
-- unless the volunteer opted in to others"), from `volunteer.other_municipalities_set.v1`:
-- shown with the volunteer in the directory, and in matching the candidate query of a need in
-- municipality T takes the volunteers of T and those who chose T (the GIN index answers the
-- second). Empty: their own municipality only, which is what every earlier event means.
ALTER TABLE directory.volunteer ADD COLUMN other_municipalities text[] NOT NULL DEFAULT '{}';
ALTER TABLE matching.volunteer ADD COLUMN other_municipalities text[] NOT NULL DEFAULT '{}';
CREATE INDEX volunteer_matchable_elsewhere ON matching.volunteer USING gin (other_municipalities)
    WHERE status = 'active' AND matching_consent;
