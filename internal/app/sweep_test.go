package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/executor"
	"github.com/slipway-ci/slipway/internal/store"
)

// startJob starts script with the app's local executor, in a session of
// its own as for a step, and returns the process and its output.
func startJob(tb testing.TB, a *App, script string) (executor.Process, *syncBuffer) {
	tb.Helper()
	out := &syncBuffer{}
	p, err := a.Local.Start(context.Background(), &executor.Job{
		ID: tb.Name(), Shell: []string{"/bin/sh", "-c"}, Script: script, Dir: tb.TempDir(),
		Env: []string{"PATH=/usr/bin:/bin"}, Output: out, Grace: testLimit,
	})
	if err != nil {
		tb.Fatalf("start %q: %v", script, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		p.Wait(ctx) //nolint:errcheck // ends it if a test stopped early; Wait twice is refused
	})
	return p, out
}

// waitExit waits for a process the test expects to end by itself (reaped
// by a sweep); ending it here instead is reported as Canceled.
func waitExit(tb testing.TB, p executor.Process) executor.Exit {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testLimit)
	defer cancel()
	exit, err := p.Wait(ctx)
	if err != nil {
		tb.Fatalf("Wait: %v", err)
	}
	return exit
}

func writeJournal(tb testing.TB, stateDir string, runID int64, entries ...engine.JournalEntry) string {
	tb.Helper()
	var b strings.Builder
	for _, e := range entries {
		line, err := json.Marshal(e)
		if err != nil {
			tb.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteString(`{"step":"torn","attempt":1,"exec`) // a crash mid-append
	path := engine.JournalPath(stateDir, runID)
	writeFile(tb, path, b.String(), 0o600)
	return path
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	runs := a.Store.Runs()
	crashed := &store.Run{Status: store.Running, Attempt: 1, Dir: "/p", PID: 1 << 22, CreatedAt: time.Now()}
	live := &store.Run{Status: store.Running, Attempt: 1, Dir: "/p", PID: os.Getpid(), CreatedAt: time.Now()}
	queued := &store.Run{Status: store.Queued, Attempt: 1, Dir: "/p", CreatedAt: time.Now().Add(-time.Minute)} // not one just starting
	done := &store.Run{Status: store.Failure, Attempt: 1, Dir: "/p", CreatedAt: time.Now(), FinishedAt: time.Now()}
	for _, r := range []*store.Run{crashed, live, queued, done} {
		if err := runs.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	build, _ := startJob(t, a, "exec sleep 60")
	retry, _ := startJob(t, a, "exec sleep 60")
	alive, aliveOut := startJob(t, a, "trap 'echo stopped; exit 0' TERM; echo ready; sleep 60 & wait")
	waitOutput(t, aliveOut, "ready")

	// The crashed run: build ran its first attempt, test failed its first
	// and ran its second, lint finished, deploy never started.
	steps := []*store.Step{
		{RunID: crashed.ID, Name: "build", Index: 0, Status: store.Running, RunAttempt: 1},
		{RunID: crashed.ID, Name: "test", Index: 1, Status: store.Running, Attempts: 1, RunAttempt: 1},
		{RunID: crashed.ID, Name: "lint", Index: 2, Status: store.Success, Attempts: 1, RunAttempt: 1},
		{RunID: crashed.ID, Name: "deploy", Index: 3, Status: store.Queued},
		{RunID: live.ID, Name: "build", Status: store.Running, RunAttempt: 1},
	}
	records := []store.Record{
		&store.Attempt{RunID: crashed.ID, Step: "test", Number: 1, RunAttempt: 1, Status: store.Failure, ExitCode: 1,
			Executor: "local", LogPath: "logs/1/test.1.log"},
		&store.Attempt{RunID: crashed.ID, Step: "lint", Number: 1, RunAttempt: 1, Status: store.Success,
			Executor: "local", LogPath: "logs/1/lint.1.log"},
	}
	for _, s := range steps {
		records = append(records, s)
	}
	if err := runs.Save(ctx, records...); err != nil {
		t.Fatal(err)
	}
	// The lint entry names a process that is long gone: its attempt is
	// final, so its stale ref is never reaped.
	crashedJournal := writeJournal(t, a.Config.StateDir, crashed.ID,
		engine.JournalEntry{Step: "build", Attempt: 1, Executor: "local", Ref: build.Ref()},
		engine.JournalEntry{Step: "test", Attempt: 1, Executor: "local", Ref: `{"pgid":1,"start":1}`},
		engine.JournalEntry{Step: "lint", Attempt: 1, Executor: "local", Ref: "not a ref"},
		engine.JournalEntry{Step: "test", Attempt: 2, Executor: "local", Ref: retry.Ref()},
	)
	liveJournal := writeJournal(t, a.Config.StateDir, live.ID,
		engine.JournalEntry{Step: "build", Attempt: 1, Executor: "local", Ref: alive.Ref()})
	lock, ok, err := a.lockRun(live.ID)
	if err != nil || !ok {
		t.Fatalf("lockRun = %v, %v", ok, err)
	}
	defer lock.Release()

	if err := a.Sweep(ctx); err != nil {
		t.Fatalf("Sweep: %v", err)
	}

	for name, p := range map[string]executor.Process{"build": build, "test attempt 2": retry} {
		if exit := waitExit(t, p); exit.Canceled || exit.Signal != "killed" {
			t.Errorf("%s process: exit %+v, want killed by the sweep", name, exit)
		}
	}
	if exists(t, crashedJournal) {
		t.Error("the crashed run's journal is still there")
	}
	got, err := runs.Get(ctx, crashed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.Interrupted || got.Error == "" || got.FinishedAt.IsZero() {
		t.Errorf("crashed run: status %s, error %q, finished %v; want interrupted with a reason and an end",
			got.Status, got.Error, got.FinishedAt)
	}
	wantSteps := map[string]struct {
		status   store.Status
		attempts int
	}{
		"build":  {store.Interrupted, 1},
		"test":   {store.Interrupted, 2},
		"lint":   {store.Success, 1},
		"deploy": {store.Interrupted, 0},
	}
	gotSteps, err := runs.Steps(ctx, crashed.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range gotSteps {
		w := wantSteps[s.Name]
		if s.Status != w.status || s.Attempts != w.attempts {
			t.Errorf("step %s: %s after %d attempts, want %s after %d", s.Name, s.Status, s.Attempts, w.status, w.attempts)
		}
	}
	wantAttempts := map[string]store.Status{
		"build/1": store.Interrupted, "test/1": store.Failure, "test/2": store.Interrupted, "lint/1": store.Success,
	}
	gotAttempts, err := runs.Attempts(ctx, crashed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotAttempts) != len(wantAttempts) {
		t.Errorf("%d attempts recorded, want %d", len(gotAttempts), len(wantAttempts))
	}
	for _, at := range gotAttempts {
		key := fmt.Sprintf("%s/%d", at.Step, at.Number)
		if at.Status != wantAttempts[key] {
			t.Errorf("attempt %s: %s, want %s", key, at.Status, wantAttempts[key])
		}
		if at.Status == store.Interrupted && (at.Ref == "" || at.Executor != "local" || at.RunAttempt != 1) {
			t.Errorf("interrupted attempt %s: %+v, want its executor, ref and run attempt", key, at)
		}
	}
	if got, _ := runs.Get(ctx, queued.ID); got.Status != store.Interrupted {
		t.Errorf("queued run of a dead slipway: %s, want interrupted", got.Status)
	}
	if got, _ := runs.Get(ctx, done.ID); got.Status != store.Failure {
		t.Errorf("finished run: %s, want failure untouched", got.Status)
	}

	// The live run is left alone: record, journal and process.
	if got, _ := runs.Get(ctx, live.ID); got.Status != store.Running {
		t.Errorf("live run: %s, want running", got.Status)
	}
	if s, _ := runs.Steps(ctx, live.ID); len(s) != 1 || s[0].Status != store.Running {
		t.Errorf("live run's steps: %+v, want build running", s)
	}
	if !exists(t, liveJournal) {
		t.Error("the live run's journal was removed")
	}
	stop, cancel := context.WithCancel(ctx)
	cancel()
	if exit, _ := alive.Wait(stop); !strings.Contains(aliveOut.String(), "stopped") {
		t.Errorf("the live run's process did not survive the sweep: exit %+v, output %q", exit, aliveOut.String())
	}

	// Once its slipway is gone, the next sweep settles it too.
	lock.Release()
	if err := a.Sweep(ctx); err != nil {
		t.Fatalf("second Sweep: %v", err)
	}
	if got, _ := runs.Get(ctx, live.ID); got.Status != store.Interrupted {
		t.Errorf("run after its lock was released: %s, want interrupted", got.Status)
	}
	if exists(t, liveJournal) {
		t.Error("journal of the released run still there")
	}
}

// TestSweepWithoutJournal: a run that died before starting any process
// (or whose journal was lost) is still settled.
func TestSweepWithoutJournal(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	r := &store.Run{Status: store.Running, Attempt: 2, CreatedAt: time.Now()}
	if err := a.Store.Runs().Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.Runs().Save(ctx, &store.Step{RunID: r.ID, Name: "s", Status: store.Running, Attempts: 3}); err != nil {
		t.Fatal(err)
	}
	if err := a.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	steps, err := a.Store.Runs().Steps(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 1 || steps[0].Status != store.Interrupted || steps[0].Attempts != 3 {
		t.Errorf("steps %+v, want s interrupted keeping its 3 attempts", steps)
	}
	if got, _ := a.Store.Runs().Get(ctx, r.ID); got.Status != store.Interrupted {
		t.Errorf("run: %s, want interrupted", got.Status)
	}
}
