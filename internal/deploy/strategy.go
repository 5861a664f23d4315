package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/release"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
)

// progress runs the strategy from the recorded step to success; it returns
// an *outcome to pause or roll back.
func (r *runner) progress(ctx context.Context) error {
	switch {
	case r.stable == nil:
		return r.first(ctx)
	case r.d.Strategy == StrategyRollback:
		return r.switchTo(ctx)
	case r.d.Strategy == pipeline.StrategyCanary:
		return r.canary(ctx)
	case r.d.Strategy == pipeline.StrategyBlueGreen:
		return r.blueGreen(ctx)
	}
	return r.rolling(ctx)
}

// first deploys an environment's first version: nothing to shift traffic
// from, so every strategy starts it, waits for it and routes to it.
func (r *runner) first(ctx context.Context) error {
	n := r.replicas()
	if err := r.apply(ctx, r.desired(target.Route{Stable: r.newName()}, r.newVersion(n))); err != nil {
		return err
	}
	if err := r.ready(ctx, r.newName(), n); err != nil {
		return err
	}
	return r.succeed(ctx, nil)
}

// switchTo is a rollback deployment: start the earlier version beside the
// current one when it no longer runs, then switch all traffic at once.
func (r *runner) switchTo(ctx context.Context) error {
	n := r.replicas()
	both := []target.Version{r.stableVersion(n), r.newVersion(n)}
	if err := r.apply(ctx, r.desired(target.Route{Stable: versionName(r.stable)}, both...)); err != nil {
		return err
	}
	if err := r.ready(ctx, r.newName(), n); err != nil {
		return err
	}
	return r.succeed(ctx, both)
}

// blueGreen starts the new version beside the old as a preview (reachable
// with the canary header), analyses it, then switches all traffic at once.
func (r *runner) blueGreen(ctx context.Context) error {
	n := r.replicas()
	both := []target.Version{r.stableVersion(n), r.newVersion(n)}
	if err := r.apply(ctx, r.desired(r.route(0), both...)); err != nil {
		return err
	}
	if err := r.ready(ctx, r.newName(), n); err != nil {
		return err
	}
	if r.d.Step == 0 && len(r.env.Deploy.PrePromotion) > 0 {
		if err := r.analyze(ctx, "pre-promotion", r.env.Deploy.PrePromotion); err != nil {
			return err
		}
		if err := r.record(ctx, 1, 0); err != nil {
			return err
		}
	}
	return r.succeed(ctx, both)
}

// canary walks the steps from the recorded one; background analysis runs
// beside them and rolls back when it fails.
func (r *runner) canary(ctx context.Context) error {
	n := r.replicas()
	both := []target.Version{r.stableVersion(n), r.newVersion(n)}
	if err := r.apply(ctx, r.desired(r.route(r.d.Weight), both...)); err != nil {
		return err
	}
	if err := r.ready(ctx, r.newName(), n); err != nil {
		return err
	}
	ctx, stopBG := r.background(ctx)
	defer stopBG()
	steps := r.env.Deploy.Steps
	for i := r.d.Step; i < len(steps) && !r.finish.Load(); i++ {
		if err := r.canaryStep(ctx, i, steps[i], both); err != nil {
			return bgCause(ctx, err)
		}
	}
	return r.succeed(ctx, both)
}

func (r *runner) canaryStep(ctx context.Context, i int, st pipeline.CanaryStep, both []target.Version) error {
	switch {
	case st.SetWeight != nil:
		if err := r.apply(ctx, r.desired(r.route(*st.SetWeight), both...)); err != nil {
			return err
		}
		return r.record(ctx, i+1, *st.SetWeight)
	case st.Pause != nil && *st.Pause == 0:
		if err := r.record(ctx, i+1, r.d.Weight); err != nil {
			return err
		}
		return pause("paused at step %d: `slipway deploy resume %s` continues, `finish` skips to 100%%", i+1, r.d.Env)
	case st.Pause != nil:
		// The pause began when this step was recorded as the current one.
		left := *st.Pause - r.c.o.Now().Sub(r.d.Updated)
		if left > 0 {
			if err := r.c.o.Clock.Sleep(ctx, left); err != nil {
				return err
			}
		}
		return r.record(ctx, i+1, r.d.Weight)
	}
	if err := r.analyze(ctx, fmt.Sprintf("step-%d", i+1), st.Analysis); err != nil {
		return err
	}
	return r.record(ctx, i+1, r.d.Weight)
}

// rolling replaces replicas in batches: maxSurge new ones start, and once
// they are ready as many old ones stop (maxSurge 0: maxUnavailable old
// ones stop first). Traffic follows the ready replicas' shares.
func (r *runner) rolling(ctx context.Context) error {
	total, dp := r.replicas(), r.env.Deploy
	batch, downFirst := dp.MaxSurge, false
	if batch == 0 {
		batch, downFirst = max(dp.MaxUnavailable, 1), true
	}
	n := int(r.d.Weight*float64(total)/100 + 0.5)
	for {
		old := total - n
		if err := r.apply(ctx, r.desired(r.route(100*float64(n)/float64(total)), r.stableVersion(old), r.newVersion(n))); err != nil {
			return err
		}
		if err := r.ready(ctx, r.newName(), n); err != nil {
			return err
		}
		if n > 0 {
			if err := r.record(ctx, r.d.Step, 100*float64(n)/float64(total)); err != nil {
				return err
			}
		}
		if n == total {
			break
		}
		next := min(total, n+batch)
		if downFirst {
			old = total - next
		}
		if err := r.apply(ctx, r.desired(r.route(r.d.Weight), r.stableVersion(old), r.newVersion(next))); err != nil {
			return err
		}
		if err := r.ready(ctx, r.newName(), next); err != nil {
			return err
		}
		n = next
	}
	return r.succeed(ctx, []target.Version{r.newVersion(total)})
}

// succeed moves all traffic to the new version, moves the environment's
// tag, records success, and stops the old version after scaleDownDelay.
func (r *runner) succeed(ctx context.Context, keep []target.Version) error {
	if len(keep) == 0 {
		keep = []target.Version{r.newVersion(r.replicas())}
	}
	if err := r.apply(ctx, r.desired(target.Route{Stable: r.newName()}, keep...)); err != nil {
		return err
	}
	ref := release.Ref{Repo: r.d.Repo, Digest: r.d.Digest}
	if _, _, err := r.c.o.Admit.Enter(ctx, ref, r.d.Env, r.d.Actor, "deployment "+fmt.Sprint(r.d.ID)); err != nil {
		return err
	}
	if err := r.move(ctx, store.DeploySucceeded, func(d *store.Deployment) { d.Weight, d.Reason = 100, "" }); err != nil {
		return err
	}
	if len(keep) > 1 {
		r.c.later(r.env.Deploy.ScaleDownDelay, r.d.Env)
	}
	return nil
}

// later settles env after delay (stopping versions it no longer needs),
// unless a newer deployment took over the environment by then.
func (c *Controller) later(delay time.Duration, env string) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		if _, err := c.o.Store.Active(c.ctx, env); err == nil {
			return // the active deployment owns the slot now
		}
		if err := c.settle(c.ctx, env); err != nil && c.ctx.Err() == nil {
			c.o.Logf("deploy: %s: scale down: %v", env, err)
		}
	}()
}

// settle applies only the current deployment's version.
func (r *runner) settle(ctx context.Context, cur *store.Deployment) error {
	return r.apply(ctx, r.desired(target.Route{Stable: versionName(cur)}, r.newVersion(r.replicas())))
}
