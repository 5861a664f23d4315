package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
)

// runner drives one deployment. Everything it does is derived from the
// record (state, step, weight) and the environment spec copied into it, so
// a runner started after a crash continues where the record says.
type runner struct {
	c      *Controller
	id     int64             // d.ID, readable from any goroutine
	d      *store.Deployment // owned by the runner's goroutine
	env    *pipeline.Environment
	stable *store.Deployment // what served before; nil for a first deployment
	finish atomic.Bool
	recMu  sync.Mutex // orders record against Finish

	mu      sync.Mutex
	cancel  context.CancelCauseFunc // of the current phase
	wake    chan struct{}
	started bool // the new version's replicas were seen ready in this process
}

// errInterrupted cancels a phase when a command changed the record.
var errInterrupted = errors.New("interrupted by a command")

// outcome ends a progressing phase other than by success.
type outcome struct {
	to     store.DeployState // paused or rolling-back
	reason string
}

func (o *outcome) Error() string { return string(o.to) + ": " + o.reason }

func rollback(format string, a ...any) error {
	return &outcome{to: store.DeployRollingBack, reason: fmt.Sprintf(format, a...)}
}

func pause(format string, a ...any) error {
	return &outcome{to: store.DeployPaused, reason: fmt.Sprintf(format, a...)}
}

// specOf decodes the environment spec d was started with.
func specOf(d *store.Deployment) (*pipeline.Environment, error) {
	var env pipeline.Environment
	if err := json.Unmarshal(d.Spec, &env); err != nil {
		return nil, err
	}
	if env.Deploy == nil {
		return nil, errors.New("no deploy settings")
	}
	return &env, nil
}

func (c *Controller) newRunner(d *store.Deployment) (*runner, error) {
	env, err := specOf(d)
	if err != nil {
		return nil, fmt.Errorf("%s: recorded environment spec unreadable: %w", describe(d), err)
	}
	r := &runner{c: c, id: d.ID, d: d, env: env, wake: make(chan struct{}, 1)}
	ds, err := c.o.Store.List(context.Background(), store.DeploymentFilter{Env: d.Env, State: store.DeploySucceeded})
	if err != nil {
		return nil, err
	}
	for _, s := range ds {
		if s.ID < d.ID && d.Stable != "" && s.Digest == d.Stable {
			r.stable = s
			break
		}
	}
	return r, nil
}

// interrupt makes the runner re-read its record now.
func (r *runner) interrupt() {
	r.mu.Lock()
	if r.cancel != nil {
		r.cancel(errInterrupted)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// phase returns a context the next command cancels.
func (r *runner) phase(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	pctx, cancel := context.WithCancelCause(ctx)
	r.mu.Lock()
	r.cancel = cancel
	r.mu.Unlock()
	return pctx, cancel
}

// drive runs the deployment until it ends or ctx does.
func (r *runner) drive(ctx context.Context) {
	for ctx.Err() == nil {
		d, err := r.c.o.Store.Get(ctx, r.d.ID)
		if err != nil {
			r.c.o.Logf("deploy: %s: %v", describe(r.d), err)
			r.sleep(ctx, time.Second)
			continue
		}
		r.d = d
		if !d.State.Active() {
			return
		}
		if err := r.step(ctx); err != nil && ctx.Err() == nil {
			if !errors.Is(err, store.ErrConflict) {
				r.c.o.Logf("deploy: %s: %v", describe(r.d), err)
				r.sleep(ctx, time.Second)
			}
		}
	}
}

// step does what the recorded state asks for, once.
func (r *runner) step(ctx context.Context) error {
	switch r.d.State {
	case store.DeployPending:
		if r.env.Deploy.Approval && r.d.Strategy != StrategyRollback && r.d.Approver == "" {
			return r.move(ctx, store.DeployAwaitingApproval, func(d *store.Deployment) {
				d.Reason = "waiting for `slipway deploy approve " + d.Env + "`"
			})
		}
		return r.move(ctx, store.DeployProgressing, nil)
	case store.DeployAwaitingApproval:
		r.wait(ctx)
		return nil
	case store.DeployPaused:
		if err := r.hold(ctx); err != nil {
			return err
		}
		r.wait(ctx)
		return nil
	case store.DeployProgressing:
		return r.progressing(ctx)
	case store.DeployRollingBack:
		return r.rollBack(ctx)
	}
	return nil
}

func (r *runner) progressing(ctx context.Context) error {
	pctx, cancel := r.phase(ctx)
	defer cancel(nil)
	err := r.progress(pctx)
	var o *outcome
	switch {
	case err == nil:
		return nil
	case errors.As(err, &o):
		return r.move(ctx, o.to, func(d *store.Deployment) { d.Reason = o.reason })
	case errors.Is(context.Cause(pctx), errInterrupted):
		return nil // re-read the record
	}
	return err
}

// move records a transition from the runner's current state.
func (r *runner) move(ctx context.Context, to store.DeployState, edit func(*store.Deployment)) error {
	if err := Move(ctx, r.c.o.Store, r.d, to, r.c.o.Now().UTC(), edit); err != nil {
		return err
	}
	r.c.o.Logf("deploy: %s: %s%s", describe(r.d), to, reasonSuffix(r.d.Reason))
	return nil
}

func reasonSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// record saves progress (step, weight) without a state change.
func (r *runner) record(ctx context.Context, step int, weight float64) error {
	r.recMu.Lock()
	defer r.recMu.Unlock()
	if r.finish.Load() {
		step = max(step, len(r.env.Deploy.Steps))
	}
	return r.move(ctx, store.DeployProgressing, func(d *store.Deployment) { d.Step, d.Weight = step, weight })
}

func (r *runner) wait(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-r.wake:
	}
}

func (r *runner) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-r.wake:
	}
}

// names are the router's labels of the new and the stable version.
func (r *runner) newName() string { return versionName(r.d) }

func versionName(d *store.Deployment) string {
	if d.Version != "" {
		return d.Version
	}
	return strings.TrimPrefix(d.Digest, "sha256:")[:12]
}

func (r *runner) replicas() int { return r.env.Deploy.Replicas }

// desired builds the slot's desired state from versions and a route.
func (r *runner) desired(route target.Route, vs ...target.Version) target.Desired {
	return target.Desired{Service: r.d.Service, Env: r.d.Env, Versions: vs, Route: route, Workload: r.workload()}
}

func (r *runner) newVersion(n int) target.Version {
	return target.Version{Name: r.newName(), Repo: r.d.Repo, Digest: r.d.Digest, Replicas: n}
}

func (r *runner) stableVersion(n int) target.Version {
	return target.Version{Name: versionName(r.stable), Repo: r.stable.Repo, Digest: r.stable.Digest, Replicas: n}
}
