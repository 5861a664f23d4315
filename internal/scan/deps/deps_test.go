package deps

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/osv"
)

// newDB builds a database from testdata/osv.
func newDB(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := osv.Update(context.Background(), "testdata/osv", dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeTree writes files (slash paths → content) under a new root.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const npmLock = `{"lockfileVersion":3,"packages":{"":{"name":"web"},
"node_modules/left-pad":{"version":"1.1.0"}}}`

func byRule(rep *scan.Report) map[string]scan.Finding {
	m := map[string]scan.Finding{}
	for _, f := range rep.Findings {
		m[f.Rule] = f
	}
	return m
}

func TestScanFindings(t *testing.T) {
	root := writeTree(t, map[string]string{
		"web/package-lock.json": npmLock,
		"app/go.mod":            "module example.com/app\n\ngo 1.22\n\nrequire example.com/vulnmod v1.0.0\n",
	})
	rep, err := Scan(context.Background(), Options{Root: root, DB: newDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	got := byRule(rep)
	if len(rep.Findings) != 3 || rep.Scanned != 2 {
		t.Fatalf("findings %+v, scanned %d; want 3 findings of 2 packages", rep.Findings, rep.Scanned)
	}
	lp := got["SLIPWAY-TEST-0101"]
	want := scan.Finding{Scanner: "deps", Rule: "SLIPWAY-TEST-0101", Severity: scan.High, Title: "SYNTHETIC test record: npm left-pad",
		Path: "web/package-lock.json", Line: 2, Package: "left-pad", Version: "1.1.0", Ecosystem: "npm", FixedIn: "1.3.0",
		HelpURL: "https://osv.dev/vulnerability/SLIPWAY-TEST-0101", Fingerprint: scan.Fingerprint("deps", "SLIPWAY-TEST-0101", "npm/left-pad", "1.1.0")}
	if lp != want {
		t.Errorf("npm finding\n got %+v\nwant %+v", lp, want)
	}
	if g := got["GO-9999-0001"]; g.Path != "app/go.mod" || g.Line != 5 || g.FixedIn != "1.0.1" || g.Reachable != "" {
		t.Errorf("Go finding without reachability: %+v", g)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "app/go.mod: no go.sum") {
		t.Errorf("warnings %q, want the missing go.sum", rep.Warnings)
	}
}

func TestScanStaleDB(t *testing.T) {
	root := writeTree(t, map[string]string{"web/package-lock.json": npmLock})
	db := newDB(t)
	time.Sleep(2 * time.Millisecond)
	rep, err := Scan(context.Background(), Options{Root: root, DB: db, MaxAge: time.Millisecond})
	if err != nil || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "updated") {
		t.Errorf("stale DB: err %v, warnings %q; want one warning", err, rep.Warnings)
	}
	_, err = Scan(context.Background(), Options{Root: root, DB: db, MaxAge: time.Millisecond, RequireFresh: true})
	if !errors.Is(err, ErrStaleDB) {
		t.Errorf("stale DB with RequireFresh: %v, want ErrStaleDB", err)
	}
	if _, err := Scan(context.Background(), Options{Root: root, DB: db, RequireFresh: true}); err != nil {
		t.Errorf("fresh DB with RequireFresh: %v", err)
	}
}

func TestScanErrors(t *testing.T) {
	root := writeTree(t, map[string]string{"requirements.txt": "ok==1\n??? nonsense\n"})
	if _, err := Scan(context.Background(), Options{Root: root, DB: newDB(t)}); err == nil || !strings.Contains(err.Error(), "requirements.txt:2") {
		t.Errorf("malformed lockfile: %v, want an error naming requirements.txt:2", err)
	}
	if _, err := Scan(context.Background(), Options{Root: root, DB: t.TempDir()}); !errors.Is(err, osv.ErrNoDB) {
		t.Errorf("no database: %v, want osv.ErrNoDB", err)
	}
}

// fakeRunner plays govulncheck, printing canned JSON output.
func fakeRunner(out string, err error) Runner {
	return func(_ context.Context, _, args []string, stdout, _ io.Writer) error {
		io.WriteString(stdout, out)
		return err
	}
}

func TestReachabilityClassification(t *testing.T) {
	root := writeTree(t, map[string]string{"go.mod": "module m\n\nrequire example.com/vulnmod v1.0.0\n"})
	db := newDB(t)
	// A module-level and a symbol-level finding, as govulncheck -json prints them.
	out := `{"config":{"protocol_version":"v1.0.0"}}
{"finding":{"osv":"GO-9999-0002","trace":[{"module":"example.com/vulnmod","version":"v1.0.0"}]}}
{"finding":{"osv":"GO-9999-0001","trace":[{"module":"example.com/vulnmod","version":"v1.0.0","package":"example.com/vulnmod","function":"Called"},{"module":"m","package":"m","function":"main"}]}}
`
	rep, err := Scan(context.Background(), Options{Root: root, DB: db, Reachability: true, Govulncheck: fakeRunner(out, nil)})
	if err != nil {
		t.Fatal(err)
	}
	checkReachability(t, rep)

	rep, err = Scan(context.Background(), Options{Root: root, DB: db, Reachability: true, Govulncheck: fakeRunner("", errors.New("go: command not found"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Reachable != "" || f.Severity != scan.High {
			t.Errorf("govulncheck failed, yet %s is classified: %+v", f.Rule, f)
		}
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "reachability unknown") {
		t.Errorf("warnings %q, want reachability unknown", rep.Warnings)
	}
}

// checkReachability expects GO-9999-0001 called and GO-9999-0002 not.
func checkReachability(t testing.TB, rep *scan.Report) {
	t.Helper()
	got := byRule(rep)
	if f := got["GO-9999-0001"]; f.Reachable != "yes" || f.Severity != scan.High || strings.Contains(f.Title, "not called") {
		t.Errorf("called vulnerability: %+v", f)
	}
	if f := got["GO-9999-0002"]; f.Reachable != "no" || f.Severity != scan.Medium || !strings.Contains(f.Title, "not called: severity lowered from high") {
		t.Errorf("uncalled vulnerability: %+v", f)
	}
}
