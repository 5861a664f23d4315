package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway-ci/slipway/internal/gate"
)

// GatesFile is where a repository may keep its `gates:` policy instead of
// the pipeline file (not both).
const GatesFile = ".slipway/gates.yaml"

// GateStep is the name and the built-in of the step a `gates:` policy adds.
const GateStep = "gate"

// readGatesFile reads .slipway/gates.yaml beside the pipeline file: its
// path and bytes, or "" and nil when there is none.
func readGatesFile(pipelineFile string) (string, []byte, error) {
	path := filepath.Join(filepath.Dir(pipelineFile), GatesFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("read gates: %w", err)
	}
	return path, data, nil
}

// gatesFromFile sets the spec's policy from .slipway/gates.yaml; one in
// both places is an error, at the pipeline's `gates:` key.
func (p *decoder) gatesFromFile(s *Spec, path string, data []byte) {
	if s.Gates != nil {
		p.errAt(s.GatesPos, "gates: also defined in %s; keep one of the two", path)
		return
	}
	pol, err := gate.LoadPolicy(path, data)
	if err != nil {
		p.d.Add(err)
		return
	}
	pol.Set = true
	s.Gates = &pol
}

// addGateStep ends the run with the gate when a policy exists: a `uses:
// gate` step with `if: always()` that needs every step producing findings
// or reports, so it runs whatever they did (continue-on-error or not) and
// reads what they stored. A pipeline that places its own gate step keeps it.
func (p *decoder) addGateStep(s *Spec) {
	if s.Gates == nil || slices.ContainsFunc(s.Steps, func(st *Step) bool { return st.Uses == GateStep }) {
		return
	}
	gs := &Step{Name: GateStep, Pos: s.GatesPos, Uses: GateStep, If: "always()", IfPos: s.GatesPos,
		Shell: "sh", Executor: "local", With: map[string]any{}}
	for _, st := range s.Steps {
		if st.Name == GateStep {
			p.errAt(st.Pos, "step %q: the name is taken by the gate that `gates:` adds; rename the step or give it `uses: gate`", st.Name)
			return
		}
		if strings.HasPrefix(st.Uses, "scan/") || !st.Reports.Empty() {
			gs.Needs = append(gs.Needs, Ref{Name: st.Name, Pos: s.GatesPos})
		}
	}
	if len(gs.Needs) == 0 { // nothing reports: the gate still runs last
		for _, st := range s.Steps {
			gs.Needs = append(gs.Needs, Ref{Name: st.Name, Pos: s.GatesPos})
		}
	}
	s.Steps = append(s.Steps, gs)
}
