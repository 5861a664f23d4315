package sbom

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromDpkgStatusFixture(t *testing.T) {
	f, err := os.Open("testdata/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := FromDpkgStatus(f)
	if err != nil {
		t.Fatal(err)
	}
	deb := func(name, version, purl string) Package {
		return Package{Name: name, Version: version, Type: TypeDeb, PURL: purl}
	}
	want := []Package{ // sorted by purl; removed-pkg (config-files only) is left out
		deb("bash", "5.2.15-2+b7", "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64"),
		deb("libc6", "2.36-9+deb12u10", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&upstream=glibc"),
		deb("libgcc-s1", "12.2.0-14", "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&upstream=gcc-12"),
		deb("perl-base", "1:5.36.0-7+deb12u2", "pkg:deb/debian/perl-base@1%3A5.36.0-7%2Bdeb12u2?arch=amd64&upstream=perl"),
		deb("tzdata", "2025b-0+deb12u1", "pkg:deb/debian/tzdata@2025b-0%2Bdeb12u1?arch=all"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

func TestFromDpkgStatusErrors(t *testing.T) {
	tests := map[string]struct{ in, wantErr string }{
		"no colon":            {"Package: a\nnonsense\n", "line 2"},
		"orphan continuation": {" leading space\n", "line 1: continuation"},
		"no version":          {"Package: a\nStatus: install ok installed\n", "paragraph at line 1: package a: no Version"},
		"no package":          {"\n\nStatus: install ok installed\nVersion: 1\n", "paragraph at line 3: no Package"},
		"line too long":       {"Package: " + strings.Repeat("a", maxDpkgLine) + "\n", "too long"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := FromDpkgStatus(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestFromDpkgStatusMachine(t *testing.T) {
	f, err := os.Open("/var/lib/dpkg/status")
	if err != nil {
		t.Skipf("no dpkg database on this machine: %v", err)
	}
	defer f.Close()
	pkgs, err := FromDpkgStatus(f)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := byName(pkgs)["dpkg"]
	if !ok || p.Version == "" || !strings.HasPrefix(p.PURL, "pkg:deb/debian/dpkg@") {
		t.Errorf("dpkg itself not listed properly: %+v (of %d packages)", p, len(pkgs))
	}
}
