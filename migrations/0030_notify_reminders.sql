-- Reminders of final reports (issue 10): the time-based rules, run on each municipality's
-- day (`dk.samskab.day.began.v1`, begun by the clock), in the notifications read model.
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
        'report_overdue'));
