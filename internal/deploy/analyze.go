package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-ci/slipway/internal/analysis"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
)

// analyze runs the named analyses as one template (their metrics side by
// side) against the new version and stores every measurement. Failed or
// Error rolls back, Inconclusive pauses for a human.
func (r *runner) analyze(ctx context.Context, label string, names []string) error {
	t, err := r.template(names)
	if err != nil {
		return rollback("analysis %s: %v", label, err)
	}
	if err := r.interrupted(ctx, label); err != nil {
		return err
	}
	args := analysis.Args{analysis.ArgVersion: r.newName(), analysis.ArgService: r.d.Service, analysis.ArgEnv: r.d.Env,
		analysis.ArgStableVersion: versionName(r.stable)}
	var deps analysis.Deps
	deps.HTTP = r.c.o.HTTP
	if s, ok := r.c.o.Target.(target.Sampler); ok {
		svc, env := r.d.Service, r.d.Env
		deps.Builtin = analysis.NewBuiltin(func(v string) (analysis.Sample, error) { return s.Sample(svc, env, v) }, r.c.o.Now)
	}
	providers := func(m analysis.Metric) (analysis.Provider, error) { return analysis.NewProvider(m.Provider, deps) }
	record := func(m analysis.Measurement) error {
		return r.c.o.Store.Measure(context.WithoutCancel(ctx), &store.Measurement{DeploymentID: r.d.ID, Analysis: label,
			Metric: m.Metric, At: m.At.UTC(), Phase: string(m.Phase), Value: m.ValueJSON(), Message: m.Message, DryRun: m.DryRun})
	}
	r.c.o.Logf("deploy: %s: analysis %s started", describe(r.d), label)
	sum, err := analysis.RunAll(ctx, t, args, providers, r.c.o.Clock, record)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return rollback("analysis %s: %v", label, err)
	}
	switch sum.Phase {
	case analysis.PhaseSuccessful:
		return nil
	case analysis.PhaseInconclusive:
		return pause("analysis %s inconclusive: %s; `slipway deploy resume %s` continues, `abort` rolls back", label, sum.Message, r.d.Env)
	}
	return rollback("analysis %s %s: %s", label, sum.Phase, explain(t, sum))
}

// interrupted rolls back when this analysis was already running when the
// last process stopped (measurements after the last recorded progress) and
// had seen a failure: a re-run would forget it, so the window cannot be
// trusted. With only passing measurements the analysis starts afresh.
func (r *runner) interrupted(ctx context.Context, label string) error {
	ms, err := r.c.o.Store.Measurements(ctx, r.d.ID)
	if err != nil {
		return err
	}
	bad := 0
	for _, m := range ms {
		if m.Analysis == label && !m.DryRun && m.At.After(r.d.Updated) &&
			(m.Phase == string(analysis.PhaseFailed) || m.Phase == string(analysis.PhaseError)) {
			bad++
		}
	}
	if bad > 0 {
		return rollback("analysis %s was interrupted after %d failed measurement(s): its window cannot be trusted", label, bad)
	}
	return nil
}

// explain adds the deciding metric's last value and its conditions to the
// summary, so the record says why.
func explain(t analysis.Template, sum analysis.Summary) string {
	msg := sum.Message
	for _, o := range sum.Metrics {
		if o.DryRun || o.Phase != sum.Phase || o.Last == nil {
			continue
		}
		msg += "; last value " + o.Last.ValueJSON()
		for _, m := range t.Metrics {
			if m.Name != o.Metric {
				continue
			}
			if m.SuccessCondition != "" {
				msg += "; successCondition " + m.SuccessCondition
			}
			if m.FailureCondition != "" {
				msg += "; failureCondition " + m.FailureCondition
			}
		}
		break
	}
	return msg
}

// template merges the named analyses of the environment.
func (r *runner) template(names []string) (analysis.Template, error) {
	var out analysis.Template
	for _, n := range names {
		raw, ok := r.env.Deploy.Analyses[n]
		if !ok {
			return out, fmt.Errorf("no analysis %q", n)
		}
		t, err := analysis.DecodeTemplate(raw)
		if err != nil {
			return out, fmt.Errorf("analysis %q: %w", n, err)
		}
		out.Args = append(out.Args, t.Args...)
		out.Metrics = append(out.Metrics, t.Metrics...)
	}
	return out, nil
}

// errBackground carries a failed background analysis into the steps.
type errBackground struct{ err error }

func (e errBackground) Error() string { return e.err.Error() }

// background runs the canary's background analyses until the returned
// stop; when they fail, the returned context ends with the outcome as its
// cause.
func (r *runner) background(ctx context.Context) (context.Context, func()) {
	if len(r.env.Deploy.Background) == 0 {
		return ctx, func() {}
	}
	bctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.analyze(bctx, "background", r.env.Deploy.Background); err != nil && bctx.Err() == nil {
			cancel(errBackground{err})
		}
	}()
	return bctx, func() { cancel(nil); <-done }
}

// bgCause turns a step error caused by a failed background analysis into
// that analysis's outcome.
func bgCause(ctx context.Context, err error) error {
	var bg errBackground
	if errors.As(context.Cause(ctx), &bg) {
		return bg.err
	}
	return err
}
