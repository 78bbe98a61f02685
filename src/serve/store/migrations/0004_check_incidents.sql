-- One row per incident of a check (docs/serve-checks.md): a check is down "since" its last
-- success, so (check_name, since) names the incident the same way on every replica and after
-- every restart, and the primary key lets only one of them open it. A page is claimed by moving
-- claimed_until forward (a row lock in PostgreSQL, the one writer in SQLite): one replica pages;
-- if it dies before paged_at is set, the claim runs out and another pages (a duplicate beats a
-- missed page). recovered_at is set once, by whoever sends the "recovered" notice.
CREATE TABLE check_incidents (
    check_name    TEXT   NOT NULL,
    since         BIGINT NOT NULL,
    why           TEXT   NOT NULL,
    opened_at     BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL,
    paged_at      BIGINT,
    recovered_at  BIGINT,
    PRIMARY KEY (check_name, since)
);
