-- +goose Up
CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    repo       TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    kind       TEXT    NOT NULL DEFAULT '',
    version    TEXT    NOT NULL DEFAULT '',
    commit_sha TEXT    NOT NULL DEFAULT '',
    run_id     INTEGER NOT NULL DEFAULT 0,
    size       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (repo, digest)
);
CREATE INDEX artifacts_newest ON artifacts (repo, created_at);

-- A tag names one digest per repository: moving it is an upsert.
CREATE TABLE artifact_tags (
    repo        TEXT    NOT NULL,
    tag         TEXT    NOT NULL,
    artifact_id INTEGER NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    PRIMARY KEY (repo, tag)
);
CREATE INDEX artifact_tags_artifact ON artifact_tags (artifact_id);

CREATE TABLE promotions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    env      TEXT    NOT NULL,
    repo     TEXT    NOT NULL,
    digest   TEXT    NOT NULL,
    actor    TEXT    NOT NULL DEFAULT '',
    reason   TEXT    NOT NULL DEFAULT '',
    at       INTEGER NOT NULL,
    previous TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX promotions_env ON promotions (env, repo, id);
CREATE INDEX promotions_digest ON promotions (repo, digest);

-- +goose Down
DROP TABLE promotions;
DROP TABLE artifact_tags;
DROP TABLE artifacts;
