-- An applicant who is a person (or an informal group's contact person) forgotten (GDPR art.
-- 17), once the grant case no longer has to be kept: the name, e-mail and phone are blanked,
-- and when is kept. The case's figures (amounts, decisions, follow-up) stay for the
-- statistics and the grant history.
ALTER TABLE grants.application
    ADD COLUMN forgotten_at timestamptz;
