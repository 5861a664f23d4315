package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func addFiles(f *testing.F, pattern string) {
	f.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// renderAll checks that whatever a parser accepts can be rendered.
func renderAll(t *testing.T, pkgs []Package) {
	for _, r := range renderers {
		if _, err := r.render(imageSubject, pkgs, time.Unix(0, 0)); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
}

func FuzzGoMod(f *testing.F) {
	addFiles(f, "testdata/gomod/*/go.mod")
	f.Add([]byte("module m\nreplace a => b v1.0.0\nrequire a v0.1.0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mf, err := parseGoMod("go.mod", data)
		if err != nil {
			return
		}
		renderAll(t, modulePackages(mf, nil))
	})
}

func FuzzGoSum(f *testing.F) {
	addFiles(f, "testdata/gomod/*/go.sum")
	f.Fuzz(func(t *testing.T, data []byte) {
		sums, err := parseGoSum("go.sum", data)
		if err != nil {
			return
		}
		for mv, h := range sums {
			if _, err := h1ToHex(h); err != nil || mv.Path == "" {
				t.Fatalf("accepted %v %q: %v", mv, h, err)
			}
		}
	})
}

func FuzzDpkgStatus(f *testing.F) {
	addFiles(f, "testdata/dpkg/status")
	f.Add([]byte("Package: a\nVersion: 1\nStatus: install ok installed\n Continued\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := FromDpkgStatus(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Type != TypeDeb {
				t.Fatalf("accepted incomplete package %+v", p)
			}
		}
		renderAll(t, pkgs)
	})
}

func FuzzLayer(f *testing.F) {
	status, err := os.ReadFile("testdata/dpkg/status")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tarLayer(f, []tarEntry{
		{name: "var/lib/dpkg/status", mode: 0o644, body: status},
		{name: "var/lib/dpkg/status.d/x", mode: 0o644, body: []byte("Package: x\nVersion: 1\n")},
		{name: "bin/elf", mode: 0o755, body: []byte("\x7FELF\x02\x01\x01")},
		{name: "bin/sh", mode: 0o755, body: []byte("#!/bin/sh\n")},
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := FromLayer(bytes.NewReader(data))
		if err != nil {
			return
		}
		renderAll(t, pkgs)
	})
}
