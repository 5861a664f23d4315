-- +goose Up
CREATE TABLE scans (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL DEFAULT 0,
    step       TEXT    NOT NULL DEFAULT '',
    dir        TEXT    NOT NULL,
    commit_sha TEXT    NOT NULL DEFAULT '',
    scanner    TEXT    NOT NULL,
    tool       TEXT    NOT NULL DEFAULT '',
    target     TEXT    NOT NULL DEFAULT '',
    scanned    INTEGER NOT NULL DEFAULT 0,
    warnings   TEXT    NOT NULL DEFAULT '[]',
    at         INTEGER NOT NULL
);
CREATE INDEX scans_run ON scans (run_id, id);
CREATE INDEX scans_commit ON scans (dir, commit_sha, scanner, id);

-- A finding is kept whole as JSON (secrets are redacted before a finding
-- exists); the columns beside it are what queries select on.
CREATE TABLE findings (
    scan_id     INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    fingerprint TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    severity    INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    PRIMARY KEY (scan_id, seq)
);
CREATE INDEX findings_fingerprint ON findings (fingerprint);

-- +goose Down
DROP TABLE findings;
DROP TABLE scans;
