package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/store"
)

type scans struct{ db *sql.DB }

const scanCols = `id, run_id, step, dir, commit_sha, scanner, tool, target, scanned, warnings, at`

func (s scans) Record(ctx context.Context, sc *store.Scan) error {
	warnings, err := json.Marshal(sc.Warnings)
	if err != nil {
		return err
	}
	return tx(ctx, s.db, func(t *sql.Tx) error {
		err := t.QueryRowContext(ctx, `INSERT INTO scans (run_id, step, dir, commit_sha, scanner, tool, target, scanned, warnings, at)
			VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id`, sc.RunID, sc.Step, sc.Dir, sc.Commit, sc.Scanner, sc.Tool, sc.Target,
			sc.Scanned, string(warnings), unix(sc.At)).Scan(&sc.ID)
		if err != nil {
			return fmt.Errorf("record %s scan: %w", sc.Scanner, err)
		}
		ins, err := t.PrepareContext(ctx, `INSERT INTO findings (scan_id, seq, fingerprint, rule, severity, body) VALUES (?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("record %s scan: %w", sc.Scanner, err)
		}
		defer ins.Close()
		for i, f := range sc.Findings {
			body, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if _, err := ins.ExecContext(ctx, sc.ID, i, f.Fingerprint, f.Rule, int(f.Severity), string(body)); err != nil {
				return fmt.Errorf("record %s finding %s: %w", sc.Scanner, f.Rule, err)
			}
		}
		return nil
	})
}

func (s scans) ForRun(ctx context.Context, runID int64) ([]*store.Scan, error) {
	return s.query(ctx, `SELECT `+scanCols+` FROM scans WHERE run_id=? ORDER BY id`, runID)
}

func (s scans) AtCommit(ctx context.Context, dir, commit string) ([]*store.Scan, error) {
	return s.query(ctx, `SELECT `+scanCols+` FROM scans WHERE id IN (
		SELECT MAX(id) FROM scans WHERE dir=? AND commit_sha=? GROUP BY scanner) ORDER BY scanner`, dir, commit)
}

func (s scans) query(ctx context.Context, q string, args ...any) ([]*store.Scan, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("scans: %w", err)
	}
	var out []*store.Scan
	for rows.Next() {
		var sc store.Scan
		var warnings string
		var at int64
		if err := rows.Scan(&sc.ID, &sc.RunID, &sc.Step, &sc.Dir, &sc.Commit, &sc.Scanner, &sc.Tool, &sc.Target,
			&sc.Scanned, &warnings, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scans: %w", err)
		}
		sc.At = fromUnix(at)
		if err := json.Unmarshal([]byte(warnings), &sc.Warnings); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan %d warnings: %w", sc.ID, err)
		}
		out = append(out, &sc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, sc := range out {
		if sc.Findings, err = s.findings(ctx, sc.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s scans) findings(ctx context.Context, scanID int64) ([]scan.Finding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT body FROM findings WHERE scan_id=? ORDER BY seq`, scanID)
	if err != nil {
		return nil, fmt.Errorf("findings of scan %d: %w", scanID, err)
	}
	defer rows.Close()
	out := []scan.Finding{}
	for rows.Next() {
		var body string
		var f scan.Finding
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			return nil, fmt.Errorf("finding of scan %d: %w", scanID, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
