package artifact

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func testArtifact(t testing.TB, content string, at time.Time) v1.Image {
	t.Helper()
	src := writeFile(t, t.TempDir(), "f", content, 0o644)
	img, err := BuildArtifact([]File{{Name: "app.bin", Source: src}}, BuildOptions{Created: at})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestPushTags(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	c, cnt := testClient(t)
	repo := repoRef(t, host, "team/hello")
	a, b := testArtifact(t, "a", created), testArtifact(t, "b", created)
	da, err := c.Push(ctx, repo, a, []string{"v1.0.0", "sha-abc", "latest"})
	if err != nil || da != digest(t, a) {
		t.Fatalf("Push = %s, %v", da, err)
	}
	for _, tag := range []string{"v1.0.0", "sha-abc", "latest"} {
		if got, err := c.Resolve(ctx, repo.Tag(tag)); err != nil || got != da {
			t.Errorf("Resolve(%s) = %s, %v; want %s", tag, got, err, da)
		}
	}

	// Pushing the same digest again under the same tags writes no manifest.
	cnt.reset()
	if _, err := c.Push(ctx, repo, a, []string{"v1.0.0", "latest"}); err != nil {
		t.Fatal(err)
	}
	if puts := cnt.count("PUT", "/manifests/"); len(puts) != 0 {
		t.Errorf("re-push wrote manifests: %v", puts)
	}

	// Another digest under an immutable tag is refused before anything moves.
	_, err = c.Push(ctx, repo, b, []string{"latest", "v1.0.0"})
	if !errors.Is(err, ErrImmutableTag) || !strings.Contains(err.Error(), da.String()) {
		t.Fatalf("Push(b, v1.0.0) = %v, want ErrImmutableTag naming %s", err, da)
	}
	if got, _ := c.Resolve(ctx, repo.Tag("latest")); got != da {
		t.Errorf("a refused push moved latest to %s", got)
	}
	// Mutable tags move.
	db, err := c.Push(ctx, repo, b, []string{"latest", "v1.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Resolve(ctx, repo.Tag("latest")); got != db {
		t.Errorf("latest = %s, want %s", got, db)
	}
}

func TestIsImmutableTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"v1.2.3": true, "v1.2.4-rc.3_abc": true, "sha-abc123": true,
		"latest": false, "production": false, "vnext": false, "sha256-abc.sig": false,
	} {
		if got := IsImmutableTag(tag); got != want {
			t.Errorf("IsImmutableTag(%q) = %v", tag, got)
		}
	}
}

// blobUploads are the requests that send blob bytes: every upload POST that
// is not a mount, and every PATCH or PUT on an upload.
func blobUploads(cnt *counter) []string {
	var out []string
	for _, r := range cnt.count("POST", "/blobs/uploads/") {
		if !strings.Contains(r, "mount=") {
			out = append(out, r)
		}
	}
	out = append(out, cnt.count("PATCH", "/blobs/")...)
	return append(out, cnt.count("PUT", "/blobs/")...)
}

