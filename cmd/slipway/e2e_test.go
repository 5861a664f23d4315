package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestE2EHelloExample(t *testing.T) {
	e := newEnv(t)
	repo := example(t, "hello")
	first := e.run(repo.Dir(), "run", "--output", "json")
	if first.code != 0 {
		t.Fatalf("first run: exit %d\n%s\n%s", first.code, first.stdout, first.stderr)
	}
	steps := finalSteps(t, first.stdout)
	for _, name := range []string{"fmt", "vet", "test", "build[arch=amd64]", "build[arch=arm64]", "checksums", "publish",
		"deploy-staging", "deploy-production"} {
		if steps[name]["status"] != "success" {
			t.Errorf("%s: %v", name, steps[name])
		}
	}
	if _, err := os.Stat(filepath.Join(repo.Dir(), "bin", "hello-linux-amd64")); err != nil {
		t.Fatal(err)
	}
	// The quick start: both environments serve the example behind their
	// routers, under the `slipway up` the first deploy started.
	endpoints := map[string]string{}
	for _, env := range []string{"staging", "production"} {
		st := e.run(repo.Dir(), "deploy", "status", env, "-o", "json")
		var status struct {
			Target struct{ Endpoint string } `json:"target"`
		}
		if err := json.Unmarshal([]byte(st.stdout), &status); err != nil || status.Target.Endpoint == "" {
			t.Fatalf("deploy status %s: %v\n%s%s", env, err, st.stdout, st.stderr)
		}
		resp, err := http.Get(status.Target.Endpoint + "/")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s at %s: %v %v", env, status.Target.Endpoint, resp, err)
		}
		resp.Body.Close()
		endpoints[env] = status.Target.Endpoint
	}
	// Without an environment, status lists them all: what serves each, where.
	all := e.run(repo.Dir(), "deploy", "status")
	for env, endpoint := range endpoints {
		if !regexp.MustCompile(`(?m)^` + env + ` +v\S+ +` + regexp.QuoteMeta(endpoint) + ` +\d+: .* succeeded$`).MatchString(all.stdout) {
			t.Errorf("deploy status: no line for %s at %s:\n%s%s", env, endpoint, all.stdout, all.stderr)
		}
	}
	// Each production replica's output, prefixed with version and replica.
	rlogs := e.run(repo.Dir(), "deploy", "logs", "production", "-n", "5")
	if n := strings.Count(rlogs.stdout, "| --- slipway: starting replica hello.production."); rlogs.code != 0 || n != 2 {
		t.Errorf("deploy logs production: exit %d, %d replicas' start lines, want 2:\n%s%s", rlogs.code, n, rlogs.stdout, rlogs.stderr)
	}
	// The second run takes both builds from the cache, bit for bit.
	os.RemoveAll(filepath.Join(repo.Dir(), "bin"))
	second := e.run(repo.Dir(), "run", "--output", "json")
	steps2 := finalSteps(t, second.stdout)
	for _, name := range []string{"build[arch=amd64]", "build[arch=arm64]"} {
		if steps2[name]["cache_hit"] != true || steps2[name]["outputs"] != steps[name]["outputs"] {
			t.Errorf("%s not served from the cache: %v", name, steps2[name])
		}
	}
	if steps2["checksums"]["outputs"] != steps["checksums"]["outputs"] {
		t.Error("outputs differ with and without the cache")
	}
	// Test results were recorded from the go-test-json report.
	flaky := e.run(repo.Dir(), "tests", "flaky", "--output", "json")
	if flaky.code != 0 || strings.TrimSpace(flaky.stdout) != "[]" {
		t.Errorf("tests flaky: %d %q", flaky.code, flaky.stdout)
	}
	logs := e.run(repo.Dir(), "logs", "1", "checksums")
	if logs.code != 0 || !strings.Contains(logs.stdout, "hello-linux-arm64") {
		t.Errorf("logs: %d %q %q", logs.code, logs.stdout, logs.stderr)
	}
}

func TestE2EFailureExample(t *testing.T) {
	e := newEnv(t)
	repo := example(t, "failure")
	res := e.run(repo.Dir(), "run")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"✖ unit failure: exit code 1", "⊘ package blocked: needs unit (failure)",
		"report-failure │ unit tests failed on main", "│ docs built", "optional-lint failure-allowed"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "never printed") {
		t.Error("a blocked step ran")
	}
}

