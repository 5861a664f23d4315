package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when slept on, so runs take no real time.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

var errScriptDone = errors.New("script exhausted: the run measured more than expected")

// script replays measurement results: s(uccess) f(ail) i(nconclusive)
// e(rror) n(o data) N(aN). With the conditions of scriptMetric, 0 passes,
// 5 fails and 1.5 satisfies neither.
type script struct {
	mu    sync.Mutex
	steps string
	n     int
	delay time.Duration // real time per measurement, for RunAll ordering
}

func (s *script) Measure(ctx context.Context, q Query) (Result, error) {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n >= len(s.steps) {
		if s.steps != "" && s.steps[len(s.steps)-1] == '*' {
			s.n++
			return ScalarResult(0), nil
		}
		return Result{}, errScriptDone
	}
	c := s.steps[s.n]
	s.n++
	switch c {
	case 's', '*':
		return ScalarResult(0), nil
	case 'f':
		return ScalarResult(5), nil
	case 'i':
		return ScalarResult(1.5), nil
	case 'e':
		return Result{}, errors.New("scripted error")
	case 'n':
		return NoData(), nil
	case 'N':
		return VectorResult([]float64{math.NaN()}), nil
	}
	return Result{}, fmt.Errorf("bad script step %q", c)
}

func ip(v int) *int { return &v }

func scriptMetric(mod func(*Metric)) Metric {
	m := Metric{Name: "m", SuccessCondition: "result < 1", FailureCondition: "result > 2",
		Provider: ProviderSpec{Webhook: &WebhookSpec{URL: "http://127.0.0.1:1/x", Value: "response.v"}}}
	if mod != nil {
		mod(&m)
	}
	return m
}

func every(d time.Duration, count int) func(*Metric) {
	return func(m *Metric) {
		m.Interval = Duration{d}
		if count > 0 {
			m.Count = ip(count)
		}
	}
}

func TestRunCounting(t *testing.T) {
	sec := time.Second
	cases := []struct {
		name  string
		mod   func(*Metric)
		steps string
		want  Phase
	}{
		{"single success", nil, "s", PhaseSuccessful},
		{"single failure", nil, "f", PhaseFailed},
		{"neither condition", nil, "i", PhaseInconclusive},
		{"errors up to the default limit then success", nil, "eeees", PhaseSuccessful},
		{"fifth consecutive error", nil, "eeeee", PhaseError},
		{"consecutiveErrorLimit 0", func(m *Metric) { m.ConsecutiveErrorLimit = ip(0) }, "e", PhaseError},
		{"errors reset by a measurement", func(m *Metric) { every(sec, 3)(m); m.ConsecutiveErrorLimit = ip(1) }, "eseses", PhaseSuccessful},
		{"errors do not count toward count", every(sec, 2), "ess", PhaseSuccessful},
		{"failures within failureLimit", func(m *Metric) { every(sec, 3)(m); m.FailureLimit = ip(1) }, "sfs", PhaseSuccessful},
		{"failureLimit exceeded", func(m *Metric) { every(sec, 5)(m); m.FailureLimit = ip(1) }, "sff", PhaseFailed},
		{"failures need not be consecutive", func(m *Metric) { every(sec, 5)(m); m.FailureLimit = ip(1) }, "fsf", PhaseFailed},
		{"inconclusiveLimit 0", every(sec, 3), "i", PhaseInconclusive},
		{"inconclusiveLimit 1", func(m *Metric) { every(sec, 3)(m); m.InconclusiveLimit = ip(1) }, "isi", PhaseInconclusive},
		{"unlimited count runs until a limit", every(sec, 0), "ssssf", PhaseFailed},
		{"consecutiveSuccessLimit reached early", func(m *Metric) {
			every(sec, 5)(m)
			m.FailureLimit, m.ConsecutiveSuccessLimit = ip(2), ip(2)
		}, "sfss", PhaseSuccessful},
		{"count reached without either limit", func(m *Metric) {
			every(sec, 4)(m)
			m.FailureLimit, m.ConsecutiveSuccessLimit = ip(3), ip(3)
		}, "sfss", PhaseInconclusive},
		{"only consecutiveSuccessLimit: count runs out", func(m *Metric) {
			every(sec, 3)(m)
			m.FailureLimit, m.ConsecutiveSuccessLimit = ip(-1), ip(2)
		}, "fsf", PhaseFailed},
		{"failureLimit -1 ignores failures", func(m *Metric) { every(sec, 2)(m); m.FailureLimit = ip(-1) }, "ff", PhaseSuccessful},
		{"consecutive successes reset by an error", func(m *Metric) {
			every(sec, 0)(m)
			m.ConsecutiveSuccessLimit = ip(2)
		}, "sess", PhaseSuccessful},
		{"noData default is inconclusive", nil, "n", PhaseInconclusive},
		{"noData fail", func(m *Metric) { m.NoData = NoDataFail }, "n", PhaseFailed},
		{"noData pass", func(m *Metric) { m.NoData = NoDataPass }, "n", PhaseSuccessful},
		{"noData pass then a failure", func(m *Metric) { every(sec, 2)(m); m.NoData = NoDataPass }, "nf", PhaseFailed},
		{"all-NaN is no data", func(m *Metric) { m.NoData = NoDataFail }, "N", PhaseFailed},
		{"dryRun is assessed like any metric", func(m *Metric) { m.DryRun = true }, "f", PhaseFailed},
		{"only successCondition: false fails", func(m *Metric) { m.FailureCondition = "" }, "i", PhaseFailed},
		{"only failureCondition: false succeeds", func(m *Metric) { m.SuccessCondition = "" }, "i", PhaseSuccessful},
		{"no condition succeeds", func(m *Metric) { m.SuccessCondition, m.FailureCondition = "", "" }, "f", PhaseSuccessful},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := scriptMetric(tc.mod)
			p := &script{steps: tc.steps}
			var rec []Measurement
			out, err := Run(context.Background(), m, Args{ArgVersion: "v2"}, p, newFakeClock(), func(ms Measurement) error {
				rec = append(rec, ms)
				return nil
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if out.Phase != tc.want {
				t.Errorf("phase %q (%s), want %q", out.Phase, out.Message, tc.want)
			}
			if p.n != len(tc.steps) || len(rec) != len(tc.steps) {
				t.Errorf("measured %d, recorded %d, want %d", p.n, len(rec), len(tc.steps))
			}
			for i, ms := range rec {
				if ms.DryRun != m.DryRun || ms.Metric != "m" || ms.Phase == "" {
					t.Errorf("measurement %d = %+v", i, ms)
				}
			}
			if out.Last == nil || out.Last.At != rec[len(rec)-1].At {
				t.Errorf("outcome's last measurement %+v", out.Last)
			}
			if out.DryRun != m.DryRun {
				t.Errorf("outcome DryRun %v", out.DryRun)
			}
		})
	}
}

