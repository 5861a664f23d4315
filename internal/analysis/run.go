package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Clock is the time source of a run, injectable so tests run instantly.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, then returns ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits d unless ctx ends first.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Measurement is one measurement of one metric, as recorded.
type Measurement struct {
	Metric  string
	At      time.Time
	Phase   Phase
	Value   Result  // the canary's (or only) value
	Stable  *Result // baseline mode: the stable version's value
	Message string  // why: the error, the no-data policy, the baseline comparison
	DryRun  bool
}

// ValueJSON is the measured value as JSON: the value, or
// {"canary":...,"stable":...} in baseline mode.
func (m Measurement) ValueJSON() string {
	var v any = m.Value
	if m.Stable != nil {
		v = map[string]Result{"canary": m.Value, "stable": *m.Stable}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// RecordFunc stores a measurement; Run calls it for every measurement
// before it acts on it, and stops with its error.
type RecordFunc func(Measurement) error

// Counts are a metric's tallies, as in Argo's MetricResult. Count counts
// the conclusive measurements (not errors).
type Counts struct {
	Count, Successful, Failed, Inconclusive, Error int
	ConsecutiveError, ConsecutiveSuccess           int
}

func (c *Counts) add(p Phase) {
	if p == PhaseError {
		c.Error++
		c.ConsecutiveError++
		c.ConsecutiveSuccess = 0
		return
	}
	c.Count++
	c.ConsecutiveError = 0
	switch p {
	case PhaseSuccessful:
		c.Successful++
		c.ConsecutiveSuccess++
		return
	case PhaseFailed:
		c.Failed++
	case PhaseInconclusive:
		c.Inconclusive++
	}
	c.ConsecutiveSuccess = 0
}

// Outcome is how a metric ended. Phase is "" when the run was stopped
// (ctx) before any rule decided it; a caller that stops an unlimited
// background analysis on purpose treats that as Successful, as Argo does.
type Outcome struct {
	Metric  string
	Phase   Phase
	Message string // the rule that decided, e.g. "failed (2) > failureLimit (1)"
	DryRun  bool
	Counts  Counts
	Last    *Measurement // the deciding (or last) measurement
}

// assess applies Argo's rules after a measurement; "" means go on.
//
// consecutiveSuccessLimit (Argo 1.8): reaching it succeeds at once. When
// count runs out first, the metric is Inconclusive if failureLimit also
// applies, and Failed if failureLimit is -1 (only the success limit
// could decide).
func assess(m Metric, c Counts) (Phase, string) {
	fl := intOr(m.FailureLimit, 0)
	il := intOr(m.InconclusiveLimit, 0)
	el := intOr(m.ConsecutiveErrorLimit, DefaultConsecutiveErrorLimit)
	sl := intOr(m.ConsecutiveSuccessLimit, 0)
	switch {
	case fl >= 0 && c.Failed > fl:
		return PhaseFailed, fmt.Sprintf("failed (%d) > failureLimit (%d)", c.Failed, fl)
	case c.Inconclusive > il:
		return PhaseInconclusive, fmt.Sprintf("inconclusive (%d) > inconclusiveLimit (%d)", c.Inconclusive, il)
	case c.ConsecutiveError > el:
		return PhaseError, fmt.Sprintf("consecutiveErrors (%d) > consecutiveErrorLimit (%d)", c.ConsecutiveError, el)
	case sl > 0 && c.ConsecutiveSuccess >= sl:
		return PhaseSuccessful, fmt.Sprintf("consecutiveSuccesses (%d) reached consecutiveSuccessLimit (%d)", c.ConsecutiveSuccess, sl)
	}
	if n := m.EffectiveCount(); n > 0 && c.Count >= n {
		switch {
		case sl > 0 && fl >= 0:
			return PhaseInconclusive, fmt.Sprintf("count (%d) reached with neither failureLimit (%d) nor consecutiveSuccessLimit (%d)", n, fl, sl)
		case sl > 0:
			return PhaseFailed, fmt.Sprintf("count (%d) reached without consecutiveSuccessLimit (%d)", n, sl)
		}
		return PhaseSuccessful, fmt.Sprintf("count (%d) reached", n)
	}
	return "", ""
}

// Run measures one metric until a rule decides it: every interval after
// initialDelay, recording each measurement before acting on it. args must
// hold ArgVersion (the version analysed) and, in baseline mode,
// ArgStableVersion. It returns ctx's error (with the outcome so far) when
// ctx ends first, and the error of record if recording fails.
func Run(ctx context.Context, m Metric, args Args, p Provider, clk Clock, record RecordFunc) (Outcome, error) {
	r, err := newRunner(m, args, p, clk, record)
	if err != nil {
		return Outcome{Metric: m.Name, DryRun: m.DryRun}, err
	}
	return r.run(ctx)
}

type runner struct {
	m              Metric
	args           Args
	p              Provider
	clk            Clock
	record         RecordFunc
	cs             conditions
	versions       []string // canary, then stable in baseline mode
	canaryS, stabS []float64
}

func newRunner(m Metric, args Args, p Provider, clk Clock, record RecordFunc) (*runner, error) {
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	if err := m.validate(append(names, StandardArgs...)); err != nil {
		return nil, fmt.Errorf("analysis: metric %q: %w", m.Name, err)
	}
	r := &runner{m: m, args: args, p: p, clk: clk, record: record}
	if clk == nil {
		r.clk = RealClock{}
	}
	r.versions = []string{args[ArgVersion]}
	if r.versions[0] == "" {
		return nil, fmt.Errorf("analysis: metric %q: args[%q] (the version analysed) is empty", m.Name, ArgVersion)
	}
	if m.Baseline != nil {
		if args[ArgStableVersion] == "" {
			return nil, fmt.Errorf("analysis: metric %q: baseline mode needs args[%q]", m.Name, ArgStableVersion)
		}
		r.versions = append(r.versions, args[ArgStableVersion])
	} else {
		r.cs, _ = m.conditions() // validated above
	}
	return r, nil
}

func (r *runner) query(version string) Query {
	return Query{Metric: r.m.Name, Version: version, Args: r.args.with(ArgVersion, version), Time: r.clk.Now()}
}

func (r *runner) run(ctx context.Context) (Outcome, error) {
	out := Outcome{Metric: r.m.Name, DryRun: r.m.DryRun}
	delay := r.m.InitialDelay.Duration
	if pr, ok := r.p.(Primer); ok {
		// A primed window starts now: measured at once it would be empty,
		// so without an initial delay the first measurement waits one
		// interval.
		if delay == 0 {
			delay = r.m.Interval.Duration
		}
		for _, v := range r.versions {
			// A failed prime only widens the first window; the first
			// measurement reports the source's error if it persists.
			_ = pr.Prime(ctx, r.query(v))
		}
	}
	if err := r.clk.Sleep(ctx, delay); err != nil {
		return out, err
	}
	for {
		meas := r.measure(ctx)
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if err := r.record(meas); err != nil {
			return out, fmt.Errorf("analysis: recording a measurement of %q: %w", r.m.Name, err)
		}
		out.Last = &meas
		out.Counts.add(meas.Phase)
		if ph, msg := assess(r.m, out.Counts); ph != "" {
			out.Phase, out.Message = ph, msg
			return out, nil
		}
		wait := r.m.Interval.Duration
		if meas.Phase == PhaseError && (wait == 0 || wait > DefaultErrorRetryInterval) {
			wait = DefaultErrorRetryInterval
		}
		if err := r.clk.Sleep(ctx, wait); err != nil {
			return out, err
		}
	}
}

// measure takes one measurement; provider errors become Error measurements.
func (r *runner) measure(ctx context.Context) Measurement {
	meas := Measurement{Metric: r.m.Name, At: r.clk.Now(), DryRun: r.m.DryRun}
	fail := func(err error) Measurement {
		meas.Phase, meas.Message = PhaseError, err.Error()
		return meas
	}
	res, err := r.p.Measure(ctx, r.query(r.versions[0]))
	if err != nil {
		return fail(err)
	}
	meas.Value = res
	empty := res.Empty()
	if r.m.Baseline != nil {
		st, err := r.p.Measure(ctx, r.query(r.versions[1]))
		if err != nil {
			return fail(fmt.Errorf("stable %s: %w", r.versions[1], err))
		}
		meas.Stable = &st
		empty = empty || st.Empty()
	}
	if empty {
		meas.Phase, meas.Message = noDataPhase(r.m.noData()), fmt.Sprintf("no data (noData: %s)", r.m.noData())
		return meas
	}
	if b := r.m.Baseline; b != nil {
		r.canaryS = append(r.canaryS, res.Values()...)
		r.stabS = append(r.stabS, meas.Stable.Values()...)
		c, s := res.Values(), meas.Stable.Values()
		if b.Mode == BaselineMannWhitney {
			c, s = r.canaryS, r.stabS
		}
		meas.Phase, meas.Message = compareBaseline(*b, c, s)
		return meas
	}
	ph, err := r.cs.phase(res)
	if err != nil {
		return fail(err)
	}
	meas.Phase = ph
	return meas
}

func noDataPhase(p NoDataPolicy) Phase {
	switch p {
	case NoDataFail:
		return PhaseFailed
	case NoDataPass:
		return PhaseSuccessful
	}
	return PhaseInconclusive
}
