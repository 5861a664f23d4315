-- +goose Up
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    status      TEXT    NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 1,
    dir         TEXT    NOT NULL DEFAULT '',
    spec_file   TEXT    NOT NULL DEFAULT '',
    spec_digest TEXT    NOT NULL DEFAULT '',
    commit_sha  TEXT    NOT NULL DEFAULT '',
    branch      TEXT    NOT NULL DEFAULT '',
    tag         TEXT    NOT NULL DEFAULT '',
    event       TEXT    NOT NULL DEFAULT '',
    base        TEXT    NOT NULL DEFAULT '',
    base_rule   TEXT    NOT NULL DEFAULT '',
    base_reason TEXT    NOT NULL DEFAULT '',
    grp         TEXT    NOT NULL DEFAULT '',
    pid         INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    started_at  INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_lookup ON runs (dir, commit_sha, spec_digest);
CREATE INDEX runs_status ON runs (status);

CREATE TABLE steps (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    idx         INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_attempt INTEGER NOT NULL DEFAULT 0,
    exit_code   INTEGER NOT NULL DEFAULT 0,
    cache_key   TEXT    NOT NULL DEFAULT '',
    cache_hit   INTEGER NOT NULL DEFAULT 0,
    outputs     TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE attempts (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step        TEXT    NOT NULL,
    number      INTEGER NOT NULL,
    run_attempt INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    exit_code   INTEGER NOT NULL DEFAULT 0,
    signal      TEXT    NOT NULL DEFAULT '',
    executor    TEXT    NOT NULL DEFAULT '',
    ref         TEXT    NOT NULL DEFAULT '',
    log_path    TEXT    NOT NULL DEFAULT '',
    log_size    INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step, number)
);

CREATE TABLE test_results (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step        TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    commit_sha  TEXT    NOT NULL DEFAULT '',
    suite       TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    duration_ns INTEGER NOT NULL DEFAULT 0,
    message     TEXT    NOT NULL DEFAULT '',
    quarantined INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX test_results_run ON test_results (run_id);
CREATE INDEX test_results_commit ON test_results (commit_sha);

CREATE TABLE cache_entries (
    key        TEXT PRIMARY KEY,
    step       TEXT    NOT NULL DEFAULT '',
    outputs    TEXT    NOT NULL DEFAULT '',
    log        TEXT    NOT NULL DEFAULT '',
    size       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_used  INTEGER NOT NULL,
    hits       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cache_entries_lru ON cache_entries (last_used);

-- +goose Down
DROP TABLE cache_entries;
DROP TABLE test_results;
DROP TABLE attempts;
DROP TABLE steps;
DROP TABLE runs;
