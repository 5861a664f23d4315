package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chainPipeline is deterministic in its output order: every step needs the
// one before, so no two steps ever run at once. It covers success, a
// failure, a step blocked by it, a failure() handler and output without
// a trailing newline.
const chainPipeline = `steps:
  compile:
    run: |
      echo "compiling"
      printf 'no newline'
  unit:
    needs: compile
    run: |
      echo "FAIL: TestAddition"
      exit 3
  package:
    needs: unit
    run: echo "never printed"
  report:
    needs: unit
    if: failure()
    run: echo "unit failed"
`

func TestRunTextGolden(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		code  int
		spec  string
		gname string
	}{
		{"failure", nil, ExitFailed, chainPipeline, "run_failure"},
		{"quiet", []string{"--quiet"}, ExitFailed, chainPipeline, "run_quiet"},
		{"success", nil, ExitOK, "steps:\n  one:\n    run: echo one\n  two:\n    needs: one\n    run: echo two\n  skipped:\n    needs: two\n    if: failure()\n    run: echo no\n  soft:\n    needs: two\n    run: exit 2\n    continue-on-error: true\n", "run_success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			s.pipeline(t, tt.spec)
			r := s.runPipeline(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			golden(t, tt.gname, normalize(r.stdout, s.dir))
		})
	}
}

// TestQuietStillStores checks that --quiet hides step output from the
// terminal only: the log is stored and `slipway logs` prints it.
func TestQuietStillStores(t *testing.T) {
	s := newSandbox(t)
	s.pipeline(t, "steps:\n  talk:\n    run: echo 'said quietly'\n")
	r := s.runPipeline(t, "-q")
	if r.code != ExitOK {
		t.Fatalf("exit code %d; stderr: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "said quietly") {
		t.Errorf("--quiet printed step output:\n%s", r.stdout)
	}
	for _, want := range []string{"✔ talk", "run #1 succeeded in"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--quiet output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := s.run(t, "logs", "1", "talk"); r.stdout != "said quietly\n" {
		t.Errorf("logs after --quiet = %q, want %q", r.stdout, "said quietly\n")
	}
}

// event is one line of `slipway run --output json`.
type event struct {
	Event   string          `json:"event"`
	Step    json.RawMessage `json:"step"`
	Attempt int             `json:"attempt"`
	Line    string          `json:"line"`
	Message string          `json:"message"`
	Steps   json.RawMessage `json:"steps"`
	Run     *struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Error  string `json:"error"`
		Dir    string `json:"dir"`
	} `json:"run"`
}

// stepName is the step an event is about: a string in step_started and
// log, an object in step_finished.
func (e event) stepName(tb testing.TB) string {
	tb.Helper()
	var name string
	if json.Unmarshal(e.Step, &name) == nil {
		return name
	}
	var s struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(e.Step, &s); err != nil {
		tb.Fatalf("step of %s event: %v", e.Event, err)
	}
	return s.Name
}

func parseEvents(tb testing.TB, out string) []event {
	tb.Helper()
	var events []event
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			tb.Fatalf("line %d is not JSON: %q", i+1, line)
		}
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			tb.Fatalf("line %d: %v", i+1, err)
		}
		if e.Event == "" {
			tb.Fatalf("line %d has no event: %s", i+1, line)
		}
		events = append(events, e)
	}
	return events
}

func TestRunJSON(t *testing.T) {
	s := newSandbox(t)
	s.pipeline(t, `steps:
  a:
    run: echo "from a"
  b:
    matrix: {x: [1, 2]}
    run: echo "b ${{ matrix.x }}"
  c:
    needs: [a, b]
    run: |
      echo "c fails" >&2
      exit 1
  d:
    needs: c
    run: echo unreachable
`)
	r := s.runPipeline(t, "-j", "2", "--output", "json")
	if r.code != ExitFailed {
		t.Fatalf("exit code %d, want %d; stderr: %s", r.code, ExitFailed, r.stderr)
	}
	events := parseEvents(t, r.stdout)
	if first := events[0]; first.Event != "run_started" || first.Run == nil || first.Run.ID != 1 || first.Run.Dir != s.dir {
		t.Errorf("first event = %+v, want run_started of run 1 in %s", first, s.dir)
	}
	last := events[len(events)-1]
	if last.Event != "run_finished" || last.Run == nil || last.Run.Status != "failure" || last.Run.Error == "" {
		t.Fatalf("last event = %+v, want run_finished with status failure and an error", last)
	}
	var final []struct{ Name, Status string }
	if err := json.Unmarshal(last.Steps, &final); err != nil {
		t.Fatalf("run_finished steps: %v", err)
	}
	wantStatus := map[string]string{"a": "success", "b[x=1]": "success", "b[x=2]": "success", "c": "failure", "d": "blocked"}
	if len(final) != len(wantStatus) {
		t.Errorf("run_finished has %d steps, want %d", len(final), len(wantStatus))
	}
	for _, st := range final {
		if wantStatus[st.Name] != st.Status {
			t.Errorf("run_finished: step %s is %s, want %s", st.Name, st.Status, wantStatus[st.Name])
		}
	}
	checkOrder(t, events, wantStatus)
	logs := map[string][]string{}
	for _, e := range events {
		if e.Event == "log" {
			logs[e.stepName(t)] = append(logs[e.stepName(t)], e.Line)
		}
	}
	for step, want := range map[string]string{"a": "from a", "b[x=1]": "b 1", "b[x=2]": "b 2", "c": "c fails"} {
		if got := strings.Join(logs[step], "\n"); got != want {
			t.Errorf("log of %s = %q, want %q", step, got, want)
		}
	}
	if r.stderr == "" {
		t.Error("nothing on stderr for a failed run")
	}
}

