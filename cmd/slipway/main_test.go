package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/change/changetest"
)

// End-to-end tests run the real binary, built once, against real git
// checkouts and a fresh state dir each. They are slow, so they run only when
// SLIPWAY_E2E is set (make test sets it).

var binary string

func TestMain(m *testing.M) {
	if os.Getenv("SLIPWAY_E2E") == "" {
		fmt.Println("skipping end-to-end tests: set SLIPWAY_E2E=1 (make test does)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "slipway-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "slipway")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one isolated slipway installation: its own state dir and config.
type env struct {
	t     testing.TB
	state string
	vars  []string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	// HOME stays the real one so steps building Go reuse its build cache;
	// slipway's own config and state are private to the test.
	e := &env{t: t, state: t.TempDir()}
	e.vars = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "SLIPWAY_STATE_DIR=" + e.state,
		"XDG_CONFIG_HOME=" + t.TempDir(), "LANG=C.UTF-8"}
	// A deployment starts `slipway up` in the background: stop it and its
	// replicas with the test.
	t.Cleanup(func() { e.run(t.TempDir(), "down") })
	return e
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs slipway in dir and waits for it (at most 5 minutes).
func (e *env) run(dir string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := e.command(ctx, dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func (e *env) command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir, cmd.Env = dir, append([]string(nil), e.vars...)
	return cmd
}

func (e *env) setenv(kv ...string) { e.vars = append(e.vars, kv...) }

// example copies examples/<name> into a new git repository and commits it.
func example(t testing.TB, name string) *changetest.Repo {
	t.Helper()
	repo := changetest.NewRepo(t)
	src := filepath.Join("..", "..", "examples", name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if strings.HasPrefix(rel, "bin/") || rel == "test-report.json" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		repo.Write(filepath.ToSlash(rel), string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	repo.Commit("import " + name)
	return repo
}

// events decodes `--output json` lines.
func events(t testing.TB, out string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q (%v)", line, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// finalSteps maps each step of the run_finished event to its status.
func finalSteps(t testing.TB, out string) map[string]map[string]any {
	t.Helper()
	evs := events(t, out)
	last := evs[len(evs)-1]
	if last["event"] != "run_finished" {
		t.Fatalf("last event %v", last)
	}
	steps := map[string]map[string]any{}
	for _, s := range last["steps"].([]any) {
		m := s.(map[string]any)
		steps[m["name"].(string)] = m
	}
	return steps
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
