package executortest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/slipway-ci/slipway/internal/executor"
)

func (s *suite) testName(t *testing.T) {
	t.Parallel()
	if s.newExecutor(t).Name() == "" {
		t.Error("Name() is empty")
	}
}

// testExitCodes: the main process's exit status is Exit.Code.
func (s *suite) testExitCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 1, 3, 255} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			job, out := s.newJob(t, fmt.Sprintf("echo before; exit %d", code))
			exit := s.run(t, s.newExecutor(t), job, out)
			if want := (executor.Exit{Code: code}); !sameEnd(exit, want) {
				t.Errorf("exit %+v, want %+v", exit, want)
			}
			if exit.Success() != (code == 0) {
				t.Errorf("Success() = %v for code %d", exit.Success(), code)
			}
			if exit.Duration <= 0 {
				t.Errorf("Duration %v, want > 0", exit.Duration)
			}
			if got := out.String(); got != "before\n" {
				t.Errorf("output %q", got)
			}
		})
	}
}

// testKilledBySignal: a step killed by a signal is not a success and says so.
func (s *suite) testKilledBySignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig  string
		num  int
		name string
	}{{"KILL", 9, "killed"}, {"TERM", 15, "terminated"}} {
		t.Run(tc.sig, func(t *testing.T) {
			t.Parallel()
			job, out := s.newJob(t, "kill -"+tc.sig+" $$; sleep 60")
			exit := s.run(t, s.newExecutor(t), job, out)
			if want := s.killedBy(tc.name, tc.num); !sameEnd(exit, want) {
				t.Errorf("exit %+v, want %+v", exit, want)
			}
			if exit.Success() {
				t.Error("Success() for a killed step")
			}
		})
	}
}

// testMissingShell: an interpreter that does not exist is the executor's
// failure, reported by Start.
func (s *suite) testMissingShell(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"/nonexistent/slipway-shell", "slipway-no-such-shell"} {
		job, _ := s.newJob(t, "exit 0")
		job.Shell = []string{shell, "-c"}
		p, err := s.newExecutor(t).Start(context.Background(), job)
		if err == nil {
			exit, werr := p.Wait(context.Background())
			t.Fatalf("shell %q: Start succeeded (then Wait: %+v, %v)", shell, exit, werr)
		}
		if !errors.Is(err, executor.ErrExecutor) {
			t.Errorf("shell %q: error %v does not wrap ErrExecutor", shell, err)
		}
	}
}