// checkOrder checks that every step that ran started once, logged only
// between its start and its end, and ended once; that steps never run
// (blocked) only end; and that a step starts after the steps it needs end.
func checkOrder(tb testing.TB, events []event, steps map[string]string) {
	tb.Helper()
	started, finished := map[string]int{}, map[string]int{}
	for i, e := range events[1 : len(events)-1] {
		i++
		switch e.Event {
		case "run_started", "run_finished":
			tb.Errorf("event %d: %s in the middle of the run", i, e.Event)
		case "step_started":
			name := e.stepName(tb)
			if _, dup := started[name]; dup {
				tb.Errorf("event %d: %s started twice", i, name)
			}
			if e.Attempt != 1 {
				tb.Errorf("event %d: %s attempt %d, want 1", i, name, e.Attempt)
			}
			started[name] = i
		case "log":
			name := e.stepName(tb)
			if _, ok := started[name]; !ok {
				tb.Errorf("event %d: log of %s before it started", i, name)
			}
			if _, ok := finished[name]; ok {
				tb.Errorf("event %d: log of %s after it finished", i, name)
			}
		case "step_finished":
			name := e.stepName(tb)
			if _, dup := finished[name]; dup {
				tb.Errorf("event %d: %s finished twice", i, name)
			}
			finished[name] = i
		}
	}
	for name, status := range steps {
		s, ran := started[name]
		f, ended := finished[name]
		switch {
		case !ended:
			tb.Errorf("%s never finished", name)
		case status == "blocked" && ran:
			tb.Errorf("blocked step %s started", name)
		case status != "blocked" && !ran:
			tb.Errorf("%s finished without starting", name)
		case ran && s > f:
			tb.Errorf("%s finished (event %d) before it started (event %d)", name, f, s)
		}
	}
	if c, ok := started["c"]; ok {
		for _, need := range []string{"a", "b[x=1]", "b[x=2]"} {
			if finished[need] > c {
				tb.Errorf("c started (event %d) before %s finished (event %d)", c, need, finished[need])
			}
		}
	}
}

// TestRunCancelled cancels the context while a step sleeps: the step is
// stopped, the run recorded as cancelled and the exit code is 130.
func TestRunCancelled(t *testing.T) {
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			s := newSandbox(t)
			s.pipeline(t, "steps:\n  nap:\n    run: |\n      touch started\n      sleep 30\n  after:\n    needs: nap\n    run: echo never\n")
			ctx, cancel := context.WithTimeout(context.Background(), testLimit)
			defer cancel()
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan result, 1)
			go func() {
				done <- s.runCtx(t, runCtx, "run", "-C", s.dir, "--sandbox", "off", "--grace", "100ms", "-o", output)
			}()
			waitFile(t, ctx, filepath.Join(s.dir, "started"))
			stop()
			var r result
			select {
			case r = <-done:
			case <-ctx.Done():
				t.Fatalf("run still going %v after its context was cancelled", testLimit)
			}
			if r.code != ExitCancelled {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, ExitCancelled, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout, "never") {
				t.Errorf("a step after the cancellation ran:\n%s", r.stdout)
			}
			if output == "text" && !strings.Contains(r.stdout, "run #1 was cancelled") {
				t.Errorf("summary does not say the run was cancelled:\n%s", r.stdout)
			}
			if output == "json" {
				events := parseEvents(t, r.stdout)
				if last := events[len(events)-1]; last.Event != "run_finished" || last.Run.Status != "cancelled" {
					t.Errorf("last event = %+v, want run_finished with status cancelled", last)
				}
			}
			runs := s.run(t, "runs", "-o", "json")
			if !strings.Contains(runs.stdout, `"status":"cancelled"`) {
				t.Errorf("run not recorded as cancelled: %s", runs.stdout)
			}
		})
	}
}

// waitFile waits until path exists.
func waitFile(tb testing.TB, ctx context.Context, path string) {
	tb.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("%s never appeared", path)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestRunResume fixes a failed step between two runs: --resume runs only
// what did not succeed, as attempt 2 of the same run, and a third --resume
// finds nothing to do.
func TestRunResume(t *testing.T) {
	s := newSandbox(t)
	s.pipeline(t, `steps:
  first:
    run: echo "first ran"
  flip:
    needs: first
    run: test -f fixed && echo "flip ran"
`)
	if r := s.runPipeline(t); r.code != ExitFailed {
		t.Fatalf("first run: exit code %d, want %d; stderr: %s", r.code, ExitFailed, r.stderr)
	}
	writeFile(t, filepath.Join(s.dir, "fixed"), "")
	r := s.runPipeline(t, "--resume")
	if r.code != ExitOK {
		t.Fatalf("resume: exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	got := normalize(r.stdout, s.dir)
	for _, want := range []string{"run #N · 2 steps · attempt 2", "▶ flip (attempt 2)", "flip  │ flip ran", "run #N succeeded in <dur> · 2 success"} {
		if !strings.Contains(got, want) {
			t.Errorf("resume output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "first ran") {
		t.Errorf("resume ran a step that had succeeded:\n%s", got)
	}
	r = s.runPipeline(t, "--resume")
	if r.code != ExitOK || !strings.Contains(r.stdout, "nothing to resume: run #1 succeeded") {
		t.Errorf("second resume: exit code %d, stdout %q; want 0 and nothing to resume", r.code, r.stdout)
	}
	if logs := s.run(t, "logs", "1", "flip", "--all-attempts"); !strings.Contains(logs.stdout, "(attempt 2, success)") {
		t.Errorf("logs of the resumed step:\n%s", logs.stdout)
	}
}
