package app

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/cache"
	"github.com/slipway-ci/slipway/internal/config"
	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/registry"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/testtool"
)

// hasEntry reports whether repo holds the entry of key.
func hasEntry(tb testing.TB, repo, key string) bool {
	tb.Helper()
	r, err := name.NewRepository(repo, name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	_, err = remote.Head(r.Tag(cache.RemoteTag(key)))
	if err != nil && !strings.Contains(err.Error(), "404") {
		tb.Fatalf("HEAD %s: %v", key, err)
	}
	return err == nil
}

// cacheApp opens an App on a fresh state dir with the remote cache set.
func cacheApp(tb testing.TB, remote, external string, readOnly bool) *App {
	tb.Helper()
	cfg := config.Default(os.Getenv)
	cfg.StateDir = filepath.Join(tb.TempDir(), "state")
	cfg.Sandbox = "off"
	cfg.CacheRemote, cfg.CacheRemoteReadOnly = remote, readOnly
	cfg.Registry = config.Registry{External: external, Insecure: external != ""}
	return openApp(tb, cfg)
}

// cacheProject is a checkout whose cacheable step "build" appends to ledger
// each time it really runs; "other" is cacheable with an input of its own.
func cacheProject(tb testing.TB, ledger, content string) string {
	tb.Helper()
	dir := tb.TempDir()
	writeFile(tb, filepath.Join(dir, "src.txt"), content, 0o644)
	writeFile(tb, filepath.Join(dir, "other.txt"), "other", 0o644)
	writeFile(tb, filepath.Join(dir, ".slipway.yaml"), `steps:
  build:
    run: |
      echo build >> `+ledger+`
      mkdir -p out && cat src.txt > out/artifact && echo building
    outputs: [out]
    cache: {inputs: [src.txt]}
  other:
    needs: build
    run: cat other.txt out/artifact > other.out
    outputs: [other.out]
    cache: {inputs: [other.txt]}
`, 0o644)
	return dir
}

// noticeLog records an engine's notices.
type noticeLog struct {
	engine.Discard
	mu      sync.Mutex
	notices []string
}

func (n *noticeLog) Notice(step, msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notices = append(n.notices, step+": "+msg)
}

func (n *noticeLog) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.notices...)
}

func cacheOptions() engine.Options {
	o := offOptions()
	o.NoCache = false
	return o
}

func runSteps(tb testing.TB, a *App, dir string, obs engine.Observer) map[string]*store.Step {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*testLimit)
	defer cancel()
	if obs == nil {
		obs = engine.Discard{}
	}
	res, err := a.Run(ctx, RunOptions{Dir: dir, Observer: obs, Options: cacheOptions()})
	if err != nil {
		tb.Fatalf("Run: %v", err)
	}
	if res.Run.Status != store.Success {
		tb.Fatalf("run %s: %s", res.Run.Status, res.Run.Error)
	}
	steps := map[string]*store.Step{}
	for _, s := range res.Steps {
		steps[s.Name] = s
	}
	return steps
}

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// Two state dirs (two machines) share one registry: what A built, B
// restores without running it; B, read-only, pushes nothing.
func TestRemoteCacheSharedBetweenStateDirs(t *testing.T) {
	reg := testtool.StartRegistry(t)
	repo := reg.Host + "/team/cache"
	ledger := filepath.Join(t.TempDir(), "ledger")

	a := cacheApp(t, repo, "", false)
	first := runSteps(t, a, cacheProject(t, ledger, "v1"), nil)
	build := first["build"]
	if build.CacheHit || build.CacheKey == "" || build.Outputs == "" {
		t.Fatalf("state dir A: build %+v, want a cacheable miss", build)
	}
	if !hasEntry(t, repo, build.CacheKey) || !hasEntry(t, repo, first["other"].CacheKey) {
		t.Fatal("state dir A pushed no entry to the remote cache")
	}

	b := cacheApp(t, repo, "", true)
	project := cacheProject(t, ledger, "v1")
	writeFile(t, filepath.Join(project, "other.txt"), "changed", 0o644) // a miss in B
	second := runSteps(t, b, project, nil)
	got := second["build"]
	if !got.CacheHit || got.CacheKey != build.CacheKey || got.Outputs != build.Outputs {
		t.Fatalf("state dir B: build %+v, want a hit with A's key and outputs", got)
	}
	if n := executions(t, ledger)["build"]; n != 1 {
		t.Errorf("build ran %d times, want once (in A)", n)
	}
	if s := readFile(t, filepath.Join(project, "out", "artifact")); s != "v1" {
		t.Errorf("restored out/artifact = %q, want v1", s)
	}
	if s := readFile(t, filepath.Join(project, "other.out")); s != "changedv1" {
		t.Errorf("other.out = %q: the step after the hit did not see the restored outputs", s)
	}
	if other := second["other"]; other.CacheHit || hasEntry(t, repo, other.CacheKey) {
		t.Errorf("read-only state dir B: other hit %v, pushed %v; want a miss kept locally",
			other.CacheHit, hasEntry(t, repo, other.CacheKey))
	}
	if _, err := b.Cache.Get(context.Background(), build.CacheKey); err != nil {
		t.Errorf("the remote hit is not in B's local cache: %v", err)
	}
}

