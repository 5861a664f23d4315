-- +goose Up
CREATE TABLE deployments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    env        TEXT    NOT NULL,
    service    TEXT    NOT NULL,
    repo       TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    version    TEXT    NOT NULL DEFAULT '',
    strategy   TEXT    NOT NULL DEFAULT '',
    state      TEXT    NOT NULL,
    active     INTEGER NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    spec       TEXT    NOT NULL DEFAULT 'null',
    step       INTEGER NOT NULL DEFAULT 0,
    weight     REAL    NOT NULL DEFAULT 0,
    stable     TEXT    NOT NULL DEFAULT '',
    actor      TEXT    NOT NULL DEFAULT '',
    approver   TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0
);
-- The environment lock: at most one active deployment per environment.
CREATE UNIQUE INDEX deployments_one_active ON deployments (env) WHERE active = 1;
CREATE INDEX deployments_env ON deployments (env, service, id);

CREATE TABLE measurements (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    analysis      TEXT    NOT NULL DEFAULT '',
    metric        TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    phase         TEXT    NOT NULL,
    value         TEXT    NOT NULL DEFAULT 'null',
    message       TEXT    NOT NULL DEFAULT '',
    dry_run       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX measurements_deployment ON measurements (deployment_id, id);

-- +goose Down
DROP TABLE measurements;
DROP TABLE deployments;
