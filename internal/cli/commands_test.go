package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLintGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"lint_files", []string{"lint", "testdata/lint/bad.yaml", "testdata/lint/good.yaml", "testdata/lint/missing.yaml"}, ExitFailed},
		{"lint_good", []string{"lint", "testdata/lint/good.yaml"}, ExitOK},
		{"lint_checkout", []string{"lint", "-C", "$DIR"}, ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			s.pipeline(t, readFile(t, "testdata/lint/bad.yaml"))
			writeFile(t, filepath.Join(s.dir, ".slipway", "quarantine.yaml"), readFile(t, "testdata/lint/quarantine.yaml"))
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "$DIR", s.dir)
			}
			r := s.run(t, args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			golden(t, tt.name, strings.ReplaceAll(r.stdout, s.dir, "$DIR"))
		})
	}
}

func TestLintJSON(t *testing.T) {
	type problem struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Col     int    `json:"col"`
		Message string `json:"message"`
	}
	type report struct {
		Valid    *bool      `json:"valid"`
		Files    []string   `json:"files"`
		Problems *[]problem `json:"problems"`
	}
	tests := []struct {
		name     string
		files    []string
		code     int
		valid    bool
		problems int
	}{
		{"valid", []string{"testdata/lint/good.yaml"}, ExitOK, true, 0},
		{"invalid", []string{"testdata/lint/good.yaml", "testdata/lint/bad.yaml"}, ExitFailed, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			r := s.run(t, append([]string{"lint", "--output", "json"}, tt.files...)...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			var rep report
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rep); err != nil {
				t.Fatalf("%v in %s", err, r.stdout)
			}
			if dec.More() {
				t.Errorf("more than one JSON value: %s", r.stdout)
			}
			if rep.Valid == nil || *rep.Valid != tt.valid {
				t.Errorf("valid = %v, want %v", rep.Valid, tt.valid)
			}
			if strings.Join(rep.Files, ",") != strings.Join(tt.files, ",") {
				t.Errorf("files = %v, want %v", rep.Files, tt.files)
			}
			if rep.Problems == nil {
				t.Fatalf("problems missing or null: %s", r.stdout)
			}
			if len(*rep.Problems) != tt.problems {
				t.Errorf("%d problems, want %d: %s", len(*rep.Problems), tt.problems, r.stdout)
			}
			for _, p := range *rep.Problems {
				if p.File != "testdata/lint/bad.yaml" || p.Line == 0 || p.Col == 0 || p.Message == "" {
					t.Errorf("problem without position or message: %+v", p)
				}
			}
		})
	}
}

