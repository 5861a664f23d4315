package artifact

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/testtool"
)

func runTool(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
	}
	return string(out)
}

// oras pulls the files of an artifact back, under their names.
func TestOrasPullsArtifact(t *testing.T) {
	oras := testtool.Find(t, "oras", "v1.3.6")
	ctx := context.Background()
	host := newRegistry(t)
	c, _ := testClient(t)
	dir := t.TempDir()
	img, err := BuildArtifact([]File{
		{Name: "bin/hello", Source: writeFile(t, dir, "src/hello", "binary", 0o755)},
		{Name: "report.xml", Source: writeFile(t, dir, "src/report.xml", "<x/>", 0o644)},
	}, BuildOptions{Created: created})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Push(ctx, repoRef(t, host, "files"), img, []string{"v1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	runTool(t, oras, "pull", "--plain-http", "-o", out, host+"/files@"+d.String())
	for name, want := range map[string]string{"bin/hello": "binary", "report.xml": "<x/>"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	manifest := runTool(t, oras, "manifest", "fetch", "--plain-http", host+"/files:v1.0.0")
	if !strings.Contains(manifest, `"artifactType":"`+DefaultArtifactType+`"`) {
		t.Errorf("oras sees manifest %s", manifest)
	}
}

// crane reads the image config.
func TestCraneReadsImage(t *testing.T) {
	crane := testtool.Find(t, "crane", "v0.22.1")
	ctx := context.Background()
	host := newRegistry(t)
	c, _ := testClient(t)
	img, err := BuildImage(ImageOptions{Binary: writeFile(t, t.TempDir(), "hello", "binary", 0o755), Port: 8080, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx, repoRef(t, host, "hello"), img, []string{"v1.0.0"}); err != nil {
		t.Fatal(err)
	}
	ref := host + "/hello:v1.0.0"
	cfg := runTool(t, crane, "config", "--insecure", ref)
	for _, want := range []string{`"Entrypoint":["/app/hello"]`, `"8080/tcp":{}`, `"created":"2026-11-03T12:00:00Z"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config %s lacks %s", cfg, want)
		}
	}
}
