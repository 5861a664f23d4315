package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/slipway-ci/slipway/internal/store"
)

type runs struct {
	db    *sql.DB
	stmts *statements
}

const runCols = `id, status, attempt, dir, spec_file, spec_digest, commit_sha, branch, tag, event,
	base, base_rule, base_reason, grp, pid, error, created_at, started_at, finished_at`

func (r runs) Create(ctx context.Context, run *store.Run) error {
	return tx(ctx, r.db, func(t *sql.Tx) error {
		res, err := t.ExecContext(ctx, `INSERT INTO runs (status, created_at) VALUES (?, ?)`,
			run.Status, unix(run.CreatedAt))
		if err != nil {
			return fmt.Errorf("create run: %w", err)
		}
		if run.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("create run: %w", err)
		}
		return saveRun(ctx, t, r.stmts, run)
	})
}

func (r runs) Save(ctx context.Context, records ...store.Record) error {
	return tx(ctx, r.db, func(t *sql.Tx) error {
		for _, rec := range records {
			var err error
			switch v := rec.(type) {
			case *store.Run:
				err = saveRun(ctx, t, r.stmts, v)
			case *store.Step:
				err = saveStep(ctx, t, r.stmts, v)
			case *store.Attempt:
				err = saveAttempt(ctx, t, r.stmts, v)
			case store.TestResults:
				err = saveTests(ctx, t, v)
			default:
				err = fmt.Errorf("save: unsupported record %T", rec)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

const saveRunSQL = `UPDATE runs SET status=?, attempt=?, dir=?, spec_file=?, spec_digest=?,
	commit_sha=?, branch=?, tag=?, event=?, base=?, base_rule=?, base_reason=?, grp=?, pid=?, error=?,
	created_at=?, started_at=?, finished_at=? WHERE id=?`

func saveRun(ctx context.Context, t *sql.Tx, st *statements, r *store.Run) error {
	_, err := t.StmtContext(ctx, st.saveRun).ExecContext(ctx,
		r.Status, r.Attempt, r.Dir, r.SpecFile, r.SpecDigest, r.Commit, r.Branch, r.Tag, r.Event,
		r.Base, r.BaseRule, r.BaseReason, r.Group, r.PID, r.Error,
		unix(r.CreatedAt), unix(r.StartedAt), unix(r.FinishedAt), r.ID)
	if err != nil {
		return fmt.Errorf("save run %d: %w", r.ID, err)
	}
	return nil
}

const saveStepSQL = `INSERT INTO steps (run_id, name, idx, status, reason, attempts, run_attempt,
	exit_code, cache_key, cache_hit, outputs, started_at, finished_at)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
	ON CONFLICT (run_id, name) DO UPDATE SET idx=excluded.idx, status=excluded.status,
	reason=excluded.reason, attempts=excluded.attempts, run_attempt=excluded.run_attempt,
	exit_code=excluded.exit_code, cache_key=excluded.cache_key, cache_hit=excluded.cache_hit,
	outputs=excluded.outputs, started_at=excluded.started_at, finished_at=excluded.finished_at`

func saveStep(ctx context.Context, t *sql.Tx, st *statements, s *store.Step) error {
	_, err := t.StmtContext(ctx, st.saveStep).ExecContext(ctx,
		s.RunID, s.Name, s.Index, s.Status, s.Reason, s.Attempts, s.RunAttempt, s.ExitCode, s.CacheKey,
		boolInt(s.CacheHit), s.Outputs, unix(s.StartedAt), unix(s.FinishedAt))
	if err != nil {
		return fmt.Errorf("save step %d/%s: %w", s.RunID, s.Name, err)
	}
	return nil
}

const saveAttemptSQL = `INSERT INTO attempts (run_id, step, number, run_attempt, status, exit_code,
	signal, executor, ref, log_path, log_size, error, started_at, finished_at)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
	ON CONFLICT (run_id, step, number) DO UPDATE SET run_attempt=excluded.run_attempt,
	status=excluded.status, exit_code=excluded.exit_code, signal=excluded.signal,
	executor=excluded.executor, ref=excluded.ref, log_path=excluded.log_path,
	log_size=excluded.log_size, error=excluded.error, started_at=excluded.started_at,
	finished_at=excluded.finished_at`

func saveAttempt(ctx context.Context, t *sql.Tx, st *statements, a *store.Attempt) error {
	_, err := t.StmtContext(ctx, st.saveAttempt).ExecContext(ctx,
		a.RunID, a.Step, a.Number, a.RunAttempt, a.Status, a.ExitCode, a.Signal, a.Executor, a.Ref,
		a.LogPath, a.LogSize, a.Error, unix(a.StartedAt), unix(a.FinishedAt))
	if err != nil {
		return fmt.Errorf("save attempt %d/%s/%d: %w", a.RunID, a.Step, a.Number, err)
	}
	return nil
}

func saveTests(ctx context.Context, t *sql.Tx, results store.TestResults) error {
	if len(results) == 0 {
		return nil
	}
	stmt, err := t.PrepareContext(ctx, `INSERT INTO test_results (run_id, step, attempt, commit_sha, suite,
		name, outcome, duration_ns, message, quarantined) VALUES (?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return fmt.Errorf("save test results: %w", err)
	}
	defer stmt.Close()
	for _, r := range results {
		if _, err := stmt.ExecContext(ctx, r.RunID, r.Step, r.Attempt, r.Commit, r.Suite, r.Name,
			r.Outcome, int64(r.Duration), r.Message, boolInt(r.Quarantined)); err != nil {
			return fmt.Errorf("save test results: %w", err)
		}
	}
	return nil
}

func (r runs) Get(ctx context.Context, id int64) (*store.Run, error) {
	row := r.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id=?`, id)
	run, err := scanRun(row)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("run %d", id))
	}
	return run, nil
}

func (r runs) List(ctx context.Context, f store.RunFilter) ([]*store.Run, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if f.Dir != "" {
		add("dir = ?", f.Dir)
	}
	if f.Commit != "" {
		add("commit_sha = ?", f.Commit)
	}
	if f.SpecDigest != "" {
		add("spec_digest = ?", f.SpecDigest)
	}
	if f.Group != "" {
		add("grp = ?", f.Group)
	}
	if !f.Before.IsZero() {
		add("created_at < ?", unix(f.Before))
	}
	if len(f.Status) > 0 {
		marks := strings.Repeat("?,", len(f.Status))
		where = append(where, "status IN ("+marks[:len(marks)-1]+")")
		for _, s := range f.Status {
			args = append(args, s)
		}
	}
	q := `SELECT ` + runCols + ` FROM runs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []*store.Run
	for rows.Next() {
		run, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, run)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanRun(s scanner) (*store.Run, error) {
	var r store.Run
	var created, started, finished int64
	err := s.Scan(&r.ID, &r.Status, &r.Attempt, &r.Dir, &r.SpecFile, &r.SpecDigest, &r.Commit, &r.Branch,
		&r.Tag, &r.Event, &r.Base, &r.BaseRule, &r.BaseReason, &r.Group, &r.PID, &r.Error,
		&created, &started, &finished)
	if err != nil {
		return nil, err
	}
	r.CreatedAt, r.StartedAt, r.FinishedAt = fromUnix(created), fromUnix(started), fromUnix(finished)
	return &r, nil
}

func (r runs) Steps(ctx context.Context, runID int64) ([]*store.Step, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT run_id, name, idx, status, reason, attempts, run_attempt,
		exit_code, cache_key, cache_hit, outputs, started_at, finished_at FROM steps WHERE run_id=? ORDER BY idx`, runID)
	if err != nil {
		return nil, fmt.Errorf("steps of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []*store.Step
	for rows.Next() {
		var s store.Step
		var hit int
		var started, finished int64
		if err := rows.Scan(&s.RunID, &s.Name, &s.Index, &s.Status, &s.Reason, &s.Attempts, &s.RunAttempt,
			&s.ExitCode, &s.CacheKey, &hit, &s.Outputs, &started, &finished); err != nil {
			return nil, fmt.Errorf("steps of run %d: %w", runID, err)
		}
		s.CacheHit, s.StartedAt, s.FinishedAt = hit == 1, fromUnix(started), fromUnix(finished)
		out = append(out, &s)
	}
	return out, rows.Err()
}

func (r runs) Attempts(ctx context.Context, runID int64) ([]*store.Attempt, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT run_id, step, number, run_attempt, status, exit_code, signal,
		executor, ref, log_path, log_size, error, started_at, finished_at FROM attempts WHERE run_id=?
		ORDER BY started_at, step, number`, runID)
	if err != nil {
		return nil, fmt.Errorf("attempts of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []*store.Attempt
	for rows.Next() {
		var a store.Attempt
		var started, finished int64
		if err := rows.Scan(&a.RunID, &a.Step, &a.Number, &a.RunAttempt, &a.Status, &a.ExitCode, &a.Signal,
			&a.Executor, &a.Ref, &a.LogPath, &a.LogSize, &a.Error, &started, &finished); err != nil {
			return nil, fmt.Errorf("attempts of run %d: %w", runID, err)
		}
		a.StartedAt, a.FinishedAt = fromUnix(started), fromUnix(finished)
		out = append(out, &a)
	}
	return out, rows.Err()
}

func (r runs) Delete(ctx context.Context, ids ...int64) error {
	return tx(ctx, r.db, func(t *sql.Tx) error {
		for _, id := range ids {
			if _, err := t.ExecContext(ctx, `DELETE FROM runs WHERE id=?`, id); err != nil {
				return fmt.Errorf("delete run %d: %w", id, err)
			}
			if _, err := t.ExecContext(ctx, `DELETE FROM scans WHERE run_id=?`, id); err != nil {
				return fmt.Errorf("delete run %d scans: %w", id, err)
			}
		}
		return nil
	})
}

func (r runs) OutputDigests(ctx context.Context) ([]string, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT DISTINCT outputs FROM steps WHERE outputs != ''`)
	if err != nil {
		return nil, fmt.Errorf("output digests: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("output digests: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// statements are prepared once: preparing costs more than executing these
// upserts, and a run writes thousands of them.
type statements struct {
	saveRun, saveStep, saveAttempt *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (*statements, error) {
	var st statements
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{{&st.saveRun, saveRunSQL}, {&st.saveStep, saveStepSQL}, {&st.saveAttempt, saveAttemptSQL}} {
		s, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.dst = s
	}
	return &st, nil
}
