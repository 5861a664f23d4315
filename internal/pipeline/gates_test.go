package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/action"
)

type namedAction string

func (n namedAction) Name() string                                { return string(n) }
func (namedAction) Schema() json.RawMessage                       { return json.RawMessage(`{"type":"object"}`) }
func (namedAction) Run(context.Context, *action.Invocation) error { return nil }

func gateRegistry() *action.Registry {
	return action.NewRegistry(namedAction("gate"), namedAction("scan/secrets"), namedAction("scan/deps"))
}

const gatedSpec = `steps:
  build: {run: make}
  secrets: {uses: scan/secrets}
  test:
    run: go test -coverprofile=cover.out ./...
    reports: {go-coverprofile: cover.out}
%s`

func TestGatesAddTheGateStep(t *testing.T) {
	tests := []struct {
		name, spec, gatesFile string
		needs                 []string
		err                   string
	}{
		{name: "in the pipeline", spec: "gates:\n  secrets: low\n  quality: [new_coverage >= 80]\n", needs: []string{"secrets", "test"}},
		{name: "in .slipway/gates.yaml", gatesFile: "deps: {fail-on: high}\n", needs: []string{"secrets", "test"}},
		{name: "in both", spec: "gates:\n  secrets: low\n", gatesFile: "deps: high\n", err: "also defined in"},
		{name: "bad gates file", gatesFile: "deps: {fail-on: severe}\n", err: "gates.yaml:1:"},
		{name: "none", spec: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, DefaultFile)
			writeFile(t, file, strings.Replace(gatedSpec, "%s", tt.spec, 1))
			if tt.gatesFile != "" {
				writeFile(t, filepath.Join(dir, GatesFile), tt.gatesFile)
			}
			spec, err := Load(file, gateRegistry())
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			last := spec.Steps[len(spec.Steps)-1]
			if tt.needs == nil {
				if last.Uses == GateStep || spec.Gates != nil {
					t.Fatalf("a gate step without gates: %+v", last)
				}
				return
			}
			var needs []string
			for _, r := range last.Needs {
				needs = append(needs, r.Name)
			}
			if last.Name != GateStep || last.Uses != GateStep || last.If != "always()" || !slices.Equal(needs, tt.needs) {
				t.Fatalf("gate step = %+v needs %v", last, needs)
			}
		})
	}
}

func TestGateStepNameTaken(t *testing.T) {
	spec := "steps:\n  gate: {run: echo}\ngates:\n  secrets: low\n"
	_, err := Parse("p.yaml", []byte(spec), gateRegistry())
	if err == nil || !strings.Contains(err.Error(), "p.yaml:2:3") || !strings.Contains(err.Error(), "rename the step") {
		t.Fatalf("err = %v", err)
	}
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
