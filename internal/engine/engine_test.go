package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/store"
)

func TestFailureBlocksOnlyDependants(t *testing.T) {
	h := newHarness(t)
	res := h.run(context.Background(), `
steps:
  a: {run: "echo a"}
  b: {needs: a, run: "exit 3"}
  c: {needs: a, run: "echo c"}
  d: {needs: [b, c], run: "echo d"}
  e: {needs: c, run: "echo e"}
  on-failure: {needs: b, if: "failure()", run: "echo handled"}
  always: {needs: d, if: "always()", run: "echo always"}
  skipped-handler: {needs: c, if: "failure()", run: "echo never"}
`, nil)
	h.wantStatus(res, map[string]store.Status{
		"a": store.Success, "b": store.Failure, "c": store.Success, "d": store.Blocked, "e": store.Success,
		"on-failure": store.Success, "always": store.Success, "skipped-handler": store.Skipped,
	})
	if res.Run.Status != store.Failure {
		t.Errorf("run %s, want failure", res.Run.Status)
	}
	if s := step(res, "b"); s.ExitCode != 3 || s.Reason != "exit code 3" {
		t.Errorf("b = %+v", s)
	}
	if s := step(res, "d"); s.Reason != "needs b (failure)" {
		t.Errorf("d reason = %q", s.Reason)
	}
}

// A step starts when its own needs are done, not when a whole "level" is:
// a (level 0) only finishes once d (level 1) has run, which a level-by-level
// scheduler never allows.
func TestSchedulesByEdgeNotByLevel(t *testing.T) {
	h := newHarness(t)
	res := h.run(context.Background(), `
steps:
  a: {run: "i=0; while [ ! -e d.done ]; do sleep 0.01; i=$((i+1)); [ $i -lt 1000 ] || exit 1; done"}
  b: {needs: a, run: "true"}
  c: {run: "true"}
  d: {needs: c, run: "touch d.done"}
`, nil)
	h.wantStatus(res, map[string]store.Status{"a": store.Success, "b": store.Success, "d": store.Success})
}

func TestParallelLimit(t *testing.T) {
	h := newHarness(t)
	h.opts.Parallel = 1
	res := h.run(context.Background(), `
steps:
  a: {run: "mkdir lock && sleep 0.05 && rmdir lock"}
  b: {run: "mkdir lock && sleep 0.05 && rmdir lock"}
  c: {run: "mkdir lock && sleep 0.05 && rmdir lock"}
`, nil)
	if res.Run.Status != store.Success {
		t.Fatalf("steps overlapped with --parallel 1: %+v", res.Steps)
	}
}

func TestFailFastCancelsRunningSteps(t *testing.T) {
	h := newHarness(t)
	h.opts.FailFast = true
	res := h.run(context.Background(), `
steps:
  slow: {run: "sleep 30"}
  bad: {run: "sleep 0.2; exit 1"}
  later: {needs: bad, if: "always()", run: "true"}
`, nil)
	h.wantStatus(res, map[string]store.Status{"slow": store.Cancelled, "bad": store.Failure, "later": store.Cancelled})
	if res.Run.Status != store.Failure {
		t.Errorf("run %s, want failure", res.Run.Status)
	}
	if d := step(res, "slow").FinishedAt.Sub(step(res, "slow").StartedAt); d > 20*time.Second {
		t.Errorf("slow was not stopped (%v)", d)
	}
}

func TestRetry(t *testing.T) {
	h := newHarness(t)
	res := h.run(context.Background(), `
steps:
  flaky:
    run: |
      echo x >> tries
      [ "$(wc -l < tries)" -ge 3 ]
    retry: 2
  exit-code-only:
    run: "echo x >> tries2; exit 4"
    retry: {max: 3, when: [5]}
  by-code:
    run: |
      echo x >> tries3
      [ "$(wc -l < tries3)" -ge 2 ] || exit 75
    retry: {max: 1, when: [75]}
`, nil)
	h.wantStatus(res, map[string]store.Status{"flaky": store.Success, "exit-code-only": store.Failure, "by-code": store.Success})
	if s := step(res, "flaky"); s.Attempts != 3 {
		t.Errorf("flaky attempts = %d, want 3", s.Attempts)
	}
	if n := h.count("tries2"); n != 1 {
		t.Errorf("exit code 4 was retried (%d tries) though only 5 is retryable", n)
	}
	if s := step(res, "by-code"); s.Attempts != 2 {
		t.Errorf("by-code attempts = %d", s.Attempts)
	}
}

