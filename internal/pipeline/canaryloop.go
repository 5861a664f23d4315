package pipeline

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// canaryLoop is Flagger's way to write a canary: raise the weight by step
// up to max, pausing and analysing after each raise. It expands to steps.
type canaryLoop struct {
	step, max float64
	pause     time.Duration
	analysis  []string
	at, maxAt *yaml.Node // where step-weight and max-weight are written
}

// expandLoop appends the loop's steps to d.Steps: set-weight step, pause,
// analysis, set-weight 2*step, ... up to max. Generated steps have Index -1.
func (p *decoder) expandLoop(d *Deploy, what string, n *yaml.Node, l canaryLoop) {
	switch {
	case l.at == nil && l.maxAt == nil && l.pause == 0 && l.analysis == nil:
		return
	case l.at == nil:
		p.d.Errorf(n, "%s: max-weight, step-pause and step-analysis need step-weight", what)
		return
	case len(d.Steps) > 0:
		p.d.Errorf(l.at, "%s: use steps or step-weight, not both", what)
		return
	case l.step <= 0:
		p.d.Errorf(l.at, "%s.step-weight must be above 0", what)
		return
	case l.maxAt == nil:
		p.d.Errorf(l.at, "%s: step-weight needs max-weight (the last weight before all traffic moves)", what)
		return
	case l.max < l.step:
		p.d.Errorf(l.maxAt, "%s.max-weight %g is below step-weight %g", what, l.max, l.step)
		return
	}
	pos := Pos{l.at.Line, l.at.Column}
	for i := 1; float64(i)*l.step <= l.max+1e-9; i++ {
		w := float64(i) * l.step
		d.Steps = append(d.Steps, CanaryStep{Pos: pos, Index: -1, SetWeight: &w})
		if l.pause > 0 {
			pause := l.pause
			d.Steps = append(d.Steps, CanaryStep{Pos: pos, Index: -1, Pause: &pause})
		}
		if l.analysis != nil {
			d.Steps = append(d.Steps, CanaryStep{Pos: pos, Index: -1, Analysis: l.analysis})
		}
	}
}
