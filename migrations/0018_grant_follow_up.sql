-- What follows a grant (grants read model, worker: samskab-grants-worker): payments in
-- instalments, the final report (due three months after the period, received, approved) and
-- the repayment of what was paid and not spent. A report is overdue when its due day has
-- passed (in Denmark) and it was not received: counted when read, against the day of the query.
ALTER TABLE grants.application
    ADD COLUMN paid               bigint NOT NULL DEFAULT 0,
    ADD COLUMN report_due         date,
    ADD COLUMN report_received_on date,
    ADD COLUMN report_spent       bigint,
    ADD COLUMN report_audited     boolean,
    ADD COLUMN report_narrative   text,
    ADD COLUMN report_approved_at timestamptz,
    ADD COLUMN repayment_due      bigint,
    ADD COLUMN repaid             bigint NOT NULL DEFAULT 0;

-- For "an applicant with an overdue final report gets no new grant": the organisation's
-- decided grants whose report is not in.
CREATE INDEX application_report_outstanding ON grants.application (tenant, organisation_id)
    WHERE report_due IS NOT NULL AND report_received_on IS NULL;

-- Every payment and repayment, in log order.
CREATE TABLE grants.payment (
    tenant         text NOT NULL,
    application_id uuid NOT NULL,
    position       bigint NOT NULL,
    -- 'payment' or 'repayment'.
    kind           text NOT NULL,
    amount         bigint NOT NULL,
    paid_on        date NOT NULL,
    reference      text NOT NULL,
    recorded_by    text NOT NULL,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant, application_id, position)
);
