package targettest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// helloPkg is the test workload, relative to the module root: it serves
// "<version> pid=<pid>" on / and 200 on /healthz at 127.0.0.1:$PORT (flags:
// -version, -exit, -error-rate).
const helloPkg = "internal/target/local/testdata/hello"

var (
	helloOnce sync.Once
	helloDir  string
	helloErr  error
)

// HelloBinary builds the hello workload once per test binary (static, no
// cgo) and returns its path; Main deletes it.
func HelloBinary(tb testing.TB) string {
	tb.Helper()
	helloOnce.Do(func() {
		// The module root, wherever the test's package directory is.
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil || strings.TrimSpace(string(out)) == "" {
			helloErr = fmt.Errorf("go env GOMOD: %v (%q)", err, out)
			return
		}
		if helloDir, helloErr = os.MkdirTemp("", "slipway-hello-"); helloErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(helloDir, "hello"), "./"+helloPkg)
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
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

// Main is TestMain for a package whose tests run hello replicas: it runs
// them, deletes the binary HelloBinary built, and fails when a replica
// outlived its test.
func Main(m *testing.M) {
	code := m.Run()
	if helloDir != "" {
		os.RemoveAll(helloDir) //nolint:errcheck // a temp dir
	}
	if code == 0 && testtool.LeftChildren() {
		code = 1
	}
	os.Exit(code)
}

// Images is a real registry (until the test ends) holding hello images
// pushed by digest to the repository "hello".
type Images struct {
	Registry *testtool.Registry
}

// NewImages starts an empty registry for hello images.
func NewImages(tb testing.TB) *Images {
	tb.Helper()
	return &Images{Registry: testtool.StartRegistry(tb)}
}

// HelloImages pushes one hello image per version, each run with
// -version <version>, and returns them in order.
func HelloImages(tb testing.TB, versions ...string) (*Images, []target.Version) {
	tb.Helper()
	im := NewImages(tb)
	vs := make([]target.Version, 0, len(versions))
	for _, v := range versions {
		vs = append(vs, im.Push(tb, v, "-version", v))
	}
	return im, vs
}

// Push builds an image running hello with args, pushes it by digest and
// returns it as a version labelled version (Replicas 0).
func (im *Images) Push(tb testing.TB, version string, args ...string) target.Version {
	tb.Helper()
	img, err := artifact.BuildImage(artifact.ImageOptions{Binary: HelloBinary(tb),
		Entrypoint: append([]string{"/app/hello"}, args...)})
	if err != nil {
		tb.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	ref, err := name.NewDigest(im.Registry.Host+"/hello@"+d.String(), name.Insecure)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		tb.Fatal(err)
	}
	return target.Version{Name: version, Repo: "hello", Digest: d.String()}
}

// Fetch pulls repo@digest from the registry: a local target's
// Options.Fetch.
func (im *Images) Fetch(ctx context.Context, repo, digest string) (v1.Image, error) {
	ref, err := name.NewDigest(im.Registry.Host+"/"+repo+"@"+digest, name.Insecure)
	if err != nil {
		return nil, err
	}
	return remote.Image(ref, remote.WithContext(ctx))
}
