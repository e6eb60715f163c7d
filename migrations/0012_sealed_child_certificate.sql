-- The børneattest's assessment is personal data (issue 8): since the `.v2` events it travels
-- sealed with the volunteer's key, and the read models blank it with the rest of a volunteer's
-- personal data on withdrawal and forgetting. NULL: not known any more.
ALTER TABLE directory.volunteer ALTER COLUMN child_certificate_status DROP NOT NULL;
ALTER TABLE matching.volunteer ALTER COLUMN certificate_status DROP NOT NULL;

-- Rows blanked before this migration kept their assessment; blank it as a rebuild would.
UPDATE directory.volunteer
SET child_certificate_status = NULL, child_certificate_assessed_on = NULL,
    child_certificate_valid_until = NULL
WHERE status <> 'active';
UPDATE matching.volunteer
SET certificate_status = NULL, certificate_valid_until = NULL
WHERE status <> 'active';
