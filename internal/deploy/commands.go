package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-ci/slipway/internal/store"
)

// A command changes the recorded state first (compare-and-set), then wakes
// the runner, which re-reads the store: the record is the truth, so a
// command survives a restart of the controller.

// Approve lets a deployment waiting for approval proceed; who is recorded.
func (c *Controller) Approve(ctx context.Context, env, who string) (*store.Deployment, error) {
	return c.command(ctx, env, store.DeployProgressing, []store.DeployState{store.DeployAwaitingApproval},
		func(d *store.Deployment) { d.Approver = who })
}

// Pause holds a progressing deployment where it is.
func (c *Controller) Pause(ctx context.Context, env, who string) (*store.Deployment, error) {
	return c.command(ctx, env, store.DeployPaused, []store.DeployState{store.DeployProgressing},
		func(d *store.Deployment) { d.Reason = "paused by " + who })
}

// Resume continues a paused deployment with its next step.
func (c *Controller) Resume(ctx context.Context, env, who string) (*store.Deployment, error) {
	return c.command(ctx, env, store.DeployProgressing, []store.DeployState{store.DeployPaused},
		func(d *store.Deployment) { d.Reason = "resumed by " + who })
}

// Abort rolls an active deployment back.
func (c *Controller) Abort(ctx context.Context, env, who string) (*store.Deployment, error) {
	return c.command(ctx, env, store.DeployRollingBack,
		[]store.DeployState{store.DeployPending, store.DeployProgressing, store.DeployPaused, store.DeployAwaitingApproval},
		func(d *store.Deployment) { d.Reason = "aborted by " + who })
}

// Finish skips a canary's remaining steps: the next thing it does is move
// all traffic to the new version. A paused deployment resumes to do so. The
// skip is recorded (step = the number of steps), so it outlasts a restart.
func (c *Controller) Finish(ctx context.Context, env, who string) (*store.Deployment, error) {
	d, err := c.Active(ctx, env)
	if err != nil {
		return nil, err
	}
	r := c.runner(env)
	if r == nil || r.id != d.ID {
		return nil, fmt.Errorf("deployment %d is not running here", d.ID)
	}
	// Serialised with the runner's own progress records, which would
	// otherwise write an earlier step over this one.
	r.recMu.Lock()
	defer r.recMu.Unlock()
	last := len(r.env.Deploy.Steps)
	d, err = c.command(ctx, env, store.DeployProgressing, []store.DeployState{store.DeployProgressing, store.DeployPaused},
		func(d *store.Deployment) { d.Step, d.Reason = max(d.Step, last), "finished by "+who })
	if err == nil {
		r.finish.Store(true)
	}
	return d, err
}

// Active is env's active deployment; ErrNoDeployment when none.
func (c *Controller) Active(ctx context.Context, env string) (*store.Deployment, error) {
	d, err := c.o.Store.Active(ctx, env)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s has no deployment in progress", ErrNoDeployment, env)
	}
	return d, err
}

func (c *Controller) command(ctx context.Context, env string, to store.DeployState, from []store.DeployState,
	edit func(*store.Deployment)) (*store.Deployment, error) {
	d, err := c.Active(ctx, env)
	if err != nil {
		return nil, err
	}
	ok := false
	for _, f := range from {
		ok = ok || d.State == f
	}
	if !ok {
		return d, fmt.Errorf("%w: deployment %d is %s", ErrIllegal, d.ID, d.State)
	}
	if err := Move(ctx, c.o.Store, d, to, c.o.Now().UTC(), edit); err != nil {
		return d, err
	}
	if r := c.runner(env); r != nil {
		r.interrupt()
	}
	return d, nil
}
