package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"
)

// Phase is the outcome of a measurement, a metric or a template. The
// strings are what the store records.
type Phase string

// Phases, from best to worst.
const (
	PhaseSuccessful   Phase = "successful"
	PhaseInconclusive Phase = "inconclusive"
	PhaseError        Phase = "error"
	PhaseFailed       Phase = "failed"
)

func (p Phase) rank() int {
	switch p {
	case PhaseSuccessful:
		return 1
	case PhaseInconclusive:
		return 2
	case PhaseError:
		return 3
	case PhaseFailed:
		return 4
	}
	return 0
}

// Result is what a provider measured: a scalar, a vector, or nothing.
type Result struct {
	Scalar *float64 // set for a scalar result
	Vector []float64
}

// ScalarResult is a one-number result.
func ScalarResult(v float64) Result { return Result{Scalar: &v} }

// VectorResult is a result of several numbers (a Prometheus vector).
func VectorResult(v []float64) Result { return Result{Vector: v} }

// NoData is the empty result.
func NoData() Result { return Result{} }

// Values lists the numbers of the result.
func (r Result) Values() []float64 {
	if r.Scalar != nil {
		return []float64{*r.Scalar}
	}
	return r.Vector
}

// Empty reports no data: no value at all, or only NaNs. NaN is what a
// ratio query returns when nothing happened (0/0), so it is treated as the
// absence of data; a vector with some NaNs keeps them (isNaN(result)).
func (r Result) Empty() bool {
	for _, v := range r.Values() {
		if !math.IsNaN(v) {
			return false
		}
	}
	return true
}

// MarshalJSON writes a number, an array, or null; NaN and ±Inf, which JSON
// lacks, are written as the strings "NaN", "+Inf", "-Inf".
func (r Result) MarshalJSON() ([]byte, error) {
	if r.Scalar != nil {
		return json.Marshal(jsonFloat(*r.Scalar))
	}
	if r.Vector == nil {
		return []byte("null"), nil
	}
	out := make([]any, len(r.Vector))
	for i, v := range r.Vector {
		out[i] = jsonFloat(v)
	}
	return json.Marshal(out)
}

func jsonFloat(v float64) any {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return v
}

// Query is one measurement request.
type Query struct {
	Metric  string    // the metric's name: per-metric provider state is keyed by it
	Version string    // the version measured (the canary, or the stable one in baseline mode)
	Args    Args      // template args; Args[ArgVersion] == Version
	Time    time.Time // the run's clock at the measurement
}

// Provider measures a metric. It is the plug-in contract for metric
// sources.
//
// Lifecycle: a provider is built once per metric (NewProvider) before a run
// and used for every measurement of that run; it holds no resources that
// need closing. If it also implements Primer, Run calls Prime once per
// version before the initial delay, so a provider that measures deltas
// starts its first window at the start of the run.
//
// Concurrency: RunAll calls providers from one goroutine per metric, and
// one provider value may serve several metrics, so Measure must be safe for
// concurrent use. Calls for one (metric, version) pair never overlap.
//
// Errors and data: Measure honours ctx (RunAll cancels it when the run is
// decided) and returns an error for anything that is not a measurement
// (unreachable endpoint, bad response); an error counts toward
// consecutiveErrorLimit. "Nothing to measure" is not an error: it is an
// empty Result, which the metric's noData policy decides.
//
// Every implementation passes the contract suite providertest.Run.
type Provider interface {
	Measure(ctx context.Context, q Query) (Result, error)
}

// Primer is implemented by providers that measure since a starting point.
type Primer interface {
	Prime(ctx context.Context, q Query) error
}

// ProviderFunc adapts a function to Provider.
type ProviderFunc func(ctx context.Context, q Query) (Result, error)

// Measure calls f.
func (f ProviderFunc) Measure(ctx context.Context, q Query) (Result, error) { return f(ctx, q) }

// Deps are what NewProvider needs from its caller.
type Deps struct {
	Builtin *Builtin     // required by builtin metrics
	HTTP    *http.Client // for prometheus and webhook; default: http.Client{}
}

// ErrNoBuiltin is returned by NewProvider for a builtin metric without Deps.Builtin.
var ErrNoBuiltin = errors.New("analysis: builtin metrics need the router's data source")

// NewProvider builds the provider a metric's spec names. The metric should
// have passed Validate.
func NewProvider(spec ProviderSpec, deps Deps) (Provider, error) {
	hc := deps.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	switch {
	case spec.Builtin != nil:
		if deps.Builtin == nil {
			return nil, ErrNoBuiltin
		}
		return builtinMetric{b: deps.Builtin, metric: spec.Builtin.Metric}, nil
	case spec.Prometheus != nil:
		return newPrometheus(*spec.Prometheus, hc)
	case spec.Webhook != nil:
		return newWebhook(*spec.Webhook, hc)
	}
	return nil, fmt.Errorf("analysis: provider: %w", errOneProvider)
}

var errOneProvider = errors.New("set exactly one of builtin, prometheus, webhook")
