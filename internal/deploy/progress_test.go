package deploy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/store"
)

func TestProgress(t *testing.T) {
	w20, timed, forever := 20.0, 3*time.Second, time.Duration(0)
	canary := pipeline.Environment{Name: "production", Deploy: &pipeline.Deploy{Strategy: pipeline.StrategyCanary,
		Steps: []pipeline.CanaryStep{{SetWeight: &w20}, {Pause: &timed}, {Analysis: []string{"errors", "p99"}}, {Pause: &forever}}}}
	spec, err := json.Marshal(canary)
	if err != nil {
		t.Fatal(err)
	}
	rolling, _ := json.Marshal(pipeline.Environment{Name: "staging", Deploy: &pipeline.Deploy{Strategy: pipeline.StrategyRolling}})
	tests := []struct {
		strategy string
		spec     []byte
		state    store.DeployState
		step     int
		want     string
	}{
		{"canary", spec, store.DeployProgressing, 0, "step 1/4, set-weight 20"},
		{"canary", spec, store.DeployProgressing, 1, "step 2/4, pause 3s"},
		{"canary", spec, store.DeployProgressing, 2, "step 3/4, analysis errors, p99"},
		{"canary", spec, store.DeployProgressing, 3, "step 4/4, pause until resumed"},
		{"canary", spec, store.DeployPaused, 4, "4/4 steps done"},
		{"canary", spec, store.DeployRolledBack, 2, "2/4 steps done"},
		{"canary", spec, store.DeploySucceeded, 4, "4/4 steps done"},
		{"canary", spec, store.DeployProgressing, 9, "4/4 steps done"}, // finish records more than there are
		{"rolling", rolling, store.DeployProgressing, 0, ""},
		{"canary", []byte(`{"deploy":`), store.DeployProgressing, 0, ""}, // unreadable: say nothing
	}
	for _, tc := range tests {
		d := &store.Deployment{Strategy: tc.strategy, Spec: tc.spec, State: tc.state, Step: tc.step}
		if got := Progress(d); got != tc.want {
			t.Errorf("%s %s at step %d: Progress = %q, want %q", tc.strategy, tc.state, tc.step, got, tc.want)
		}
	}
}
