// Package executortest is the contract test suite every executor must pass:
// output order and volume, exit codes and signals, working directory,
// environment, stdin, cancellation (SIGTERM, then SIGKILL after the grace
// period, grandchildren included), background processes that outlive the
// step, concurrency, executor errors and Reap.
//
// An executor's tests call Run once per configuration:
//
//	func TestContract(t *testing.T) {
//		executortest.Run(t, func(t *testing.T) executor.Executor {
//			return local.New(local.Options{})
//		})
//	}
//
// Jobs run /bin/sh scripts using common POSIX tools (sleep, yes, head, env,
// kill). Nothing depends on timing: the suite waits for markers in the
// output and for a FIFO every process of the job holds to be released, each
// with a deadline of a minute, far beyond what a correct executor needs.
package executortest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/executor"
)

// Option adapts the suite to an executor's legitimate differences.
type Option func(*config)

type config struct {
	mode           executor.SandboxMode
	signalsAsCodes bool
	staleRef       func(t testing.TB, pid int) string
}

// WithSandbox runs every job in the given sandbox mode, with the job's
// directory as its only writable path.
func WithSandbox(mode executor.SandboxMode) Option {
	return func(c *config) { c.mode = mode }
}

// WithSignalsAsCodes says the executor reports a step killed by signal N as
// exit code 128+N with no Signal, as a shell would, instead of Code -1.
func WithSignalsAsCodes() Option {
	return func(c *config) { c.signalsAsCodes = true }
}

// WithStaleRef lets the suite check that Reap spares a process that reused
// a job's identifier: f returns the Ref a job would have left if pid (an
// unrelated, running process leading its own process group) had taken its
// identifier after the job ended. Without it that subtest is skipped.
func WithStaleRef(f func(t testing.TB, pid int) string) Option {
	return func(c *config) { c.staleRef = f }
}

type suite struct {
	newExecutor func(t *testing.T) executor.Executor
	config
}

// Run runs the contract suite. newExecutor is called by each subtest (and
// twice by those that simulate a restart of slipway). t must not be a
// parallel test: the Env subtest sets variables in the test process.
func Run(t *testing.T, newExecutor func(t *testing.T) executor.Executor, opts ...Option) {
	s := &suite{newExecutor: newExecutor}
	for _, o := range opts {
		o(&s.config)
	}
	// Sequential: they change the process environment or measure memory.
	t.Run("Env", s.testEnv)
	t.Run("LargeOutput", s.testLargeOutput)
	t.Run("Concurrent", s.testConcurrent)
	// Parallel.
	t.Run("Name", s.testName)
	t.Run("OutputOrder", s.testOutputOrder)
	t.Run("ExitCodes", s.testExitCodes)
	t.Run("KilledBySignal", s.testKilledBySignal)
	t.Run("Dir", s.testDir)
	t.Run("Stdin", s.testStdin)
	t.Run("CancelTerm", s.testCancelTerm)
	t.Run("CancelKill", s.testCancelKill)
	t.Run("CanceledBeforeWait", s.testCanceledBeforeWait)
	t.Run("BackgroundHoldsOutput", s.testBackgroundHoldsOutput)
	t.Run("MissingShell", s.testMissingShell)
	t.Run("ReapRunning", s.testReapRunning)
	t.Run("ReapStale", s.testReapStale)
	t.Run("ReapGarbage", s.testReapGarbage)
	t.Run("ReapFinished", s.testReapFinished)
}

const (
	// limit bounds every wait; a correct executor needs milliseconds.
	limit = time.Minute
	// jobPath is the PATH jobs get.
	jobPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// newJob returns a job running script with /bin/sh in a fresh directory,
// writing to a checking recorder.
func (s *suite) newJob(t *testing.T, script string) (*executor.Job, *recorder) {
	t.Helper()
	dir := t.TempDir()
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	out := newRecorder(t)
	return &executor.Job{
		ID:      t.Name(),
		Shell:   []string{"/bin/sh", "-c"},
		Script:  script,
		Dir:     dir,
		Env:     []string{"PATH=" + jobPath, "HOME=" + dir, "LC_ALL=C"},
		Output:  out,
		Grace:   limit,
		Sandbox: executor.Sandbox{Mode: s.mode, Writable: []string{dir}},
	}, out
}

// start starts job, failing the test if it cannot.
func start(t *testing.T, e executor.Executor, job *executor.Job) executor.Process {
	t.Helper()
	p, err := e.Start(context.Background(), job)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return p
}

// wait calls p.Wait(ctx) and fails the test if it does not return within
// limit after ctx is done, or if it returns an error.
func wait(t *testing.T, ctx context.Context, p executor.Process, out *recorder) executor.Exit {
	t.Helper()
	type result struct {
		exit executor.Exit
		err  error
	}
	done := make(chan result, 1)
	go func() {
		exit, err := p.Wait(ctx)
		done <- result{exit, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		select {
		case r = <-done:
		case <-time.After(limit):
			t.Fatalf("Wait did not return %v after its context ended", limit)
		}
	}
	out.close()
	if r.err != nil {
		t.Fatalf("Wait: %v (output %q)", r.err, out.String())
	}
	return r.exit
}

// run starts job and waits for it with a deadline of limit.
func (s *suite) run(t *testing.T, e executor.Executor, job *executor.Job, out *recorder) executor.Exit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	exit := wait(t, ctx, start(t, e, job), out)
	if exit.Canceled {
		t.Fatalf("job did not end within %v; output %q", limit, out.String())
	}
	return exit
}

// killedBy is the Exit of a job whose main process died of sig.
func (s *suite) killedBy(sig string, num int) executor.Exit {
	if s.signalsAsCodes {
		return executor.Exit{Code: 128 + num}
	}
	return executor.Exit{Code: -1, Signal: sig}
}

// sameEnd compares the fields of Exit that do not depend on timing.
func sameEnd(got, want executor.Exit) bool {
	return got.Code == want.Code && got.Signal == want.Signal && got.Canceled == want.Canceled
}
