package deploy

import (
	"context"
	"errors"

	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
)

// rollBack returns all traffic to the stable version in one route change,
// makes sure it has all its replicas, records rolled-back, and stops the
// new version after the scale-down delay. A first deployment has nothing
// to return to: its replicas stop. Only when the stable version cannot be
// made ready does the deployment fail (a human must look).
func (r *runner) rollBack(ctx context.Context) error {
	if r.stable == nil {
		if err := r.c.o.Target.Remove(ctx, r.d.Service, r.d.Env); err != nil && !errors.Is(err, target.ErrUnknownSlot) {
			return err
		}
		return r.move(ctx, store.DeployRolledBack, nil)
	}
	n := r.replicas()
	both := []target.Version{r.stableVersion(n), r.newVersion(n)}
	if err := r.apply(ctx, r.desired(target.Route{Stable: versionName(r.stable)}, both...)); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, r.c.o.RollbackWait)
	defer cancel()
	if err := r.c.o.Target.WaitReady(wctx, r.d.Service, r.d.Env, versionName(r.stable), n); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		reason := r.d.Reason + "; rollback failed: " + versionName(r.stable) + " not ready: " + err.Error()
		return r.move(ctx, store.DeployFailed, func(d *store.Deployment) { d.Reason = reason })
	}
	if err := r.move(ctx, store.DeployRolledBack, func(d *store.Deployment) { d.Weight = 0 }); err != nil {
		return err
	}
	r.c.later(r.env.Deploy.ScaleDownDelay, r.d.Env)
	return nil
}
