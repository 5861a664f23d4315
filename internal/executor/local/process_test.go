package local

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/executor"
	"github.com/slipway-ci/slipway/internal/executor/executortest"
)

// TestEscapedProcess: a background process that left the job's group
// (setsid) and keeps stdout open does not hold Wait beyond the drain
// bound. Unsandboxed it survives (documented); sandboxed it dies with the
// PID namespace.
func TestEscapedProcess(t *testing.T) {
	for _, mode := range []executor.SandboxMode{executor.SandboxOff, executor.SandboxOn} {
		t.Run(mode.String(), func(t *testing.T) {
			e := New(Options{Bwrap: "-"})
			if mode != executor.SandboxOff {
				e = requireSandbox(t)
			}
			// The main shell exits only once the child has left the group.
			job, out := testJob(t, executortest.HeldScript(`mkfifo escaped
setsid sh -c 'echo "pid $$"; echo > escaped; exec sleep 1000' &
read x < escaped`))
			h := executortest.NewHolder(t, job.Dir)
			job.Env = append(job.Env, h.Env())
			job.Sandbox.Mode = mode
			exit, err := runJob(t, e, job)
			if err != nil || !exit.Success() {
				t.Fatalf("exit %+v, err %v", exit, err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(out.String(), "pid ")))
			if err != nil {
				t.Fatalf("output %q: %v", out.String(), err)
			}
			if mode == executor.SandboxOff {
				// Its pid is a host pid: it is ours to clean up.
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Errorf("escaped process %d is not running: %v", pid, err)
				}
			}
			h.Released(t)
		})
	}
}

// TestCancelDuringSetup: canceling a sandboxed job before bwrap has even
// reported its pid neither hangs nor waits for the grace period.
func TestCancelDuringSetup(t *testing.T) {
	e := requireSandbox(t)
	for range 5 {
		job, _ := testJob(t, "sleep 1000")
		job.Sandbox.Mode = executor.SandboxOn
		job.Grace = time.Hour
		p, err := e.Start(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan executor.Exit, 1)
		go func() {
			exit, _ := p.Wait(ctx)
			done <- exit
		}()
		select {
		case exit := <-done:
			if !exit.Canceled {
				t.Errorf("exit %+v, want canceled", exit)
			}
		case <-time.After(testLimit):
			t.Fatal("Wait waited for the grace period")
		}
	}
}

// TestNoGoroutineLeak: once Wait returns, nothing of the job remains in
// slipway (the reaping goroutine may take a moment to finish exiting).
func TestNoGoroutineLeak(t *testing.T) {
	modes := []executor.SandboxMode{executor.SandboxOff}
	e := New(Options{})
	if e.SandboxAvailable() {
		modes = append(modes, executor.SandboxOn)
	}
	before := runtime.NumGoroutine()
	for _, mode := range modes {
		for _, script := range []string{"exit 0", "sleep 1000 & echo x", "kill -9 $$"} {
			job, _ := testJob(t, script)
			job.Sandbox.Mode = mode
			if _, err := runJob(t, e, job); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(testLimit)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}
