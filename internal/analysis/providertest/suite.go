// Package providertest is the metric provider contract suite: every
// analysis.Provider runs [Run] from its own tests with a [Harness] that
// knows how to build it and arrange its data.
package providertest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/analysis"
)

// Harness adapts one provider kind to the suite.
type Harness struct {
	// New returns a provider of one metric over a fresh Source: for a
	// version, the metric's value is what the Source last set.
	New func(tb testing.TB) (analysis.Provider, Source)
	// Unreachable returns a provider of the same kind whose data cannot
	// be reached (a closed port, a router that is gone).
	Unreachable func(tb testing.TB) analysis.Provider
}

// Source is the data behind a provider, as a test arranges it.
type Source interface {
	// Set makes v (a ratio in [0, 1]) the metric's value for version, and
	// returns once a measurement would see it. A windowed provider sees
	// it in a window that starts before the call.
	Set(ctx context.Context, tb testing.TB, version string, v float64)
}

// caseTimeout bounds every case; a source that must wait for a scrape
// (Prometheus) takes a few seconds per Set.
const caseTimeout = 60 * time.Second

// Run runs the contract suite against the provider h builds.
func Run(t *testing.T, h Harness) {
	cases := []struct {
		name string
		run  func(ctx context.Context, t *testing.T, h Harness)
	}{
		{"measures-each-version", measuresEachVersion},
		{"unknown-version-is-no-data", unknownVersion},
		{"cancelled-context-is-an-error", cancelled},
		{"unreachable-source-is-an-error", unreachable},
		{"concurrent-measurements", concurrent},
		{"primed-window-starts-at-prime", primed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
			defer cancel()
			c.run(ctx, t, h)
		})
	}
}

// query is a measurement of version, now, under the metric name metric: a
// windowed provider keeps one window per (metric, version), so a fresh
// name measures everything the source has. A provider may evaluate at
// Query.Time (Prometheus does), so a query is made when it is measured.
func query(metric, version string) analysis.Query {
	return analysis.Query{Metric: metric, Version: version, Args: analysis.Args{analysis.ArgVersion: version}, Time: time.Now()}
}

// value measures once and checks the result is the single number want.
func value(ctx context.Context, p analysis.Provider, q analysis.Query, want float64) error {
	r, err := p.Measure(ctx, q)
	if err != nil {
		return fmt.Errorf("Measure(%s): %w", q.Version, err)
	}
	vs := r.Values()
	if len(vs) != 1 || math.Abs(vs[0]-want) > 1e-9 {
		return fmt.Errorf("Measure(%s) = %v, want %g", q.Version, vs, want)
	}
	return nil
}

func measuresEachVersion(ctx context.Context, t *testing.T, h Harness) {
	p, src := h.New(t)
	src.Set(ctx, t, "v1", 0.1)
	src.Set(ctx, t, "v2", 0.4)
	for _, c := range []struct {
		version string
		want    float64
	}{{"v1", 0.1}, {"v2", 0.4}} {
		if err := value(ctx, p, query("m-"+c.version, c.version), c.want); err != nil {
			t.Error(err)
		}
	}
}

// unknownVersion: nothing to measure is an empty result, for the metric's
// noData policy to judge, and never an error.
func unknownVersion(ctx context.Context, t *testing.T, h Harness) {
	p, src := h.New(t)
	src.Set(ctx, t, "v1", 0.1)
	r, err := p.Measure(ctx, query("m", "v-none"))
	if err != nil || !r.Empty() {
		t.Errorf("Measure of a version with no data = %v, %v; want an empty result and no error", r.Values(), err)
	}
}

func cancelled(ctx context.Context, t *testing.T, h Harness) {
	p, src := h.New(t)
	src.Set(ctx, t, "v1", 0.1)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if r, err := p.Measure(cctx, query("m", "v1")); !errors.Is(err, context.Canceled) {
		t.Errorf("Measure with a cancelled context = %v, %v; want an error wrapping context.Canceled", r.Values(), err)
	}
}

func unreachable(ctx context.Context, t *testing.T, h Harness) {
	p := h.Unreachable(t)
	if r, err := p.Measure(ctx, query("m", "v1")); err == nil {
		t.Errorf("Measure of an unreachable source = %v, want an error (it counts toward consecutiveErrorLimit)", r.Values())
	}
}

// concurrent: RunAll measures every metric from its own goroutine, and one
// provider may serve several metrics.
func concurrent(ctx context.Context, t *testing.T, h Harness) {
	p, src := h.New(t)
	want := map[string]float64{"v1": 0.2, "v2": 0.3}
	for v, x := range want {
		src.Set(ctx, t, v, x)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := []string{"v1", "v2"}[i%2]
			errs <- value(ctx, p, query(fmt.Sprintf("m-%d", i), v), want[v])
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// primed: a provider that measures since a starting point (Primer) leaves
// out what came before Prime; the others measure the current value.
func primed(ctx context.Context, t *testing.T, h Harness) {
	p, src := h.New(t)
	src.Set(ctx, t, "v1", 0.1)
	q := query("m", "v1")
	if pr, ok := p.(analysis.Primer); ok {
		if err := pr.Prime(ctx, q); err != nil {
			t.Fatalf("Prime: %v", err)
		}
	}
	src.Set(ctx, t, "v1", 0.5)
	if err := value(ctx, p, query("m", "v1"), 0.5); err != nil { // measured now, as Run does
		t.Error(err)
	}
}
