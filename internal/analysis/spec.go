package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Template is a named analysis: metrics measured together, plus the args
// their queries may use beyond the standard ones (see Args).
type Template struct {
	Args    []ArgSpec `json:"args,omitempty"`
	Metrics []Metric  `json:"metrics"`
}

// ArgSpec declares a template argument; Value is its default.
type ArgSpec struct {
	Name  string  `json:"name"`
	Value *string `json:"value,omitempty"`
}

// Metric is one measured quantity and the rules that turn its measurements
// into a decision. Pointer fields distinguish "unset" (the default applies)
// from an explicit zero.
type Metric struct {
	Name                    string       `json:"name"`
	Interval                Duration     `json:"interval,omitzero"`
	InitialDelay            Duration     `json:"initialDelay,omitzero"`
	Count                   *int         `json:"count,omitempty"`
	SuccessCondition        string       `json:"successCondition,omitempty"`
	FailureCondition        string       `json:"failureCondition,omitempty"`
	FailureLimit            *int         `json:"failureLimit,omitempty"` // -1: never fail on failed measurements
	InconclusiveLimit       *int         `json:"inconclusiveLimit,omitempty"`
	ConsecutiveErrorLimit   *int         `json:"consecutiveErrorLimit,omitempty"`
	ConsecutiveSuccessLimit *int         `json:"consecutiveSuccessLimit,omitempty"`
	DryRun                  bool         `json:"dryRun,omitempty"`
	NoData                  NoDataPolicy `json:"noData,omitempty"`
	Baseline                *Baseline    `json:"baseline,omitempty"`
	Provider                ProviderSpec `json:"provider"`
}

// ProviderSpec holds exactly one provider block.
type ProviderSpec struct {
	Builtin    *BuiltinSpec    `json:"builtin,omitempty"`
	Prometheus *PrometheusSpec `json:"prometheus,omitempty"`
	Webhook    *WebhookSpec    `json:"webhook,omitempty"`
}

// BuiltinSpec measures the router's own per-version data; Metric is one of
// BuiltinMetrics.
type BuiltinSpec struct {
	Metric string `json:"metric"`
}

// PrometheusSpec is an instant PromQL query; Query is a text/template over
// the args (e.g. `{{version}}`).
type PrometheusSpec struct {
	Address string   `json:"address"`
	Query   string   `json:"query"`
	Timeout Duration `json:"timeout,omitzero"` // default 10s
}

// WebhookSpec calls an HTTP endpoint returning JSON; Value is a CEL
// expression over `response` (the decoded JSON) giving a number, a list of
// numbers, or null (no data). URL, header values and Body are templated
// like a Prometheus query.
type WebhookSpec struct {
	URL     string            `json:"url"`
	Method  string            `json:"method,omitempty"` // GET (default) or POST
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"` // JSON, sent with POST
	Value   string            `json:"value"`
	Timeout Duration          `json:"timeout,omitzero"` // default 10s
}

// Baseline modes.
const (
	BaselineRatio       = "ratio"
	BaselineMannWhitney = "mann-whitney"
)

// Directions: which way a canary value is worse than the stable one.
const (
	DirectionIncrease = "increase" // higher is worse (errors, latency); the default
	DirectionDecrease = "decrease" // lower is worse (success rate, throughput)
	DirectionEither   = "either"
)

// Baseline compares the canary's values with the stable version's over the
// same window instead of evaluating conditions.
//
// ratio: each measurement compares canary with stable (a vector is
// averaged); with DirectionIncrease it fails when
// canary > stable*(1+Tolerance) + Margin.
//
// mann-whitney: the samples of the run so far (every element of every
// measurement, per version) are compared by a two-sided Mann-Whitney U test
// at Confidence; a significant difference in the worse Direction fails, any
// other outcome passes; fewer than MinSamples per version is Inconclusive,
// so inconclusiveLimit must tolerate the warm-up (Validate checks it).
type Baseline struct {
	Mode       string  `json:"mode"`
	Direction  string  `json:"direction,omitempty"`
	Tolerance  float64 `json:"tolerance,omitempty"`
	Margin     float64 `json:"margin,omitempty"`
	Confidence float64 `json:"confidence,omitempty"` // default 0.95
	MinSamples int     `json:"minSamples,omitempty"` // default 5
}

