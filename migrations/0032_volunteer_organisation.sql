-- The organisation a volunteer volunteers in (NULL: on their own, outside the organised
-- associations: "ny frivillighed", seed 004). The profile's optional `organisation`, added
-- without a new payload version; every earlier event means NULL, which is what the column
-- holds for the rows they wrote.
ALTER TABLE directory.volunteer ADD COLUMN organisation_id uuid;
CREATE INDEX volunteer_by_organisation ON directory.volunteer (tenant, organisation_id)
    WHERE organisation_id IS NOT NULL;

-- Kept on every version, so that the reports count who was inside or outside an organisation
-- as they stood then (and an umbrella organisation its members' volunteers).
ALTER TABLE reporting.volunteer_version ADD COLUMN organisation_id uuid;