func TestTimeouts(t *testing.T) {
	h := newHarness(t)
	res := h.run(context.Background(), `
steps:
  slow:
    run: "echo x >> tries; sleep 30"
    timeout: 200ms
    retry: {max: 1, when: [timeout]}
`, nil)
	s := step(res, "slow")
	if s.Status != store.Failure || !strings.Contains(s.Reason, "timed out after 200ms") || s.Attempts != 2 {
		t.Errorf("slow = %+v", s)
	}
	h2 := newHarness(t)
	res = h2.run(context.Background(), "timeout: 300ms\nsteps:\n  a: {run: sleep 30}\n  b: {needs: a, run: 'true'}\n", nil)
	if res.Run.Status != store.Failure || res.Run.Error != "run timed out" {
		t.Errorf("run = %s %q", res.Run.Status, res.Run.Error)
	}
}

// Cancelling the run stops the step's whole process group: a background
// grandchild does not survive.
func TestCancelKillsProcessGroup(t *testing.T) {
	h := newHarness(t)
	h.opts.Grace = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for h.count("started") == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	res := h.run(ctx, `
steps:
  s:
    run: |
      (trap '' TERM; sleep 30; echo survived >> ledger) &
      echo x >> started
      sleep 30
  next: {needs: s, run: "true"}
`, nil)
	h.wantStatus(res, map[string]store.Status{"s": store.Cancelled, "next": store.Cancelled})
	if res.Run.Status != store.Cancelled {
		t.Errorf("run %s", res.Run.Status)
	}
	time.Sleep(300 * time.Millisecond)
	if h.count("ledger") != 0 {
		t.Error("a grandchild outlived the cancelled step")
	}
}

