-- A volunteer's own token lists their matches in the municipalities they opted in to, and finds
-- a match of theirs in one they have left since (issue 8): by the volunteer's municipality and
-- id, on the few matches that name one.
CREATE INDEX match_of_volunteer_elsewhere ON matching.match (volunteer_municipality, volunteer_id)
    WHERE volunteer_municipality IS NOT NULL;
