package lockfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	tests := []struct {
		file string // under testdata
		as   string // name given to Parse
		want []Package
	}{
		{"tree/go.mod", "go.mod", []Package{
			{Name: "golang.org/x/text", Version: "v0.3.7", Ecosystem: Go, Line: 6},
			{Name: "github.com/new/dep", Version: "v1.2.3", Ecosystem: Go, Line: 7},
			{Name: "example.com/local", Version: "v0.1.0", Ecosystem: Go, Line: 10},
		}},
		{"tree/web/package-lock.json", "package-lock.json", []Package{
			{Name: "lodash", Version: "4.17.20", Ecosystem: NPM, Line: 14},
			{Name: "@babel/core", Version: "7.0.0", Ecosystem: NPM, Line: 18},
			{Name: "semver", Version: "5.7.0", Ecosystem: NPM, Line: 21},
		}},
		{"lock-v1.json", "package-lock.json", []Package{
			{Name: "minimist", Version: "0.0.8", Ecosystem: NPM, Line: 5},
			{Name: "mkdirp", Version: "0.5.1", Ecosystem: NPM, Line: 8},
			{Name: "minimist", Version: "1.2.0", Ecosystem: NPM, Line: 11},
		}},
		{"tree/py/requirements.txt", "requirements.txt", []Package{
			{Name: "requests", Version: "2.19.0", Ecosystem: PyPI, Line: 2},
			{Name: "Django", Version: "3.2.0", Ecosystem: PyPI, Line: 3},
			{Name: "urllib3", Version: "1.24.1", Ecosystem: PyPI, Line: 7},
			{Name: "jinja2", Version: "2.10", Ecosystem: PyPI, Line: 11},
		}},
		{"tree/py2/poetry.lock", "poetry.lock", []Package{
			{Name: "pyyaml", Version: "5.3", Ecosystem: PyPI, Line: 3},
		}},
		{"tree/rust/Cargo.lock", "Cargo.lock", []Package{
			{Name: "smallvec", Version: "1.6.0", Ecosystem: Crates, Line: 12},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(tt.as, readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				tt.want[i].Path = tt.as
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%s) (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
		msg        string
	}{
		{"go.mod", "module bad\n\nrequire (\n\tfoo v1\n", 5, "unterminated block"},
		{"go.mod", "module x\nrequire a.b/c notaversion\n", 2, "notaversion"},
		{"package-lock.json", "{\n  \"packages\": {\n    \"node_modules/a\": {\"version\": 3}\n  }\n}", 3, "version"},
		{"package-lock.json", "{\n  \"packages\": {,\n}", 2, "invalid character"},
		{"requirements.txt", "ok==1.0\n%%%garbage\n", 2, "not a requirement"},
		{"requirements.txt", "ok==1.0 x\n", 1, "not a requirement"},
		{"poetry.lock", "[[package]]\nname = \"a\"\nversion = \n", 3, ""},
		{"poetry.lock", "[[package]]\nname = \"a\"\n", 1, "without name or version"},
		{"Cargo.lock", "[[package]]\nname = 1\n", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("dir/"+tt.name, []byte(tt.data))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error = %v, want *ParseError", tt.data, err)
			}
			if pe.Path != "dir/"+tt.name || pe.Line != tt.line {
				t.Errorf("error at %s:%d, want dir/%s:%d (%v)", pe.Path, pe.Line, tt.name, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "dir/"+tt.name) {
				t.Errorf("error %q does not name the file or say %q", err, tt.msg)
			}
		})
	}
}

func TestFind(t *testing.T) {
	lfs, err := Find(filepath.Join("testdata", "tree"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, lf := range lfs {
		paths = append(paths, lf.Path)
	}
	want := []string{"go.mod", "py/requirements.txt", "py2/poetry.lock", "rust/Cargo.lock", "web/package-lock.json"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("Find paths (-want +got):\n%s", diff)
	}
	if len(lfs[0].Warnings) != 1 || !strings.Contains(lfs[0].Warnings[0], "go.sum") {
		t.Errorf("go.mod without go.sum: warnings %q", lfs[0].Warnings)
	}
	if lfs[4].Packages[0].Path != "web/package-lock.json" {
		t.Errorf("package path %q, want the lockfile relative to the root", lfs[4].Packages[0].Path)
	}
}

func TestFindReportsMalformed(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"ok/requirements.txt": "a==1\n",
		"bad/Cargo.lock":      "[[package]\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lfs, err := Find(dir)
	if err == nil || !strings.Contains(err.Error(), "bad/Cargo.lock:1") {
		t.Errorf("Find error = %v, want one naming bad/Cargo.lock:1", err)
	}
	if len(lfs) != 1 || lfs[0].Path != "ok/requirements.txt" {
		t.Errorf("Find kept %+v, want the good lockfile", lfs)
	}
}
