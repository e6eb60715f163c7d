-- Volunteers in the notifications read model (samskab-notify-worker): whether each may be
-- told anything (registered, not withdrawn or forgotten, and consenting to notifications), as
-- `Volunteer::evolve` has it; and the volunteer of each match, beside the organisation of its
-- need (none for a match on a person or on the municipality's own need).
CREATE TABLE notify.volunteer (
    tenant        text NOT NULL,
    volunteer_id  uuid NOT NULL,
    status        text NOT NULL CHECK (status IN ('active', 'consent_withdrawn', 'forgotten')),
    notifications boolean NOT NULL,
    -- The log position of the event that last changed the row: an older one changes nothing.
    position      bigint NOT NULL,
    PRIMARY KEY (tenant, volunteer_id)
);

ALTER TABLE notify.match_owner ALTER COLUMN organisation_id DROP NOT NULL;
-- NULL only for a match projected before this column existed (a rebuild fills it).
ALTER TABLE notify.match_owner ADD COLUMN volunteer_id uuid;
