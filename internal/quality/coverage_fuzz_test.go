package quality

import (
	"bytes"
	"errors"
	"path"
	"testing"
)

// fuzzCoverage parses data in format and checks what every coverage parser
// promises, whatever the input: a *ParseError or a coverage whose paths
// stay under the root and whose lines and hits are in range.
func fuzzCoverage(t *testing.T, format Format, data []byte) {
	opts := CoverageOptions{Root: "/repo", Modules: map[string]string{"example.com/app": "", "example.com/app/sub": "sub"}}
	c, err := ParseCoverage(format, "fuzz.cov", bytes.NewReader(data), opts)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != "fuzz.cov" {
			t.Fatalf("error %v is not a *ParseError naming the file", err)
		}
		return
	}
	for p, fc := range c.Files {
		if p == "" || path.IsAbs(p) || p != path.Clean(p) || p == ".." || len(p) > 2 && p[:3] == "../" {
			t.Errorf("path %q is not a clean path under the root", p)
		}
		if len(fc.Lines) == 0 {
			t.Errorf("%s: kept without coverable lines", p)
		}
		for l, h := range fc.Lines {
			if l < 1 || l > MaxCoverageLine || h < 0 || h > maxCoverageHits {
				t.Errorf("%s:%d: hits %d out of range", p, l, h)
			}
		}
	}
}

func FuzzGoCover(f *testing.F) {
	addSeedFiles(f, "testdata/coverage/go.out")
	for _, s := range []string{"", "mode: set\n", "mode: count\nexample.com/app/a.go:1.1,1.1 1 1\nmode: count\n",
		"mode: atomic\n/repo/x.go:1.1,9.9 3 18446744073709551616\n", "mode: set\nexample.com/app/../../etc/passwd:1.1,2.1 1 1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCoverage(t, GoCover, data) })
}

func FuzzCobertura(f *testing.F) {
	addSeedFiles(f, "testdata/coverage/cobertura.xml")
	for _, s := range []string{"", "<coverage/>", `<coverage><sources><source>/repo/src</source></sources><packages><package><classes>` +
		`<class filename="../a.py"><lines><line number="1" hits="1"/></lines></class></classes></package></packages></coverage>`,
		`<?xml version="1.0" encoding="iso-8859-1"?><coverage><packages><package><classes><class filename="caf` + "\xe9" + `.py"><lines><line number="3" hits="0"/></lines></class></classes></package></packages></coverage>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCoverage(t, Cobertura, data) })
}

func FuzzLCOV(f *testing.F) {
	addSeedFiles(f, "testdata/coverage/lcov.info")
	for _, s := range []string{"", "SF:a\nend_of_record\n", "SF:/repo/../x\nDA:1,1\nend_of_record\n", "SF:\nDA:10000000,1,abc\nend_of_record\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzCoverage(t, LCOV, data) })
}
