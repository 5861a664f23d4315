package image

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/slipway-ci/slipway/internal/testtool"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-ci/slipway/internal/artifact"
	"github.com/slipway-ci/slipway/internal/scan/osv"
)

// newRegistry starts a real distribution registry and returns its host:port.
func newRegistry(t testing.TB) string { return testtool.StartRegistry(t).Host }

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// testBinary compiles, once per test process, a tiny static Go program
// for linux/amd64 and returns its path.
func testBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "slipway-image-test-"); binErr != nil {
			return
		}
		src := filepath.Join(binDir, "src")
		if binErr = os.MkdirAll(src, 0o755); binErr != nil {
			return
		}
		files := map[string]string{
			"go.mod":  "module example.com/imgdemo\n\ngo 1.22\n",
			"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"demo\") }\n",
		}
		for n, data := range files {
			if binErr = os.WriteFile(filepath.Join(src, n), []byte(data), 0o644); binErr != nil {
				return
			}
		}
		binPath = filepath.Join(binDir, "demo")
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", binPath, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOOS=linux", "GOARCH=amd64", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// stdlibVersion is the toolchain version the test binary records, as OSV
// writes it, and the next patch release.
func stdlibVersion(t testing.TB) (version, next string) {
	t.Helper()
	bi, err := buildinfo.ReadFile(testBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := goSemver(bi.GoVersion)
	if !ok {
		t.Fatalf("toolchain version %q", bi.GoVersion)
	}
	parts := strings.SplitN(strings.SplitN(v, "-", 2)[0], ".", 3)
	patch, err := strconv.Atoi(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	return v, fmt.Sprintf("%s.%s.%d", parts[0], parts[1], patch+1)
}

// stdlibRecordID is the synthetic record written for the test toolchain.
const stdlibRecordID = "GO-9999-1001"

// newDB builds a database from testdata/osv plus a synthetic record that
// makes the test binary's standard library vulnerable.
func newDB(t testing.TB) string {
	t.Helper()
	src := t.TempDir()
	ents, err := os.ReadDir("testdata/osv")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata/osv", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(src, e.Name()), b)
	}
	_, next := stdlibVersion(t)
	rec, err := json.Marshal(map[string]any{
		"schema_version": "1.6.0", "id": stdlibRecordID, "modified": "2025-03-01T00:00:00Z",
		"summary": "SYNTHETIC test record: the test toolchain's standard library",
		"affected": []any{map[string]any{
			"package": map[string]string{"ecosystem": "Go", "name": "stdlib"},
			"ranges":  []any{map[string]any{"type": "SEMVER", "events": []any{map[string]string{"introduced": "0"}, map[string]string{"fixed": next}}}},
		}},
		"database_specific": map[string]string{"severity": "HIGH"},
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, stdlibRecordID+".json"), rec)
	dir := t.TempDir()
	if _, err := osv.Update(context.Background(), src, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dpkgStatus names a package whose source a synthetic record marks
// vulnerable, one no record names, and one that is removed.
const dpkgStatus = `Package: libsynth1
Status: install ok installed
Architecture: amd64
Source: synthlib
Version: 1.2.3-1
Description: SYNTHETIC test package

Package: libsafe
Status: install ok installed
Architecture: amd64
Version: 2.0-1

Package: libgone
Status: deinstall ok config-files
Architecture: amd64
Source: synthlib
Version: 1.2.3-1
`

const osRelease = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"

// tarLayer is a gzipped layer of the given files (name → content).
func tarLayer(t testing.TB, files ...[2]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f[0], Size: int64(len(f[1])), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// debianImage is the test binary at /app/demo on a layer holding a
// Debian 12 os-release and dpkg database, plus any extra layers.
func debianImage(t testing.TB, extra ...v1.Layer) v1.Image {
	t.Helper()
	img, err := artifact.BuildImage(artifact.ImageOptions{Binary: testBinary(t), Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	layers := append([]v1.Layer{tarLayer(t, [2]string{"etc/os-release", osRelease}, [2]string{"var/lib/dpkg/status", dpkgStatus})}, extra...)
	img, err = mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// push writes img to ref and returns its digest reference.
func push(t testing.TB, ref string, img v1.Image) name.Digest {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return r.Context().Digest(h.String())
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// attach pushes data as an OCI 1.1 referrer of d, the way Slipway attaches
// SBOMs (internal/release), and returns the referrer's digest.
func attach(t testing.TB, d name.Digest, artifactType string, data []byte, annotations map[string]string) string {
	t.Helper()
	subject, err := remote.Head(d)
	if err != nil {
		t.Fatal(err)
	}
	layer := static.NewLayer(data, types.MediaType(artifactType))
	cfg := static.NewLayer([]byte("{}"), types.OCIEmptyJSON)
	for _, l := range []v1.Layer{cfg, layer} {
		if err := remote.WriteLayer(d.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
	ld, _ := layer.Digest()
	cd, _ := cfg.Digest()
	raw, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: artifactType,
		Config:      v1.Descriptor{MediaType: types.OCIEmptyJSON, Digest: cd, Size: 2},
		Layers:      []v1.Descriptor{{MediaType: types.MediaType(artifactType), Digest: ld, Size: int64(len(data))}},
		Subject:     &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: annotations,
	})
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(d.Context().Digest(h.String()), rawManifest{raw, types.OCIManifestSchema1}); err != nil {
		t.Fatal(err)
	}
	return h.String()
}
