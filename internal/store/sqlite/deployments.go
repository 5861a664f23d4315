package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slipway-ci/slipway/internal/store"
)

type deployments struct{ db *sql.DB }

const deploymentCols = `id, env, service, repo, digest, version, strategy, state, reason, spec, step, weight, stable,
	actor, approver, created_at, updated_at, finished_at`

// sqliteConstraintUnique is SQLITE_CONSTRAINT_UNIQUE, the extended code of
// a unique index violation.
const sqliteConstraintUnique = 2067

func isUnique(err error) bool {
	var c interface{ Code() int }
	return errors.As(err, &c) && c.Code() == sqliteConstraintUnique
}

func (s deployments) Create(ctx context.Context, d *store.Deployment) error {
	if d.State == "" {
		d.State = store.DeployPending
	}
	err := s.db.QueryRowContext(ctx, `INSERT INTO deployments (env, service, repo, digest, version, strategy, state, active,
		reason, spec, step, weight, stable, actor, approver, created_at, updated_at, finished_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		d.Env, d.Service, d.Repo, d.Digest, d.Version, d.Strategy, d.State, d.State.Active(), d.Reason, spec(d),
		d.Step, d.Weight, d.Stable, d.Actor, d.Approver, unix(d.Created), unix(d.Updated), unix(d.Finished)).Scan(&d.ID)
	if isUnique(err) {
		return fmt.Errorf("deploy to %s: %w: another deployment is active", d.Env, store.ErrBusy)
	}
	if err != nil {
		return fmt.Errorf("record deployment: %w", err)
	}
	return nil
}

func spec(d *store.Deployment) string {
	if len(d.Spec) == 0 {
		return "null"
	}
	return string(d.Spec)
}

func (s deployments) Get(ctx context.Context, id int64) (*store.Deployment, error) {
	return s.one(ctx, `SELECT `+deploymentCols+` FROM deployments WHERE id=?`, id)
}

func (s deployments) Active(ctx context.Context, env string) (*store.Deployment, error) {
	return s.one(ctx, `SELECT `+deploymentCols+` FROM deployments WHERE env=? AND active=1`, env)
}

func (s deployments) one(ctx context.Context, q string, arg any) (*store.Deployment, error) {
	ds, err := s.query(ctx, q, arg)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("deployment %v: %w", arg, store.ErrNotFound)
	}
	return ds[0], nil
}

func (s deployments) List(ctx context.Context, f store.DeploymentFilter) ([]*store.Deployment, error) {
	var where []string
	var args []any
	for col, v := range map[string]string{"env": f.Env, "service": f.Service, "state": string(f.State)} {
		if v != "" {
			where, args = append(where, col+" = ?"), append(args, v)
		}
	}
	q := `SELECT ` + deploymentCols + ` FROM deployments`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return s.query(ctx, q, args...)
}

func (s deployments) Update(ctx context.Context, d *store.Deployment, from ...store.DeployState) error {
	return tx(ctx, s.db, func(t *sql.Tx) error {
		var cur store.DeployState
		if err := t.QueryRowContext(ctx, `SELECT state FROM deployments WHERE id=?`, d.ID).Scan(&cur); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("deployment %d: %w", d.ID, store.ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("deployment %d: %w", d.ID, err)
		}
		if len(from) > 0 && !slices.Contains(from, cur) {
			return fmt.Errorf("deployment %d is %s, not %v: %w", d.ID, cur, from, store.ErrConflict)
		}
		_, err := t.ExecContext(ctx, `UPDATE deployments SET state=?, active=?, reason=?, spec=?, step=?, weight=?, stable=?,
			approver=?, version=?, updated_at=?, finished_at=? WHERE id=?`, d.State, d.State.Active(), d.Reason, spec(d), d.Step,
			d.Weight, d.Stable, d.Approver, d.Version, unix(d.Updated), unix(d.Finished), d.ID)
		if isUnique(err) {
			return fmt.Errorf("deployment %d: %w: another deployment is active in %s", d.ID, store.ErrBusy, d.Env)
		}
		if err != nil {
			return fmt.Errorf("update deployment %d: %w", d.ID, err)
		}
		return nil
	})
}

func (s deployments) query(ctx context.Context, q string, args ...any) ([]*store.Deployment, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("deployments: %w", err)
	}
	defer rows.Close()
	var out []*store.Deployment
	for rows.Next() {
		var d store.Deployment
		var specText string
		var created, updated, finished int64
		if err := rows.Scan(&d.ID, &d.Env, &d.Service, &d.Repo, &d.Digest, &d.Version, &d.Strategy, &d.State, &d.Reason,
			&specText, &d.Step, &d.Weight, &d.Stable, &d.Actor, &d.Approver, &created, &updated, &finished); err != nil {
			return nil, fmt.Errorf("deployments: %w", err)
		}
		if specText != "null" {
			d.Spec = []byte(specText)
		}
		d.Created, d.Updated, d.Finished = fromUnix(created), fromUnix(updated), fromUnix(finished)
		out = append(out, &d)
	}
	return out, rows.Err()
}

func (s deployments) Measure(ctx context.Context, m *store.Measurement) error {
	value := m.Value
	if value == "" {
		value = "null"
	}
	err := s.db.QueryRowContext(ctx, `INSERT INTO measurements (deployment_id, analysis, metric, at, phase, value, message, dry_run)
		VALUES (?,?,?,?,?,?,?,?) RETURNING id`, m.DeploymentID, m.Analysis, m.Metric, unix(m.At), m.Phase, value, m.Message,
		m.DryRun).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("record measurement of %s: %w", m.Metric, err)
	}
	return nil
}

func (s deployments) Measurements(ctx context.Context, id int64) ([]*store.Measurement, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, deployment_id, analysis, metric, at, phase, value, message, dry_run
		FROM measurements WHERE deployment_id=? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("measurements: %w", err)
	}
	defer rows.Close()
	var out []*store.Measurement
	for rows.Next() {
		var m store.Measurement
		var at int64
		if err := rows.Scan(&m.ID, &m.DeploymentID, &m.Analysis, &m.Metric, &at, &m.Phase, &m.Value, &m.Message, &m.DryRun); err != nil {
			return nil, fmt.Errorf("measurements: %w", err)
		}
		m.At = fromUnix(at)
		out = append(out, &m)
	}
	return out, rows.Err()
}
