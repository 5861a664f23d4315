package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
)

// artifacts is written a few times per run: plain statements suffice.
type artifacts struct{ db *sql.DB }

// artifactCols selects an artifact with its tags folded into one column
// (OCI tags cannot contain a comma).
const artifactCols = `a.id, a.repo, a.digest, a.kind, a.version, a.commit_sha, a.run_id, a.size,
	a.created_at, a.deleted_at,
	COALESCE((SELECT group_concat(t.tag, ',') FROM artifact_tags t WHERE t.artifact_id = a.id), '')`

const recordArtifactSQL = `INSERT INTO artifacts (repo, digest, kind, version, commit_sha, run_id, size, created_at)
	VALUES (?,?,?,?,?,?,?,?)
	ON CONFLICT (repo, digest) DO UPDATE SET
	kind = CASE excluded.kind WHEN '' THEN kind ELSE excluded.kind END,
	version = CASE excluded.version WHEN '' THEN version ELSE excluded.version END,
	commit_sha = CASE excluded.commit_sha WHEN '' THEN commit_sha ELSE excluded.commit_sha END,
	run_id = CASE excluded.run_id WHEN 0 THEN run_id ELSE excluded.run_id END,
	size = CASE excluded.size WHEN 0 THEN size ELSE excluded.size END,
	created_at = CASE created_at WHEN 0 THEN excluded.created_at ELSE created_at END,
	deleted_at = 0
	RETURNING id`

func (s artifacts) Record(ctx context.Context, a *store.Artifact) error {
	return tx(ctx, s.db, func(t *sql.Tx) error {
		err := t.QueryRowContext(ctx, recordArtifactSQL, a.Repo, a.Digest, a.Kind, a.Version, a.Commit,
			a.RunID, a.Size, unix(a.Created)).Scan(&a.ID)
		if err != nil {
			return fmt.Errorf("record artifact %s@%s: %w", a.Repo, a.Digest, err)
		}
		for _, tag := range a.Tags {
			if _, err := t.ExecContext(ctx, `INSERT INTO artifact_tags (repo, tag, artifact_id) VALUES (?,?,?)
				ON CONFLICT (repo, tag) DO UPDATE SET artifact_id = excluded.artifact_id`,
				a.Repo, tag, a.ID); err != nil {
				return fmt.Errorf("record artifact %s@%s tag %s: %w", a.Repo, a.Digest, tag, err)
			}
		}
		a.Deleted = nil
		return nil
	})
}

func (s artifacts) Get(ctx context.Context, repo, digest string) (*store.Artifact, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+artifactCols+` FROM artifacts a WHERE a.repo=? AND a.digest=?`,
		repo, digest)
	a, err := scanArtifact(row)
	if err != nil {
		return nil, notFound(err, "artifact "+repo+"@"+digest)
	}
	return a, nil
}

