-- forewarn history schema, SQLite flavour. migrations/postgres/00001_init.sql
-- is the same schema in PostgreSQL's types; schema_test.go keeps the two
-- files' tables and columns identical. Times are UTC unix milliseconds
-- (*_ms), durations microseconds (*_us): integers read the same everywhere.

-- +goose Up

-- One row per probe run, kept RawRetention (48 h by default).
CREATE TABLE results (
    id             INTEGER PRIMARY KEY,
    tenant         TEXT    NOT NULL,
    check_name     TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    start_ms       INTEGER NOT NULL,
    duration_us    INTEGER NOT NULL,
    success        BOOLEAN NOT NULL,
    reason         TEXT    NOT NULL DEFAULT '',
    message        TEXT    NOT NULL DEFAULT '',
    status_code    INTEGER NOT NULL DEFAULT 0,
    cert_expiry_ms INTEGER,          -- NULL: no TLS
    detail         TEXT              -- JSON: phases, redirects, steps; NULL: none
);
CREATE INDEX results_target_time ON results (tenant, check_name, start_ms);
CREATE INDEX results_time ON results (start_ms);

-- Per tenant/check and hour or day (period 'hour' | 'day', bucket_ms the
-- bucket's UTC start), updated incrementally by every batch. Durations are
-- of successful runs only; ok_min_us/ok_max_us are NULL while there is none.
-- lat_X counts successful runs that took more than the bound before it and
-- at most X (lat_inf: over 30 s): a histogram for approximate percentiles.
CREATE TABLE rollups (
    period     TEXT    NOT NULL,
    tenant     TEXT    NOT NULL,
    check_name TEXT    NOT NULL,
    bucket_ms  INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    runs       INTEGER NOT NULL,
    successes  INTEGER NOT NULL,
    ok_sum_us  INTEGER NOT NULL,
    ok_min_us  INTEGER,
    ok_max_us  INTEGER,
    lat_5ms    INTEGER NOT NULL DEFAULT 0,
    lat_10ms   INTEGER NOT NULL DEFAULT 0,
    lat_25ms   INTEGER NOT NULL DEFAULT 0,
    lat_50ms   INTEGER NOT NULL DEFAULT 0,
    lat_100ms  INTEGER NOT NULL DEFAULT 0,
    lat_250ms  INTEGER NOT NULL DEFAULT 0,
    lat_500ms  INTEGER NOT NULL DEFAULT 0,
    lat_1s     INTEGER NOT NULL DEFAULT 0,
    lat_2500ms INTEGER NOT NULL DEFAULT 0,
    lat_5s     INTEGER NOT NULL DEFAULT 0,
    lat_10s    INTEGER NOT NULL DEFAULT 0,
    lat_30s    INTEGER NOT NULL DEFAULT 0,
    lat_inf    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (period, tenant, check_name, bucket_ms)
);
CREATE INDEX rollups_time ON rollups (period, bucket_ms);

-- One row per load run: its knee and its curve (JSON: planned levels, SLO,
-- steps).
CREATE TABLE capacity_runs (
    id           INTEGER PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    check_name   TEXT    NOT NULL,
    start_ms     INTEGER NOT NULL,
    duration_us  INTEGER NOT NULL,
    success      BOOLEAN NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    message      TEXT    NOT NULL DEFAULT '',
    model        TEXT    NOT NULL DEFAULT '',
    seats        INTEGER NOT NULL DEFAULT 0,
    required     INTEGER NOT NULL DEFAULT 0,
    knee_users   INTEGER NOT NULL DEFAULT 0,
    break_at     INTEGER NOT NULL DEFAULT 0,
    at_max       BOOLEAN NOT NULL DEFAULT FALSE,
    stop         TEXT    NOT NULL DEFAULT '',
    curve        TEXT    NOT NULL
);
CREATE INDEX capacity_runs_target_time ON capacity_runs (tenant, check_name, start_ms);
CREATE INDEX capacity_runs_time ON capacity_runs (start_ms);

-- Support cases. seq is the sequence of the last event applied: an older
-- change re-applied never overwrites a newer one. resolved_ms NULL: open.
CREATE TABLE cases (
    id          TEXT    PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    severity    TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL,
    opened_ms   INTEGER NOT NULL,
    resolved_ms INTEGER,
    updated_ms  INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    data        TEXT
);
CREATE INDEX cases_opened ON cases (opened_ms);
CREATE INDEX cases_tenant_opened ON cases (tenant, opened_ms);

CREATE TABLE case_events (
    case_id TEXT    NOT NULL REFERENCES cases (id),
    seq     INTEGER NOT NULL,
    type    TEXT    NOT NULL,
    time_ms INTEGER NOT NULL,
    data    TEXT,
    PRIMARY KEY (case_id, seq)
);

-- Notifications written in the same transaction as the case change that
-- caused them; a dispatcher delivers them. (notifier, idempotency_key) is
-- unique, so a change applied twice queues nothing twice.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    notifier        TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    case_id         TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    payload         TEXT,
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_ms      INTEGER NOT NULL,
    delivered_ms    INTEGER,
    UNIQUE (notifier, idempotency_key)
);
CREATE INDEX outbox_due ON outbox (notifier, state, next_attempt_ms);
CREATE INDEX outbox_case ON outbox (notifier, case_id, seq);
CREATE INDEX outbox_created ON outbox (created_ms);

-- Opaque blobs the engines keep across restarts (the cases engine's state,
-- Slack thread ids).
CREATE TABLE state (
    name       TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- +goose Down
DROP TABLE state;
DROP TABLE outbox;
DROP TABLE case_events;
DROP TABLE cases;
DROP TABLE capacity_runs;
DROP TABLE rollups;
DROP TABLE results;
