package executortest

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/slipway-ci/slipway/internal/executor"
)

// testReapRunning: Reap from a fresh executor (slipway restarted) kills a
// running job, children included.
func (s *suite) testReapRunning(t *testing.T) {
	t.Parallel()
	job, out := s.newJob(t, HeldScript(`sleep 1000 &
echo ready
wait`))
	h := NewHolder(t, job.Dir)
	job.Env = append(job.Env, h.Env())
	p := start(t, s.newExecutor(t), job)
	out.await(t, "ready\n")

	if err := s.newExecutor(t).Reap(context.Background(), p.Ref()); err != nil {
		t.Errorf("Reap: %v", err)
	}
	h.Released(t) // before Wait: only Reap can have killed them

	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if exit := wait(t, ctx, p, out); exit.Canceled || exit.Success() {
		t.Errorf("exit %+v after Reap, want killed and not canceled", exit)
	}
}

// testReapStale: Reap spares a process that took the identifier of a
// finished job. The victim's exit status tells whether Reap signaled it:
// the first fatal signal sent to a process decides its status.
func (s *suite) testReapStale(t *testing.T) {
	t.Parallel()
	if s.staleRef == nil {
		t.Skip("no WithStaleRef option")
	}
	victim := exec.Command("sleep", "1000")
	victim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := victim.Start(); err != nil {
		t.Fatalf("start unrelated process: %v", err)
	}
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })

	if err := s.newExecutor(t).Reap(context.Background(), s.staleRef(t, victim.Process.Pid)); err != nil {
		t.Errorf("Reap of a stale ref: %v", err)
	}
	if err := victim.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatalf("signal the unrelated process: %v", err)
	}
	victim.Wait()
	ws := victim.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGUSR1 {
		t.Errorf("Reap of a stale ref signaled an unrelated process: it ended with %v", victim.ProcessState)
	}
}

// testReapGarbage: a ref that the executor never produced is an error.
func (s *suite) testReapGarbage(t *testing.T) {
	t.Parallel()
	e := s.newExecutor(t)
	for _, ref := range []string{"", "garbage", "{", "\x00\xff", strings.Repeat("[", 10000)} {
		if err := e.Reap(context.Background(), ref); err == nil {
			t.Errorf("Reap(%.20q) = nil, want an error", ref)
		}
	}
}

// testReapFinished: Reap of a job that ended is a no-op.
func (s *suite) testReapFinished(t *testing.T) {
	t.Parallel()
	job, out := s.newJob(t, "exit 0")
	e := s.newExecutor(t)
	p := start(t, e, job)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if exit := wait(t, ctx, p, out); !exit.Success() {
		t.Fatalf("exit %+v", exit)
	}
	// The same executor, and a fresh one as after a restart.
	for _, e := range []executor.Executor{e, s.newExecutor(t)} {
		if err := e.Reap(context.Background(), p.Ref()); err != nil {
			t.Errorf("Reap of a finished job: %v", err)
		}
	}
}
