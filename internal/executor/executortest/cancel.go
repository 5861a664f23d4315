package executortest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/executor"
)

// testCancelTerm: a canceled step first gets SIGTERM and may clean up
// within the grace period; its background children die too.
func (s *suite) testCancelTerm(t *testing.T) {
	t.Parallel()
	job, out := s.newJob(t, HeldScript(`trap 'echo trapped; exit 7' TERM
sleep 1000 &
echo ready
wait`))
	h := NewHolder(t, job.Dir)
	job.Env = append(job.Env, h.Env())
	p := start(t, s.newExecutor(t), job)
	out.await(t, "ready\n")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	exit := wait(t, ctx, p, out)
	if want := (executor.Exit{Code: 7, Canceled: true}); !sameEnd(exit, want) {
		t.Errorf("exit %+v, want %+v (the TERM trap's status)", exit, want)
	}
	if exit.Success() {
		t.Error("Success() for a canceled step")
	}
	if got := out.String(); got != "ready\ntrapped\n" {
		t.Errorf("output %q: the step did not get SIGTERM before being killed", got)
	}
	h.Released(t)
}

// testCancelKill: a step that ignores SIGTERM is killed after the grace
// period, with its background children.
func (s *suite) testCancelKill(t *testing.T) {
	t.Parallel()
	// Children inherit the ignored SIGTERM: only SIGKILL ends them.
	job, out := s.newJob(t, HeldScript(`trap '' TERM
sleep 1000 &
echo ready
wait`))
	h := NewHolder(t, job.Dir)
	job.Env = append(job.Env, h.Env())
	job.Grace = 100 * time.Millisecond
	p := start(t, s.newExecutor(t), job)
	out.await(t, "ready\n")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	exit := wait(t, ctx, p, out)
	want := s.killedBy("killed", 9)
	want.Canceled = true
	if !sameEnd(exit, want) {
		t.Errorf("exit %+v, want %+v", exit, want)
	}
	h.Released(t)
}

// testCanceledBeforeWait: Wait with a context that is already done stops
// the job at once.
func (s *suite) testCanceledBeforeWait(t *testing.T) {
	t.Parallel()
	job, out := s.newJob(t, HeldScript("echo ready; sleep 1000"))
	h := NewHolder(t, job.Dir)
	job.Env = append(job.Env, h.Env())
	p := start(t, s.newExecutor(t), job)
	out.await(t, "ready\n")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	exit := wait(t, ctx, p, out)
	if !exit.Canceled || exit.Success() {
		t.Errorf("exit %+v, want canceled", exit)
	}
	h.Released(t)
}

// testBackgroundHoldsOutput: when the main process exits while a child
// still holds stdout, Wait returns and the child is killed.
func (s *suite) testBackgroundHoldsOutput(t *testing.T) {
	t.Parallel()
	job, out := s.newJob(t, HeldScript(`sleep 1000 &
echo started
exit 0`))
	h := NewHolder(t, job.Dir)
	job.Env = append(job.Env, h.Env())
	exit := s.run(t, s.newExecutor(t), job, out)
	if !exit.Success() {
		t.Errorf("exit %+v, want success", exit)
	}
	if got := out.String(); !strings.HasPrefix(got, "started\n") {
		t.Errorf("output %q", got)
	}
	h.Released(t)
}
