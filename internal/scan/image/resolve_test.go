package image

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePURL(t *testing.T) {
	tests := []struct {
		in      string
		want    purl
		wantErr bool
	}{
		{in: "pkg:golang/github.com/x/y@v1.2.3%2Bincompatible", want: purl{Type: "golang", Namespace: "github.com/x", Name: "y", Version: "v1.2.3+incompatible"}},
		{in: "pkg:npm/%40scope/left-pad@1.0.0", want: purl{Type: "npm", Namespace: "@scope", Name: "left-pad", Version: "1.0.0"}},
		{in: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12#sub",
			want: purl{Type: "deb", Namespace: "debian", Name: "libssl3", Version: "3.0.11-1~deb12u2",
				Qualifiers: map[string]string{"arch": "amd64", "upstream": "openssl", "distro": "debian-12"}}},
		{in: "pkg:golang/stdlib", want: purl{Type: "golang", Name: "stdlib"}},
		{in: "npm/left-pad@1", wantErr: true},
		{in: "pkg:npm", wantErr: true},
		{in: "pkg:npm/a%zz@1", wantErr: true},
		{in: "pkg:npm//@1", wantErr: true},
		{in: "pkg:npm/x@1?a=%zz", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parsePURL(tt.in)
		if tt.wantErr {
			if !errors.Is(err, errBadPURL) {
				t.Errorf("parsePURL(%q) err %v, want errBadPURL", tt.in, err)
			}
			continue
		}
		if err != nil || got.Type != tt.want.Type || got.Namespace != tt.want.Namespace || got.Name != tt.want.Name ||
			got.Version != tt.want.Version || len(got.Qualifiers) != len(tt.want.Qualifiers) {
			t.Errorf("parsePURL(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		for k, v := range tt.want.Qualifiers {
			if got.Qualifiers[k] != v {
				t.Errorf("parsePURL(%q) qualifier %s = %q, want %q", tt.in, k, got.Qualifiers[k], v)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	bookworm := distro{ID: "debian", VersionID: "12"}
	jammy := distro{ID: "ubuntu", VersionID: "22.04", LTS: true}
	tests := []struct {
		purl   string
		distro distro
		want   string // ecosystem|name|query|version, "" when not resolved
	}{
		{"pkg:golang/stdlib@1.26.8", distro{}, "Go|stdlib|stdlib|1.26.8"},
		{"pkg:golang/stdlib@go1.22", distro{}, "Go|stdlib|stdlib|1.22.0"},
		{"pkg:golang/stdlib@1.23rc1", distro{}, "Go|stdlib|stdlib|1.23.0-rc.1"},
		{"pkg:golang/stdlib@devel", distro{}, ""},
		{"pkg:golang/github.com/x/y@v1.0.0", bookworm, "Go|github.com/x/y|github.com/x/y|v1.0.0"},
		{"pkg:golang/example.com/app", distro{}, ""},
		{"pkg:npm/%40s/p@1.0.0", distro{}, "npm|@s/p|@s/p|1.0.0"},
		{"pkg:maven/org.x/core@2.0", distro{}, "Maven|org.x:core|org.x:core|2.0"},
		{"pkg:pypi/requests@2.0", distro{}, "PyPI|requests|requests|2.0"},
		{"pkg:cargo/serde@1.0.0", distro{}, "crates.io|serde|serde|1.0.0"},
		{"pkg:rpm/fedora/bash@5.2", distro{}, ""},
		{"pkg:deb/debian/libsynth1@1.2.3-1?upstream=synthlib", bookworm, "Debian:12|libsynth1|synthlib|1.2.3-1"},
		{"pkg:deb/debian/libsynth1@1.2.3-1?upstream=synthlib", distro{}, "Debian|libsynth1|synthlib|1.2.3-1"},
		{"pkg:deb/debian/bash@5.2?distro=debian-11", bookworm, "Debian:11|bash|bash|5.2"},
		{"pkg:deb/debian/bash@5.2?distro=debian-12.5", distro{}, "Debian:12|bash|bash|5.2"},
		{"pkg:deb/debian/bash@5.2?distro=bookworm", bookworm, "Debian:12|bash|bash|5.2"},
		{"pkg:deb/ubuntu/bash@5.1?upstream=bash%20%285.1%29", jammy, "Ubuntu:22.04:LTS|bash|bash|5.1"},
		{"pkg:deb/ubuntu/bash@5.1?distro=ubuntu-24.10", distro{}, "Ubuntu:24.10|bash|bash|5.1"},
		{"pkg:deb/ubuntu/bash@5.1", distro{}, ""},
		{"pkg:deb/debian/bash@5.2", distro{ID: "alpine", VersionID: "3.20"}, ""},
	}
	for _, tt := range tests {
		p, err := parsePURL(tt.purl)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if r, ok := resolve(found{purl: p, path: "x"}, tt.distro); ok {
			got = strings.Join([]string{r.Ecosystem, r.Name, r.Query, r.Version}, "|")
		}
		if got != tt.want {
			t.Errorf("resolve(%s, %+v) = %q, want %q", tt.purl, tt.distro, got, tt.want)
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		in   string
		want distro
	}{
		{osRelease, distro{ID: "debian", VersionID: "12"}},
		{"NAME=\"Ubuntu\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nID=ubuntu\nVERSION_ID=\"22.04\"\n", distro{ID: "ubuntu", VersionID: "22.04", LTS: true}},
		{"# comment\nID='Debian'\ngarbage\nVERSION_ID=\"13\n", distro{ID: "debian", VersionID: "13"}},
		{"", distro{}},
	}
	for _, tt := range tests {
		if got := parseOSRelease(strings.NewReader(tt.in)); got != tt.want {
			t.Errorf("parseOSRelease(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
