-- Checks of the --config file (docs/serve-checks.md) and the times of their pings. A row is
-- made when a service first knows the check (first_seen_at stays: a restart does not push the
-- first due time away) and updated by each ping, committed before the ping's answer.
CREATE TABLE checks (
    name            TEXT   PRIMARY KEY,
    first_seen_at   BIGINT NOT NULL,
    last_start_at   BIGINT,
    last_success_at BIGINT,
    last_fail_at    BIGINT,
    last_ping_at    BIGINT,
    last_ping_kind  TEXT
);
