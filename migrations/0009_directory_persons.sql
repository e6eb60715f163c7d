-- Persons a volunteer is paired with (a mentee, a family), registered by the municipality or an
-- organisation (directory read model, worker: samskab-directory-worker). Name, e-mail and phone
-- are personal data: blanked when the person is forgotten, while kind, postcode and languages
-- stay for statistics.
CREATE TABLE directory.person (
    tenant          text NOT NULL,
    id              uuid NOT NULL,
    -- 'mentee' or 'family'.
    kind            text NOT NULL,
    -- The organisation that looks after them; NULL for the municipality.
    organisation_id uuid,
    name            text,
    email           text,
    phone           text,
    postcode        text NOT NULL,
    languages       text[] NOT NULL,
    -- A volunteer paired with them has regular contact with children under 15 (a børneattest
    -- is then required).
    children_under_15 boolean NOT NULL,
    -- 'registered' or 'forgotten'.
    status          text NOT NULL,
    registered_at   timestamptz NOT NULL,
    forgotten_at    timestamptz,
    updated_at      timestamptz NOT NULL,
    position        bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX person_by_organisation ON directory.person (tenant, organisation_id);
