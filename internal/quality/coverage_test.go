package quality

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCoverageFiles(t *testing.T) {
	pkgDir := t.TempDir()
	writeFile(t, filepath.Join(pkgDir, "pkg/app/calc.py"), "x = 1\n")
	tests := []struct {
		name    string
		format  Format
		pattern string
		opts    CoverageOptions
		want    map[string]map[int]int
	}{
		{
			name: "go import paths map to the root module", format: GoCover, pattern: "go.out",
			opts: CoverageOptions{Root: "/repo", Modules: map[string]string{"example.com/app": ""}},
			want: map[string]map[int]int{
				"calc.go":     {3: 3, 4: 3, 5: 1, 6: 1, 7: 2},
				"sub/util.go": {5: 0, 6: 0, 7: 0},
			},
		},
		{
			name: "go module in a sub-directory", format: GoCover, pattern: "go.out",
			opts: CoverageOptions{Modules: map[string]string{"example.com/app": "services/app", "example.com/other": "libs/other"}},
			want: map[string]map[int]int{
				"services/app/calc.go":     {3: 3, 4: 3, 5: 1, 6: 1, 7: 2},
				"services/app/sub/util.go": {5: 0, 6: 0, 7: 0},
				"libs/other/dep.go":        {1: 5, 2: 5},
			},
		},
		{
			name: "cobertura picks the source where the file exists", format: Cobertura, pattern: "cobertura.xml",
			opts: CoverageOptions{Root: pkgDir},
			want: map[string]map[int]int{"pkg/app/calc.py": {1: 1, 2: 1, 3: 0, 5: 2, 6: 0}},
		},
		{
			name: "cobertura absolute source under the root", format: Cobertura, pattern: "cobertura.xml",
			opts: CoverageOptions{Root: "/ci/build"},
			want: map[string]map[int]int{"src/app/calc.py": {1: 1, 2: 1, 3: 0, 5: 2, 6: 0}},
		},
		{
			name: "lcov merges records and drops files outside the root", format: LCOV, pattern: "lcov.info",
			opts: CoverageOptions{Root: "/work"},
			want: map[string]map[int]int{"src/index.js": {1: 1, 2: 1, 4: 2, 5: 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, files, err := ParseCoverageFiles(tt.format, "testdata/coverage", tt.pattern, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 1 {
				t.Errorf("files = %v", files)
			}
			if diff := cmp.Diff(tt.want, lines(c)); diff != "" {
				t.Errorf("coverage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseGoCoverMerge(t *testing.T) {
	tests := []struct {
		name, profile string
		want          map[int]int
	}{
		{"set mode ORs repeated blocks", "mode: set\na/f.go:1.1,2.2 1 0\na/f.go:1.1,2.2 1 1\na/f.go:1.1,2.2 1 1\n", map[int]int{1: 1, 2: 1}},
		{"count mode adds repeated blocks", "mode: count\na/f.go:1.1,1.9 1 2\nmode: count\na/f.go:1.1,1.9 1 5\n", map[int]int{1: 7}},
		{"atomic mode adds too", "mode: atomic\na/f.go:1.1,1.9 1 2\na/f.go:1.1,1.9 1 0\n", map[int]int{1: 2}},
		{"blocks without statements are not coverable", "mode: set\na/f.go:1.1,1.9 0 0\na/f.go:3.1,3.9 1 0\n", map[int]int{3: 0}},
		{"huge counts saturate", "mode: count\na/f.go:1.1,1.9 1 99999999999999999999999\na/f.go:1.1,1.9 1 5\n", map[int]int{1: math.MaxInt32}},
		{"file names with spaces", "mode: set\na/my file.go:1.1,1.9 1 1\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCoverage(GoCover, "c.out", strings.NewReader(tt.profile), CoverageOptions{Modules: map[string]string{"a": ""}})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]map[int]int{"f.go": tt.want}
			if tt.want == nil {
				want = map[string]map[int]int{"my file.go": {1: 1}}
			}
			if diff := cmp.Diff(want, lines(c)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCoverageErrors(t *testing.T) {
	tests := []struct {
		format Format
		input  string
		want   string // the whole error text
	}{
		{GoCover, "", `c.out: empty Go coverprofile: no "mode:" line`},
		{GoCover, "a.go:1.1,2.2 1 1\n", `c.out:1: not a Go coverprofile: the first line must be "mode: set|count|atomic"`},
		{GoCover, "mode: sometimes\n", `c.out:1: unknown coverage mode "sometimes" (want set, count or atomic)`},
		{GoCover, "mode: set\nmode: count\n", `c.out:2: coverage mode "count" differs from "set" above`},
		{GoCover, "mode: set\n\na/f.go:1.1,2.2 1\n", `c.out:3: want "file:line.col,line.col statements count", got "a/f.go:1.1,2.2 1"`},
		{GoCover, "mode: set\na/f.go:0.1,2.2 1 1\n", `c.out:2: block position "0.1,2.2": line "0" is not a number between 1 and 10000000`},
		{GoCover, "mode: set\na/f.go:3.1,2.2 1 1\n", `c.out:2: block "3.1,2.2" ends before it starts`},
		{GoCover, "mode: set\na/f.go:1.1,2.2 x 1\n", `c.out:2: statement count: "x" is not a whole number`},
		{GoCover, "mode: set\na/f.go:1.1,2.2 1 -1\n", `c.out:2: hit count: "-1" is not a whole number`},
		{GoCover, "mode: set\na/f.go:1.1,2.2 1 1\na/f.go:1.1,2.2 2 1\n", `c.out:3: block a/f.go:1.1,2.2 has 2 statements here and 1 earlier`},
		{Cobertura, "", `c.out: not a Cobertura report: no XML element found (empty file?)`},
		{Cobertura, "<report/>", `c.out:1: not a Cobertura report: the root element is <report>, not <coverage>`},
		{Cobertura, "<coverage>\n<packages><package><classes>\n<class>", `c.out:3: <class> without a filename attribute`},
		{Cobertura, "<coverage>\n<packages><package><classes><class filename=\"a.py\"><lines>\n<line number=\"x\" hits=\"1\"/>", `c.out:3: <line> in "a.py": number "x" is not a line number between 1 and 10000000`},
		{Cobertura, "<coverage>\n<packages><package><classes><class filename=\"a.py\"><lines>\n<line number=\"2\" hits=\"-3\"/>", `c.out:3: <line number="2"> in "a.py": hits: "-3" is not a whole number`},
		{Cobertura, "<coverage>\n<packages>", `c.out:2: invalid XML: unexpected end of file (truncated report?)`},
		{LCOV, "", `c.out: not an LCOV tracefile: no SF: record`},
		{LCOV, "DA:1,1\n", `c.out:1: DA: outside a record (no SF: line before it)`},
		{LCOV, "SF:a.c\nDA:1\n", `c.out:2: DA:1: want DA:<line>,<hits>`},
		{LCOV, "SF:a.c\nDA:1,-1\n", `c.out:2: DA:1,-1: hits: "-1" is not a whole number`},
		{LCOV, "SF:a.c\nDA:1,1\n", `c.out:2: last record has no end_of_record (truncated report?)`},
		{LCOV, "SF:a.c\nSF:b.c\n", `c.out:2: SF: inside a record: the previous record has no end_of_record`},
		{LCOV, "SF:a.c\nhello world\n", `c.out:2: not an LCOV line: "hello world"`},
		{"clover", "", `unknown report format "clover" (known: go-cover, cobertura, lcov)`},
	}
	for _, tt := range tests {
		t.Run(string(tt.format)+"/"+tt.want, func(t *testing.T) {
			_, err := ParseCoverage(tt.format, "c.out", strings.NewReader(tt.input), CoverageOptions{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			var pe *ParseError
			if tt.format != "clover" && !errors.As(err, &pe) {
				t.Errorf("error is a %T, not a *ParseError", err)
			}
		})
	}
}

func TestParseCoverageSizeCap(t *testing.T) {
	defer func(n int64) { coverageCap = n }(coverageCap)
	coverageCap = 1 << 20
	big := &repeatReader{s: "SF:a.c\nDA:1,1\nend_of_record\n", n: (1<<20)/27 + 10}
	_, err := ParseCoverage(LCOV, "big.info", big, CoverageOptions{})
	if err == nil || err.Error() != "big.info: report is larger than 1 MiB" {
		t.Fatalf("error = %v", err)
	}
}

func TestGoModules(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module example.com/root\n\ngo 1.22\n")
	writeFile(t, filepath.Join(root, "tools/go.mod"), "// tools\nmodule \"example.com/root/tools\"\n")
	writeFile(t, filepath.Join(root, "vendor/x/go.mod"), "module example.com/vendored\n")
	writeFile(t, filepath.Join(root, "a/testdata/go.mod"), "module example.com/fixture\n")
	got, err := GoModules(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"example.com/root": "", "example.com/root/tools": "tools"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCoverageMergeAndTotals(t *testing.T) {
	a, b := NewCoverage(), NewCoverage()
	a.file("x.go").Lines = map[int]int{1: 1, 2: 0}
	b.file("x.go").Lines = map[int]int{2: 3, 3: 0}
	b.file("y.go").Lines = map[int]int{1: 0}
	a.Merge(b)
	if covered, coverable := a.Totals(); covered != 2 || coverable != 4 {
		t.Errorf("totals = %d/%d, want 2/4", covered, coverable)
	}
	if p := a.Percent(); p != 50 {
		t.Errorf("percent = %v", p)
	}
	if p := NewCoverage().Percent(); !math.IsNaN(p) {
		t.Errorf("empty coverage percent = %v, want NaN", p)
	}
}

// lines flattens coverage for comparison.
func lines(c *Coverage) map[string]map[int]int {
	out := map[string]map[int]int{}
	for p, fc := range c.Files {
		out[p] = fc.Lines
	}
	return out
}

func writeFile(t testing.TB, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// repeatReader yields s n times without holding it all in memory.
type repeatReader struct {
	s   string
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		if r.n == 0 {
			if written == 0 {
				return 0, io.EOF
			}
			break
		}
		c := copy(p[written:], r.s[r.off:])
		written += c
		r.off += c
		if r.off == len(r.s) {
			r.off = 0
			r.n--
		}
	}
	return written, nil
}
