package deps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/testtool"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// moduleProxy serves testdata/vulnmod as example.com/vulnmod v1.0.0 from
// a file:// GOPROXY, so that the go command resolves it offline under
// its real path and version. (A replace to a directory would not do:
// govulncheck looks a replaced module up by its replacement path.)
func moduleProxy(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "example.com", "vulnmod", "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mv := module.Version{Path: "example.com/vulnmod", Version: "v1.0.0"}
	f, err := os.Create(filepath.Join(dir, "v1.0.0.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromDir(f, mv, "testdata/vulnmod"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	gomod, err := os.ReadFile("testdata/vulnmod/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"list": "v1.0.0\n", "v1.0.0.mod": string(gomod), "v1.0.0.info": `{"Version":"v1.0.0","Time":"2025-01-01T00:00:00Z"}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return "file://" + filepath.ToSlash(filepath.Dir(filepath.Dir(filepath.Dir(dir))))
}

// TestScanReachabilityGovulncheck runs the real govulncheck on a module
// that calls one of two vulnerable functions of its dependency.
func TestScanReachabilityGovulncheck(t *testing.T) {
	testtool.Find(t, "go", "") // govulncheck runs in process but loads packages with go

	root := t.TempDir()
	app := filepath.Join(root, "app")
	if err := os.CopyFS(app, os.DirFS("testdata/app")); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"GOPROXY=" + moduleProxy(t), "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local",
		"GOFLAGS=-mod=mod -modcacherw", "GOMODCACHE=" + filepath.Join(t.TempDir(), "modcache"), "GOTELEMETRY=off",
	}
	rep, err := Scan(context.Background(), Options{Root: root, DB: newDB(t), Reachability: true, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 2 {
		t.Fatalf("findings %+v (warnings %q), want GO-9999-0001 and GO-9999-0002", rep.Findings, rep.Warnings)
	}
	checkReachability(t, rep)
	if !strings.Contains(rep.Tool, "govulncheck") {
		t.Errorf("tool %q does not say govulncheck ran", rep.Tool)
	}
}
