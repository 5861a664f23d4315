package osv

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slipway-ci/slipway/internal/scan"
)

const testRecords = "testdata/records"

// openTestDB builds a database from testdata/records.
func openTestDB(t testing.TB) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Update(context.Background(), testRecords, dir); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return db, dir
}

func TestMatch(t *testing.T) {
	db, _ := openTestDB(t)
	type hit struct {
		ID      string
		Sev     scan.Severity
		FixedIn string
	}
	tests := []struct {
		eco, name, version string
		want               []hit
	}{
		{"npm", "lodash", "4.17.20", []hit{{"SLIPWAY-TEST-0001", scan.High, "4.17.21"}}}, // withdrawn 0005 ignored
		{"npm", "lodash", "4.17.21", nil},
		{"npm", "Lodash", "4.17.20", nil}, // npm names are case-sensitive
		{"PyPI", "Django", "3.1.9", []hit{{"SLIPWAY-TEST-0002", scan.Critical, "3.2.1"}}},
		{"PyPI", "django", "3.2.1", nil},
		{"PyPI", "django", "3.5", nil},
		{"PyPI", "django", "4.0rc1", []hit{{"SLIPWAY-TEST-0002", scan.Critical, "4.0.1"}}},
		{"PyPI", "django", "4.0.dev1", nil}, // sorts before 4.0a1
		{"PyPI", "requests", "2.19.1", []hit{{"SLIPWAY-TEST-0003", scan.Medium, ""}}},
		{"PyPI", "requests", "2.19.1.post1", nil},
		{"PyPI", "requests", "not-a-version", nil},
		{"crates.io", "smallvec", "1.6.1", []hit{{"SLIPWAY-TEST-0004", scan.Medium, ""}}},
		{"crates.io", "smallvec", "1.6.2", nil},
		// Real Go vulndb records; GO-2022-0463 merged with its synthetic GHSA alias.
		{"Go", "github.com/beego/beego", "v1.12.8", []hit{
			{"GO-2022-0463", scan.Critical, "1.12.9"}, {"GO-2022-0569", scan.Unknown, "1.12.11"}, {"GO-2022-0572", scan.Unknown, ""}}},
		{"Go", "github.com/beego/beego/v2", "v2.0.3", []hit{{"GO-2022-0569", scan.Unknown, "2.0.4"}}},
		{"Go", "github.com/beego/beego/v2", "v2.0.4", nil},
		{"Go", "golang.org/x/crypto", "v0.0.0-20200101000000-000000000000", []hit{{"GO-2022-0229", scan.Unknown, "0.0.0-20200124225646-8b5121be2f68"}}},
		{"Go", "golang.org/x/crypto", "v0.1.0", nil},
		// dpkg ordering: u7 < u10 (a string comparison says otherwise), ~ sorts first.
		{"Debian:12", "glibc", "2.36-9+deb12u7", []hit{{"SLIPWAY-TEST-0006", scan.High, "2.36-9+deb12u10"}}},
		{"Debian:12", "glibc", "2.36-9+deb12u10~bpo1", []hit{{"SLIPWAY-TEST-0006", scan.High, "2.36-9+deb12u10"}}},
		{"Debian:12", "glibc", "2.36-9+deb12u10", nil},
		{"Debian:12", "glibc", "1:2.0", nil}, // an epoch outranks everything
		{"Debian:11", "glibc", "2.36-9+deb12u7", nil},
	}
	for _, tt := range tests {
		var got []hit
		for _, v := range db.Match(Package{Ecosystem: tt.eco, Name: tt.name, Version: tt.version}) {
			got = append(got, hit{v.ID, v.Severity, v.FixedIn})
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Match(%s %s@%s) (-want +got):\n%s", tt.eco, tt.name, tt.version, diff)
		}
	}
}

