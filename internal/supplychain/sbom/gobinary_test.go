package sbom

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromGoBinaryTestExecutable(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pkgs := readBinary(t, exe)
	got := byName(pkgs)
	if p := got["github.com/slipway-ci/slipway"]; !p.Main {
		t.Errorf("main module = %+v, want Main", p)
	}
	// go test records no dependencies in test binaries, only the main module.
	if std := got["stdlib"]; std.Version != runtime.Version() {
		t.Errorf("stdlib = %+v, want version %s", std, runtime.Version())
	}
}

func TestFromGoBinaryBuilt(t *testing.T) {
	pkgs := readBinary(t, helloBinary(t))
	want := map[string]Package{
		"example.com/hello": {Name: "example.com/hello", Type: TypeGolang, Main: true, PURL: "pkg:golang/example.com/hello"},
		// replaced by a local directory: no version, no hash
		"example.com/greet": {Name: "example.com/greet", Type: TypeGolang, PURL: "pkg:golang/example.com/greet"},
		"golang.org/x/mod": {Name: "golang.org/x/mod", Version: "v0.42.0", Type: TypeGolang,
			PURL: "pkg:golang/golang.org/x/mod@v0.42.0", Hashes: map[string]string{"h1": xmodH1}},
	}
	got := byName(pkgs)
	for name, w := range want {
		if diff := cmp.Diff(w, got[name]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if len(pkgs) != 4 { // hello, greet, x/mod, stdlib
		t.Errorf("got %d packages, want 4: %+v", len(pkgs), pkgs)
	}
}

func TestFromGoBinaryNotGo(t *testing.T) {
	inputs := map[string][]byte{
		"empty":   nil,
		"text":    []byte("#!/bin/sh\necho hi\n"),
		"elfjunk": append([]byte("\x7FELF"), bytes.Repeat([]byte{0}, 64)...),
	}
	if data, err := os.ReadFile("/bin/true"); err == nil { // a real non-Go ELF
		inputs["/bin/true"] = data
	}
	for name, data := range inputs {
		_, err := FromGoBinary(bytes.NewReader(data))
		if !errors.Is(err, ErrNotGoBinary) {
			t.Errorf("%s: error = %v, want ErrNotGoBinary", name, err)
		}
	}
}

func readBinary(t testing.TB, path string) []Package {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkgs, err := FromGoBinary(f)
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}
