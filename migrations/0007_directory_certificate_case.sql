-- The børneattest as a workflow (directory read model, worker: samskab-directory-worker): beside
-- the assessment (child_certificate_*), where the case stands. A requester is written
-- 'municipality' or the organisation's id. Mirrors `VolunteerDetails::certificate_case`.
ALTER TABLE directory.volunteer
    -- The volunteer consented that this body request their børneattest (used up by the request).
    ADD COLUMN child_certificate_consent_for text,
    -- A request sent and not yet assessed: by whom, and when.
    ADD COLUMN child_certificate_requested_by text,
    ADD COLUMN child_certificate_requested_at timestamptz;
