package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ci/slipway/internal/cas"
	"github.com/slipway-ci/slipway/internal/config"
	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/store"
)

// pruneFixture is a state dir with five runs (oldest first, ids 1-5):
//
//	1 success  72h ago   outputs tree t1 (file f1)
//	2 failure  48h ago   outputs t2 (f2)
//	3 success   2h ago   outputs t3 (f3, also in cache entry e2's tree)
//	4 success   1h ago   outputs t4 (f4)
//	5 running 100h ago   outputs t5 (f5), its lock held
//
// two cache entries, e1 (least recently used) and e2, each with a tree,
// a file and a log; and one blob nothing references. Every run has a logs
// dir, a journal and a temp dir.
type pruneFixture struct {
	a     *App
	blobs map[string]cas.Digest
	lock  *fileLock
}

func newPruneFixture(tb testing.TB) *pruneFixture {
	tb.Helper()
	ctx := context.Background()
	f := &pruneFixture{a: newApp(tb), blobs: map[string]cas.Digest{}}
	a := f.a
	tree := func(name string, files map[string]string) {
		dir := tb.TempDir()
		var names []string
		for fname, content := range files {
			writeFile(tb, filepath.Join(dir, fname), content, 0o644)
			names = append(names, fname)
			d, err := cas.FileDigest(filepath.Join(dir, fname))
			if err != nil {
				tb.Fatal(err)
			}
			f.blobs[fname] = d
		}
		d, _, err := a.Blobs.Snapshot(dir, names, nil)
		if err != nil {
			tb.Fatal(err)
		}
		f.blobs[name] = d
	}
	now := time.Now()
	statuses := []store.Status{store.Success, store.Failure, store.Success, store.Success, store.Running}
	ages := []time.Duration{72 * time.Hour, 48 * time.Hour, 2 * time.Hour, time.Hour, 100 * time.Hour}
	for i := range 5 {
		id := i + 1
		files := map[string]string{fmt.Sprintf("f%d", id): fmt.Sprintf("output of run %d", id)}
		if id == 3 {
			files["shared"] = "shared"
		}
		tree(fmt.Sprintf("t%d", id), files)
		r := &store.Run{Status: statuses[i], Attempt: 1, Dir: "/p", CreatedAt: now.Add(-ages[i])}
		if err := a.Store.Runs().Create(ctx, r); err != nil {
			tb.Fatal(err)
		}
		if r.ID != int64(id) {
			tb.Fatalf("run id %d, want %d", r.ID, id)
		}
		err := a.Store.Runs().Save(ctx, &store.Step{RunID: r.ID, Name: "build", Status: statuses[i],
			Attempts: 1, Outputs: string(f.blobs[fmt.Sprintf("t%d", id)])})
		if err != nil {
			tb.Fatal(err)
		}
		writeFile(tb, filepath.Join(a.Config.StateDir, "logs", fmt.Sprint(id), "build.1.log"), "log", 0o600)
		writeFile(tb, engine.JournalPath(a.Config.StateDir, r.ID), "", 0o600)
		if err := os.MkdirAll(filepath.Join(a.Config.StateDir, "tmp", fmt.Sprintf("run-%d-123", id), "1"), 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	lock, ok, err := a.lockRun(5)
	if err != nil || !ok {
		tb.Fatalf("lockRun(5) = %v, %v", ok, err)
	}
	tb.Cleanup(lock.Release)
	f.lock = lock

	for i, e := range []string{"e1", "e2"} {
		files := map[string]string{"c" + e: "cached output " + e}
		if e == "e2" {
			files["shared"] = "shared"
		}
		tree("tree-"+e, files)
		log, err := a.Blobs.PutBytes([]byte("cached log " + e))
		if err != nil {
			tb.Fatal(err)
		}
		f.blobs["log-"+e] = log
		used := now.Add(time.Duration(i-10) * time.Minute)
		err = a.Store.CacheIndex().Put(ctx, &store.CacheEntry{Key: e, Step: "build", Outputs: string(f.blobs["tree-"+e]),
			Log: string(log), Size: 100, CreatedAt: used, LastUsed: used})
		if err != nil {
			tb.Fatal(err)
		}
	}
	orphan, err := a.Blobs.PutBytes([]byte("nobody's"))
	if err != nil {
		tb.Fatal(err)
	}
	f.blobs["orphan"] = orphan
	return f
}

// state is what a prune may have changed.
type pruneState struct {
	Runs, Logs, Journals, Tmp []int64
	CacheKeys                 []string
	Blobs                     []string
}

func (f *pruneFixture) state(tb testing.TB) pruneState {
	tb.Helper()
	ctx := context.Background()
	var s pruneState
	runs, err := f.a.Store.Runs().List(ctx, store.RunFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range runs {
		s.Runs = append(s.Runs, r.ID)
	}
	slices.Sort(s.Runs)
	for id := int64(1); id <= 5; id++ {
		if exists(tb, filepath.Join(f.a.Config.StateDir, "logs", fmt.Sprint(id))) {
			s.Logs = append(s.Logs, id)
		}
		if exists(tb, engine.JournalPath(f.a.Config.StateDir, id)) {
			s.Journals = append(s.Journals, id)
		}
		if exists(tb, filepath.Join(f.a.Config.StateDir, "tmp", fmt.Sprintf("run-%d-123", id))) {
			s.Tmp = append(s.Tmp, id)
		}
	}
	entries, err := f.a.Store.CacheIndex().List(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		s.CacheKeys = append(s.CacheKeys, e.Key)
	}
	for name, d := range f.blobs {
		if f.a.Blobs.Has(d) {
			s.Blobs = append(s.Blobs, name)
		}
	}
	slices.Sort(s.Blobs)
	return s
}

func TestPrune(t *testing.T) {
	all := []int64{1, 2, 3, 4, 5}
	allBlobs := []string{"ce1", "ce2", "f1", "f2", "f3", "f4", "f5", "log-e1", "log-e2", "orphan", "shared",
		"t1", "t2", "t3", "t4", "t5", "tree-e1", "tree-e2"}
	without := func(names ...string) []string {
		return slices.DeleteFunc(slices.Clone(allBlobs), func(n string) bool { return slices.Contains(names, n) })
	}
	noLimit := int64(1 << 40)
	for _, tc := range []struct {
		name      string
		retention config.Retention
		dryRun    bool
		grace     time.Duration
		report    PruneReport
		want      pruneState
	}{
		{
			name:      "nothing to prune but unreferenced content",
			retention: config.Retention{CacheMaxSize: noLimit},
			report:    PruneReport{Blobs: 1, BlobBytes: int64(len("nobody's"))},
			want: pruneState{Runs: all, Logs: all, Journals: all, Tmp: all, CacheKeys: []string{"e1", "e2"},
				Blobs: without("orphan")},
		},
		{
			name:      "max runs",
			retention: config.Retention{MaxRuns: 2, CacheMaxSize: noLimit},
			report:    PruneReport{Runs: []int64{2, 1}, Blobs: 5},
			want: pruneState{Runs: []int64{3, 4, 5}, Logs: []int64{3, 4, 5}, Journals: []int64{3, 4, 5},
				Tmp: []int64{5}, CacheKeys: []string{"e1", "e2"}, Blobs: without("orphan", "t1", "f1", "t2", "f2")},
		},
		{
			name:      "max age",
			retention: config.Retention{MaxAge: 90 * time.Minute, CacheMaxSize: noLimit},
			report:    PruneReport{Runs: []int64{3, 2, 1}, Blobs: 7},
			want: pruneState{Runs: []int64{4, 5}, Logs: []int64{4, 5}, Journals: []int64{4, 5}, Tmp: []int64{5},
				CacheKeys: []string{"e1", "e2"}, Blobs: without("orphan", "t1", "f1", "t2", "f2", "t3", "f3")},
		},
		{
			name:      "cache size",
			retention: config.Retention{CacheMaxSize: 150},
			report:    PruneReport{CacheEntries: 1, Blobs: 4},
			want: pruneState{Runs: all, Logs: all, Journals: all, Tmp: all, CacheKeys: []string{"e2"},
				Blobs: without("orphan", "tree-e1", "ce1", "log-e1")},
		},
		{
			name:      "everything",
			retention: config.Retention{MaxRuns: 1, MaxAge: time.Minute, CacheMaxSize: 0},
			report:    PruneReport{Runs: []int64{4, 3, 2, 1}, CacheEntries: 2, Blobs: 16},
			want: pruneState{Runs: []int64{5}, Logs: []int64{5}, Journals: []int64{5}, Tmp: []int64{5},
				Blobs: []string{"f5", "t5"}},
		},
		{
			name:      "dry run",
			retention: config.Retention{MaxRuns: 1, MaxAge: time.Minute, CacheMaxSize: 150},
			dryRun:    true,
			// A dry run counts the content unreferenced now, not what pruning
			// the runs would orphan.
			report: PruneReport{DryRun: true, Runs: []int64{4, 3, 2, 1}, CacheEntries: 1, Blobs: 1},
			want: pruneState{Runs: all, Logs: all, Journals: all, Tmp: all, CacheKeys: []string{"e1", "e2"},
				Blobs: allBlobs},
		},
		{
			name:      "recent content is spared",
			retention: config.Retention{MaxRuns: 2, CacheMaxSize: noLimit},
			grace:     time.Hour,
			report:    PruneReport{Runs: []int64{2, 1}},
			want: pruneState{Runs: []int64{3, 4, 5}, Logs: []int64{3, 4, 5}, Journals: []int64{3, 4, 5},
				Tmp: []int64{5}, CacheKeys: []string{"e1", "e2"}, Blobs: allBlobs},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newPruneFixture(t)
			if diff := cmp.Diff(pruneState{Runs: all, Logs: all, Journals: all, Tmp: all,
				CacheKeys: []string{"e1", "e2"}, Blobs: allBlobs}, f.state(t)); diff != "" {
				t.Fatalf("fixture (-want +got):\n%s", diff)
			}
			f.a.BlobGrace = tc.grace
			rep, err := f.a.Prune(context.Background(), tc.retention, tc.dryRun)
			if err != nil {
				t.Fatalf("Prune: %v", err)
			}
			if tc.report.BlobBytes == 0 {
				rep.BlobBytes = 0 // checked where the test knows the sizes
			}
			if diff := cmp.Diff(&tc.report, rep); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, f.state(t)); diff != "" {
				t.Errorf("state after prune (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPruneBlobBytes: the report adds up the sizes of what it removed.
func TestPruneBlobBytes(t *testing.T) {
	f := newPruneFixture(t)
	var want int64
	for _, name := range []string{"orphan", "t1", "f1", "t2", "f2"} {
		fi, err := os.Stat(f.a.Blobs.Path(f.blobs[name]))
		if err != nil {
			t.Fatal(err)
		}
		want += fi.Size()
	}
	rep, err := f.a.Prune(context.Background(), config.Retention{MaxRuns: 2, CacheMaxSize: 1 << 40}, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs != 5 || rep.BlobBytes != want {
		t.Errorf("report: %d blobs, %d bytes; want 5, %d", rep.Blobs, rep.BlobBytes, want)
	}
}
