-- Watched GitHub workflows of the --config file (docs/serve-checks.md, "Watching a scheduled
-- GitHub workflow"). first_seen_at stays (a restart does not push the first due time away);
-- `observed` is what the last successful look at the REST API saw (JSON: the workflow's state,
-- its latest scheduled runs, the cron lines of its file), so every replica's web page shows the
-- same; `warning` is the last API failure. Incidents live in check_incidents under the name
-- "watch:OWNER/REPO:WORKFLOW", which no check can have.
CREATE TABLE watches (
    watch_key     TEXT   PRIMARY KEY,
    first_seen_at BIGINT NOT NULL,
    observed_at   BIGINT,
    observed      TEXT,
    warning_at    BIGINT,
    warning       TEXT
);
