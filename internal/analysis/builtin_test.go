package analysis

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"
)

func TestHistogramQuantile(t *testing.T) {
	inf := math.Inf(1)
	bs := []Bucket{{0.1, 50}, {0.5, 90}, {1, 100}, {inf, 100}}
	cases := []struct {
		q    float64
		in   []Bucket
		want float64
	}{
		{0.5, bs, 0.1},   // rank 50 = the top of the first bucket
		{0.25, bs, 0.05}, // halfway into [0, 0.1]
		{0.7, bs, 0.3},   // rank 70: 20 of 40 into (0.1, 0.5]
		{0.95, bs, 0.75}, // rank 95: 5 of 10 into (0.5, 1]
		{0.99, []Bucket{{0.1, 10}, {inf, 20}}, 0.1},          // in the +Inf bucket: the highest finite bound
		{0.5, []Bucket{{inf, 20}, {0.1, 10}}, 0.1},           // unsorted input
		{0.5, []Bucket{{0.1, 10}, {0.2, 8}, {inf, 20}}, 0.1}, // non-monotonic counts are fixed up
		{-0.1, bs, math.Inf(-1)},
		{1.1, bs, inf},
	}
	for _, tc := range cases {
		if got := HistogramQuantile(tc.q, tc.in); math.Abs(got-tc.want) > 1e-12 && got != tc.want {
			t.Errorf("HistogramQuantile(%v, %v) = %v, want %v", tc.q, tc.in, got, tc.want)
		}
	}
	for _, in := range [][]Bucket{nil, {{inf, 5}}, {{0.1, 5}, {0.2, 5}}, {{0.1, 0}, {inf, 0}}} {
		if got := HistogramQuantile(0.5, in); !math.IsNaN(got) {
			t.Errorf("HistogramQuantile(0.5, %v) = %v, want NaN", in, got)
		}
	}
}

// router is a fake router: cumulative counters per version.
type router struct {
	mu   sync.Mutex
	data map[string]Sample
	err  error
}

func (r *router) source(version string) (Sample, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data[version], r.err
}

// serve adds n requests, errs of them failing, all taking lat seconds.
func (r *router) serve(version string, n, errs int64, lat float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.data[version]
	if s.Buckets == nil {
		s.Buckets = []Bucket{{0.05, 0}, {0.1, 0}, {0.5, 0}, {1, 0}}
	}
	s.Requests += n
	s.Errors += errs
	s.Sum += float64(n) * lat
	bs := append([]Bucket(nil), s.Buckets...)
	for i := range bs {
		if lat <= bs[i].UpperBound {
			bs[i].Count += n
		}
	}
	s.Buckets = bs
	r.data[version] = s
}

