package analysis

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// FieldError names the field of a spec that is wrong, e.g.
// "metrics[1].failureLimit".
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, a...)}
}

// prefix puts "at." before the field of a FieldError.
func prefix(at string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: at + "." + fe.Field, Err: fe.Err}
	}
	if err != nil {
		return &FieldError{Field: at, Err: err}
	}
	return nil
}

// Validate checks every metric and that names are unique; the first
// problem is returned as a *FieldError.
func (t Template) Validate() error {
	if len(t.Metrics) == 0 {
		return fieldErr("metrics", "at least one metric is needed")
	}
	known := slices.Clone(StandardArgs)
	for i, a := range t.Args {
		if a.Name == "" {
			return fieldErr(fmt.Sprintf("args[%d].name", i), "empty")
		}
		known = append(known, a.Name)
	}
	seen := map[string]bool{}
	for i, m := range t.Metrics {
		at := fmt.Sprintf("metrics[%d]", i)
		if seen[m.Name] {
			return fieldErr(at+".name", "%q is used twice", m.Name)
		}
		seen[m.Name] = true
		if err := prefix(at, m.validate(known)); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks a metric on its own (only the standard args are known).
func (m Metric) Validate() error { return m.validate(StandardArgs) }

func (m Metric) validate(knownArgs []string) error {
	if strings.TrimSpace(m.Name) == "" {
		return fieldErr("name", "a metric needs a name")
	}
	if err := m.validateCounting(); err != nil {
		return err
	}
	if err := prefix("provider", m.Provider.validate(knownArgs)); err != nil {
		return err
	}
	if m.Baseline != nil {
		if m.SuccessCondition != "" || m.FailureCondition != "" {
			return fieldErr("baseline", "a baseline comparison replaces successCondition and failureCondition: set one or the other")
		}
		if err := prefix("baseline", m.Baseline.validate()); err != nil {
			return err
		}
		if b := m.Baseline; b.Mode == BaselineMannWhitney && intOr(m.InconclusiveLimit, 0) < b.minSamples()-1 {
			return fieldErr("inconclusiveLimit", "mann-whitney is inconclusive until each version has baseline.minSamples (%d) values: set it to at least %d",
				b.minSamples(), b.minSamples()-1)
		}
		return nil
	}
	_, err := m.conditions()
	return err
}

func (m Metric) validateCounting() error {
	if m.Interval.Duration < 0 {
		return fieldErr("interval", "negative")
	}
	if m.InitialDelay.Duration < 0 {
		return fieldErr("initialDelay", "negative")
	}
	if m.Count != nil {
		if *m.Count < 1 {
			return fieldErr("count", "must be at least 1 (leave it out for an unlimited count with an interval)")
		}
		if *m.Count > 1 && m.Interval.Duration == 0 {
			return fieldErr("interval", "count %d needs an interval between measurements", *m.Count)
		}
	}
	if m.FailureLimit != nil && *m.FailureLimit < -1 {
		return fieldErr("failureLimit", "must be -1 (off) or more")
	}
	for _, l := range []struct {
		name string
		v    *int
	}{{"inconclusiveLimit", m.InconclusiveLimit}, {"consecutiveErrorLimit", m.ConsecutiveErrorLimit}, {"consecutiveSuccessLimit", m.ConsecutiveSuccessLimit}} {
		if l.v != nil && *l.v < 0 {
			return fieldErr(l.name, "negative")
		}
	}
	if cs := intOr(m.ConsecutiveSuccessLimit, 0); cs > 0 && m.Count != nil && cs > *m.Count {
		return fieldErr("consecutiveSuccessLimit", "%d can never be reached in count %d", cs, *m.Count)
	}
	switch m.NoData {
	case "", NoDataFail, NoDataInconclusive, NoDataPass:
	default:
		return fieldErr("noData", "%q: use fail, inconclusive or pass", m.NoData)
	}
	return nil
}

// conditions compiles the metric's conditions; a builtin metric is a
// scalar, so its conditions must type-check with result a double.
func (m Metric) conditions() (conditions, error) {
	var cs conditions
	for _, c := range []struct {
		field, src string
		dst        **condition
	}{{"successCondition", m.SuccessCondition, &cs.success}, {"failureCondition", m.FailureCondition, &cs.failure}} {
		if c.src == "" {
			continue
		}
		cc, err := compileCondition(c.src)
		if err != nil {
			return cs, &FieldError{Field: c.field, Err: err}
		}
		if m.Provider.Builtin != nil && cc.scalar == nil && !m.hasBaseline() {
			return cs, fieldErr(c.field, "a builtin metric is a number (result is a double): %v", cc.scalarErr)
		}
		*c.dst = cc
	}
	return cs, nil
}

func (m Metric) hasBaseline() bool { return m.Baseline != nil }

func (p ProviderSpec) validate(knownArgs []string) error {
	n := 0
	for _, set := range []bool{p.Builtin != nil, p.Prometheus != nil, p.Webhook != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errOneProvider
	}
	tmpl := func(field, src string) error {
		if err := parseArgTemplate(src, knownArgs); err != nil {
			return fieldErr(field, "%v (known args: %s)", err, strings.Join(knownArgs, ", "))
		}
		return nil
	}
	switch {
	case p.Builtin != nil:
		if !slices.Contains(BuiltinMetrics, p.Builtin.Metric) {
			return fieldErr("builtin.metric", "%q: use one of %s", p.Builtin.Metric, strings.Join(BuiltinMetrics, ", "))
		}
	case p.Prometheus != nil:
		if err := httpURL(p.Prometheus.Address); err != nil {
			return fieldErr("prometheus.address", "%v", err)
		}
		if strings.TrimSpace(p.Prometheus.Query) == "" {
			return fieldErr("prometheus.query", "empty")
		}
		if p.Prometheus.Timeout.Duration < 0 {
			return fieldErr("prometheus.timeout", "negative")
		}
		return tmpl("prometheus.query", p.Prometheus.Query)
	case p.Webhook != nil:
		return p.Webhook.validate(tmpl)
	}
	return nil
}

func (w WebhookSpec) validate(tmpl func(field, src string) error) error {
	if err := tmpl("webhook.url", w.URL); err != nil {
		return err
	}
	if !strings.Contains(w.URL, "{{") {
		if err := httpURL(w.URL); err != nil {
			return fieldErr("webhook.url", "%v", err)
		}
	}
	switch strings.ToUpper(w.Method) {
	case "", http.MethodGet, http.MethodPost:
	default:
		return fieldErr("webhook.method", "%q: use GET or POST", w.Method)
	}
	if w.Body != "" {
		if err := tmpl("webhook.body", w.Body); err != nil {
			return err
		}
	}
	for k, v := range w.Headers {
		if err := tmpl("webhook.headers."+k, v); err != nil {
			return err
		}
	}
	if w.Timeout.Duration < 0 {
		return fieldErr("webhook.timeout", "negative")
	}
	if strings.TrimSpace(w.Value) == "" {
		return fieldErr("webhook.value", "a CEL expression over response is needed, e.g. response.errorRate")
	}
	if _, err := compileWebhookValue(w.Value); err != nil {
		return fieldErr("webhook.value", "%v", err)
	}
	return nil
}

func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: an http(s) URL is needed", s)
	}
	return nil
}

func (b Baseline) validate() error {
	switch b.Mode {
	case BaselineRatio, BaselineMannWhitney:
	default:
		return fieldErr("mode", "%q: use ratio or mann-whitney", b.Mode)
	}
	switch b.Direction {
	case "", DirectionIncrease, DirectionDecrease, DirectionEither:
	default:
		return fieldErr("direction", "%q: use increase, decrease or either", b.Direction)
	}
	if b.Tolerance < 0 || b.Margin < 0 {
		return fieldErr("tolerance", "tolerance and margin must not be negative")
	}
	if b.Confidence != 0 && (b.Confidence <= 0.5 || b.Confidence >= 1) {
		return fieldErr("confidence", "%v: use a value between 0.5 and 1, e.g. 0.95", b.Confidence)
	}
	if b.MinSamples < 0 || (b.MinSamples > 0 && b.MinSamples < 3) {
		return fieldErr("minSamples", "at least 3")
	}
	return nil
}
