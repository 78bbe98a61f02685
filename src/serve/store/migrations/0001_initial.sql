-- The first schema of `onfail serve` (docs/service.md, "onfail serve"). Shared by SQLite and PostgreSQL:
-- only TEXT and BIGINT, times in milliseconds since 1970 (UTC). Checks come in a later migration.

-- iletiMerkezi delivery reports. The provider repeats reports: one row per (id, status), the
-- first arrival kept (INSERT ... ON CONFLICT DO NOTHING), so two replicas cannot both insert.
CREATE TABLE reports (
    report_id   TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    packet_id   TEXT   NOT NULL,
    recipient   TEXT   NOT NULL,
    received_at BIGINT NOT NULL,
    body        TEXT   NOT NULL,
    PRIMARY KEY (report_id, status)
);
CREATE INDEX reports_by_packet ON reports (packet_id);
CREATE INDEX reports_by_time ON reports (received_at);

-- SMS orders that senders registered: their reports are onfail's.
CREATE TABLE orders (
    order_id   TEXT   PRIMARY KEY,
    alert_id   TEXT   NOT NULL,
    run_url    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE order_recipients (
    order_id TEXT   NOT NULL REFERENCES orders (order_id),
    position BIGINT NOT NULL,
    number   TEXT   NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- Acknowledgeable pages: `code` is the secret of the public link, `page_id` the API's handle.
CREATE TABLE pages (
    page_id         TEXT   PRIMARY KEY,
    code            TEXT   NOT NULL UNIQUE,
    alert_id        TEXT   NOT NULL,
    title           TEXT   NOT NULL,
    run_url         TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    acknowledged_at BIGINT
);

-- The history of one alert id (docs/noise-control.md, "Page once per incident"), for runners that keep no files.
CREATE TABLE alert_states (
    alert_id   TEXT   PRIMARY KEY,
    state      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
