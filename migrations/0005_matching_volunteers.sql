-- What matching knows of each volunteer: the profile it ranks on and the hard rules it checks
-- (consent to matching, børneattest), never their personal data (name, contact, birth year
-- stay in the directory). One row per volunteer, mirroring `Volunteer::evolve`, in the
-- matching read model (worker: samskab-matching-worker).
CREATE TABLE matching.volunteer (
    tenant                  text NOT NULL,
    id                      uuid NOT NULL,
    postcode                text NOT NULL,
    skills                  text[] NOT NULL,
    languages               text[] NOT NULL,
    target_groups           text[] NOT NULL,
    -- Weekly availability as '<weekday>-<part>' ('tue-evening'), so that overlap with a need's
    -- slots is an array intersection.
    slots                   text[] NOT NULL,
    hours_per_week          integer NOT NULL,
    -- The børneattest: 'not_required', 'requested', 'approved' or 'not_approved', and until
    -- when an approval holds (NULL: no end).
    certificate_status      text NOT NULL,
    certificate_valid_until date,
    -- The volunteer consented to matching (purpose `matching`), and still does.
    matching_consent        boolean NOT NULL,
    -- 'active', 'consent_withdrawn' or 'forgotten': only active volunteers are candidates.
    status                  text NOT NULL,
    updated_at              timestamptz NOT NULL,
    position                bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
-- Candidates are drawn from the active volunteers who consented to matching and offer one of
-- the need's slots: the slot overlap is what narrows them most (a seq scan of 100,000 rows took
-- 57 ms, this index 16 ms, on the 2-core machine under load).
CREATE INDEX volunteer_matchable ON matching.volunteer (tenant, id)
    WHERE status = 'active' AND matching_consent;
CREATE INDEX volunteer_matchable_by_slot ON matching.volunteer USING gin (slots)
    WHERE status = 'active' AND matching_consent;
