package analysis

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Summary is how a template's run ended.
type Summary struct {
	Phase   Phase  // "" when ctx ended before a decision
	Message string // `metric "x": failed (1) > failureLimit (0)`
	Metrics []Outcome
}

// ProviderFor returns the provider of a metric, e.g.
// func(m Metric) (Provider, error) { return NewProvider(m.Provider, deps) }.
type ProviderFor func(Metric) (Provider, error)

// RunAll runs a template's metrics concurrently, Argo style: as soon as a
// metric that is not dryRun ends Failed, Error or Inconclusive, the others
// are stopped (their undecided outcome counts as successful) and the
// run's phase is the worst decided phase (failed > error > inconclusive >
// successful). Otherwise it waits for every metric, dryRun ones included,
// and is Successful. dryRun metrics never decide. record is called from
// one goroutine at a time. Template args with a default fill what args
// lacks.
func RunAll(ctx context.Context, t Template, args Args, providers ProviderFor, clk Clock, record RecordFunc) (Summary, error) {
	args, err := templateArgs(t, args)
	if err != nil {
		return Summary{}, err
	}
	if err := t.Validate(); err != nil {
		return Summary{}, fmt.Errorf("analysis: %w", err)
	}
	runners := make([]*runner, len(t.Metrics))
	var mu sync.Mutex
	locked := func(m Measurement) error {
		mu.Lock()
		defer mu.Unlock()
		return record(m)
	}
	for i, m := range t.Metrics {
		p, err := providers(m)
		if err != nil {
			return Summary{}, fmt.Errorf("analysis: metric %q: %w", m.Name, err)
		}
		if runners[i], err = newRunner(m, args, p, clk, locked); err != nil {
			return Summary{}, err
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	type done struct {
		i   int
		out Outcome
		err error
	}
	ch := make(chan done, len(runners))
	for i, r := range runners {
		go func() {
			out, err := r.run(runCtx)
			ch <- done{i, out, err}
		}()
	}
	sum := Summary{Metrics: make([]Outcome, len(runners))}
	var firstErr error
	for range runners {
		d := <-ch
		sum.Metrics[d.i] = d.out
		switch {
		case d.err != nil && !errors.Is(d.err, context.Canceled) && !errors.Is(d.err, context.DeadlineExceeded):
			if firstErr == nil {
				firstErr = d.err
			}
			stop()
		case !d.out.DryRun && d.out.Phase != "" && d.out.Phase != PhaseSuccessful:
			stop()
		}
	}
	if firstErr != nil {
		return sum, firstErr
	}
	sum.Phase, sum.Message = worst(sum.Metrics)
	if sum.Phase == "" {
		// Stopped by the caller before every metric decided.
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		return sum, errors.New("analysis: run ended undecided")
	}
	return sum, nil
}

// worst combines decided, non-dryRun outcomes. If none decided it returns
// "", unless every metric is dryRun or none remains undecided.
func worst(outs []Outcome) (Phase, string) {
	var ph Phase
	var msg string
	undecided := false
	for _, o := range outs {
		if o.DryRun {
			undecided = undecided || o.Phase == ""
			continue
		}
		if o.Phase == "" {
			undecided = true
			continue
		}
		if o.Phase.rank() > ph.rank() {
			ph, msg = o.Phase, fmt.Sprintf("metric %q: %s", o.Metric, o.Message)
			if o.Last != nil && o.Last.Message != "" {
				msg += ": " + o.Last.Message
			}
		}
	}
	if ph.rank() > PhaseSuccessful.rank() {
		return ph, msg // decided by a limit; stopped metrics do not matter
	}
	if undecided {
		return "", ""
	}
	return PhaseSuccessful, "every metric succeeded"
}

// templateArgs fills args from the template's defaults; a declared arg
// without a value in either is an error.
func templateArgs(t Template, args Args) (Args, error) {
	out := Args{}
	for k, v := range args {
		out[k] = v
	}
	for _, a := range t.Args {
		if _, ok := out[a.Name]; ok {
			continue
		}
		if a.Value == nil {
			return nil, fmt.Errorf("analysis: arg %q has no value", a.Name)
		}
		out[a.Name] = *a.Value
	}
	return out, nil
}
