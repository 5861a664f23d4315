package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/testtool"
)

const (
	craneVersion = "v0.22.1"
	orasVersion  = "v1.3.6"
)

// runTool runs an external client with a private HOME and DOCKER_CONFIG.
func runTool(tb testing.TB, env []string, dir, bin string, args ...string) ([]byte, error) {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.Bytes(), err
}

// dockerConfig writes a docker config.json holding user:pass for addr and
// returns the environment that points clients at it.
func dockerConfig(tb testing.TB, addr, user, pass string) []string {
	tb.Helper()
	dir := tb.TempDir()
	cfg := map[string]any{"auths": map[string]any{
		addr: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))},
	}}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return []string{"DOCKER_CONFIG=" + dir, "HOME=" + dir}
}

func TestOrasFileRoundTrip(t *testing.T) {
	oras := testtool.Find(t, "oras", orasVersion)
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	env := []string{"HOME=" + t.TempDir(), "DOCKER_CONFIG=" + t.TempDir()}
	work := t.TempDir()
	content := []byte("release notes\x00\xff binary-safe\n")
	if err := os.WriteFile(filepath.Join(work, "notes.bin"), content, 0o600); err != nil {
		t.Fatal(err)
	}
	target := s.Addr() + "/files/notes:v1.2.3"

	if out, err := runTool(t, env, work, oras, "push", "--plain-http", target, "notes.bin:application/octet-stream"); err == nil || !strings.Contains(string(out), "credential") {
		t.Fatalf("anonymous oras push: want a 401 refusal, got err %v:\n%s", err, out)
	}
	if out, err := runTool(t, env, work, oras, "push", "--plain-http", "-u", c.Username, "-p", c.Password,
		target, "notes.bin:application/octet-stream"); err != nil {
		t.Fatalf("oras push: %v\n%s", err, out)
	}
	pulled := t.TempDir()
	if out, err := runTool(t, env, work, oras, "pull", "--plain-http", "-o", pulled, target); err != nil {
		t.Fatalf("oras pull: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(pulled, "notes.bin"))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("oras pulled %q (%v), want %q", got, err, content)
	}
	// The release tag is immutable for oras too.
	if err := os.WriteFile(filepath.Join(work, "notes.bin"), []byte("changed"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runTool(t, env, work, oras, "push", "--plain-http", "-u", c.Username, "-p", c.Password,
		target, "notes.bin:application/octet-stream")
	if err == nil || !strings.Contains(string(out), "immutable") {
		t.Fatalf("oras moved an immutable tag (err %v):\n%s", err, out)
	}
}

func TestCranePushPull(t *testing.T) {
	crane := testtool.Find(t, "crane", craneVersion)
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	img := randomImage(t)
	lp, err := layout.Write(filepath.Join(t.TempDir(), "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	target := s.Addr() + "/imgs/crane:sha-feedbeef"

	anon := []string{"HOME=" + t.TempDir(), "DOCKER_CONFIG=" + t.TempDir()}
	if out, err := runTool(t, anon, "", crane, "push", "--insecure", string(lp), target); err == nil || !strings.Contains(string(out), "UNAUTHORIZED") {
		t.Fatalf("anonymous crane push: want UNAUTHORIZED, got err %v:\n%s", err, out)
	}
	env := dockerConfig(t, s.Addr(), c.Username, c.Password)
	if out, err := runTool(t, env, "", crane, "push", "--insecure", string(lp), target); err != nil {
		t.Fatalf("crane push: %v\n%s", err, out)
	}
	// go-containerregistry reads back exactly what crane pushed.
	pulled, err := remote.Image(ref(t, s.Addr(), "imgs/crane:sha-feedbeef"))
	if err != nil {
		t.Fatal(err)
	}
	assertSameImage(t, img, pulled)

	// crane pulls back byte for byte into an OCI layout.
	out := filepath.Join(t.TempDir(), "pulled")
	if o, err := runTool(t, anon, "", crane, "pull", "--insecure", "--format", "oci", target, out); err != nil {
		t.Fatalf("crane pull: %v\n%s", err, o)
	}
	assertBlobsInLayout(t, img, out)
}

func TestCraneReadsGoContainerRegistryPush(t *testing.T) {
	crane := testtool.Find(t, "crane", craneVersion)
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	img := randomImage(t)
	if err := remote.Write(ref(t, s.Addr(), "imgs/ggcr:v3"), img, withAuth(c.Username, c.Password)); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + t.TempDir(), "DOCKER_CONFIG=" + t.TempDir()}
	target := s.Addr() + "/imgs/ggcr:v3"
	manifest, err := runTool(t, env, "", crane, "manifest", "--insecure", target)
	if err != nil {
		t.Fatalf("crane manifest: %v\n%s", err, manifest)
	}
	want, _ := img.RawManifest()
	if !bytes.Equal(manifest, want) {
		t.Fatalf("crane manifest:\n%s\nwant:\n%s", manifest, want)
	}
	layers, _ := img.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		blob, err := runTool(t, env, "", crane, "blob", "--insecure", s.Addr()+"/imgs/ggcr@"+d.String())
		if err != nil {
			t.Fatalf("crane blob: %v\n%s", err, blob)
		}
		wantBlob, err := readCompressed(l)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(blob, wantBlob) {
			t.Fatalf("crane blob %s: %d bytes differ from the %d pushed", d, len(blob), len(wantBlob))
		}
	}
	// Deleting outside the scratch namespace needs the admin credential.
	userEnv := dockerConfig(t, s.Addr(), c.Username, c.Password)
	dg, _ := img.Digest()
	o, err := runTool(t, userEnv, "", crane, "delete", "--insecure", s.Addr()+"/imgs/ggcr@"+dg.String())
	if err == nil || !strings.Contains(string(o), "DENIED") {
		t.Fatalf("crane delete with normal creds: err %v\n%s", err, o)
	}
}

func assertSameImage(tb testing.TB, want, got v1.Image) {
	tb.Helper()
	wd, _ := want.Digest()
	gd, err := got.Digest()
	if err != nil || gd != wd {
		tb.Fatalf("image digest %s (%v), want %s", gd, err, wd)
	}
	wl, _ := want.Layers()
	gl, err := got.Layers()
	if err != nil || len(gl) != len(wl) {
		tb.Fatalf("layers: %d (%v), want %d", len(gl), err, len(wl))
	}
	for i := range wl {
		if err := compareLayer(wl[i], gl[i]); err != nil {
			tb.Fatalf("layer %d: %v", i, err)
		}
	}
}

// assertBlobsInLayout checks that an OCI layout holds img's manifest,
// config and layers byte for byte.
func assertBlobsInLayout(tb testing.TB, img v1.Image, dir string) {
	tb.Helper()
	blob := func(d v1.Hash) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "blobs", d.Algorithm, d.Hex))
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	md, _ := img.Digest()
	rawManifest, _ := img.RawManifest()
	if !bytes.Equal(blob(md), rawManifest) {
		tb.Fatal("pulled manifest differs")
	}
	cd, _ := img.ConfigName()
	rawConfig, _ := img.RawConfigFile()
	if !bytes.Equal(blob(cd), rawConfig) {
		tb.Fatal("pulled config differs")
	}
	layers, _ := img.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		want, err := readCompressed(l)
		if err != nil {
			tb.Fatal(err)
		}
		if !bytes.Equal(blob(d), want) {
			tb.Fatalf("pulled layer %s differs", d)
		}
	}
}
