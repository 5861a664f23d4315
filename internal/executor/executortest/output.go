package executortest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/slipway-ci/slipway/internal/executor"
)

// testOutputOrder: stdout and stderr arrive combined and in order.
func (s *suite) testOutputOrder(t *testing.T) {
	t.Parallel()
	const n = 200
	job, out := s.newJob(t, fmt.Sprintf(`i=0
while [ $i -lt %d ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done`, n))
	exit := s.run(t, s.newExecutor(t), job, out)
	if !exit.Success() {
		t.Fatalf("exit %+v, output %q", exit, out.String())
	}
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "out %d\nerr %d\n", i, i)
	}
	if got := out.String(); got != want.String() {
		t.Errorf("output out of order or incomplete:\n got %.300q\nwant %.300q", got, want.String())
	}
}

// testLargeOutput: 50 MiB go through Output intact, without the executor
// keeping them in memory.
func (s *suite) testLargeOutput(t *testing.T) {
	const size = 50 << 20
	job, out := s.newJob(t, fmt.Sprintf("yes abcdefghijklmnopqrstuvwxyz | head -c %d", size))
	pw := &patternWriter{pattern: []byte("abcdefghijklmnopqrstuvwxyz\n")}
	t.Cleanup(func() { pw.check(t) })
	job.Output = pw

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	exit := s.run(t, s.newExecutor(t), job, out)
	pw.close()
	runtime.ReadMemStats(&after)

	if !exit.Success() {
		t.Fatalf("exit %+v", exit)
	}
	if pw.bad != nil || pw.n != size {
		t.Errorf("got %d bytes (want %d), first difference: %v", pw.n, size, pw.bad)
	}
	// Allocation during the run, not live memory: generous, but an
	// executor that buffers the output allocates at least its size.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Errorf("allocated %d MiB while copying %d MiB of output", alloc>>20, size>>20)
	}
}

// testConcurrent: 20 jobs at once on one executor keep separate outputs.
func (s *suite) testConcurrent(t *testing.T) {
	const jobs, lines = 20, 300
	e := s.newExecutor(t)
	type run struct {
		job *executor.Job
		out *recorder
		p   executor.Process
	}
	runs := make([]run, jobs)
	for i := range runs {
		job, out := s.newJob(t, fmt.Sprintf(`i=0
while [ $i -lt %d ]; do echo "job %d line $i"; i=$((i+1)); done`, lines, i))
		job.ID = fmt.Sprintf("%s/%d", t.Name(), i)
		runs[i] = run{job: job, out: out}
	}
	// Start from many goroutines too: the Executor must be safe for that.
	var wg sync.WaitGroup
	errs := make([]error, jobs)
	for i := range runs {
		wg.Go(func() { runs[i].p, errs[i] = e.Start(context.Background(), runs[i].job) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Start job %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	exits := make([]executor.Exit, jobs)
	for i := range runs {
		wg.Go(func() { exits[i], errs[i] = runs[i].p.Wait(ctx) })
	}
	wg.Wait()
	for i, r := range runs {
		r.out.close()
		if errs[i] != nil || !exits[i].Success() {
			t.Errorf("job %d: exit %+v, err %v", i, exits[i], errs[i])
			continue
		}
		var want strings.Builder
		for l := range lines {
			fmt.Fprintf(&want, "job %d line %d\n", i, l)
		}
		if got := r.out.String(); got != want.String() {
			t.Errorf("job %d output:\n got %.200q\nwant %.200q", i, got, want.String())
		}
	}
}