func TestBuiltinDeltas(t *testing.T) {
	rt := &router{data: map[string]Sample{}}
	clk := newFakeClock()
	b := NewBuiltin(rt.source, clk.Now)
	ctx := context.Background()
	measure := func(metric, version string) Result {
		t.Helper()
		p, err := NewProvider(ProviderSpec{Builtin: &BuiltinSpec{Metric: metric}}, Deps{Builtin: b})
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.Measure(ctx, Query{Metric: metric, Version: version})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	prime := func(metric, version string) {
		p, _ := NewProvider(ProviderSpec{Builtin: &BuiltinSpec{Metric: metric}}, Deps{Builtin: b})
		if err := p.(Primer).Prime(ctx, Query{Metric: metric, Version: version}); err != nil {
			t.Fatal(err)
		}
	}
	scalar := func(r Result) float64 {
		t.Helper()
		if r.Scalar == nil {
			t.Fatalf("no scalar: %+v", r)
		}
		return *r.Scalar
	}

	// History before the analysis must not count once primed.
	rt.serve("v2", 100, 100, 0.9)
	for _, m := range BuiltinMetrics {
		prime(m, "v2")
	}
	clk.Sleep(ctx, 10*time.Second)
	rt.serve("v2", 80, 2, 0.04)
	rt.serve("v2", 20, 8, 0.3)
	if got := scalar(measure("error-rate", "v2")); got != 0.1 {
		t.Errorf("error-rate = %v, want 0.1 (10 of the last 100)", got)
	}
	if got := scalar(measure("requests", "v2")); got != 100 {
		t.Errorf("requests = %v", got)
	}
	if got := scalar(measure("request-rate", "v2")); got != 10 {
		t.Errorf("request-rate = %v, want 100 requests / 10 s", got)
	}
	if got := scalar(measure("latency-p50", "v2")); got != 0.05*50/80 {
		t.Errorf("latency-p50 = %v", got)
	}
	if got := scalar(measure("latency-p95", "v2")); math.Abs(got-(0.1+0.4*15.0/20)) > 1e-12 {
		t.Errorf("latency-p95 = %v", got)
	}
	// Each metric keeps its own window: nothing new since its last measurement.
	if r := measure("error-rate", "v2"); !r.Empty() {
		t.Errorf("no requests in the window: %+v, want no data", r)
	}
	// Windows are per version too.
	rt.serve("v1", 10, 0, 0.01)
	if got := scalar(measure("error-rate", "v1")); got != 0 {
		t.Errorf("v1 error-rate = %v", got)
	}
	// A router restart resets counters: the new counts are the window.
	rt.mu.Lock()
	rt.data["v2"] = Sample{}
	rt.mu.Unlock()
	rt.serve("v2", 4, 1, 0.01)
	if got := scalar(measure("error-rate", "v2")); got != 0.25 {
		t.Errorf("after a reset error-rate = %v, want 0.25", got)
	}
	rt.mu.Lock()
	rt.err = errors.New("router gone")
	rt.mu.Unlock()
	p, _ := NewProvider(ProviderSpec{Builtin: &BuiltinSpec{Metric: "requests"}}, Deps{Builtin: b})
	if _, err := p.Measure(ctx, Query{Metric: "requests", Version: "v2"}); err == nil {
		t.Error("a source error must be a measurement error")
	}
	if _, err := NewProvider(ProviderSpec{Builtin: &BuiltinSpec{Metric: "requests"}}, Deps{}); !errors.Is(err, ErrNoBuiltin) {
		t.Errorf("NewProvider without a source: %v", err)
	}
}

// TestRunBuiltinPrimes runs a metric end to end on the builtin provider:
// the run primes the window, so errors from before it do not count.
func TestRunBuiltinPrimes(t *testing.T) {
	rt := &router{data: map[string]Sample{}}
	rt.serve("v2", 50, 50, 0.01) // a bad past
	clk := newFakeClock()
	m := Metric{Name: "errors", Interval: Duration{time.Second}, Count: ip(2), SuccessCondition: "result < 0.05",
		Provider: ProviderSpec{Builtin: &BuiltinSpec{Metric: BuiltinErrorRate}}}
	p, err := NewProvider(m.Provider, Deps{Builtin: NewBuiltin(rt.source, clk.Now)})
	if err != nil {
		t.Fatal(err)
	}
	traffic := ProviderFunc(func(ctx context.Context, q Query) (Result, error) {
		rt.serve(q.Version, 100, 1, 0.01)
		return p.Measure(ctx, q)
	})
	var vals []string
	out, err := Run(context.Background(), m, Args{ArgVersion: "v2"}, primeVia{traffic, p.(Primer)}, clk, func(ms Measurement) error {
		vals = append(vals, ms.ValueJSON())
		return nil
	})
	if err != nil || out.Phase != PhaseSuccessful {
		t.Fatalf("Run = %+v, %v (values %v)", out, err, vals)
	}
	if len(vals) != 2 || vals[0] != "0.01" {
		t.Errorf("values %v, want 0.01 twice", vals)
	}
}

type primeVia struct {
	Provider
	Primer
}