func (s artifacts) List(ctx context.Context, f store.ArtifactFilter) ([]*store.Artifact, error) {
	var where []string
	var args []any
	if f.Repo != "" {
		where, args = append(where, "a.repo = ?"), append(args, f.Repo)
	}
	if f.RunID != 0 {
		where, args = append(where, "a.run_id = ?"), append(args, f.RunID)
	}
	if !f.IncludeDeleted {
		where = append(where, "a.deleted_at = 0")
	}
	q := `SELECT ` + artifactCols + ` FROM artifacts a`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY a.created_at DESC, a.id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list artifacts: %w", err)
	}
	defer rows.Close()
	var out []*store.Artifact
	for rows.Next() {
		a, err := scanArtifact(rows)
		if err != nil {
			return nil, fmt.Errorf("list artifacts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanArtifact(s scanner) (*store.Artifact, error) {
	var a store.Artifact
	var created, deleted int64
	var tags string
	if err := s.Scan(&a.ID, &a.Repo, &a.Digest, &a.Kind, &a.Version, &a.Commit, &a.RunID, &a.Size,
		&created, &deleted, &tags); err != nil {
		return nil, err
	}
	a.Created = fromUnix(created)
	if deleted != 0 {
		d := fromUnix(deleted)
		a.Deleted = &d
	}
	if tags != "" {
		a.Tags = strings.Split(tags, ",")
		slices.Sort(a.Tags)
	}
	return &a, nil
}

func (s artifacts) MarkDeleted(ctx context.Context, repo, digest string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE artifacts SET deleted_at=? WHERE repo=? AND digest=?`,
		unix(at), repo, digest)
	if err != nil {
		return fmt.Errorf("mark artifact %s@%s deleted: %w", repo, digest, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("artifact %s@%s: %w", repo, digest, store.ErrNotFound)
	}
	return nil
}

const promotionCols = `id, env, repo, digest, actor, reason, at, previous`

func (s artifacts) Promote(ctx context.Context, p *store.Promotion) error {
	return tx(ctx, s.db, func(t *sql.Tx) error {
		err := t.QueryRowContext(ctx, `SELECT digest FROM promotions WHERE env=? AND repo=?
			ORDER BY id DESC LIMIT 1`, p.Env, p.Repo).Scan(&p.Previous)
		if err == sql.ErrNoRows {
			p.Previous = ""
		} else if err != nil {
			return fmt.Errorf("promote %s to %s: %w", p.Repo, p.Env, err)
		}
		res, err := t.ExecContext(ctx, `INSERT INTO promotions (env, repo, digest, actor, reason, at, previous)
			VALUES (?,?,?,?,?,?,?)`, p.Env, p.Repo, p.Digest, p.Actor, p.Reason, unix(p.At), p.Previous)
		if err != nil {
			return fmt.Errorf("promote %s to %s: %w", p.Repo, p.Env, err)
		}
		if p.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("promote %s to %s: %w", p.Repo, p.Env, err)
		}
		return nil
	})
}

func (s artifacts) Current(ctx context.Context, env, repo string) (*store.Promotion, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+promotionCols+` FROM promotions WHERE env=? AND repo=?
		ORDER BY id DESC LIMIT 1`, env, repo)
	p, err := scanPromotion(row)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("current %s in %s", repo, env))
	}
	return p, nil
}

func (s artifacts) History(ctx context.Context, env, repo string, limit int) ([]*store.Promotion, error) {
	q := `SELECT ` + promotionCols + ` FROM promotions WHERE env=? AND repo=? ORDER BY id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.db.QueryContext(ctx, q, env, repo)
	if err != nil {
		return nil, fmt.Errorf("promotion history of %s in %s: %w", repo, env, err)
	}
	defer rows.Close()
	var out []*store.Promotion
	for rows.Next() {
		p, err := scanPromotion(rows)
		if err != nil {
			return nil, fmt.Errorf("promotion history of %s in %s: %w", repo, env, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func scanPromotion(s scanner) (*store.Promotion, error) {
	var p store.Promotion
	var at int64
	if err := s.Scan(&p.ID, &p.Env, &p.Repo, &p.Digest, &p.Actor, &p.Reason, &at, &p.Previous); err != nil {
		return nil, err
	}
	p.At = fromUnix(at)
	return &p, nil
}

// wasInEnvSQL: a promotion of the digest put it in the window if it happened
// at or after since, or if nothing replaced it before since (it was current
// at since, and maybe still is).
const wasInEnvSQL = `SELECT DISTINCT p.env FROM promotions p WHERE p.repo=? AND p.digest=? AND
	(p.at >= ? OR NOT EXISTS (SELECT 1 FROM promotions q
		WHERE q.env = p.env AND q.repo = p.repo AND q.id > p.id AND q.at < ?))
	ORDER BY p.env`

func (s artifacts) WasInEnv(ctx context.Context, repo, digest string, since time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, wasInEnvSQL, repo, digest, unix(since), unix(since))
	if err != nil {
		return nil, fmt.Errorf("environments of %s@%s: %w", repo, digest, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var env string
		if err := rows.Scan(&env); err != nil {
			return nil, fmt.Errorf("environments of %s@%s: %w", repo, digest, err)
		}
		out = append(out, env)
	}
	return out, rows.Err()
}
