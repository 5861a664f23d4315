package pipeline

import (
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
