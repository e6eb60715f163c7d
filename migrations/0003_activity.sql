-- An example read model table (added to count the path, then removed).
CREATE TABLE directory.activity (
    tenant        text NOT NULL,
    id            uuid NOT NULL,
    organisation  uuid NOT NULL,
    title         text NOT NULL,
    registered_at timestamptz NOT NULL,
    position      bigint NOT NULL,
    PRIMARY KEY (tenant, id)
);
