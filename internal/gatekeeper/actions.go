package gatekeeper

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/pipeline"
)

// Actions are the scan/<kind> built-ins of the scanners this build has.
func (s *Service) Actions() []action.Action {
	var out []action.Action
	for _, k := range s.Kinds() {
		out = append(out, scanAction{s: s, kind: k})
	}
	return append(out, gateAction{s})
}

type scanAction struct {
	s    *Service
	kind string
}

func (a scanAction) Name() string { return "scan/" + a.kind }

// Schema accepts the options every scanner shares and, loosely, its own:
// each scanner checks its options and names the bad one.
func (a scanAction) Schema() json.RawMessage {
	return json.RawMessage(`{
  "type": "object",
  "properties": {
    "path": {"type": "string", "description": "directory to scan, relative to the step's directory (default: it)"},
    "sarif": {"type": "string", "description": "also write the findings as SARIF 2.1.0 to this file"},
    "ref": {"type": "string", "description": "scan/image: the image (default: every artifact this run published)"},
    "ignore-sbom": {"type": "boolean", "description": "scan/image: catalogue the layers even when an SBOM is attached"},
    "git": {"type": "string", "description": "scan/secrets: scan the commits of a range, or 'base' for this change's"},
    "require-fresh-db": {"type": "boolean", "description": "scan/deps, scan/image: fail on a stale vulnerability database"}
  }
}`)
}

// Run scans, records the findings and succeeds: only the gate fails a run.
func (a scanAction) Run(ctx context.Context, inv *action.Invocation) error {
	dir := inv.Dir
	if p, _ := inv.With["path"].(string); p != "" {
		dir = filepath.Join(inv.Dir, p)
		if rel, err := filepath.Rel(inv.Root, dir); err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("%s: path %q leaves the checkout", a.Name(), p)
		}
	}
	t := Target{Root: inv.Root, Dir: dir, Change: inv.Change, With: inv.With, StateDir: a.s.o.StateDir, RunID: inv.RunID, Log: inv.Output}
	_, rep, err := a.s.Scan(ctx, a.kind, t, inv.RunID, inv.Step)
	if err != nil {
		return err
	}
	if out, _ := inv.With["sarif"].(string); out != "" {
		if err := WriteSARIF(filepath.Join(inv.Dir, out), rep); err != nil {
			return err
		}
	}
	Summary(inv.Output, rep, 10)
	return nil
}

// gateAction is the step a `gates:` policy adds at the end of the run.
type gateAction struct{ s *Service }

func (gateAction) Name() string { return pipeline.GateStep }

func (gateAction) Schema() json.RawMessage {
	return json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {}}`)
}

// Run fails the step when the gate fails, with the verdict table in its log.
func (a gateAction) Run(ctx context.Context, inv *action.Invocation) error {
	if a.s.o.LoadSpec == nil {
		return fmt.Errorf("gate: no pipeline loader configured")
	}
	spec, err := a.s.o.LoadSpec(inv.SpecFile)
	if err != nil {
		return err
	}
	res, err := a.s.Gate(ctx, GateInput{RunID: inv.RunID, Root: inv.Root, Commit: inv.Change.Commit, Base: inv.Change.Base,
		Spec: spec, Tests: a.s.o.Tests, Log: inv.Output})
	if err != nil {
		return err
	}
	if err := res.Table(inv.Output); err != nil {
		return err
	}
	if !res.Pass {
		return fmt.Errorf("%s failed", failedNames(res))
	}
	return nil
}
