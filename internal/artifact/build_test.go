package artifact

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var created = time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)

func writeFile(t testing.TB, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func digest(t testing.TB, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBuildArtifactReproducible(t *testing.T) {
	dir := t.TempDir()
	files := []File{
		{Name: "report/junit.xml", Source: writeFile(t, dir, "a/junit.xml", "<testsuites/>", 0o644)},
		{Name: "app.tar.gz", Source: writeFile(t, dir, "b/app.tar.gz", "bytes", 0o755)},
	}
	build := func(files []File, at time.Time) v1.Image {
		t.Helper()
		img, err := BuildArtifact(files, BuildOptions{Created: at, Annotations: StandardAnnotations("v1.0.0", "abc", "")})
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	img := build(files, created)
	if d1, d2 := digest(t, img), digest(t, build([]File{files[1], files[0]}, created)); d1 != d2 {
		t.Errorf("same files and time in another order: %s != %s", d1, d2)
	}
	// Neither the source files' times nor their modes reach the digest.
	later := created.Add(time.Hour)
	for _, f := range files {
		os.Chtimes(f.Source, later, later) //nolint:errcheck // checked by the digest below
		os.Chmod(f.Source, 0o600)          //nolint:errcheck
	}
	if d1, d2 := digest(t, img), digest(t, build(files, created)); d1 != d2 {
		t.Errorf("touched sources changed the digest: %s != %s", d1, d2)
	}
	if d1, d2 := digest(t, img), digest(t, build(files, later)); d1 == d2 {
		t.Error("another time gave the same digest")
	}
	writeFile(t, dir, "a/junit.xml", "<testsuites></testsuites>", 0o644)
	if d1, d2 := digest(t, img), digest(t, build(files, created)); d1 == d2 {
		t.Error("other content gave the same digest")
	}

	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.ArtifactType != DefaultArtifactType ||
		m.Config.MediaType != MediaTypeEmptyJSON || m.Config.Size != 2 ||
		m.Config.Digest.String() != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" {
		t.Errorf("manifest = %+v", m)
	}
	if m.Annotations[AnnotationCreated] != "2026-11-03T12:00:00Z" || m.Annotations[AnnotationVersion] != "v1.0.0" ||
		m.Annotations[AnnotationRevision] != "abc" {
		t.Errorf("annotations = %v", m.Annotations)
	}
	if len(m.Layers) != 2 || m.Layers[0].Annotations[AnnotationTitle] != "app.tar.gz" ||
		m.Layers[1].Annotations[AnnotationTitle] != "report/junit.xml" || m.Layers[0].MediaType != MediaTypeFile ||
		m.Layers[0].Size != 5 {
		t.Errorf("layers = %+v", m.Layers)
	}
}

func TestBuildArtifactRejects(t *testing.T) {
	src := writeFile(t, t.TempDir(), "f", "x", 0o644)
	for _, files := range [][]File{
		nil,
		{{Name: "../escape", Source: src}},
		{{Name: "/abs", Source: src}},
		{{Name: "a/./b", Source: src}},
		{{Name: "a", Source: src}, {Name: "a", Source: src}},
		{{Name: "dir", Source: filepath.Dir(src)}},
		{{Name: "missing", Source: src + ".nope"}},
	} {
		if _, err := BuildArtifact(files, BuildOptions{Created: created}); err == nil {
			t.Errorf("BuildArtifact(%v) succeeded", files)
		}
	}
}

func TestBuildImageReproducible(t *testing.T) {
	bin := writeFile(t, t.TempDir(), "hello", "\x7fELF not really", 0o700)
	opts := ImageOptions{Binary: bin, Port: 8080, Labels: map[string]string{"team": "a"}, Env: []string{"MODE=prod"},
		Created: created, Annotations: StandardAnnotations("v1.2.3", "abc", "https://example.test/hello")}
	build := func(o ImageOptions) v1.Image {
		t.Helper()
		img, err := BuildImage(o)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	img := build(opts)
	os.Chtimes(bin, time.Now(), time.Now()) //nolint:errcheck // checked by the digest below
	os.Chmod(bin, 0o755)                    //nolint:errcheck
	if d1, d2 := digest(t, img), digest(t, build(opts)); d1 != d2 {
		t.Errorf("rebuild: %s != %s", d1, d2)
	}
	other := opts
	other.Created = created.Add(time.Second)
	if digest(t, img) == digest(t, build(other)) {
		t.Error("another time gave the same digest")
	}

	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" || !cfg.Created.Equal(created) ||
		len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != "/app/hello" ||
		len(cfg.Config.ExposedPorts) != 1 || cfg.Config.Labels["team"] != "a" || cfg.Config.Env[0] != "MODE=prod" ||
		len(cfg.History) != 1 || !cfg.History[0].Created.Equal(created) || len(cfg.RootFS.DiffIDs) != 1 {
		raw, _ := json.Marshal(cfg)
		t.Errorf("config = %s", raw)
	}
	if _, ok := cfg.Config.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports = %v", cfg.Config.ExposedPorts)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON ||
		m.Layers[0].MediaType != types.OCILayer || m.Annotations[AnnotationSource] != "https://example.test/hello" {
		t.Errorf("manifest = %+v", m)
	}
	checkLayer(t, img)
}

// checkLayer checks the gzip header carries no time and the tar entries are
// normalised.
func checkLayer(t *testing.T, img v1.Image) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	gz, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if gz[0] != 0x1f || gz[1] != 0x8b || !bytes.Equal(gz[4:8], []byte{0, 0, 0, 0}) || gz[3] != 0 {
		t.Errorf("gzip header % x: want no mtime, no name", gz[:10])
	}
	rc, err = layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Mode != 0o755 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(created) {
			t.Errorf("entry %s: mode %o uid %d gid %d user %q/%q time %v", h.Name, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		if h.Name == "app/hello" {
			if b, _ := io.ReadAll(tr); string(b) != "\x7fELF not really" {
				t.Errorf("binary = %q", b)
			}
		}
	}
	if len(names) != 2 || names[0] != "app/" || names[1] != "app/hello" {
		t.Errorf("entries = %v", names)
	}
}
