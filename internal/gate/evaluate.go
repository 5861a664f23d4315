package gate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/internal/scan"
)

// MaxTop is how many findings a report shows per failing condition.
const MaxTop = 10

// EvalInput is everything a gate decision reads.
type EvalInput struct {
	Policy Policy
	// Findings are the current findings of every scanner.
	Findings []scan.Finding
	// BaseFingerprints are the fingerprints found on the base commit; a
	// finding whose fingerprint is not there is new. nil means no base is
	// known, so every finding is new.
	BaseFingerprints map[string]bool
	// Metrics are quality metrics by name (quality.NewCode.Metrics plus
	// test counts); NaN means "does not apply". new_issues and issues are
	// computed from the SAST findings when absent.
	Metrics map[string]float64
	// Evidence are, per metric, findings that explain its value
	// (quality.NewCode.Evidence); they become the top findings of a
	// failing condition on that metric.
	Evidence map[string][]scan.Finding
	Waivers  *Waivers
	Now      time.Time
}

// ConditionResult is one row of the gate report.
type ConditionResult struct {
	// Name is the scanner kind for a severity threshold, the condition's
	// source for a quality condition.
	Name      string  `json:"name"`
	Scanner   bool    `json:"scanner"`   // a scanner threshold, not a quality condition
	Value     float64 `json:"value"`     // findings counted, or the metric's value (NaN when unknown)
	Threshold string  `json:"threshold"` // "no finding >= high", ">= 80"
	Pass      bool    `json:"pass"`
	Scope     Scope   `json:"scope"`
	// NA: the condition does not apply (a metric is NaN); it passes.
	NA bool `json:"na,omitempty"`
	// Note explains a failure that is not about the value (a metric that
	// was not measured, an evaluation error).
	Note string `json:"note,omitempty"`
	// Top are at most MaxTop findings behind a failure, worst first; More
	// counts the others.
	Top  []scan.Finding `json:"top,omitempty"`
	More int            `json:"more,omitempty"`
}

// Result is a gate decision.
type Result struct {
	Conditions []ConditionResult `json:"conditions"`
	Applied    []WaiverMatch     `json:"applied"` // waivers that forgave findings
	Expired    []WaiverMatch     `json:"expired"` // waivers past their date; their findings count again
	Stale      []Waiver          `json:"stale"`   // waivers whose findings are gone
	Pass       bool              `json:"pass"`
}

// MarshalJSON writes an unknown value (NaN) as null: JSON has no NaN.
func (c ConditionResult) MarshalJSON() ([]byte, error) {
	type plain ConditionResult
	out := struct {
		plain
		Value *float64 `json:"value"`
	}{plain: plain(c)}
	if !math.IsNaN(c.Value) && !math.IsInf(c.Value, 0) {
		out.Value = &c.Value
	}
	return json.Marshal(out)
}

// Evaluate decides. It never skips a condition: a metric that was not
// measured fails the condition that names it.
func Evaluate(in EvalInput) Result {
	w := Apply(in.Findings, in.Waivers, in.Now)
	res := Result{Applied: w.Applied, Expired: w.Expired, Stale: w.Stale, Pass: true}
	isNew := func(f scan.Finding) bool { return in.BaseFingerprints == nil || !in.BaseFingerprints[f.Fingerprint] }
	for _, g := range in.Policy.Scanners {
		var hits []scan.Finding
		for _, f := range w.Kept {
			if f.Scanner == g.Scanner && f.Severity >= g.FailOn && (g.Scope == All || isNew(f)) {
				hits = append(hits, f)
			}
		}
		row := ConditionResult{Name: g.Scanner, Scanner: true, Value: float64(len(hits)),
			Threshold: "no finding >= " + g.FailOn.String(), Pass: len(hits) == 0, Scope: g.Scope}
		row.Top, row.More = top(hits)
		res.add(row)
	}
	metrics, evidence := withIssues(in, w.Kept, isNew)
	for _, c := range in.Policy.Conditions {
		res.add(evalCondition(c, metrics, evidence))
	}
	return res
}

func (r *Result) add(row ConditionResult) {
	r.Conditions = append(r.Conditions, row)
	r.Pass = r.Pass && row.Pass
}

func evalCondition(c *Condition, metrics map[string]float64, evidence map[string][]scan.Finding) ConditionResult {
	row := ConditionResult{Name: c.Source, Threshold: c.Threshold, Scope: c.Scope, Value: math.NaN()}
	out, err := c.Eval(metrics)
	row.Value, row.Pass, row.NA = out.Value, out.Pass, out.NA
	switch {
	case err != nil:
		row.Pass, row.Note = false, err.Error()
	case len(out.Missing) > 0:
		row.Note = fmt.Sprintf("not measured: %s (is the report configured?)", strings.Join(out.Missing, ", "))
	}
	if !row.Pass {
		var ev []scan.Finding
		for _, m := range c.Metrics {
			ev = append(ev, evidence[m]...)
		}
		row.Top, row.More = top(ev)
	}
	return row
}

// withIssues adds the issue metrics (and their evidence) computed from the
// kept SAST findings, unless the caller measured them.
func withIssues(in EvalInput, kept []scan.Finding, isNew func(scan.Finding) bool) (map[string]float64, map[string][]scan.Finding) {
	metrics := make(map[string]float64, len(in.Metrics)+2)
	for k, v := range in.Metrics {
		metrics[k] = v
	}
	evidence := make(map[string][]scan.Finding, len(in.Evidence)+2)
	for k, v := range in.Evidence {
		evidence[k] = v
	}
	var all, added []scan.Finding
	for _, f := range kept {
		if f.Scanner == scan.SAST {
			all = append(all, f)
			if isNew(f) {
				added = append(added, f)
			}
		}
	}
	for name, fs := range map[string][]scan.Finding{MetricIssues: all, MetricNewIssues: added} {
		if _, ok := metrics[name]; !ok {
			metrics[name] = float64(len(fs))
			if _, ok := evidence[name]; !ok {
				evidence[name] = fs
			}
		}
	}
	return metrics, evidence
}

// top sorts findings worst first, then by location, and keeps MaxTop.
func top(fs []scan.Finding) ([]scan.Finding, int) {
	fs = slices.Clone(fs)
	slices.SortStableFunc(fs, func(a, b scan.Finding) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
	if len(fs) > MaxTop {
		return fs[:MaxTop], len(fs) - MaxTop
	}
	return fs, 0
}