// TestRunsAndPruneJSON records two runs, lists them, prunes one dry and
// then for real.
func TestRunsAndPruneJSON(t *testing.T) {
	s := newSandbox(t)
	s.pipeline(t, okPipeline)
	for range 2 {
		if r := s.runPipeline(t, "-q"); r.code != ExitOK {
			t.Fatalf("run: exit code %d; stderr: %s", r.code, r.stderr)
		}
	}
	listIDs := func(args ...string) []int64 {
		t.Helper()
		r := s.run(t, append([]string{"runs", "-o", "json"}, args...)...)
		if r.code != ExitOK {
			t.Fatalf("runs: exit code %d; stderr: %s", r.code, r.stderr)
		}
		var runs []struct {
			ID        int64  `json:"id"`
			Status    string `json:"status"`
			Attempt   int    `json:"attempt"`
			Dir       string `json:"dir"`
			CreatedAt string `json:"created_at"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || runs == nil {
			t.Fatalf("runs output %q: %v (want a JSON array)", r.stdout, err)
		}
		var ids []int64
		for _, run := range runs {
			if run.Status != "success" || run.Attempt != 1 || run.Dir != s.dir || run.CreatedAt == "" {
				t.Errorf("run %+v: want a successful first attempt in %s with its creation time", run, s.dir)
			}
			ids = append(ids, run.ID)
		}
		return ids
	}
	if got := listIDs(); !equalIDs(got, []int64{2, 1}) {
		t.Errorf("runs = %v, want [2 1] (newest first)", got)
	}
	if got := listIDs("--limit", "1"); !equalIDs(got, []int64{2}) {
		t.Errorf("runs --limit 1 = %v, want [2]", got)
	}
	prune := func(args ...string) map[string]any {
		t.Helper()
		r := s.run(t, append([]string{"prune", "-o", "json", "--max-runs", "1"}, args...)...)
		if r.code != ExitOK {
			t.Fatalf("prune: exit code %d; stderr: %s", r.code, r.stderr)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("prune output %q: %v", r.stdout, err)
		}
		for _, k := range []string{"dry_run", "runs", "cache_entries", "blobs", "blob_bytes"} {
			if _, ok := rep[k]; !ok {
				t.Errorf("prune output lacks %q: %s", k, r.stdout)
			}
		}
		return rep
	}
	rep := prune("--dry-run")
	if rep["dry_run"] != true || !equalAny(rep["runs"], []int64{1}) {
		t.Errorf("prune --dry-run = %v, want dry_run true and runs [1]", rep)
	}
	if got := listIDs(); !equalIDs(got, []int64{2, 1}) {
		t.Errorf("after a dry run, runs = %v, want [2 1]", got)
	}
	rep = prune()
	if rep["dry_run"] != false || !equalAny(rep["runs"], []int64{1}) {
		t.Errorf("prune = %v, want dry_run false and runs [1]", rep)
	}
	if got := listIDs(); !equalIDs(got, []int64{2}) {
		t.Errorf("after prune, runs = %v, want [2]", got)
	}
	if r := s.run(t, "logs", "1"); r.code != ExitUsage {
		t.Errorf("logs of a pruned run: exit code %d, want %d", r.code, ExitUsage)
	}
	r := s.run(t, "prune", "--max-runs", "1", "--dry-run")
	if r.stdout != "would remove 0 run(s), 0 cache entr(ies), 0 blob(s) (0 B)\n" {
		t.Errorf("prune text = %q", r.stdout)
	}
}

func TestRunsEmpty(t *testing.T) {
	s := newSandbox(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"runs", "-o", "json"}, "[]\n"},
		{[]string{"runs"}, "RUN  STATUS  COMMIT  BRANCH  STARTED  DURATION  DIR\n"},
		{[]string{"tests", "flaky", "-o", "json"}, "[]\n"},
		{[]string{"tests", "flaky"}, "no flaky test\n"},
	}
	for _, tt := range tests {
		r := s.run(t, tt.args...)
		if r.code != ExitOK || r.stdout != tt.want {
			t.Errorf("%v: exit code %d, stdout %q; want 0 and %q", tt.args, r.code, r.stdout, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	s := newSandbox(t)
	r := s.run(t, "version", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit code %d; stderr: %s", r.code, r.stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%q: %v", r.stdout, err)
	}
	if v["version"] == "" || v["version"] == nil || v["go"] != runtime.Version() || v["platform"] != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("version = %v", v)
	}
	text := s.run(t, "version")
	if want := "slipway " + v["version"].(string); !strings.HasPrefix(text.stdout, want) ||
		!strings.HasSuffix(text.stdout, " "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH+"\n") {
		t.Errorf("version = %q, want %q … %s %s/%s", text.stdout, want, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
}

func TestSchema(t *testing.T) {
	s := newSandbox(t)
	r := s.run(t, "schema")
	if r.code != ExitOK {
		t.Fatalf("exit code %d; stderr: %s", r.code, r.stderr)
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if _, ok := schema["properties"].(map[string]any)["steps"]; !ok {
		t.Errorf("schema has no steps property: %.200s", r.stdout)
	}
}

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// equalAny compares a decoded JSON array of numbers with ids.
func equalAny(v any, ids []int64) bool {
	list, ok := v.([]any)
	if !ok || len(list) != len(ids) {
		return false
	}
	for i, x := range list {
		if f, ok := x.(float64); !ok || int64(f) != ids[i] {
			return false
		}
	}
	return true
}