func TestRunTiming(t *testing.T) {
	m := scriptMetric(func(m *Metric) {
		every(30*time.Second, 3)(m)
		m.InitialDelay = Duration{time.Minute}
	})
	clk := newFakeClock()
	start := clk.Now()
	var at []time.Duration
	out, err := Run(context.Background(), m, Args{ArgVersion: "v2"}, &script{steps: "sess"}, clk, func(ms Measurement) error {
		at = append(at, ms.At.Sub(start))
		return nil
	})
	if err != nil || out.Phase != PhaseSuccessful {
		t.Fatalf("Run = %+v, %v", out, err)
	}
	// initial delay, interval, error retry (min(30s, 10s)), interval.
	want := []time.Duration{time.Minute, 90 * time.Second, 100 * time.Second, 130 * time.Second}
	if fmt.Sprint(at) != fmt.Sprint(want) {
		t.Errorf("measured at %v, want %v", at, want)
	}
	if out.Counts != (Counts{Count: 3, Successful: 3, Error: 1, ConsecutiveSuccess: 2}) {
		t.Errorf("counts %+v", out.Counts)
	}
}

func TestRunRecordErrorStops(t *testing.T) {
	boom := errors.New("disk full")
	_, err := Run(context.Background(), scriptMetric(every(time.Second, 3)), Args{ArgVersion: "v"}, &script{steps: "s"}, newFakeClock(),
		func(Measurement) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the record error", err)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	out, err := Run(ctx, scriptMetric(every(time.Second, 0)), Args{ArgVersion: "v"}, &script{steps: "*"}, newFakeClock(),
		func(Measurement) error {
			if n++; n == 3 {
				cancel()
			}
			return nil
		})
	if !errors.Is(err, context.Canceled) || out.Phase != "" || out.Counts.Count != 3 {
		t.Fatalf("Run = %+v, %v; want undecided after 3 and context.Canceled", out, err)
	}
}

func TestRunRejectsInvalid(t *testing.T) {
	_, err := Run(context.Background(), scriptMetric(func(m *Metric) { m.SuccessCondition = "result <" }), Args{ArgVersion: "v"},
		&script{}, newFakeClock(), func(Measurement) error { return nil })
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "successCondition" {
		t.Fatalf("err = %v, want a FieldError on successCondition", err)
	}
	_, err = Run(context.Background(), scriptMetric(nil), Args{}, &script{}, newFakeClock(), func(Measurement) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("err = %v, want missing version", err)
	}
}