func TestPromoteWithinRepo(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	c, cnt := testClient(t)
	repo := repoRef(t, host, "hello")
	img := testArtifact(t, strings.Repeat("x", 1<<20), created)
	d, err := c.Push(ctx, repo, img, []string{"v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	cnt.reset()
	if _, err := c.Promote(ctx, repo.Digest(d.String()), repo.Tag("production")); err != nil {
		t.Fatal(err)
	}
	if puts := cnt.count("PUT", "/manifests/"); len(puts) != 1 || !strings.HasSuffix(puts[0], "/manifests/production") {
		t.Errorf("manifest PUTs = %v, want one to production", puts)
	}
	if up := blobUploads(cnt); len(up) != 0 {
		t.Errorf("promotion uploaded blobs: %v", up)
	}
	if n := len(cnt.count("POST", "/blobs/")); n != 0 {
		t.Errorf("promotion within a repository mounted %d blobs", n)
	}
	if got, _ := c.Resolve(ctx, repo.Tag("production")); got != d {
		t.Errorf("production = %s, want %s", got, d)
	}

	// An immutable destination that names another digest is refused.
	other, err := c.Push(ctx, repo, testArtifact(t, "other", created), []string{"v2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Promote(ctx, repo.Digest(other.String()), repo.Tag("v1.0.0")); !errors.Is(err, ErrImmutableTag) {
		t.Errorf("Promote onto v1.0.0 = %v, want ErrImmutableTag", err)
	}
}

func TestPromoteAcrossRepos(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	c, cnt := testClient(t)
	src, dst := repoRef(t, host, "ci/hello"), repoRef(t, host, "prod/hello")
	content := strings.Repeat("payload", 100_000)
	img := testArtifact(t, content, created)
	d, err := c.Push(ctx, src, img, []string{"v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	cnt.reset()
	if _, err := c.Promote(ctx, src.Digest(d.String()), dst.Tag("production")); err != nil {
		t.Fatal(err)
	}
	if up := blobUploads(cnt); len(up) != 0 {
		t.Errorf("cross-repository promotion sent blob bytes: %v", up)
	}
	if mounts := cnt.count("POST", "mount="); len(mounts) != 2 { // config + one file
		t.Errorf("mounts = %v, want 2", mounts)
	}
	if puts := cnt.count("PUT", "/manifests/"); len(puts) != 1 {
		t.Errorf("manifest PUTs = %v, want 1", puts)
	}
	// The destination serves the same digest with its content.
	got, err := c.Image(ctx, dst.Digest(d.String()))
	if err != nil {
		t.Fatal(err)
	}
	if gd := digest(t, got); gd != d {
		t.Errorf("destination digest %s, want %s", gd, d)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != content {
		t.Errorf("destination blob differs (%d bytes)", len(b))
	}
}

// An index (multi-platform image) moves with its child manifests.
func TestPromoteIndexAcrossRepos(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	c, cnt := testClient(t)
	src, dst := repoRef(t, host, "ci/multi"), repoRef(t, host, "prod/multi")
	bin := writeFile(t, t.TempDir(), "svc", "binary", 0o755)
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := BuildImage(ImageOptions{Binary: bin, Created: created, Arch: arch})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Push(ctx, src, img, nil); err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(src.Digest(d.String()), idx, c.Options(ctx)...); err != nil {
		t.Fatal(err)
	}
	cnt.reset()
	if _, err := c.Promote(ctx, src.Digest(d.String()), dst.Tag("production")); err != nil {
		t.Fatal(err)
	}
	if up := blobUploads(cnt); len(up) != 0 {
		t.Errorf("sent blob bytes: %v", up)
	}
	ii, err := remote.Index(dst.Tag("production"), c.Options(ctx)...)
	if err != nil {
		t.Fatal(err)
	}
	if gd, _ := ii.Digest(); gd != d {
		t.Errorf("destination index %s, want %s", gd, d)
	}
	im, _ := ii.IndexManifest()
	for _, m := range im.Manifests {
		if _, err := c.Image(ctx, dst.Digest(m.Digest.String())); err != nil {
			t.Errorf("child %s missing in destination: %v", m.Digest, err)
		}
	}
}

func TestParseRef(t *testing.T) {
	ref, err := ParseRef("127.0.0.1:5000/team/hello:v1", true)
	if err != nil {
		t.Fatal(err)
	}
	tag, ok := ref.(name.Tag)
	if !ok || tag.RegistryStr() != "127.0.0.1:5000" || tag.RepositoryStr() != "team/hello" || tag.Scheme() != "http" {
		t.Errorf("ParseRef = %#v", ref)
	}
	if _, err := ParseRef("Not Valid", false); err == nil {
		t.Error("ParseRef accepted an invalid reference")
	}
}
