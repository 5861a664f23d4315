package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/executor"
	"github.com/slipway-ci/slipway/internal/executor/executortest"
)

// testLimit bounds every wait in these tests; it is never reached.
const testLimit = time.Minute

func TestMain(m *testing.M) {
	// The sandbox tests run this binary as a step (see helper_test.go).
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain(os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

func TestContract(t *testing.T) {
	executortest.Run(t, func(*testing.T) executor.Executor { return New(Options{Bwrap: "-"}) },
		executortest.WithStaleRef(staleRef))
}

func TestContractSandbox(t *testing.T) {
	bwrap := requireSandbox(t).bwrap
	executortest.Run(t, func(*testing.T) executor.Executor { return New(Options{Bwrap: bwrap}) },
		executortest.WithSandbox(executor.SandboxOn),
		executortest.WithSignalsAsCodes(),
		executortest.WithStaleRef(staleRef))
}

// staleRef is the Ref of a job whose leader had pid before pid was reused:
// same pid, earlier start.
func staleRef(t testing.TB, pid int) string {
	t.Helper()
	st, err := readStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	return ref{PGID: pid, Start: st.start - 1, Boot: bootID(), Pipe: 1}.String()
}

// requireSandbox returns an executor that can sandbox, or skips the test
// when bwrap is not installed, unless SLIPWAY_TEST_REQUIRE lists "bwrap".
// An installed bwrap that cannot build a sandbox fails the test.
func requireSandbox(t testing.TB) *Executor {
	t.Helper()
	e := New(Options{})
	if e.bwrap == "" {
		if strings.Contains(os.Getenv("SLIPWAY_TEST_REQUIRE"), "bwrap") {
			t.Fatalf("SLIPWAY_TEST_REQUIRE has bwrap: %v", e.bwrapErr)
		}
		t.Skipf("sandbox tests need bwrap: %v", e.bwrapErr)
	}
	if err := e.CheckSandbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// testJob returns a job running script with /bin/sh in a fresh directory.
func testJob(t testing.TB, script string) (*executor.Job, *strings.Builder) {
	t.Helper()
	dir := t.TempDir()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	out := &strings.Builder{}
	return &executor.Job{
		ID:      t.Name(),
		Shell:   []string{"/bin/sh", "-c"},
		Script:  script,
		Dir:     dir,
		Env:     []string{"PATH=/usr/bin:/bin", "HOME=" + dir},
		Output:  out,
		Grace:   testLimit,
		Sandbox: executor.Sandbox{Writable: []string{dir}},
	}, out
}

// runJob runs job on e to the end.
func runJob(t testing.TB, e *Executor, job *executor.Job) (executor.Exit, error) {
	t.Helper()
	p, err := e.Start(context.Background(), job)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testLimit)
	defer cancel()
	return p.Wait(ctx)
}

func TestStartErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		bwrap  string
		modify func(*executor.Job)
		want   string
	}{
		{"no shell", "-", func(j *executor.Job) { j.Shell = nil }, "no shell"},
		{"relative dir", "-", func(j *executor.Job) { j.Dir = "rel" }, "not absolute"},
		{"missing dir", "-", func(j *executor.Job) { j.Dir = "/nonexistent/dir" }, "no such file"},
		{"dir is a file", "-", func(j *executor.Job) { j.Dir = file }, "not a directory"},
		{"env without =", "-", func(j *executor.Job) { j.Env = append(j.Env, "JUNK") }, `"JUNK" is not KEY=value`},
		{"env with empty key", "-", func(j *executor.Job) { j.Env = append(j.Env, "=x") }, "not KEY=value"},
		{"shell not executable", "-", func(j *executor.Job) { j.Shell = []string{file} }, "not an executable"},
		{"shell not on job PATH", "-", func(j *executor.Job) { j.Shell = []string{"go"} }, `"go" not found in the job's PATH`},
		{"sandboxing disabled", "-", func(j *executor.Job) { j.Sandbox.Mode = executor.SandboxOn }, "sandboxing is disabled"},
		{"bwrap missing", "/nonexistent/bwrap", func(j *executor.Job) { j.Sandbox.Mode = executor.SandboxStrict }, "/nonexistent/bwrap"},
		{"writable missing", "/nonexistent/bwrap", func(j *executor.Job) {
			j.Sandbox.Mode = executor.SandboxOn
			j.Sandbox.Writable = []string{"/nonexistent/w"}
		}, "writable path"},
		{"writable relative", "/nonexistent/bwrap", func(j *executor.Job) {
			j.Sandbox.Mode = executor.SandboxOn
			j.Sandbox.Writable = []string{"w"}
		}, `"w" is not absolute`},
		{"hide root", "/nonexistent/bwrap", func(j *executor.Job) {
			j.Sandbox.Mode = executor.SandboxOn
			j.Sandbox.Hidden = []string{"/"}
		}, "cannot hide the root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job, _ := testJob(t, "exit 0")
			tc.modify(job)
			p, err := New(Options{Bwrap: tc.bwrap}).Start(context.Background(), job)
			if err == nil {
				p.Wait(context.Background())
				t.Fatal("Start succeeded")
			}
			if !errors.Is(err, executor.ErrExecutor) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want ErrExecutor mentioning %q", err, tc.want)
			}
		})
	}
}

