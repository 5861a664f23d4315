package sbom

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromGoModule(t *testing.T) {
	h1 := func(s string) map[string]string { return map[string]string{"h1": s} }
	tests := []struct {
		dir     string
		want    []Package
		wantErr string // substring, typically file:line
	}{
		{
			dir: "replace",
			want: []Package{
				{Name: "example.com/app", Type: TypeGolang, PURL: "pkg:golang/example.com/app", Main: true},
				// replaced by a directory: original path, no version, no hash
				{Name: "example.com/local", Type: TypeGolang, PURL: "pkg:golang/example.com/local"},
				{Name: "github.com/agnivade/levenshtein", Version: "v1.2.2", Type: TypeGolang,
					PURL:   "pkg:golang/github.com/agnivade/levenshtein@v1.2.2",
					Hashes: h1("h1:fI8RgiztYX1Nn5pBHHqQ9EMCCklhrmXqPRIedFmx5M4=")},
				// github.com/old/thing replaced by another module
				{Name: "github.com/dustin/go-humanize", Version: "v1.1.0", Type: TypeGolang,
					PURL:   "pkg:golang/github.com/dustin/go-humanize@v1.1.0",
					Hashes: h1("h1:dbKTrvD0klcbBV/h4AWJdMuZogJACoMlvWIWZ5b2xWg=")},
				{Name: "github.com/google/go-cmp", Version: "v0.7.0", Type: TypeGolang,
					PURL:   "pkg:golang/github.com/google/go-cmp@v0.7.0",
					Hashes: h1("h1:wk8382ETsv4JYUZwIsn6YpYiWiBsYLSJiTsyBybVuN8=")},
				// version-specific replacement beats the path-wide one
				{Name: "golang.org/x/mod", Version: "v0.42.0", Type: TypeGolang,
					PURL:   "pkg:golang/golang.org/x/mod@v0.42.0",
					Hashes: h1("h1:ICeL3t2L30ljSPHHxDnR4fqVcBt/zR2zJAb9juavmQg=")},
				// indirect, only a /go.mod hash in go.sum: no content hash
				{Name: "golang.org/x/sync", Version: "v0.25.0", Type: TypeGolang,
					PURL: "pkg:golang/golang.org/x/sync@v0.25.0"},
			},
		},
		{
			dir:  "nosum",
			want: []Package{{Name: "example.com/tiny", Type: TypeGolang, PURL: "pkg:golang/example.com/tiny", Main: true}},
		},
		{dir: "badmod", wantErr: filepath.Join("badmod", "go.mod") + ":5:"},
		{dir: "badsum", wantErr: filepath.Join("badsum", "go.sum") + ":2: malformed go.sum line"},
		{dir: "badhash", wantErr: filepath.Join("badhash", "go.sum") + ":1:"},
		{dir: "missing", wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got, err := FromGoModule(filepath.Join("testdata", "gomod", tt.dir))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromGoModuleRepository(t *testing.T) {
	// The project's own go.mod: a large real module graph.
	pkgs, err := FromGoModule(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	got := byName(pkgs)
	if p := got["github.com/slipway-ci/slipway"]; !p.Main {
		t.Errorf("main module not marked Main: %+v", p)
	}
	cdx := got["github.com/CycloneDX/cyclonedx-go"]
	if cdx.Version != "v0.12.0" || cdx.Hashes["h1"] == "" {
		t.Errorf("cyclonedx-go = %+v, want v0.12.0 with an h1 hash", cdx)
	}
	if len(pkgs) < 50 {
		t.Errorf("only %d packages from the repository's go.mod", len(pkgs))
	}
}

func TestPURLEscaping(t *testing.T) {
	tests := []struct{ got, want string }{
		{golangPURL("github.com/x/y", "v2.0.0+incompatible"), "pkg:golang/github.com/x/y@v2.0.0%2Bincompatible"},
		{golangPURL("example.com/m", "(devel)"), "pkg:golang/example.com/m"},
		{debPURL("perl-base", "1:5.36.0-7", "amd64", "perl"), "pkg:deb/debian/perl-base@1%3A5.36.0-7?arch=amd64&upstream=perl"},
		{debPURL("bash", "5.2-15", "amd64", "bash"), "pkg:deb/debian/bash@5.2-15?arch=amd64"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("purl = %q, want %q", tt.got, tt.want)
		}
	}
}

func byName(pkgs []Package) map[string]Package {
	m := map[string]Package{}
	for _, p := range pkgs {
		m[p.Name] = p
	}
	return m
}
