package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/secrets"
	"github.com/slipway-ci/slipway/internal/store"
)

// ledgerProject writes a pipeline whose steps append their name to a
// ledger outside the project on every execution; "second" fails until
// the flag file exists.
func ledgerProject(tb testing.TB) (project, ledger, flag string) {
	tb.Helper()
	project, outside := tb.TempDir(), tb.TempDir()
	ledger, flag = filepath.Join(outside, "ledger"), filepath.Join(outside, "flag")
	writeFile(tb, filepath.Join(project, ".slipway.yaml"), `steps:
  first:
    run: echo first >> `+ledger+`
  side:
    run: echo side >> `+ledger+`
  second:
    needs: first
    run: |
      echo second >> `+ledger+`
      test -f `+flag+`
  third:
    needs: second
    run: echo third >> `+ledger+`
`, 0o644)
	return project, ledger, flag
}

// executions counts the ledger's lines per step.
func executions(tb testing.TB, ledger string) map[string]int {
	tb.Helper()
	data, err := os.ReadFile(ledger)
	if err != nil {
		tb.Fatal(err)
	}
	n := map[string]int{}
	for _, line := range strings.Fields(string(data)) {
		n[line]++
	}
	return n
}

func statuses(steps []*store.Step) map[string]store.Status {
	m := map[string]store.Status{}
	for _, s := range steps {
		m[s.Name] = s.Status
	}
	return m
}

