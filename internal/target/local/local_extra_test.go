package local

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/target/local/supervisor"
	"github.com/slipway-ci/slipway/internal/testtool"
)

var fastWorkload = target.Workload{
	Readiness: target.Probe{Path: "/healthz", Interval: 100 * time.Millisecond},
	StopGrace: 3 * time.Second,
}

// desired is one version of hello as the whole slot.
func desired(service string, v target.Version, n int, w target.Workload) target.Desired {
	v.Replicas = n
	return target.Desired{Service: service, Env: "test", Versions: []target.Version{v},
		Route: target.Route{Stable: v.Name}, Workload: w}
}

// applied applies d, waits until it is ready and removes it when the test ends.
func applied(t *testing.T, tg *Target, d target.Desired) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := tg.Remove(cctx, d.Service, d.Env); err != nil && !errors.Is(err, target.ErrUnknownSlot) {
			t.Errorf("Remove: %v", err)
		}
	})
	if err := tg.Apply(ctx, d); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := tg.WaitReady(ctx, d.Service, d.Env, d.Versions[0].Name, d.Versions[0].Replicas); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
}

func readSlot(t *testing.T, dir, service string) slotFile {
	t.Helper()
	p := slotPath(dir, service, "test")
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", p, st.Mode().Perm())
	}
	b, _ := os.ReadFile(p)
	var f slotFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func digestMismatchRefused(t *testing.T, w *world) {
	tg := w.open(t, t.TempDir(), func(o *Options) {
		o.Fetch = func(ctx context.Context, repo, _ string) (v1.Image, error) {
			return w.Fetch(ctx, repo, w.versions[1].Digest) // a registry lying about v1
		}
	})
	err := tg.Apply(context.Background(), desired("liar", w.versions[0], 1, fastWorkload))
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("Apply = %v, want ErrDigestMismatch", err)
	}
	if _, err := tg.Status(context.Background(), "liar", "test"); !errors.Is(err, target.ErrUnknownSlot) {
		t.Errorf("Status after a refused Apply = %v, want ErrUnknownSlot", err)
	}
}

func concurrentAppliesExtractOnce(t *testing.T, w *world) {
	var fetches atomic.Int32
	dir := t.TempDir()
	tg := w.open(t, dir, func(o *Options) {
		o.Fetch = func(ctx context.Context, repo, digest string) (v1.Image, error) {
			fetches.Add(1)
			return w.Fetch(ctx, repo, digest)
		}
	})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { applied(t, tg, desired("svc"+strconv.Itoa(i), w.versions[0], 1, fastWorkload)) })
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("4 concurrent Applies of one digest fetched %d times, want 1", n)
	}
	h := strings.TrimPrefix(w.versions[0].Digest, "sha256:")
	if _, err := os.Stat(filepath.Join(dir, "bin", h, "hello")); err != nil {
		t.Errorf("binary not cached: %v", err)
	}
}

func slotFileHoldsIdentitiesNotEnviron(t *testing.T, w *world) {
	const secret = "s3cr3t-value-9f8e7d"
	dir := t.TempDir()
	tg := w.open(t, dir)
	wl := fastWorkload
	wl.Environ = []string{"API_TOKEN=" + secret}
	applied(t, tg, desired("secretive", w.versions[0], 2, wl))
	st, err := tg.Status(context.Background(), "secretive", "test")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(st.Endpoint + "/env?name=API_TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close() //nolint:errcheck
	if string(body) != secret {
		t.Fatalf("replica sees API_TOKEN=%q, want the Environ value", body)
	}
	f := readSlot(t, dir, "secretive")
	if "http://"+f.Address != st.Endpoint || f.Route.Stable != "v1" || len(f.Versions) != 1 || len(f.Replicas) != 2 {
		t.Errorf("slot file = %+v, want the endpoint, route, version and 2 records", f)
	}
	for _, r := range f.Replicas {
		if !procAlive(r.PID, r.StartTime) {
			t.Errorf("record %+v names no running process", r)
		}
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(p, filepath.Join(dir, "bin")) {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
				t.Errorf("%s holds the secret", p)
			}
		}
		return nil
	})
}

func memoryLimitApplied(t *testing.T, w *world) {
	dir := t.TempDir()
	tg := w.open(t, dir)
	wl := fastWorkload
	wl.MemoryBytes, wl.CPUMillis = 64<<20, 500
	d := desired("limited", w.versions[0], 1, wl)
	err := tg.Apply(context.Background(), d)
	if errors.Is(err, supervisor.ErrCgroupsUnavailable) {
		_ = tg.Remove(context.Background(), "limited", "test")
		if testtool.Required("cgroup-v1") {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	applied(t, tg, d)
	recs := readSlot(t, dir, "limited").Replicas
	if len(recs) != 1 {
		t.Fatalf("records %+v", recs)
	}
	found := false
	for _, cg := range recs[0].Cgroups {
		if b, err := os.ReadFile(filepath.Join(cg, "memory.limit_in_bytes")); err == nil {
			found = true
			if strings.TrimSpace(string(b)) != strconv.Itoa(64<<20) {
				t.Errorf("%s/memory.limit_in_bytes = %s", cg, b)
			}
			procs, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
			if !strings.Contains(string(procs), strconv.Itoa(recs[0].PID)) {
				t.Errorf("%s/cgroup.procs = %q, want pid %d", cg, procs, recs[0].PID)
			}
		}
	}
	if !found {
		t.Errorf("no v1 memory cgroup in %v", recs[0].Cgroups)
	}
}

func listenAddressAndMetrics(t *testing.T, w *world) {
	tg := w.open(t, t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() //nolint:errcheck
	wl := fastWorkload
	wl.Listen = addr
	applied(t, tg, desired("listening", w.versions[0], 1, wl))
	st, err := tg.Status(context.Background(), "listening", "test")
	if err != nil || st.Endpoint != "http://"+addr {
		t.Fatalf("Status = %+v, %v; want endpoint on %s", st, err, addr)
	}
	for _, path := range []string{"/", MetricsPath} {
		resp, err := http.Get(st.Endpoint + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close() //nolint:errcheck
		if path == MetricsPath && !strings.Contains(string(b), `slipway_router_requests_total{code="200",env="test",service="listening",version="v1"} 1`) {
			t.Errorf("metrics lack the request:\n%s", b)
		}
	}
}