// NoDataPolicy says what an empty result (no series, no requests, NaN) means.
type NoDataPolicy string

// No-data policies.
const (
	NoDataFail         NoDataPolicy = "fail"
	NoDataInconclusive NoDataPolicy = "inconclusive"
	NoDataPass         NoDataPolicy = "pass"
)

// Duration is a time.Duration written as "30s"/"5m" or as a number of
// seconds.
type Duration struct{ time.Duration }

// maxSeconds keeps a number of seconds within time.Duration.
const maxSeconds = float64(1<<62) / float64(time.Second)

// UnmarshalJSON reads "30s" or 30.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			if n, nerr := strconv.ParseFloat(s, 64); nerr == nil && math.Abs(n) < maxSeconds {
				v = time.Duration(n * float64(time.Second))
			} else {
				return fmt.Errorf("duration %q: use e.g. 30s, 5m", s)
			}
		}
		d.Duration = v
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration %s: use e.g. \"30s\" or a number of seconds", b)
	}
	if math.IsNaN(n) || math.Abs(n) >= maxSeconds {
		return fmt.Errorf("duration %s: out of range", b)
	}
	d.Duration = time.Duration(n * float64(time.Second))
	return nil
}

// MarshalJSON writes the "30s" form.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// DecodeTemplate reads a template from JSON or YAML; unknown fields are
// errors so typos do not silently disable a rule. It does not Validate.
func DecodeTemplate(data []byte) (Template, error) {
	var t Template
	err := decodeStrict(data, &t)
	return t, err
}

// DecodeMetric reads one metric from JSON or YAML, like DecodeTemplate.
func DecodeMetric(data []byte) (Metric, error) {
	var m Metric
	err := decodeStrict(data, &m)
	return m, err
}

func decodeStrict(data []byte, v any) error {
	js := data
	if !json.Valid(data) {
		var y any
		dec := yaml.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&y); err != nil {
			return fmt.Errorf("analysis: %w", err)
		}
		if err := dec.Decode(new(any)); !errors.Is(err, io.EOF) {
			return fmt.Errorf("analysis: one YAML document expected")
		}
		var err error
		if js, err = json.Marshal(y); err != nil {
			return fmt.Errorf("analysis: %w", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("analysis: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("analysis: trailing data after the document")
	}
	return nil
}

// Defaults.
const (
	DefaultConsecutiveErrorLimit = 4
	DefaultErrorRetryInterval    = 10 * time.Second
	DefaultTimeout               = 10 * time.Second
	DefaultConfidence            = 0.95
	DefaultMinSamples            = 5
	DefaultNoData                = NoDataInconclusive
)

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// EffectiveCount is how many conclusive measurements end the metric
// successfully: Count, or 1 without an interval; 0 means unlimited.
func (m Metric) EffectiveCount() int {
	if m.Count != nil {
		return *m.Count
	}
	if m.Interval.Duration == 0 {
		return 1
	}
	return 0
}

func (m Metric) noData() NoDataPolicy {
	if m.NoData == "" {
		return DefaultNoData
	}
	return m.NoData
}

func (b Baseline) direction() string {
	if b.Direction == "" {
		return DirectionIncrease
	}
	return b.Direction
}

func (b Baseline) confidence() float64 {
	if b.Confidence == 0 {
		return DefaultConfidence
	}
	return b.Confidence
}

func (b Baseline) minSamples() int {
	if b.MinSamples == 0 {
		return DefaultMinSamples
	}
	return b.MinSamples
}