func TestRunResume(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	project, ledger, flag := ledgerProject(t)
	run := func(resume bool) (*store.Run, map[string]store.Status) {
		t.Helper()
		res, err := a.Run(ctx, RunOptions{Dir: project, Resume: resume, Options: offOptions()})
		if err != nil {
			t.Fatalf("Run(resume %v): %v", resume, err)
		}
		return res.Run, statuses(res.Steps)
	}

	first, st := run(false)
	if first.Status != store.Failure || st["first"] != store.Success || st["second"] != store.Failure {
		t.Fatalf("first run: %s, steps %v; want failure with first ok and second failed", first.Status, st)
	}
	if first.PID != os.Getpid() || first.Dir != project || first.Attempt != 1 {
		t.Errorf("run record: pid %d, dir %s, attempt %d", first.PID, first.Dir, first.Attempt)
	}
	if a.runAlive(first.ID) {
		t.Error("the run's lock is still held after Run returned")
	}
	writeFile(t, flag, "", 0o644)

	resumed, st := run(true)
	if resumed.ID != first.ID || resumed.Attempt != 2 || resumed.Status != store.Success {
		t.Errorf("resumed run #%d attempt %d: %s; want #%d attempt 2 succeeded", resumed.ID, resumed.Attempt,
			resumed.Status, first.ID)
	}
	for _, name := range []string{"first", "side", "second", "third"} {
		if st[name] != store.Success {
			t.Errorf("step %s: %s after resume", name, st[name])
		}
	}
	want := map[string]int{"first": 1, "side": 1, "second": 2, "third": 1}
	if got := executions(t, ledger); !equalCounts(got, want) {
		t.Errorf("executions %v, want %v: a resume runs only what did not succeed", got, want)
	}
	stored, err := a.Store.Runs().Get(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != store.Success || stored.Attempt != 2 || stored.Error != "" {
		t.Errorf("stored run: %s, attempt %d, error %q", stored.Status, stored.Attempt, stored.Error)
	}

	if _, err := a.Run(ctx, RunOptions{Dir: project, Resume: true, Options: offOptions()}); !errors.Is(err, ErrNothingToResume) {
		t.Errorf("resume of a successful run: %v, want ErrNothingToResume", err)
	}
	if got := executions(t, ledger); !equalCounts(got, want) {
		t.Errorf("a refused resume ran steps: %v", got)
	}

	// A plain run after that is a new run that runs everything.
	again, _ := run(false)
	if again.ID == first.ID || again.Attempt != 1 {
		t.Errorf("new run #%d attempt %d, want a new run", again.ID, again.Attempt)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRunResumeNothing(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	project, ledger, _ := ledgerProject(t)
	_, err := a.Run(ctx, RunOptions{Dir: project, Resume: true, Options: offOptions()})
	if !errors.Is(err, ErrNothingToResume) {
		t.Errorf("resume without an earlier run: %v, want ErrNothingToResume", err)
	}
	if exists(t, ledger) {
		t.Error("a refused resume ran steps")
	}
	if runs, _ := a.Store.Runs().List(ctx, store.RunFilter{}); len(runs) != 0 {
		t.Errorf("a refused resume recorded %d runs", len(runs))
	}
}

// TestRunResumeRunning: a run still in progress elsewhere is not resumed.
func TestRunResumeRunning(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	project, _, _ := ledgerProject(t)
	res, err := a.Run(ctx, RunOptions{Dir: project, Options: offOptions()})
	if err != nil {
		t.Fatal(err)
	}
	// Another slipway has taken the run (its lock) and marked it running.
	lock, ok, err := a.lockRun(res.Run.ID)
	if err != nil || !ok {
		t.Fatalf("lockRun = %v, %v", ok, err)
	}
	defer lock.Release()
	res.Run.Status = store.Running
	if err := a.Store.Runs().Save(ctx, res.Run); err != nil {
		t.Fatal(err)
	}
	_, err = a.Run(ctx, RunOptions{Dir: project, Resume: true, Options: offOptions()})
	if err == nil || errors.Is(err, ErrNothingToResume) || !strings.Contains(err.Error(), "still running") {
		t.Errorf("resume of a running run: %v, want a still-running error", err)
	}
	if got, _ := a.Store.Runs().Get(ctx, res.Run.ID); got.Status != store.Running {
		t.Errorf("the running run became %s", got.Status)
	}
}

// TestRunResumeLocked: two `slipway run --resume` started together both
// find the failed run; the one that loses the run lock must leave the
// record to the winner. abandon instead saves the run as cancelled
// ("run #N is being run by another process"), overwriting the winner's
// record; should the winner then die, Sweep (which only settles running
// and queued runs) never reaps its processes.
func TestRunResumeLocked(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	project, _, _ := ledgerProject(t)
	res, err := a.Run(ctx, RunOptions{Dir: project, Options: offOptions()})
	if err != nil {
		t.Fatal(err)
	}
	lock, ok, err := a.lockRun(res.Run.ID)
	if err != nil || !ok {
		t.Fatalf("lockRun = %v, %v", ok, err)
	}
	defer lock.Release()
	if _, err := a.Run(ctx, RunOptions{Dir: project, Resume: true, Options: offOptions()}); err == nil {
		t.Fatal("resume of a locked run succeeded")
	}
	got, err := a.Store.Runs().Get(ctx, res.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != res.Run.Status || got.Attempt != res.Run.Attempt || got.Error != res.Run.Error {
		t.Errorf("the loser rewrote the run: %s attempt %d (%q); want %s attempt %d (%q)", got.Status, got.Attempt,
			got.Error, res.Run.Status, res.Run.Attempt, res.Run.Error)
	}
}

// TestRunWaitsForGroup: a run of a concurrency group waits for the group's
// lock, says so, and is recorded cancelled when it gives up waiting.
func TestRunWaitsForGroup(t *testing.T) {
	a := newApp(t)
	project, ledger, _ := ledgerProject(t)
	spec, err := os.ReadFile(filepath.Join(project, ".slipway.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(project, ".slipway.yaml"), "concurrency: {group: deploy}\n"+string(spec), 0o644)
	held, ok, err := tryLock(a.groupLockPath("deploy"))
	if err != nil || !ok {
		t.Fatalf("tryLock = %v, %v", ok, err)
	}
	defer held.Release()
	ctx, cancel := context.WithCancel(context.Background())
	var notices []string
	_, err = a.Run(ctx, RunOptions{Dir: project, Options: offOptions(), Notice: func(msg string) {
		notices = append(notices, msg)
		cancel()
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], `"deploy"`) {
		t.Errorf("notices %q, want one about waiting for group deploy", notices)
	}
	if exists(t, ledger) {
		t.Error("steps ran without the group's lock")
	}
	runs, err := a.Store.Runs().List(context.Background(), store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != store.Cancelled || runs[0].Error != "cancelled while waiting" ||
		runs[0].Group != "deploy" {
		t.Fatalf("runs %+v, want one cancelled while waiting in group deploy", runs)
	}
	if a.runAlive(runs[0].ID) {
		t.Error("the abandoned run's lock is still held")
	}
}

func TestResolveSecrets(t *testing.T) {
	project := t.TempDir()
	specFile := filepath.Join(project, ".slipway.yaml")
	writeFile(t, specFile, `steps:
  deploy:
    secrets: [API_TOKEN, DB_PASSWORD]
    run: "true"
  other:
    secrets: [API_TOKEN]
    run: "true"
`, 0o644)
	noSecrets := filepath.Join(t.TempDir(), ".slipway.yaml")
	writeFile(t, noSecrets, "steps:\n  a:\n    run: \"true\"\n", 0o644)
	secretsFile := func(t *testing.T, mode os.FileMode) string {
		p := filepath.Join(t.TempDir(), "secrets.yaml")
		writeFile(t, p, "API_TOKEN: from-file\nDB_PASSWORD: |\n  multi\n  line\n", mode)
		return p
	}
	for _, tc := range []struct {
		name    string
		spec    string
		environ []string
		file    func(t *testing.T) string // the secrets file, "" = none
		want    map[string]string
		wantErr func(error) bool
	}{
		{
			name:    "from the environment",
			environ: []string{"SLIPWAY_SECRET_API_TOKEN=tok", "SLIPWAY_SECRET_DB_PASSWORD=pw", "API_TOKEN=not-this"},
			want:    map[string]string{"API_TOKEN": "tok", "DB_PASSWORD": "pw"},
		},
		{
			name:    "missing",
			environ: []string{"SLIPWAY_SECRET_API_TOKEN=tok", "DB_PASSWORD=unprefixed"},
			wantErr: func(err error) bool {
				var me *secrets.MissingError
				return errors.Is(err, secrets.ErrNotSet) && errors.As(err, &me) &&
					strings.Contains(err.Error(), "DB_PASSWORD") && !strings.Contains(err.Error(), "unprefixed")
			},
		},
		{
			name: "from a private file",
			file: func(t *testing.T) string { return secretsFile(t, 0o600) },
			want: map[string]string{"API_TOKEN": "from-file", "DB_PASSWORD": "multi\nline\n"},
		},
		{
			name:    "environment before file",
			environ: []string{"SLIPWAY_SECRET_API_TOKEN=tok"},
			file:    func(t *testing.T) string { return secretsFile(t, 0o600) },
			want:    map[string]string{"API_TOKEN": "tok", "DB_PASSWORD": "multi\nline\n"},
		},
		{
			name: "file readable by others",
			file: func(t *testing.T) string { return secretsFile(t, 0o644) },
			wantErr: func(err error) bool {
				var mode *secrets.ModeError
				return errors.As(err, &mode) && !strings.Contains(err.Error(), "from-file")
			},
		},
		{
			name:    "missing file",
			environ: []string{"SLIPWAY_SECRET_API_TOKEN=tok", "SLIPWAY_SECRET_DB_PASSWORD=pw"},
			file:    func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.yaml") },
			wantErr: func(err error) bool { return errors.Is(err, os.ErrNotExist) },
		},
		{
			name: "no secrets declared: the file is not read",
			spec: noSecrets,
			file: func(t *testing.T) string { return secretsFile(t, 0o644) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t)
			a.Environ = tc.environ
			if tc.file != nil {
				a.Config.SecretsFile = tc.file(t)
			}
			path := specFile
			if tc.spec != "" {
				path = tc.spec
			}
			spec, err := pipeline.Load(path, a.Actions)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.resolveSecrets(context.Background(), spec)
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) {
					t.Fatalf("resolveSecrets = %v, %v; want a different error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveSecrets: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Errorf("resolveSecrets = %q, want %q", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("secret %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestRunRefusesBadSecrets: a missing secret stops the run before any run
// is recorded or any step runs.
func TestRunRefusesBadSecrets(t *testing.T) {
	ctx := context.Background()
	a := newApp(t)
	project, outside := t.TempDir(), t.TempDir()
	ledger := filepath.Join(outside, "ledger")
	writeFile(t, filepath.Join(project, ".slipway.yaml"), `steps:
  free:
    run: echo free >> `+ledger+`
  deploy:
    secrets: [API_TOKEN]
    run: echo deploy >> `+ledger+`
`, 0o644)
	_, err := a.Run(ctx, RunOptions{Dir: project, Options: offOptions()})
	if !errors.Is(err, secrets.ErrNotSet) {
		t.Fatalf("Run = %v, want a missing secret", err)
	}
	if exists(t, ledger) {
		t.Error("steps ran although a secret is missing")
	}
	if runs, _ := a.Store.Runs().List(ctx, store.RunFilter{}); len(runs) != 0 {
		t.Errorf("%d runs recorded", len(runs))
	}
	a.Environ = append(a.Environ, "SLIPWAY_SECRET_API_TOKEN=tok")
	res, err := a.Run(ctx, RunOptions{Dir: project, Options: offOptions()})
	if err != nil || res.Run.Status != store.Success {
		t.Fatalf("Run with the secret set = %v, %v", res, err)
	}
}

// TestRunSpecNotFound: without a spec, Run fails with an error wrapping
// os.ErrNotExist (the CLI reports it as bad input).
func TestRunSpecNotFound(t *testing.T) {
	a := newApp(t)
	_, err := a.Run(context.Background(), RunOptions{Dir: t.TempDir(), Options: offOptions()})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Run without a spec = %v, want os.ErrNotExist", err)
	}
}
