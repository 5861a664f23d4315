package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/target"
)

// workload is how the environment's replicas run. Secrets are resolved
// here, at every apply, because they are never recorded.
func (r *runner) workload() target.Workload {
	dp := r.env.Deploy
	w := target.Workload{Readiness: probe(dp.Readiness), Liveness: probe(dp.Liveness), MemoryBytes: dp.MemoryBytes,
		CPUMillis: dp.CPUMillis, StopGrace: dp.StopGrace, Listen: dp.Listen, CanaryHeader: dp.CanaryHeader}
	keys := make([]string, 0, len(dp.Env))
	for k := range dp.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.Environ = append(w.Environ, k+"="+dp.Env[k])
	}
	for _, s := range dp.Secrets {
		if v, ok := r.c.o.Secret(s); ok {
			w.Environ = append(w.Environ, s+"="+v)
		}
	}
	return w
}

func probe(p *pipeline.Probe) target.Probe {
	if p == nil {
		return target.Probe{}
	}
	return target.Probe{Path: p.Path, Interval: p.Interval, Timeout: p.Timeout, FailureThreshold: p.FailureThreshold,
		InitialDelay: p.InitialDelay}
}

// apply converges the slot.
func (r *runner) apply(ctx context.Context, d target.Desired) error {
	if err := r.c.o.Target.Apply(ctx, d); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	return nil
}

// ready waits for n ready replicas of a version, within the progress
// deadline; a version that cannot become ready rolls back.
func (r *runner) ready(ctx context.Context, version string, n int) error {
	wctx, cancel := context.WithTimeout(ctx, r.env.Deploy.ProgressDeadline)
	defer cancel()
	err := r.c.o.Target.WaitReady(wctx, r.d.Service, r.d.Env, version, n)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, target.ErrNotReady):
		return rollback("probe failure: %v", err)
	case ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		return rollback("progress deadline: %s had fewer than %d ready replicas after %s", version, n, r.env.Deploy.ProgressDeadline)
	}
	return err
}

// hold re-applies the recorded desired state of a paused deployment, so a
// restarted controller serves what the record says while it waits.
func (r *runner) hold(ctx context.Context) error {
	if r.stable == nil {
		return r.apply(ctx, r.desired(target.Route{Stable: r.newName()}, r.newVersion(r.replicas())))
	}
	return r.apply(ctx, r.desired(r.route(r.d.Weight), r.stableVersion(r.replicas()), r.newVersion(r.replicas())))
}

// route sends weight percent to the new version, the rest to stable.
func (r *runner) route(weight float64) target.Route {
	return target.Route{Stable: versionName(r.stable), Canary: r.newName(), CanaryWeight: weight}
}
