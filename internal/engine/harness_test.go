package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/cache"
	"github.com/slipway-ci/slipway/internal/cas"
	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/executor"
	"github.com/slipway-ci/slipway/internal/executor/local"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/store/sqlite"
)

// harness is an engine on a temporary state dir, running specs in a
// temporary checkout with the real local executor.
type harness struct {
	t       testing.TB
	e       *Engine
	root    string
	secrets map[string]string
	change  change.Info
	quar    *quality.Quarantine
	opts    Options
	hostEnv map[string]string
}

func newHarness(t testing.TB, actions ...action.Action) *harness {
	t.Helper()
	state := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(state, "slipway.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := cas.Open(filepath.Join(state, "cas"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, root: t.TempDir(), hostEnv: map[string]string{},
		change: change.Info{Root: "", BaseRule: change.RuleNoGit},
		opts:   Options{Parallel: 4, StepTimeout: time.Minute, RunTimeout: 5 * time.Minute, Grace: 2 * time.Second, Sandbox: "off"}}
	h.e = &Engine{
		Store: db, Blobs: blobs, Cache: cache.NewLocal(db.CacheIndex(), blobs),
		Executors: map[string]executor.Executor{"local": local.New(local.Options{})},
		Actions:   action.NewRegistry(actions...), StateDir: state, CacheMAC: []byte("0123456789abcdef0123456789abcdef"),
		Hidden: []string{state}, BaseEnv: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LANG=C.UTF-8"},
		LookupEnv: func(k string) (string, bool) { v, ok := h.hostEnv[k]; return v, ok },
	}
	h.change.Root = h.root
	return h
}

func (h *harness) write(rel, content string) {
	h.t.Helper()
	p := filepath.Join(h.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) read(rel string) string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.root, rel))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// count is how many lines a step appended to a ledger file.
func (h *harness) count(rel string) int {
	b, err := os.ReadFile(filepath.Join(h.root, rel))
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

// run runs spec and returns the result; obs may be nil.
func (h *harness) run(ctx context.Context, spec string, obs Observer) *Result {
	h.t.Helper()
	return h.runAs(ctx, spec, obs, nil)
}

func (h *harness) runAs(ctx context.Context, spec string, obs Observer, resume *store.Run) *Result {
	h.t.Helper()
	s, err := pipeline.Parse(".slipway.yaml", []byte(spec), h.e.Actions)
	if err != nil {
		h.t.Fatal(err)
	}
	run := resume
	if run == nil {
		run = &store.Run{Status: store.Queued, Attempt: 1, Dir: h.root, SpecDigest: s.Digest, CreatedAt: time.Now()}
		if err := h.e.Store.Runs().Create(ctx, run); err != nil {
			h.t.Fatal(err)
		}
	} else {
		run.Attempt++
	}
	res, err := h.e.Run(ctx, run, &Request{Plan: s.Plan(), Change: h.change, Root: h.root, Secrets: h.secrets,
		Quarantine: h.quar, Resume: resume != nil, Observer: obs, Options: h.opts})
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func step(res *Result, name string) *store.Step {
	for _, s := range res.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (h *harness) wantStatus(res *Result, want map[string]store.Status) {
	h.t.Helper()
	for name, st := range want {
		s := step(res, name)
		if s == nil {
			h.t.Errorf("no step %s", name)
			continue
		}
		if s.Status != st {
			h.t.Errorf("step %s: %s (%s), want %s", name, s.Status, s.Reason, st)
		}
	}
}

// logOf returns the stored log of a step's last attempt.
func (h *harness) logOf(res *Result, name string) string {
	h.t.Helper()
	atts, err := h.e.Store.Runs().Attempts(context.Background(), res.Run.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	var last *store.Attempt
	for _, a := range atts {
		if a.Step == name && (last == nil || a.Number > last.Number) {
			last = a
		}
	}
	if last == nil {
		h.t.Fatalf("no attempt of %s", name)
	}
	b, err := os.ReadFile(filepath.Join(h.e.StateDir, last.LogPath))
	if err != nil && last.LogSize == 0 {
		return ""
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// recorder is an Observer that keeps everything, for assertions.
type recorder struct {
	mu      sync.Mutex
	lines   map[string][]string
	notices []string
	started []string
}

func newRecorder() *recorder { return &recorder{lines: map[string][]string{}} }

func (r *recorder) RunStarted(*store.Run, []*store.Step) {}
func (r *recorder) StepStarted(step string, attempt int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, step)
}
func (r *recorder) StepLog(step string, line []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines[step] = append(r.lines[step], string(line))
}
func (r *recorder) StepFinished(*store.Step, time.Duration) {}
func (r *recorder) Notice(step, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, step+": "+msg)
}
func (r *recorder) RunFinished(*store.Run, []*store.Step) {}