// refusingAddr is a loopback address nothing listens on.
func refusingAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ln.Close()
	return ln.Addr().String()
}

// silentAddr accepts connections and never answers.
func silentAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// A remote that is down costs one notice; the run succeeds on the local
// cache, and the next run hits locally.
func TestRemoteCacheDown(t *testing.T) {
	defer func(d time.Duration) { remoteHeaderTimeout = d }(remoteHeaderTimeout)
	remoteHeaderTimeout = 200 * time.Millisecond
	for name, addr := range map[string]func(testing.TB) string{"refused": refusingAddr, "silent": silentAddr} {
		t.Run(name, func(t *testing.T) {
			dead := addr(t)
			ledger := filepath.Join(t.TempDir(), "ledger")
			a := cacheApp(t, dead+"/slipway/cache", "", false)
			project := cacheProject(t, ledger, "v1")

			obs := &noticeLog{}
			start := time.Now()
			steps := runSteps(t, a, project, obs)
			if steps["build"].CacheHit || steps["other"].CacheHit {
				t.Error("a cache hit from nowhere")
			}
			notices := obs.all()
			t.Logf("notices: %q", notices)
			if len(notices) != 1 || !strings.Contains(notices[0], "remote cache unavailable") || !strings.Contains(notices[0], dead) {
				t.Errorf("notices %q, want one saying the remote cache %s is unavailable", notices, dead)
			}
			if d := time.Since(start); d > testLimit {
				t.Errorf("the run took %v with the remote down", d)
			}

			again := runSteps(t, a, project, obs)
			if !again["build"].CacheHit || !again["other"].CacheHit {
				t.Error("the local cache did not serve the second run")
			}
			if n := executions(t, ledger)["build"]; n != 1 {
				t.Errorf("build ran %d times, want 1", n)
			}
		})
	}
}

// cache-remote: registry puts entries in slipway/cache of the registry
// artifacts go to, and nothing reaches the registry until a lookup misses.
func TestRemoteCacheInRegistry(t *testing.T) {
	t.Run("external", func(t *testing.T) {
		reg := testtool.StartRegistry(t)
		a := cacheApp(t, config.CacheRemoteRegistry, reg.Host+"/team", false)
		project := t.TempDir()
		writeFile(t, filepath.Join(project, ".slipway.yaml"), "steps:\n  plain:\n    run: echo hi\n", 0o644)
		runSteps(t, a, project, nil)
		if n := reg.Requests.Load(); n != 0 {
			t.Fatalf("%d registry requests for a pipeline with nothing cacheable", n)
		}
		steps := runSteps(t, a, cacheProject(t, filepath.Join(t.TempDir(), "ledger"), "v1"), nil)
		if !hasEntry(t, reg.Host+"/team/"+CacheRepo, steps["build"].CacheKey) {
			t.Errorf("no entry in %s/team/%s", reg.Host, CacheRepo)
		}
	})
	t.Run("embedded", func(t *testing.T) {
		t.Setenv("OTEL_TRACES_EXPORTER", "none")
		a := cacheApp(t, "embedded", "", false)
		project := t.TempDir()
		writeFile(t, filepath.Join(project, ".slipway.yaml"), "steps:\n  plain:\n    run: echo hi\n", 0o644)
		runSteps(t, a, project, nil)
		if _, ok, err := registry.Running(a.Config.StateDir); ok || err != nil {
			t.Fatalf("embedded registry running (%v, %v) after a run with nothing cacheable", ok, err)
		}
		steps := runSteps(t, a, cacheProject(t, filepath.Join(t.TempDir(), "ledger"), "v1"), nil)
		info, ok, err := registry.Running(a.Config.StateDir)
		if !ok || err != nil {
			t.Fatalf("embedded registry not running after a cache miss (%v)", err)
		}
		if !hasEntry(t, info.Addr+"/"+CacheRepo, steps["build"].CacheKey) {
			t.Errorf("no entry in the embedded registry's %s", CacheRepo)
		}
	})
}
