// Package storetest is the contract suite every store implementation passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
)

// Open returns a new, empty store for one test.
type Open func(t *testing.T) store.Store

// Run runs the contract suite.
func Run(t *testing.T, open Open) {
	t.Run("RunLifecycle", func(t *testing.T) { testRunLifecycle(t, open(t)) })
	t.Run("ListFilters", func(t *testing.T) { testListFilters(t, open(t)) })
	t.Run("DeleteCascades", func(t *testing.T) { testDelete(t, open(t)) })
	t.Run("TestResults", func(t *testing.T) { testResults(t, open(t)) })
	t.Run("CacheIndex", func(t *testing.T) { testCacheIndex(t, open(t)) })
	t.Run("ConcurrentSaves", func(t *testing.T) { testConcurrent(t, open(t)) })
	runArtifacts(t, open)
	runScans(t, open)
	runDeployments(t, open)
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func newRun(t testing.TB, s store.Store, mutate func(*store.Run)) *store.Run {
	t.Helper()
	r := &store.Run{Status: store.Running, Attempt: 1, Dir: "/src", SpecFile: ".slipway.yaml",
		SpecDigest: "d1", Commit: "c1", CreatedAt: t0, StartedAt: t0}
	if mutate != nil {
		mutate(r)
	}
	if err := s.Runs().Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func testRunLifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	r1 := newRun(t, s, nil)
	r2 := newRun(t, s, nil)
	if r1.ID == 0 || r2.ID <= r1.ID {
		t.Fatalf("ids %d, %d: want increasing, non-zero", r1.ID, r2.ID)
	}
	step := &store.Step{RunID: r1.ID, Name: "build", Index: 0, Status: store.Running, Attempts: 1, RunAttempt: 1, StartedAt: t0}
	att := &store.Attempt{RunID: r1.ID, Step: "build", Number: 1, RunAttempt: 1, Status: store.Running,
		Executor: "local", Ref: `{"pgid":1}`, LogPath: "logs/1/build.1.log", StartedAt: t0}
	if err := s.Runs().Save(ctx, step, att); err != nil {
		t.Fatal(err)
	}
	step.Status, step.ExitCode, step.Outputs, step.FinishedAt = store.Failure, 2, "sha256:abc", t0.Add(time.Second)
	att.Status, att.ExitCode, att.LogSize, att.FinishedAt = store.Failure, 2, 42, t0.Add(time.Second)
	r1.Status, r1.FinishedAt, r1.Error = store.Failure, t0.Add(2*time.Second), "build failed"
	if err := s.Runs().Save(ctx, step, att, r1); err != nil {
		t.Fatal(err)
	}
	got, err := s.Runs().Get(ctx, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.Failure || got.Error != "build failed" || !got.FinishedAt.Equal(r1.FinishedAt) || got.Commit != "c1" {
		t.Errorf("run = %+v", got)
	}
	steps, err := s.Runs().Steps(ctx, r1.ID)
	if err != nil || len(steps) != 1 {
		t.Fatalf("steps = %v, %v", steps, err)
	}
	if st := steps[0]; st.Status != store.Failure || st.ExitCode != 2 || st.Outputs != "sha256:abc" {
		t.Errorf("step = %+v", st)
	}
	atts, err := s.Runs().Attempts(ctx, r1.ID)
	if err != nil || len(atts) != 1 || atts[0].LogSize != 42 || atts[0].Ref != `{"pgid":1}` {
		t.Fatalf("attempts = %+v, %v", atts, err)
	}
	if _, err := s.Runs().Get(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(9999) = %v, want ErrNotFound", err)
	}
	digests, err := s.Runs().OutputDigests(ctx)
	if err != nil || len(digests) != 1 || digests[0] != "sha256:abc" {
		t.Errorf("OutputDigests = %v, %v", digests, err)
	}
}

func testListFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newRun(t, s, func(r *store.Run) { r.Commit = "aaa"; r.Status = store.Success })
	b := newRun(t, s, func(r *store.Run) { r.Commit = "bbb"; r.Group = "deploy"; r.CreatedAt = t0.Add(time.Hour) })
	c := newRun(t, s, func(r *store.Run) { r.Commit = "aaa"; r.SpecDigest = "d2"; r.CreatedAt = t0.Add(2 * time.Hour) })
	tests := []struct {
		f    store.RunFilter
		want []int64
	}{
		{store.RunFilter{}, []int64{c.ID, b.ID, a.ID}},
		{store.RunFilter{Commit: "aaa"}, []int64{c.ID, a.ID}},
		{store.RunFilter{Commit: "aaa", SpecDigest: "d1"}, []int64{a.ID}},
		{store.RunFilter{Status: []store.Status{store.Running}}, []int64{c.ID, b.ID}},
		{store.RunFilter{Group: "deploy"}, []int64{b.ID}},
		{store.RunFilter{Before: t0.Add(90 * time.Minute)}, []int64{b.ID, a.ID}},
		{store.RunFilter{Limit: 1}, []int64{c.ID}},
	}
	for i, tt := range tests {
		got, err := s.Runs().List(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
			t.Errorf("%d: List(%+v) = %v, want %v", i, tt.f, ids, tt.want)
		}
	}
}

func testDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := newRun(t, s, nil)
	keep := newRun(t, s, nil)
	for _, run := range []*store.Run{r, keep} {
		err := s.Runs().Save(ctx, &store.Step{RunID: run.ID, Name: "a", Status: store.Success, Outputs: fmt.Sprint("d", run.ID)},
			&store.Attempt{RunID: run.ID, Step: "a", Number: 1, Status: store.Success},
			store.TestResults{{RunID: run.ID, Step: "a", Attempt: 1, Suite: "s", Name: "T", Outcome: "passed"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Runs().Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Runs().Get(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted run still there: %v", err)
	}
	if steps, _ := s.Runs().Steps(ctx, r.ID); len(steps) != 0 {
		t.Errorf("steps of a deleted run remain: %v", steps)
	}
	if atts, _ := s.Runs().Attempts(ctx, r.ID); len(atts) != 0 {
		t.Errorf("attempts of a deleted run remain")
	}
	if res, _ := s.Tests().Results(ctx, store.TestFilter{RunID: r.ID}); len(res) != 0 {
		t.Errorf("test results of a deleted run remain")
	}
	if d, _ := s.Runs().OutputDigests(ctx); fmt.Sprint(d) != fmt.Sprint([]string{fmt.Sprint("d", keep.ID)}) {
		t.Errorf("OutputDigests after delete = %v", d)
	}
}

func testResults(t *testing.T, s store.Store) {
	ctx := context.Background()
	r1 := newRun(t, s, func(r *store.Run) { r.Commit = "x" })
	r2 := newRun(t, s, func(r *store.Run) { r.Commit = "y"; r.CreatedAt = t0.Add(time.Hour) })
	err := s.Runs().Save(ctx,
		store.TestResults{
			{RunID: r1.ID, Step: "t", Attempt: 1, Commit: "x", Suite: "p", Name: "TestA", Outcome: "failed", Duration: 3 * time.Millisecond, Message: "boom"},
			{RunID: r1.ID, Step: "t", Attempt: 2, Commit: "x", Suite: "p", Name: "TestA", Outcome: "passed", Quarantined: true},
		},
		store.TestResults{{RunID: r2.ID, Step: "t", Attempt: 1, Commit: "y", Suite: "p", Name: "TestA", Outcome: "passed"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Tests().Results(ctx, store.TestFilter{Commit: "x"})
	if err != nil || len(got) != 2 {
		t.Fatalf("Results(commit x) = %v, %v", got, err)
	}
	if got[0].Outcome != "failed" || got[0].Duration != 3*time.Millisecond || got[0].Message != "boom" || !got[1].Quarantined {
		t.Errorf("results = %+v", got)
	}
	if got, _ := s.Tests().Results(ctx, store.TestFilter{Since: t0.Add(time.Minute)}); len(got) != 1 || got[0].RunID != r2.ID {
		t.Errorf("Results(since) = %+v", got)
	}
	if got, _ := s.Tests().Results(ctx, store.TestFilter{RunID: r2.ID}); len(got) != 1 {
		t.Errorf("Results(run) = %+v", got)
	}
}

func testCacheIndex(t *testing.T, s store.Store) {
	ctx := context.Background()
	ci := s.CacheIndex()
	if _, err := ci.Get(ctx, "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(missing) = %v", err)
	}
	for i, k := range []string{"k1", "k2", "k3"} {
		at := t0.Add(time.Duration(i) * time.Minute)
		if err := ci.Put(ctx, &store.CacheEntry{Key: k, Step: "build", Outputs: "o" + k, Log: "l" + k, Size: int64(10 * (i + 1)), CreatedAt: at, LastUsed: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ci.Touch(ctx, "k1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ci.Touch(ctx, "nope", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Touch(missing) = %v", err)
	}
	e, err := ci.Get(ctx, "k1")
	if err != nil || e.Hits != 1 || !e.LastUsed.Equal(t0.Add(time.Hour)) || e.Outputs != "ok1" || e.Size != 10 {
		t.Fatalf("Get(k1) = %+v, %v", e, err)
	}
	list, err := ci.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range list {
		keys = append(keys, e.Key)
	}
	if fmt.Sprint(keys) != "[k2 k3 k1]" {
		t.Errorf("LRU order = %v, want [k2 k3 k1]", keys)
	}
	if err := ci.Delete(ctx, "k2", "k3"); err != nil {
		t.Fatal(err)
	}
	if list, _ := ci.List(ctx); len(list) != 1 {
		t.Errorf("after delete: %d entries", len(list))
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := newRun(t, s, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("s%02d", i)
			errs <- s.Runs().Save(ctx, &store.Step{RunID: r.ID, Name: name, Index: i, Status: store.Success},
				&store.Attempt{RunID: r.ID, Step: name, Number: 1, Status: store.Success})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	steps, err := s.Runs().Steps(ctx, r.ID)
	if err != nil || len(steps) != 50 {
		t.Fatalf("%d steps, %v", len(steps), err)
	}
}
