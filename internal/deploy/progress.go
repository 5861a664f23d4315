package deploy

import (
	"fmt"

	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/store"
)

// Progress says where a canary stands in its steps, for people: "step
// 2/5, pause 3s" while it runs one, "5/5 steps done" otherwise. It is ""
// for the other strategies, whose weight says it all.
func Progress(d *store.Deployment) string {
	env, err := specOf(d)
	if err != nil || d.Strategy != pipeline.StrategyCanary {
		return ""
	}
	steps := env.Deploy.Steps
	if len(steps) == 0 {
		return ""
	}
	// Step counts the steps done: the runner records i+1 after step i.
	done := min(max(d.Step, 0), len(steps))
	if d.State == store.DeployProgressing && done < len(steps) {
		return fmt.Sprintf("step %d/%d, %s", done+1, len(steps), steps[done])
	}
	return fmt.Sprintf("%d/%d steps done", done, len(steps))
}