func TestUpdateLayouts(t *testing.T) {
	db, dir := openTestDB(t)
	cur := filepath.Join(dir, "current")
	m := db.Meta()
	if m.Records != 11 || m.Ecosystems["Debian"] != 1 || m.Ecosystems["Go"] != 5 || m.Ecosystems["PyPI"] != 2 || time.Since(m.Updated) > time.Minute || db.Age() < 0 {
		t.Errorf("meta = %+v", m)
	}
	// osv-scanner: <Ecosystem>/all.zip holding <id>.json.
	zr, err := zip.OpenReader(filepath.Join(cur, "osv-scanner", "crates.io", "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "SLIPWAY-TEST-0004.json" {
		t.Errorf("crates.io/all.zip holds %v", zr.File)
	}
	// Go vulndb: the modules index agrees with vuln.go.dev's for the same records.
	var got, upstream []goModule
	readJSON(t, filepath.Join(db.GoVulnDB(), "index", "modules.json"), &got)
	readJSON(t, "testdata/upstream/modules.json", &upstream)
	want := filterModules(upstream, "GO-2022-0229", "GO-2022-0463", "GO-2022-0569", "GO-2022-0572")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("index/modules.json differs from upstream (-want +got):\n%s", diff)
	}
	for _, f := range []string{"index/db.json", "index/vulns.json", "ID/GO-2022-0463.json"} {
		if _, err := os.Stat(filepath.Join(db.GoVulnDB(), f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(db.GoVulnDB(), "ID", "GHSA-slip-test-0001.json")); err == nil {
		t.Error("a GHSA alias of a GO- record is in the Go vulndb: govulncheck would report it twice")
	}
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func filterModules(mods []goModule, ids ...string) []goModule {
	keep := map[string]bool{}
	for _, id := range ids {
		keep[id] = true
	}
	var out []goModule
	for _, m := range mods {
		var vs []goModuleVul
		for _, v := range m.Vulns {
			if keep[v.ID] {
				vs = append(vs, v)
			}
		}
		if vs != nil {
			out = append(out, goModule{Path: m.Path, Vulns: vs})
		}
	}
	return out
}

func TestUpdateReplacesAtomically(t *testing.T) {
	_, dir := openTestDB(t)
	first, _ := os.Readlink(filepath.Join(dir, "current"))
	// A broken source leaves the current database alone.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "X.json"), []byte(`{"id":"../evil","modified":"2025-01-01T00:00:00Z"}`), 0o644)
	if _, err := Update(context.Background(), bad, dir); !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), "X.json") {
		t.Errorf("Update from a bad record: %v, want ErrInvalidRecord naming X.json", err)
	}
	if now, _ := os.Readlink(filepath.Join(dir, "current")); now != first {
		t.Errorf("current = %s after a failed update, want %s", now, first)
	}
	// A good one swaps generations and removes the old.
	if _, err := Update(context.Background(), testRecords, dir); err != nil {
		t.Fatal(err)
	}
	gens, _ := filepath.Glob(filepath.Join(dir, "gen-*"))
	now, _ := os.Readlink(filepath.Join(dir, "current"))
	if len(gens) != 1 || now == first || filepath.Base(gens[0]) != now {
		t.Errorf("after update: generations %v, current %s (was %s)", gens, now, first)
	}
}

func TestUpdateFromHTTP(t *testing.T) {
	src, _ := openTestDB(t)
	zips := filepath.Join(src.dir, "osv-scanner")
	srv := httptest.NewServer(http.FileServer(http.Dir(zips))) // serves <eco>/all.zip
	defer srv.Close()
	for _, u := range []string{srv.URL, srv.URL + "/npm/all.zip"} {
		dir := t.TempDir()
		m, err := Update(context.Background(), u, dir)
		if err != nil {
			t.Fatalf("Update(%s): %v", u, err)
		}
		db, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(db.Match(Package{Ecosystem: "npm", Name: "lodash", Version: "4.0.0"})) != 1 {
			t.Errorf("Update(%s): lodash not matched (meta %+v)", u, m)
		}
	}
	if _, err := Update(context.Background(), srv.URL+"/nothing/", t.TempDir()); err == nil {
		t.Error("Update from a URL with no archives succeeded")
	}
}

func TestOpenEmpty(t *testing.T) {
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrNoDB) {
		t.Errorf("Open(empty) = %v, want ErrNoDB", err)
	}
}

// The scanners of one run share a loaded database; an update is seen by
// the next Open.
func TestOpenReusesGeneration(t *testing.T) {
	first, dir := openTestDB(t)
	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Error("a second Open of an unchanged database loaded it again")
	}
	if _, err := Update(context.Background(), testRecords, dir); err != nil {
		t.Fatal(err)
	}
	next, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if next == first || next.dir == first.dir {
		t.Errorf("Open after an update returned the old generation %s", first.dir)
	}
	if got := next.Match(Package{Ecosystem: "npm", Name: "lodash", Version: "4.17.20"}); len(got) != 1 {
		t.Errorf("the new generation matches lodash 4.17.20 with %v, want SLIPWAY-TEST-0001", got)
	}
}
