package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A test that fails on the first attempt and passes on the retry is flaky:
// `slipway tests flaky` lists it. A quarantined failure does not fail its
// step, and the summary names it.
func TestE2EFlakyAndQuarantine(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".slipway"), 0o755)
	os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte(`
steps:
  unit:
    run: |
      outcome=pass; [ "$SLIPWAY_STEP_ATTEMPT" = 1 ] && outcome=fail
      printf '{"Action":"run","Package":"ex/p","Test":"TestRace"}\n{"Action":"%s","Package":"ex/p","Test":"TestRace","Elapsed":0.1}\n{"Action":"%s","Package":"ex/p","Elapsed":0.2}\n' $outcome $outcome > unit.json
      [ $outcome = pass ]
    reports: {go-test-json: unit.json}
    retry: 1
  known-bad:
    run: |
      printf '{"Action":"run","Package":"ex/q","Test":"TestClock"}\n{"Action":"fail","Package":"ex/q","Test":"TestClock"}\n{"Action":"fail","Package":"ex/q"}\n' > q.json
      exit 1
    reports: {go-test-json: q.json}
`), 0o644)
	os.WriteFile(filepath.Join(dir, ".slipway", "quarantine.yaml"), []byte(`
quarantine:
  - test: TestClock
    owner: alice@example.com
    reason: depends on wall time
    expires: 2099-01-01
`), 0o644)
	res := e.run(dir, "run")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "quarantined failure: ex/q::TestClock (alice@example.com") {
		t.Errorf("summary does not name the quarantined failure:\n%s", res.stdout)
	}
	flaky := e.run(dir, "tests", "flaky", "--output", "json")
	var list []struct {
		ID               string
		Passes, Failures int
	}
	if err := json.Unmarshal([]byte(flaky.stdout), &list); err != nil {
		t.Fatalf("%v: %q", err, flaky.stdout)
	}
	if len(list) != 1 || list[0].ID != "ex/p::TestRace" || list[0].Passes != 1 || list[0].Failures != 1 {
		t.Errorf("flaky = %+v", list)
	}
}

// A step inherits no descriptor that slipway's parent left open.
func TestE2ENoInheritedDescriptors(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte("steps:\n  fds: {run: 'ls /proc/self/fd | wc -l'}\n"), 0o644)
	leak, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer leak.Close()
	cmd := e.command(t.Context(), dir, "run", "--sandbox", "off")
	cmd.ExtraFiles = []*os.File{leak} // fd 3 in slipway
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errorsAs(err, &ee) {
		t.Fatal(err)
	}
	// ls sees 0, 1, 2 and its own directory handle.
	if !strings.Contains(string(out), "│ 4\n") {
		t.Errorf("the step saw inherited descriptors:\n%s", out)
	}
}

// An expired quarantine entry no longer forgives its test, and the run says so.
func TestE2EExpiredQuarantine(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".slipway"), 0o755)
	os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte(`
steps:
  known-bad:
    run: |
      printf '{"Action":"run","Package":"ex/q","Test":"TestClock"}\n{"Action":"fail","Package":"ex/q","Test":"TestClock"}\n{"Action":"fail","Package":"ex/q"}\n' > q.json
      exit 1
    reports: {go-test-json: q.json}
`), 0o644)
	os.WriteFile(filepath.Join(dir, ".slipway", "quarantine.yaml"), []byte(`
quarantine:
  - test: TestClock
    owner: alice@example.com
    reason: depends on wall time
    expires: 2020-01-01
`), 0o644)
	res := e.run(dir, "run")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (the quarantine expired)\n%s", res.code, res.stdout)
	}
	if !strings.Contains(res.stdout, "quarantine of TestClock expired on 2020-01-01") {
		t.Errorf("no notice of the expired entry:\n%s", res.stdout)
	}
}