func TestMatrixAndEnv(t *testing.T) {
	h := newHarness(t)
	t.Setenv("SLIPWAY_SECRET_LEAK", "should-not-pass")
	t.Setenv("HOST_ONLY", "x")
	res := h.run(context.Background(), `
env: {GLOBAL: g}
steps:
  test:
    matrix: {go: ["1.22", "1.23"], os: [linux]}
    env: {TARGET: "${{ matrix.os }}-${{ matrix.go }}"}
    run: echo "$MATRIX_GO $MATRIX_OS $TARGET $GLOBAL ${{ matrix.go }} run=$SLIPWAY_RUN_ID step=$SLIPWAY_STEP leak=$SLIPWAY_SECRET_LEAK host=$HOST_ONLY ci=$CI"
`, nil)
	if res.Run.Status != store.Success {
		t.Fatalf("run %s", res.Run.Status)
	}
	got := h.logOf(res, "test[go=1.23,os=linux]")
	want := "1.23 linux linux-1.23 g 1.23 run=" + itoa(res.Run.ID) + " step=test[go=1.23,os=linux] leak= host= ci=true\n"
	if got != want {
		t.Errorf("log = %q\nwant  %q", got, want)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestPathFilters(t *testing.T) {
	h := newHarness(t)
	h.change.Git, h.change.BaseRule = true, "merge-base"
	h.change.Files = []string{"docs/guide.md", "docs/drafts/x.md"}
	res := h.run(context.Background(), `
steps:
  go: {paths: ["**/*.go"], run: "true"}
  docs: {paths: ["docs/**"], paths-ignore: ["docs/drafts/**"], run: "true"}
  drafts-only: {paths: ["docs/drafts/**", "x/**"], paths-ignore: ["**/*.md"], run: "true"}
  after-go: {needs: go, run: "true"}
  cond: {if: '"docs/guide.md" in changed_files', run: "true"}
`, nil)
	h.wantStatus(res, map[string]store.Status{"go": store.Skipped, "docs": store.Success, "drafts-only": store.Skipped,
		"after-go": store.Success, "cond": store.Success})
	// Outside git, every filter matches.
	h.change.Git, h.change.BaseRule, h.change.Files = false, "no-git", nil
	res = h.run(context.Background(), "steps:\n  go: {paths: ['**/*.go'], run: 'true'}\n", nil)
	h.wantStatus(res, map[string]store.Status{"go": store.Success})
}

func TestSecretsMaskedInLogsAndRefusedInOutputs(t *testing.T) {
	h := newHarness(t)
	h.secrets = map[string]string{"TOKEN": "s3cr3t-value-42"}
	rec := newRecorder()
	res := h.run(context.Background(), `
steps:
  show:
    secrets: [TOKEN]
    run: |
      printf 'plain %s\n' "$TOKEN"
      printf '%s' "$TOKEN" | base64
      printf '%s' "$TOKEN" | od -An -tx1 | tr -d ' \n'; echo
      printf 'split: %s' "$(printf '%s' "$TOKEN" | cut -c1-5)"; sleep 0.05; printf '%s\n' "$(printf '%s' "$TOKEN" | cut -c6-)"
  leak:
    secrets: [TOKEN]
    run: printf 'x%sx' "$TOKEN" | base64 > out.txt
    outputs: [out.txt]
  undeclared:
    run: echo "token=[$TOKEN]"
`, rec)
	log := h.logOf(res, "show")
	if strings.Contains(log, "s3cr3t") || strings.Contains(log, "czNjcjN0") || strings.Contains(log, "7333") {
		t.Errorf("secret in log:\n%s", log)
	}
	if !strings.Contains(log, "plain ***") || !strings.Contains(log, "split: ***") {
		t.Errorf("log = %q", log)
	}
	for _, l := range rec.lines["show"] {
		if strings.Contains(l, "s3cr3t") {
			t.Errorf("secret reached the terminal: %q", l)
		}
	}
	if s := step(res, "leak"); s.Status != store.Failure || !strings.Contains(s.Reason, "out.txt contains the value of secret TOKEN") {
		t.Errorf("leak = %s %q", s.Status, s.Reason)
	}
	if got := h.logOf(res, "undeclared"); got != "token=[]\n" {
		t.Errorf("an undeclared secret reached a step: %q", got)
	}
}

func TestStepCache(t *testing.T) {
	h := newHarness(t)
	h.secrets = map[string]string{"KEY": "value-one"}
	h.write("src/main.txt", "v1")
	h.write("src/other.txt", "x")
	spec := `
steps:
  build:
    secrets: [KEY]
    run: |
      echo built >> ledger
      mkdir -p out && cat src/main.txt > out/artifact && echo "building"
    outputs: [out]
    cache: {inputs: ["src/*.txt", "!src/other.txt"], env: [TOOLCHAIN]}
  use:
    needs: build
    run: cat out/artifact
`
	ctx := context.Background()
	first := h.run(ctx, spec, nil)
	if s := step(first, "build"); s.Status != store.Success || s.CacheHit || s.Outputs == "" {
		t.Fatalf("first build = %+v", s)
	}
	os.RemoveAll(filepath.Join(h.root, "out"))
	second := h.run(ctx, spec, nil)
	if s := step(second, "build"); !s.CacheHit || s.Outputs != step(first, "build").Outputs {
		t.Fatalf("second build not from cache: %+v", s)
	}
	if h.count("ledger") != 1 {
		t.Errorf("cached step ran again (%d)", h.count("ledger"))
	}
	if h.read("out/artifact") != "v1" || h.logOf(second, "use") != "v1" {
		t.Error("cached outputs not restored for dependants")
	}
	if h.logOf(second, "build") != "building\n" {
		t.Errorf("cached log = %q", h.logOf(second, "build"))
	}
	misses := map[string]func(){
		"excluded input changes nothing": func() { h.write("src/other.txt", "y") },
		"input content":                  func() { h.write("src/main.txt", "v2") },
		"secret value":                   func() { h.secrets["KEY"] = "value-two" },
		"host env":                       func() { h.hostEnv["TOOLCHAIN"] = "go1.26" },
	}
	for _, name := range []string{"excluded input changes nothing", "input content", "secret value", "host env"} {
		before := h.count("ledger")
		misses[name]()
		res := h.run(ctx, spec, nil)
		ran := h.count("ledger") > before
		if want := name != "excluded input changes nothing"; ran != want || step(res, "build").Status != store.Success {
			t.Errorf("%s: step ran = %v, want %v", name, ran, want)
		}
	}
	h.opts.NoCache = true
	before := h.count("ledger")
	h.run(ctx, spec, nil)
	if h.count("ledger") == before {
		t.Error("--no-cache served from the cache")
	}
}

// --verify-cache re-executes cached steps and catches an undeclared input.
func TestVerifyCache(t *testing.T) {
	h := newHarness(t)
	h.write("declared", "d")
	h.write("undeclared", "u1")
	spec := "steps:\n  b:\n    run: cat declared undeclared > out\n    outputs: [out]\n    cache: {inputs: [declared]}\n"
	ctx := context.Background()
	h.run(ctx, spec, nil)
	h.opts.VerifyCache = true
	if res := h.run(ctx, spec, nil); len(res.CacheMismatches) != 0 || res.Run.Status != store.Success {
		t.Fatalf("deterministic step flagged: %+v", res.CacheMismatches)
	}
	h.write("undeclared", "u2")
	res := h.run(ctx, spec, nil)
	if len(res.CacheMismatches) != 1 || step(res, "b").Status != store.Failure {
		t.Fatalf("undeclared input not exposed: %+v %+v", res.CacheMismatches, step(res, "b"))
	}
}

// --resume runs only what failed, was blocked or never started, and keeps
// the outputs of what succeeded.
func TestResume(t *testing.T) {
	h := newHarness(t)
	spec := `
steps:
  a: {run: "echo a >> ledger-a; echo artefact > a.out", outputs: [a.out]}
  a2: {needs: a, run: "echo a2 >> ledger-a2"}
  b: {needs: a2, run: "echo b >> ledger-b; test -e fixed"}
  c: {needs: b, run: "echo c >> ledger-c; cat a.out"}
  d: {run: "echo d >> ledger-d"}
`
	ctx := context.Background()
	first := h.run(ctx, spec, nil)
	h.wantStatus(first, map[string]store.Status{"a": store.Success, "b": store.Failure, "c": store.Blocked, "d": store.Success})
	h.write("fixed", "")
	os.Remove(filepath.Join(h.root, "a.out"))
	second := h.runAs(ctx, spec, nil, first.Run)
	if second.Run.ID != first.Run.ID || second.Run.Attempt != 2 || second.Run.Status != store.Success {
		t.Fatalf("resumed run = %+v", second.Run)
	}
	for f, want := range map[string]int{"ledger-a": 1, "ledger-a2": 1, "ledger-b": 2, "ledger-c": 1, "ledger-d": 1} {
		if got := h.count(f); got != want {
			t.Errorf("%s: %d runs, want %d", f, got, want)
		}
	}
	if h.logOf(second, "c") != "artefact\n" {
		t.Error("outputs of a kept step were not restored")
	}
	if s := step(second, "b"); s.Attempts != 2 || s.RunAttempt != 2 {
		t.Errorf("b = %+v", s)
	}
}

func TestReportsQuarantineAndContinueOnError(t *testing.T) {
	h := newHarness(t)
	h.quar = &quality.Quarantine{Entries: []quality.Entry{{Test: "TestFlaky", Owner: "a@b", Reason: "clock", Expires: time.Now().Add(48 * time.Hour)}}}
	report := `{"Action":"run","Package":"p","Test":"TestOK"}
{"Action":"pass","Package":"p","Test":"TestOK","Elapsed":0.01}
{"Action":"run","Package":"p","Test":"TestFlaky"}
{"Action":"fail","Package":"p","Test":"TestFlaky","Elapsed":0.02}
{"Action":"fail","Package":"p","Elapsed":0.03}
`
	h.write("report.tmpl", report)
	res := h.run(context.Background(), `
steps:
  test:
    run: "cp report.tmpl report.json; exit 1"
    reports: {go-test-json: report.json}
  real-failure:
    run: "sed 's/TestFlaky/TestBroken/g' report.tmpl > r2.json; exit 1"
    reports: {go-test-json: r2.json}
    continue-on-error: true
  after: {needs: real-failure, run: "true"}
`, nil)
	h.wantStatus(res, map[string]store.Status{"test": store.Success, "real-failure": store.FailureAllowed, "after": store.Success})
	if res.Run.Status != store.Success {
		t.Errorf("run %s (an allowed failure must not fail it)", res.Run.Status)
	}
	if len(res.Quarantined) != 1 || res.Quarantined[0].Test.Name != "TestFlaky" {
		t.Errorf("quarantined = %+v", res.Quarantined)
	}
	results, err := h.e.Store.Tests().Results(context.Background(), store.TestFilter{RunID: res.Run.ID})
	if err != nil || len(results) < 4 {
		t.Fatalf("stored results = %d, %v", len(results), err)
	}
}

type echoAction struct{}

func (echoAction) Name() string { return "echo" }
func (echoAction) Schema() json.RawMessage {
	return json.RawMessage(`{"type":"object","required":["msg"],"properties":{"msg":{"type":"string"},"fail":{"type":"boolean"}}}`)
}
func (echoAction) Run(_ context.Context, inv *action.Invocation) error {
	if inv.With["fail"] == true {
		return errors.New("asked to fail")
	}
	_, err := inv.Output.Write([]byte(inv.With["msg"].(string) + " " + inv.Env["TOKEN"] + "\n"))
	return err
}

func TestBuiltinAction(t *testing.T) {
	h := newHarness(t, echoAction{})
	h.secrets = map[string]string{"TOKEN": "tok-en-value"}
	res := h.run(context.Background(), `
steps:
  hi: {uses: echo, with: {msg: "hello ${{ matrix.x }}"}, matrix: {x: [a]}, secrets: [TOKEN]}
  bad: {uses: echo, with: {msg: x, fail: true}}
`, nil)
	h.wantStatus(res, map[string]store.Status{"hi[x=a]": store.Success, "bad": store.Failure})
	if got := h.logOf(res, "hi[x=a]"); got != "hello a ***\n" {
		t.Errorf("log = %q", got)
	}
}

func TestSandboxedStepCannotReadStateDir(t *testing.T) {
	h := newHarness(t)
	if !h.e.Executors["local"].(interface{ SandboxAvailable() bool }).SandboxAvailable() {
		if strings.Contains(os.Getenv("SLIPWAY_TEST_REQUIRE"), "bwrap") {
			t.Fatal("bwrap is required (SLIPWAY_TEST_REQUIRE) but missing")
		}
		t.Skip("bwrap not installed")
	}
	h.opts.Sandbox = "on"
	// Only the path to the step's own TMPDIR (under the state dir) shows.
	res := h.run(context.Background(), "steps:\n  peek: {run: 'ls -A "+h.e.StateDir+"; ls -A "+h.e.StateDir+"/tmp | wc -l; cat "+h.e.StateDir+"/slipway.db 2>/dev/null | wc -c; touch inside-ok'}\n", nil)
	if got := h.logOf(res, "peek"); got != "tmp\n1\n0\n" {
		t.Errorf("sandboxed step saw the state dir: %q", got)
	}
	if _, err := os.Stat(filepath.Join(h.root, "inside-ok")); err != nil {
		t.Error("sandboxed step could not write the checkout")
	}
}
