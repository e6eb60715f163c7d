-- The time-based rules (issue 10), run on each municipality's day (`dk.samskab.day.began.v1`,
-- begun by the clock), and an application's receipt, in the notifications read model.
--
-- Per association's grant case: the final report's due day as its decision set it, whether the
-- decision is final (proposed above the threshold: not until approved; reopened or withdrawn:
-- no longer), whether the report came, and which reminders were told (each once, even if a
-- day was missed: a rule tells what it has not told yet).
ALTER TABLE notify.grant_applicant
    ADD COLUMN report_due        date,
    ADD COLUMN decision_final    boolean NOT NULL DEFAULT false,
    ADD COLUMN report_received   boolean NOT NULL DEFAULT false,
    ADD COLUMN reminded_due_soon boolean NOT NULL DEFAULT false,
    ADD COLUMN reminded_overdue  boolean NOT NULL DEFAULT false;
CREATE INDEX grant_applicant_report_due ON notify.grant_applicant (tenant, report_due)
    WHERE decision_final AND NOT report_received;

-- The reminders' rules.
ALTER TABLE notify.message DROP CONSTRAINT message_rule_check,
    ADD CONSTRAINT message_rule_check CHECK (rule IN ('match_proposed', 'match_accepted',
        'match_declined', 'grant_decided', 'grant_approved', 'payment_recorded', 'report_due',
        'report_overdue', 'application_received', 'round_deadline'));

-- Each association's application as the rules need it (an application received, a round's
-- deadline approaching): whose it is, its round, whether it was submitted, and whether the
-- round's deadline reminder was told.
CREATE TABLE notify.application (
    tenant             text NOT NULL,
    application_id     uuid NOT NULL,
    organisation_id    uuid NOT NULL,
    round_id           uuid,
    submitted          boolean NOT NULL DEFAULT false,
    reminded_deadline  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant, application_id)
);
CREATE INDEX application_of_round ON notify.application (tenant, round_id)
    WHERE NOT submitted;

-- Each pool's rounds: the title and deadline a reminder names, and when a decision is expected.
CREATE TABLE notify.round (
    tenant             text NOT NULL,
    round_id           uuid NOT NULL,
    title              text NOT NULL,
    deadline           timestamptz NOT NULL,
    decision_expected  date NOT NULL,
    PRIMARY KEY (tenant, round_id)
);
