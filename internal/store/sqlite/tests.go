package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
)

type tests struct{ db *sql.DB }

func (t tests) Results(ctx context.Context, f store.TestFilter) ([]store.TestResult, error) {
	var where []string
	var args []any
	if f.RunID != 0 {
		where, args = append(where, "t.run_id = ?"), append(args, f.RunID)
	}
	if f.Commit != "" {
		where, args = append(where, "t.commit_sha = ?"), append(args, f.Commit)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "r.created_at >= ?"), append(args, unix(f.Since))
	}
	q := `SELECT t.run_id, t.step, t.attempt, t.commit_sha, t.suite, t.name, t.outcome, t.duration_ns,
		t.message, t.quarantined FROM test_results t JOIN runs r ON r.id = t.run_id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY t.run_id, t.step, t.attempt, t.rowid"
	rows, err := t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("test results: %w", err)
	}
	defer rows.Close()
	var out []store.TestResult
	for rows.Next() {
		var r store.TestResult
		var dur int64
		var q int
		if err := rows.Scan(&r.RunID, &r.Step, &r.Attempt, &r.Commit, &r.Suite, &r.Name, &r.Outcome, &dur,
			&r.Message, &q); err != nil {
			return nil, fmt.Errorf("test results: %w", err)
		}
		r.Duration, r.Quarantined = time.Duration(dur), q == 1
		out = append(out, r)
	}
	return out, rows.Err()
}
