-- How far a volunteer will travel to a need (km between postcodes; NULL: the default, 15 km),
-- in the directory (shown with the profile) and in matching (the distance criterion of the
-- ranking). Rows from before are NULL, which is what their events mean; a rebuild agrees.
ALTER TABLE directory.volunteer ADD COLUMN max_travel_km integer;
ALTER TABLE matching.volunteer ADD COLUMN max_travel_km integer;
