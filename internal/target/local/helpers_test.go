package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/artifact"
	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/testtool"
)

// TestMain checks that no test leaves a replica behind.
func TestMain(m *testing.M) {
	code := m.Run()
	if helloDir != "" {
		os.RemoveAll(helloDir) //nolint:errcheck
	}
	if code == 0 && leftChildren() {
		code = 1
	}
	os.Exit(code)
}

var (
	helloOnce sync.Once
	helloDir  string
	helloErr  error
)

// helloBinary builds testdata/hello once per test binary (static, no cgo).
func helloBinary(tb testing.TB) string {
	tb.Helper()
	helloOnce.Do(func() {
		if helloDir, helloErr = os.MkdirTemp("", "slipway-hello-"); helloErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(helloDir, "hello"), "./testdata/hello")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			helloErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if helloErr != nil {
		tb.Fatal(helloErr)
	}
	return filepath.Join(helloDir, "hello")
}

// world is a registry holding hello images of several versions.
type world struct {
	reg      *testtool.Registry
	versions []target.Version
	crashing target.Version
}

// newWorld pushes hello v1..v3 and a crashing "boom" to a real registry.
func newWorld(tb testing.TB) *world {
	tb.Helper()
	w := &world{reg: testtool.StartRegistry(tb)}
	for _, v := range []string{"v1", "v2", "v3"} {
		w.versions = append(w.versions, w.push(tb, v, "-version", v))
	}
	w.crashing = w.push(tb, "boom", "-exit")
	return w
}

// push builds an image of hello run with args and pushes it by digest.
func (w *world) push(tb testing.TB, version string, args ...string) target.Version {
	tb.Helper()
	img, err := artifact.BuildImage(artifact.ImageOptions{Binary: helloBinary(tb),
		Entrypoint: append([]string{"/app/hello"}, args...)})
	if err != nil {
		tb.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	ref, err := name.NewDigest(w.reg.Host+"/hello@"+d.String(), name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		tb.Fatal(err)
	}
	return target.Version{Name: version, Repo: "hello", Digest: d.String()}
}

// fetch pulls repo@digest from the world's registry.
func (w *world) fetch(ctx context.Context, repo, digest string) (v1.Image, error) {
	ref, err := name.NewDigest(w.reg.Host+"/"+repo+"@"+digest, name.Insecure)
	if err != nil {
		return nil, err
	}
	return remote.Image(ref, remote.WithContext(ctx))
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
	o := Options{Dir: dir, Fetch: w.fetch, Logf: tb.Logf}
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

// leftChildren reports child processes still present, zombies included.
func leftChildren() bool {
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	left := false
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		if fields := strings.Fields(string(b[i+1:])); i > 0 && len(fields) > 1 && fields[1] == self {
			fmt.Fprintf(os.Stderr, "left child process: %s\n", b)
			left = true
		}
	}
	return left
}
