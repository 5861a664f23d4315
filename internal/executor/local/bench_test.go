package local

import (
	"context"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/executor"
)

// BenchmarkTrue runs a 200-step DAG of `true`, two steps at a time, and
// reports the wall time and slipway's own CPU time (children excluded) per
// step. "exec" is the floor: plain os/exec of the same command, so "off"
// minus "exec" is the executor's overhead.
func BenchmarkTrue(b *testing.B) {
	const steps, parallel = 200, 2
	dir := b.TempDir()
	job := func(mode executor.SandboxMode) *executor.Job {
		return &executor.Job{
			ID: "bench", Shell: []string{"/bin/sh", "-c"}, Script: "true", Dir: dir,
			Env: []string{"PATH=/usr/bin:/bin"}, Output: io.Discard,
			Sandbox: executor.Sandbox{Mode: mode, Writable: []string{dir}},
		}
	}
	runDAG := func(b *testing.B, step func() error) {
		var before, after syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &before)
		for b.Loop() {
			var wg sync.WaitGroup
			next := make(chan struct{}, steps)
			for range steps {
				next <- struct{}{}
			}
			close(next)
			for range parallel {
				wg.Go(func() {
					for range next {
						if err := step(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		}
		syscall.Getrusage(syscall.RUSAGE_SELF, &after)
		cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*steps), "cpu-ns/step")
	}

	b.Run("exec", func(b *testing.B) {
		runDAG(b, func() error {
			cmd := exec.Command("/bin/sh", "-c", "true")
			cmd.Env, cmd.Dir = []string{"PATH=/usr/bin:/bin"}, dir
			return cmd.Run()
		})
	})
	for _, mode := range []executor.SandboxMode{executor.SandboxOff, executor.SandboxOn} {
		b.Run(mode.String(), func(b *testing.B) {
			e := New(Options{})
			if mode != executor.SandboxOff {
				e = requireSandbox(b)
			}
			runDAG(b, func() error {
				p, err := e.Start(context.Background(), job(mode))
				if err != nil {
					return err
				}
				_, err = p.Wait(context.Background())
				return err
			})
		})
	}
}
