package pipeline

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDeploySpec(t *testing.T) {
	spec, err := Load("testdata/good/deploy.yaml", registry())
	if err != nil {
		t.Fatal(err)
	}
	st, prod := spec.Environment("staging").Deploy, spec.Environment("production").Deploy
	if st == nil || st.Replicas != 2 || st.MemoryBytes != 64<<20 || st.CPUMillis != 500 || st.Liveness.FailureThreshold != 5 ||
		st.Readiness.Interval != time.Second || st.Strategy != StrategyRolling || st.MaxSurge != 1 {
		t.Errorf("staging = %+v", st)
	}
	if prod == nil || !prod.Approval || prod.Soak != 10*time.Minute || len(prod.Steps) != 5 || *prod.Steps[0].SetWeight != 5 ||
		*prod.Steps[1].Pause != 30*time.Second || *prod.Steps[4].Pause != 0 || len(prod.Steps[2].Analysis) != 2 ||
		len(prod.Background) != 1 || prod.ProgressDeadline != 5*time.Minute || prod.CanaryHeader != "X-Slipway-Canary" {
		t.Errorf("production = %+v", prod)
	}
	if got := string(prod.Analyses["errors"]); got != `{"metrics":[{"count":5,"failureLimit":1,"interval":"1s","name":"error-rate","provider":{"builtin":{"metric":"error-rate"}},"successCondition":"result \u003c 0.05"}]}` {
		t.Errorf("errors analysis = %s", got)
	}
}

func TestParseQuantities(t *testing.T) {
	for in, want := range map[string]int64{"64Mi": 64 << 20, "1Gi": 1 << 30, "500M": 500e6, "1024": 1024} {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]int{"500m": 500, "0.5": 500, "2": 2000} {
		if got, err := ParseCPU(in); err != nil || got != want {
			t.Errorf("ParseCPU(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1Ti", "9223372036854775807Gi"} {
		if _, err := ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "0", "-5m", "NaN", "1e9"} {
		if _, err := ParseCPU(bad); err == nil {
			t.Errorf("ParseCPU(%q) accepted", bad)
		}
	}
}

// Flagger's loop, step-weight up to max-weight with a pause and an
// analysis after each raise, expands to canary steps.
func TestCanaryLoop(t *testing.T) {
	parse := func(canary string) (*Spec, error) {
		return Parse("loop.yaml", []byte(`steps:
  a: {run: "true"}
environments:
  prod:
    target: local
    strategy: canary
    probes: {readiness: {path: /healthz}}
    canary: `+canary+`
    analysis:
      checks: {metrics: [{name: m, interval: 1s, count: 2, successCondition: result < 1, provider: {builtin: {metric: error-rate}}}]}
`), registry())
	}
	spec, err := parse("{step-weight: 20, max-weight: 60, step-pause: 1m, step-analysis: checks}")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range spec.Environment("prod").Deploy.Steps {
		got = append(got, st.String())
	}
	want := []string{"set-weight 20", "pause 1m0s", "analysis checks", "set-weight 40", "pause 1m0s", "analysis checks",
		"set-weight 60", "pause 1m0s", "analysis checks"}
	if !slices.Equal(got, want) {
		t.Errorf("steps = %q, want %q", got, want)
	}
	for _, tc := range []struct{ canary, err string }{
		{"{step-weight: 10, max-weight: 30, steps: [{set-weight: 5}]}", "loop.yaml:8:27: environments.prod.canary: use steps or step-weight, not both"},
		{"{step-weight: 10}", "step-weight needs max-weight"},
		{"{step-weight: 0, max-weight: 30}", "step-weight must be above 0"},
		{"{step-weight: 40, max-weight: 30}", "max-weight 30 is below step-weight 40"},
		{"{max-weight: 30}", "max-weight, step-pause and step-analysis need step-weight"},
		{"{step-weight: 120, max-weight: 130}", "step-weight must be a percentage from 0 to 100"},
		{"{step-weight: 10, max-weight: 20, step-analysis: chekcs}", `canary.step-analysis: no analysis "chekcs" under analysis: (did you mean "checks"?)`},
	} {
		if _, err := parse(tc.canary); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.canary, err, tc.err)
		}
	}
}
