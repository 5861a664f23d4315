package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/release"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/trust"
)

// Request asks for one artifact in one environment.
type Request struct {
	Env     *pipeline.Environment // from the project's pipeline; copied into the record
	Policy  *trust.Policy         // the configured policy tightened by the repository's
	Repo    string
	Digest  string
	Version string
	Actor   string
	Reason  string
	// AllowDowngrade lets a lower version than the current one in.
	AllowDowngrade bool
	// Rollback marks a return to an earlier version: no downgrade check,
	// no approval, no analysis; a switch when that version still runs.
	Rollback bool
}

// Result is a started deployment; Unchanged when the environment already
// runs the digest (nothing was started).
type Result struct {
	Deployment *store.Deployment `json:"deployment"`
	Report     *release.Report   `json:"verification,omitempty"`
	Unchanged  bool              `json:"unchanged,omitempty"`
}

// Start admits the artifact (trust policy, requires:, soak), refuses a
// downgrade and a second deployment of a busy environment, records the
// deployment and starts driving it. It returns once it is recorded.
func (c *Controller) Start(ctx context.Context, req Request) (*Result, error) {
	env := req.Env
	if env.Deploy == nil {
		return nil, fmt.Errorf("%w: %s has target %q: use `slipway artifact promote --to %s`", ErrNotDeployable, env.Name, env.Target, env.Name)
	}
	if active, err := c.o.Store.Active(ctx, env.Name); err == nil {
		return nil, busy(active)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	ref := release.Ref{Repo: req.Repo, Digest: req.Digest}
	rep, err := c.o.Admit.Admit(ctx, ref, env, req.Policy)
	if err != nil {
		return &Result{Report: rep}, err
	}
	cur, err := c.current(ctx, env.Name)
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.Digest == req.Digest {
		return &Result{Deployment: cur, Report: rep, Unchanged: true}, nil
	}
	if cur != nil && !req.Rollback && !req.AllowDowngrade {
		if err := c.downgrade(ctx, req, cur); err != nil {
			return nil, err
		}
	}
	spec, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	d := &store.Deployment{Env: env.Name, Service: serviceName(env, req.Repo), Repo: req.Repo, Digest: req.Digest,
		Version: req.Version, Strategy: env.Deploy.Strategy, State: store.DeployPending, Spec: spec,
		Actor: req.Actor, Reason: req.Reason, Created: c.o.Now().UTC()}
	if req.Rollback {
		d.Strategy = StrategyRollback
	}
	if cur != nil {
		d.Stable = cur.Digest
	}
	d.Updated = d.Created
	if err := c.o.Store.Create(ctx, d); err != nil {
		if errors.Is(err, store.ErrBusy) {
			if active, aerr := c.o.Store.Active(ctx, env.Name); aerr == nil {
				return nil, busy(active)
			}
		}
		return nil, err
	}
	c.o.Logf("deploy: %s started (%s)", describe(d), d.Strategy)
	if err := c.launch(d); err != nil {
		return nil, err
	}
	return &Result{Deployment: d, Report: rep}, nil
}

// StrategyRollback is the recorded strategy of a rollback deployment.
const StrategyRollback = "rollback"

func busy(a *store.Deployment) error {
	return fmt.Errorf("%w: %s has deployment %d (%s, %s) in progress: wait for it, or `slipway deploy abort %s`",
		store.ErrBusy, a.Env, a.ID, a.Version, a.State, a.Env)
}

func serviceName(env *pipeline.Environment, repo string) string {
	if env.Deploy != nil && env.Deploy.Service != "" {
		return env.Deploy.Service
	}
	return path.Base(repo)
}

// Rollback returns env to its previous successful digest: it aborts an
// active deployment, else starts a rollback deployment of the digest
// that was current before the current one. req carries the environment
// spec, policy and actor; its artifact fields are filled here.
func (c *Controller) Rollback(ctx context.Context, req Request) (*Result, error) {
	env := req.Env.Name
	if _, err := c.o.Store.Active(ctx, env); err == nil {
		d, err := c.Abort(ctx, env, req.Actor)
		return &Result{Deployment: d}, err
	}
	ds, err := c.o.Store.List(ctx, store.DeploymentFilter{Env: env, State: store.DeploySucceeded})
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("%w: %s has never been deployed", ErrNoDeployment, env)
	}
	for _, prev := range ds[1:] {
		if prev.Digest != ds[0].Digest {
			req.Repo, req.Digest, req.Version, req.Rollback = prev.Repo, prev.Digest, prev.Version, true
			if req.Reason == "" {
				req.Reason = "rollback from " + ds[0].Version
			}
			return c.Start(ctx, req)
		}
	}
	return nil, fmt.Errorf("%w: %s has no earlier version than %s to roll back to", ErrNoDeployment, env, ds[0].Version)
}

// downgrade refuses req when it is older than cur: a lower semantic
// version, or the same version published earlier.
func (c *Controller) downgrade(ctx context.Context, req Request, cur *store.Deployment) error {
	cmp := change.CompareVersions(req.Version, cur.Version)
	if cmp == 0 && c.o.Published != nil {
		at, err := c.o.Published(ctx, req.Repo, req.Digest)
		if err != nil {
			return err
		}
		curAt, err := c.o.Published(ctx, cur.Repo, cur.Digest)
		if err != nil {
			return err
		}
		if !at.IsZero() && at.Before(curAt) { // zero: not known here
			return fmt.Errorf("%w: %s runs %s published %s; this build of %s was published earlier (%s): pass --allow-downgrade, or `slipway deploy rollback %s`",
				ErrDowngrade, cur.Env, cur.Version, curAt.Format(time.RFC3339), req.Version, at.Format(time.RFC3339), cur.Env)
		}
	}
	if cmp < 0 {
		return fmt.Errorf("%w: %s runs %s; %s is lower: pass --allow-downgrade, or `slipway deploy rollback %s`",
			ErrDowngrade, cur.Env, cur.Version, req.Version, cur.Env)
	}
	return nil
}