func TestE2ERetryExample(t *testing.T) {
	e := newEnv(t)
	repo := example(t, "retry")
	res := e.run(repo.Dir(), "run", "--output", "json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	steps := finalSteps(t, res.stdout)
	if s := steps["flaky-download"]; s["status"] != "success" || s["attempts"] != 2.0 {
		t.Errorf("flaky-download = %v", s)
	}
	if s := steps["slow-tool"]; s["status"] != "failure-allowed" || s["attempts"] != 2.0 || !strings.Contains(s["reason"].(string), "timed out after 1s") {
		t.Errorf("slow-tool = %v", s)
	}
	all := e.run(repo.Dir(), "logs", "1", "flaky-download", "--all-attempts")
	if !strings.Contains(all.stdout, "connection reset") || !strings.Contains(all.stdout, "downloaded") {
		t.Errorf("logs of both attempts: %q", all.stdout)
	}
}

func TestE2ECacheExample(t *testing.T) {
	e := newEnv(t)
	repo := example(t, "cache")
	if res := e.run(repo.Dir(), "run"); res.code != 0 {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res := e.run(repo.Dir(), "run", "--output", "json")
	steps := finalSteps(t, res.stdout)
	if steps["generate"]["cache_hit"] != true || steps["build"]["cache_hit"] != true || steps["check"]["status"] != "success" {
		t.Errorf("second run: %v", steps)
	}
	// A changed input invalidates generate, and through its outputs, build.
	repo.Write("src/a.txt", "gamma\n")
	res = e.run(repo.Dir(), "run", "--output", "json")
	steps = finalSteps(t, res.stdout)
	if steps["generate"]["cache_hit"] == true || steps["build"]["cache_hit"] == true {
		t.Errorf("a changed input was served from the cache: %v", steps)
	}
	// --verify-cache re-executes cached steps and finds them deterministic.
	res = e.run(repo.Dir(), "run", "--verify-cache", "--output", "json")
	if res.code != 0 {
		t.Errorf("--verify-cache: exit %d\n%s", res.code, res.stdout)
	}
}

func TestE2ESecretsMasked(t *testing.T) {
	const token = "tok_live_8d7f6e5c4b3a"
	e := newEnv(t)
	e.setenv("SLIPWAY_SECRET_API_TOKEN=" + token)
	repo := example(t, "secrets")
	res := e.run(repo.Dir(), "run")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	logs := e.run(repo.Dir(), "logs")
	db, _ := os.ReadFile(filepath.Join(e.state, "slipway.db"))
	for where, text := range map[string]string{"terminal": res.stdout + res.stderr, "logs": logs.stdout, "database": string(db)} {
		for _, form := range []string{token, "dG9rX2xpdmVf", "746f6b5f6c697665"} {
			if strings.Contains(text, form) {
				t.Errorf("%s shows the secret (%s)", where, form)
			}
		}
	}
	for _, want := range []string{"plain:     ***", "base64:    ***", "hex:       ***", "split:     ***", "sees [nothing]"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	// A declared secret that is not set stops the run before it starts.
	e2 := newEnv(t)
	res = e2.run(repo.Dir(), "run")
	if res.code != 2 || !strings.Contains(res.stderr, `secret "API_TOKEN" is not set`) {
		t.Errorf("missing secret: exit %d %q", res.code, res.stderr)
	}
}

func TestE2ELintAndSchema(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte("steps:\n  build:\n    run: make\n    neds: [test]\n"), 0o644)
	res := e.run(dir, "lint")
	if res.code != 1 || !strings.Contains(res.stdout, `.slipway.yaml:4:5: step build: unknown key "neds" (did you mean "needs"?)`) {
		t.Errorf("lint: exit %d %q %q", res.code, res.stdout, res.stderr)
	}
	res = e.run(dir, "lint", "--output", "json")
	var out struct {
		Valid    bool
		Problems []struct{ Line, Col int }
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || out.Valid || out.Problems[0].Line != 4 {
		t.Errorf("lint json: %v %+v", err, out)
	}
	if res := e.run("../../examples/hello", "lint"); res.code != 0 {
		t.Errorf("example does not lint: %s %s", res.stdout, res.stderr)
	}
	res = e.run(dir, "schema")
	var schema map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &schema); err != nil || schema["$schema"] == nil {
		t.Errorf("schema: %v", err)
	}
	if res := e.run(dir, "run"); res.code != 2 || !strings.Contains(res.stderr, ":4:5:") {
		t.Errorf("run of a bad spec: exit %d %q", res.code, res.stderr)
	}
}

func TestE2EVersionCompletionAndUsage(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	if res := e.run(dir, "version", "--output", "json"); res.code != 0 || !strings.Contains(res.stdout, `"go":"go1.`) {
		t.Errorf("version: %d %q", res.code, res.stdout)
	}
	if res := e.run(dir, "completion", "bash"); res.code != 0 || !strings.Contains(res.stdout, "__start_slipway") {
		t.Errorf("completion: %d", res.code)
	}
	if res := e.run(dir, "run", "--no-such-flag"); res.code != 2 {
		t.Errorf("unknown flag: exit %d", res.code)
	}
	if res := e.run(dir, "logs"); res.code != 2 || !strings.Contains(res.stderr, "no run yet") {
		t.Errorf("logs without runs: %d %q", res.code, res.stderr)
	}
}

func TestE2EPrune(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte("steps:\n  a: {run: 'echo hello; echo hi > out.txt', outputs: [out.txt]}\n"), 0o644)
	for range 3 {
		if res := e.run(dir, "run"); res.code != 0 {
			t.Fatal(res.stderr)
		}
	}
	res := e.run(dir, "prune", "--max-runs", "1", "--dry-run", "--output", "json")
	if !strings.Contains(res.stdout, `"runs":[2,1]`) {
		t.Errorf("dry run: %q", res.stdout)
	}
	if _, err := os.Stat(filepath.Join(e.state, "logs", "1")); err != nil {
		t.Fatal("dry run removed logs")
	}
	res = e.run(dir, "prune", "--max-runs", "1")
	if res.code != 0 || !strings.Contains(res.stdout, "removed 2 run(s)") {
		t.Errorf("prune: %q %q", res.stdout, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.state, "logs", "1")); !os.IsNotExist(err) {
		t.Error("logs of a pruned run remain")
	}
	if res := e.run(dir, "logs", "3"); res.code != 0 {
		t.Error("the kept run lost its logs")
	}
}
