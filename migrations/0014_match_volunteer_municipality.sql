-- A match of a volunteer of another municipality, who opted in to the match's (issue 8): the
-- volunteer's municipality, from `match.proposed.v1`'s optional `volunteer_municipality`.
-- NULL: the match's own, which is what every earlier proposal means.
ALTER TABLE matching.match ADD COLUMN volunteer_municipality text;
