package local

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/target/targettest"
)

// TestMain fails when a test leaves a replica behind.
func TestMain(m *testing.M) { targettest.Main(m) }

// world is a registry holding hello images of several versions.
type world struct {
	*targettest.Images
	versions []target.Version
	crashing target.Version
	unready  target.Version
}

// newWorld pushes hello v1..v3, a crashing "boom" and a "limbo" that never
// passes readiness to a real registry.
func newWorld(tb testing.TB) *world {
	tb.Helper()
	im, vs := targettest.HelloImages(tb, "v1", "v2", "v3")
	return &world{Images: im, versions: vs, crashing: im.Push(tb, "boom", "-exit"), unready: im.Push(tb, "limbo", "-unready")}
}

// open returns a Target over dir fetching from the world, closed when tb
// ends (after the Removes that tests register later).
func (w *world) open(tb testing.TB, dir string, opts ...func(*Options)) *Target {
	tb.Helper()
	tg := w.newTarget(tb, dir, opts...)
	tb.Cleanup(func() { tg.Close() }) //nolint:errcheck
	return tg
}

// newTarget returns a Target over dir fetching from the world.
func (w *world) newTarget(tb testing.TB, dir string, opts ...func(*Options)) *Target {
	tb.Helper()
	o := Options{Dir: dir, Fetch: w.Fetch, Logf: tb.Logf}
	for _, f := range opts {
		f(&o)
	}
	tg, err := New(context.Background(), o)
	if err != nil {
		tb.Fatal(err)
	}
	return tg
}

// pidGone reports whether the process in a "<version> pid=N" body is gone.
func pidGone(tb testing.TB, body string) bool {
	tb.Helper()
	_, p, ok := strings.Cut(body, " pid=")
	if _, err := strconv.Atoi(p); !ok || err != nil {
		tb.Fatalf("body %q has no pid", body)
	}
	b, err := os.ReadFile("/proc/" + p + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}
