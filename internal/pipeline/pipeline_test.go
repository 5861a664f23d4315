package pipeline

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/action"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>, rewriting it with -update.
func golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// testAction is a built-in for tests: its with: takes a required string "msg".
type testAction struct{}

func (testAction) Name() string { return "say" }
func (testAction) Schema() json.RawMessage {
	return json.RawMessage(`{"type":"object","additionalProperties":false,"required":["msg"],
	 "properties":{"msg":{"type":"string"},"times":{"type":"integer","minimum":1}}}`)
}
func (testAction) Run(context.Context, *action.Invocation) error { return nil }

func registry() *action.Registry { return action.NewRegistry(testAction{}) }

func TestBadSpecs(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no bad specs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f, registry())
			if err == nil {
				t.Fatal("no error for a bad spec")
			}
			golden(t, strings.TrimSuffix(f[len("testdata/"):], ".yaml")+".errors", err.Error()+"\n")
		})
	}
}

func TestGoodSpecs(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			spec, err := Load(f, registry())
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(f[len("testdata/"):], ".yaml")+".plan", describePlan(spec.Plan()))
		})
	}
}

func describePlan(p *Plan) string {
	var b strings.Builder
	for _, n := range p.Nodes {
		var deps []string
		for _, d := range n.Deps {
			deps = append(deps, p.Nodes[d].Name)
		}
		fmt.Fprintf(&b, "%s needs=%v run=%q", n.Name, deps, n.Run)
		for _, k := range sortedKeys(n.Env) {
			fmt.Fprintf(&b, " %s=%s", k, n.Env[k])
		}
		if len(n.Outputs) > 0 {
			fmt.Fprintf(&b, " outputs=%v", n.Outputs)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestWithValidatedAgainstActionSchema(t *testing.T) {
	tests := []struct {
		name, spec, wantErr string
	}{
		{"ok", "steps:\n  s:\n    uses: say\n    with: {msg: hi, times: 2}\n", ""},
		{"missing", "steps:\n  s:\n    uses: say\n    with: {times: 2}\n", "spec.yaml:4:11: step s: with: missing property 'msg'"},
		{"wrong type", "steps:\n  s:\n    uses: say\n    with:\n      msg: hi\n      times: zero\n", "spec.yaml:6:14: step s: with.times: got string, want integer"},
		{"extra", "steps:\n  s:\n    uses: say\n    with: {msg: hi, loud: true}\n", "additional properties 'loud' not allowed"},
		{"matrix in with", "steps:\n  s:\n    uses: say\n    matrix: {v: [a, b]}\n    with: {msg: \"${{ matrix.v }}\"}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := Parse("spec.yaml", []byte(tt.spec), registry())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n := spec.Plan().Nodes; n[len(n)-1].With["msg"] == "${{ matrix.v }}" {
					t.Error("with: not interpolated")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	base := CondInput{Branch: "main", Event: "push", ChangedFiles: []string{"a.go"},
		Env: map[string]string{"X": "1"}, Matrix: map[string]string{"os": "linux"},
		Needs: map[string]string{"build": "success"}, Success: true}
	failed := base
	failed.Success, failed.Failure = false, true
	failed.Needs = map[string]string{"build": "failure"}
	tests := []struct {
		expr string
		in   CondInput
		want bool
	}{
		{"", base, true},
		{"", failed, false},
		{`branch == "main"`, base, true},
		{`branch == "main"`, failed, false}, // success() implied
		{`failure()`, failed, true},
		{`failure()`, base, false},
		{`always()`, failed, true},
		{`"a.go" in changed_files && env.X == "1" && matrix.os == "linux"`, base, true},
		{`needs.build.result == "failure"`, failed, false},
		{`always() && needs.build.result == "failure"`, failed, true},
		{`changed_files.exists(f, f.endsWith(".md"))`, base, false},
		{`event == "push" && tag == ""`, base, true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			var c *Condition
			if tt.expr != "" {
				var err error
				if c, err = CompileCondition(tt.expr); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.Eval(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Eval = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatrixCombinations(t *testing.T) {
	m := &Matrix{
		Dims:    []Dim{{"go", []string{"1.22", "1.23"}}, {"os", []string{"linux", "darwin"}}},
		Exclude: []map[string]string{{"os": "darwin", "go": "1.22"}},
		Include: []map[string]string{{"os": "linux", "go": "1.24"}, {"go": "1.23", "os": "linux"}},
	}
	var got []string
	for _, c := range m.Combinations() {
		got = append(got, c.Suffix())
	}
	want := "[go=1.22,os=linux] [go=1.23,os=linux] [go=1.23,os=darwin] [go=1.24,os=linux]"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

// The printed schema accepts every good spec and rejects the bad ones that
// are wrong in shape (not those only lint can see, such as cycles).
func TestSchema(t *testing.T) {
	raw, err := Schema(registry())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "schema.golden.json", string(raw)+"\n")
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("pipeline.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	check := func(file string) error {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			return err
		}
		js, _ := json.Marshal(v)
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(js)))
		return sch.Validate(inst)
	}
	good, _ := filepath.Glob("testdata/good/*.yaml")
	for _, f := range good {
		if err := check(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, f := range []string{"unknown_key", "types", "nosteps"} {
		if err := check("testdata/bad/" + f + ".yaml"); err == nil {
			t.Errorf("%s: schema accepted it", f)
		}
	}
	if err := check("testdata/with_bad.yaml"); err == nil {
		t.Error("schema accepted a bad with:")
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/good", "testdata/bad"} {
		files, _ := filepath.Glob(dir + "/*.yaml")
		for _, file := range files {
			data, _ := os.ReadFile(file)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := Parse("fuzz.yaml", data, registry())
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		p := spec.Plan()
		for _, n := range p.Nodes {
			for _, d := range n.Deps {
				if d == n.Index {
					t.Fatal("self edge")
				}
			}
		}
		for _, e := range spec.Environments {
			jsonRoundTrip(t, *e)
		}
	})
}

// jsonRoundTrip checks that the JSON copy of e a deployment keeps decodes
// to e, positions aside (they are not kept).
func jsonRoundTrip(t *testing.T, e Environment) {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("marshal %s: %v", e.Name, err)
	}
	var got Environment
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("unmarshal %s: %v\n%s", e.Name, err, b)
	}
	ignore := cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Environment{}, "Pos", "ReqPos"),
		cmpopts.IgnoreFields(CanaryStep{}, "Pos", "Index")}
	if diff := cmp.Diff(e, got, ignore); diff != "" {
		t.Fatalf("environment %s after a JSON round trip (-want +got):\n%s\n%s", e.Name, diff, b)
	}
}

func FuzzCondition(f *testing.F) {
	for _, s := range []string{`branch == "main"`, `failure()`, `always() && needs.a.result == "x"`,
		`"x" in changed_files`, `matrix.os.startsWith("l")`, `[1,2].map(x, x*2).size() > 1`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := CompileCondition(src)
		if err != nil {
			return
		}
		_, _ = c.Eval(CondInput{Success: true})
	})
}

var _ = io.Discard