func TestStartCanceledContext(t *testing.T) {
	job, _ := testJob(t, "exit 0")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(Options{}).Start(ctx, job); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with a canceled context: %v", err)
	}
}

// TestShellFromJobPath: a bare shell name is looked up in the job's PATH,
// relative entries against Dir.
func TestShellFromJobPath(t *testing.T) {
	job, out := testJob(t, "echo from myshell")
	bin := filepath.Join(job.Dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "myshell"), []byte("#!/bin/sh\nexec /bin/sh \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	job.Shell = []string{"myshell", "-c"}
	job.Env = []string{"PATH=/nonexistent:bin"}
	exit, err := runJob(t, New(Options{Bwrap: "-"}), job)
	if err != nil || !exit.Success() || out.String() != "from myshell\n" {
		t.Errorf("exit %+v, err %v, output %q", exit, err, out.String())
	}
}

// TestNilEnv: a nil Env is an empty environment, not slipway's.
func TestNilEnv(t *testing.T) {
	job, out := testJob(t, "/usr/bin/env")
	job.Env = nil
	exit, err := runJob(t, New(Options{Bwrap: "-"}), job)
	if err != nil || !exit.Success() {
		t.Fatalf("exit %+v, err %v", exit, err)
	}
	for line := range strings.Lines(out.String()) {
		if k, _, _ := strings.Cut(line, "="); k != "PWD" && k != "SHLVL" && k != "_" {
			t.Errorf("unexpected variable %q", line)
		}
	}
}

func TestWaitTwice(t *testing.T) {
	job, _ := testJob(t, "exit 0")
	p, err := New(Options{}).Start(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(context.Background()); err == nil {
		t.Error("second Wait succeeded")
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("disk full")
}

// TestOutputWriteError: a failing Output is an executor error, and the
// step still runs to its end (it is not blocked or killed by SIGPIPE).
func TestOutputWriteError(t *testing.T) {
	job, _ := testJob(t, "i=0; while [ $i -lt 1000 ]; do echo line $i; i=$((i+1)); done; exit 3")
	w := &failingWriter{}
	job.Output = w
	exit, err := runJob(t, New(Options{}), job)
	if !errors.Is(err, executor.ErrExecutor) || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %v, want ErrExecutor with the write error", err)
	}
	if exit.Code != 3 || w.n != 1 {
		t.Errorf("exit %+v after %d writes, want code 3 after 1 write", exit, w.n)
	}
}

func TestCheckSandbox(t *testing.T) {
	if New(Options{Bwrap: "-"}).SandboxAvailable() {
		t.Error("Bwrap \"-\": sandbox available")
	}
	e := New(Options{Bwrap: "/nonexistent/bwrap"})
	if err := e.CheckSandbox(context.Background()); err == nil {
		t.Error("missing bwrap: sandbox available")
	}
	if !requireSandbox(t).SandboxAvailable() {
		t.Error("bwrap installed: sandbox unavailable")
	}
}

// lockedBuffer is an Output a test can read while the job runs.
type lockedBuffer struct {
	mu    sync.Mutex
	b     strings.Builder
	wrote chan struct{}
}

func newLockedBuffer() *lockedBuffer { return &lockedBuffer{wrote: make(chan struct{}, 1)} }

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	select {
	case l.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// await waits until the output contains marker.
func (l *lockedBuffer) await(t testing.TB, marker string) {
	t.Helper()
	deadline := time.After(testLimit)
	for !strings.Contains(l.String(), marker) {
		select {
		case <-l.wrote:
		case <-deadline:
			t.Fatalf("output has no %q: %q", marker, l.String())
		}
	}
}
