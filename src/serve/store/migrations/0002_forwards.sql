-- Reports to pass on to --forward-reports-to, queued in the store: a report answered 200 is
-- forwarded even if the service stops first, and with several replicas each is sent by one.
-- `due_at` is when to try next (a claimed row is leased by moving it forward).
CREATE TABLE forwards (
    report_id TEXT   NOT NULL,
    status    TEXT   NOT NULL,
    body      TEXT   NOT NULL,
    due_at    BIGINT NOT NULL,
    attempts  BIGINT NOT NULL,
    PRIMARY KEY (report_id, status)
);
CREATE INDEX forwards_by_due ON forwards (due_at);