// byMetric dispatches to one script per metric name.
type byMetric map[string]*script

func (b byMetric) Measure(ctx context.Context, q Query) (Result, error) {
	return b[q.Metric].Measure(ctx, q)
}

func TestRunAll(t *testing.T) {
	sec := time.Second
	type mdef struct {
		steps  string
		mod    func(*Metric)
		delay  time.Duration
		dryRun bool
	}
	cases := []struct {
		name    string
		metrics map[string]mdef
		want    Phase
		msg     string
	}{
		{"all successful", map[string]mdef{"a": {steps: "s"}, "b": {steps: "sss", mod: every(sec, 3)}}, PhaseSuccessful, ""},
		{"a failure stops an unlimited metric", map[string]mdef{
			"bg": {steps: "*", mod: every(sec, 0), delay: time.Millisecond},
			"x":  {steps: "ssf", mod: every(sec, 0), delay: 5 * time.Millisecond}}, PhaseFailed, `metric "x": failed (1) > failureLimit (0)`},
		{"error limit", map[string]mdef{
			"bg": {steps: "*", mod: every(sec, 0), delay: time.Millisecond},
			"x":  {steps: "e", mod: func(m *Metric) { m.ConsecutiveErrorLimit = ip(0) }}}, PhaseError, "consecutiveErrors"},
		{"inconclusive", map[string]mdef{"a": {steps: "s"}, "b": {steps: "i"}}, PhaseInconclusive, `metric "b"`},
		{"dryRun failure does not decide", map[string]mdef{"a": {steps: "sss", mod: every(sec, 3), delay: time.Millisecond},
			"dry": {steps: "f", dryRun: true}}, PhaseSuccessful, ""},
		{"only dryRun metrics", map[string]mdef{"dry": {steps: "f", dryRun: true}}, PhaseSuccessful, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tmpl Template
			prov := byMetric{}
			for name, d := range tc.metrics {
				m := scriptMetric(d.mod)
				m.Name, m.DryRun = name, d.dryRun
				tmpl.Metrics = append(tmpl.Metrics, m)
				prov[name] = &script{steps: d.steps, delay: d.delay}
			}
			var recorded int
			sum, err := RunAll(context.Background(), tmpl, Args{ArgVersion: "v2"}, func(Metric) (Provider, error) { return prov, nil },
				newFakeClock(), func(Measurement) error { recorded++; return nil })
			if err != nil {
				t.Fatalf("RunAll: %v", err)
			}
			if sum.Phase != tc.want || !strings.Contains(sum.Message, tc.msg) {
				t.Errorf("RunAll = %q %q, want %q containing %q", sum.Phase, sum.Message, tc.want, tc.msg)
			}
			total := 0
			for _, p := range prov {
				if p.n > len(p.steps) && p.steps[len(p.steps)-1] != '*' {
					t.Errorf("a script was overrun")
				}
				total += p.n
			}
			if recorded == 0 || recorded > total {
				t.Errorf("recorded %d of %d measurements", recorded, total)
			}
		})
	}
}

func TestRunAllCancelledIsUndecided(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := scriptMetric(every(time.Second, 0))
	n := 0
	sum, err := RunAll(ctx, Template{Metrics: []Metric{m}}, Args{ArgVersion: "v"}, func(Metric) (Provider, error) { return &script{steps: "*"}, nil },
		newFakeClock(), func(Measurement) error {
			if n++; n == 2 {
				cancel()
			}
			return nil
		})
	if !errors.Is(err, context.Canceled) || sum.Phase != "" {
		t.Fatalf("RunAll = %+v, %v", sum, err)
	}
}

func TestRunAllArgs(t *testing.T) {
	def := "checkout"
	tmpl := Template{Args: []ArgSpec{{Name: "svc", Value: &def}, {Name: "team"}}, Metrics: []Metric{scriptMetric(nil)}}
	prov := func(Metric) (Provider, error) { return &script{steps: "s"}, nil }
	if _, err := RunAll(context.Background(), tmpl, Args{ArgVersion: "v"}, prov, newFakeClock(), func(Measurement) error { return nil }); err == nil || !strings.Contains(err.Error(), `"team"`) {
		t.Fatalf("err = %v, want the missing arg named", err)
	}
	got, err := templateArgs(tmpl, Args{"team": "pay"})
	if err != nil || got["svc"] != "checkout" || got["team"] != "pay" {
		t.Fatalf("templateArgs = %v, %v", got, err)
	}
}
