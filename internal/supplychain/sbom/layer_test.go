package sbom

import (
	"archive/tar"
	"bytes"
	"os"
	"strings"
	"testing"
)

type tarEntry struct {
	name string
	mode int64
	body []byte
	typ  byte // tar.TypeReg when zero
}

func tarLayer(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: e.typ}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil && h.Size > 0 {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixtureLayer holds a Go binary, a dpkg status, a distroless status.d
// entry and things that must be ignored.
func fixtureLayer(t testing.TB) []byte {
	t.Helper()
	bin, err := os.ReadFile(helloBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("testdata/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	return tarLayer(t, []tarEntry{
		{name: "usr/", mode: 0o755, typ: tar.TypeDir},
		{name: "./usr/local/bin/hello", mode: 0o755, body: bin},
		{name: "usr/share/hello.copy", mode: 0o644, body: bin}, // not executable: ignored
		{name: "usr/bin/script", mode: 0o755, body: []byte("#!/bin/sh\necho hi\n")},
		{name: "usr/bin/fake-elf", mode: 0o755, body: []byte("\x7FELF not really")},
		{name: "usr/bin/link", typ: tar.TypeSymlink},
		{name: "/var/lib/dpkg/status", mode: 0o644, body: status},
		{name: "var/lib/dpkg/status.d/ca-certificates", mode: 0o644,
			body: []byte("Package: ca-certificates\nVersion: 20230311\nArchitecture: all\n")},
		{name: "var/lib/dpkg/status.d/ca-certificates.md5sums", mode: 0o644, body: []byte("abc  usr/share/x\n")},
		{name: "etc/.wh.removed", mode: 0o755, body: nil},
	})
}

func TestFromLayer(t *testing.T) {
	pkgs, err := FromLayer(bytes.NewReader(fixtureLayer(t)))
	if err != nil {
		t.Fatal(err)
	}
	got := byName(pkgs)
	for _, name := range []string{"example.com/hello", "golang.org/x/mod", "stdlib", "bash", "libc6", "tzdata", "ca-certificates"} {
		if _, ok := got[name]; !ok {
			t.Errorf("layer: %s missing", name)
		}
	}
	if _, ok := got["removed-pkg"]; ok {
		t.Error("layer: removed-pkg listed though not installed")
	}
	// hello (4 modules) + 5 installed debs + ca-certificates, the copy merged away
	if len(pkgs) != 10 {
		t.Errorf("layer: got %d packages, want 10: %v", len(pkgs), pkgs)
	}
}

func TestFromLayerErrors(t *testing.T) {
	status := "Package: a\nStatus: install ok installed\nDescription: " + strings.Repeat("x", 600) + "\n"
	bad := tarLayer(t, []tarEntry{{name: "var/lib/dpkg/status", mode: 0o644, body: []byte(status)}})
	tests := map[string]struct {
		in      []byte
		wantErr string
	}{
		"truncated":  {bad[:700], "unexpected EOF"},
		"not a tar":  {bytes.Repeat([]byte("x"), 1024), "sbom: layer"},
		"bad status": {bad, "var/lib/dpkg/status: sbom: dpkg status: paragraph at line 1: package a: no Version"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := FromLayer(bytes.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
