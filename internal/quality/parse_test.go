package quality

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestParseFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"build/test-results/b.xml":         `<testsuite name="b"><testcase name="one"/></testsuite>`,
		"build/test-results/a.xml":         `<testsuite name="a"><testcase name="one"><failure message="x"/></testcase></testsuite>`,
		"build/test-results/nested/c.xml":  `<testsuites><testsuite name="c"><testcase name="one"><skipped/></testcase></testsuite></testsuites>`,
		"build/test-results/broken.xml":    `<testsuite name="d"><testcase name="one">`,
		"build/test-results/notes.txt":     `not a report`,
		"build/test-results/dir.xml/d.xml": `<testsuite name="e"><testcase name="one"/></testsuite>`,
	})
	cases, files, err := ParseFiles(JUnit, dir, "build/test-results/**/*.xml", time.Time{})
	wantFiles := []string{
		"build/test-results/a.xml",
		"build/test-results/b.xml",
		"build/test-results/broken.xml",
		"build/test-results/dir.xml/d.xml",
		"build/test-results/nested/c.xml",
	}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "build/test-results/broken.xml" {
		t.Fatalf("err = %v, want a ParseError for broken.xml", err)
	}
	want := map[string]Outcome{"a::one": Failed, "b::one": Passed, "e::one": Passed, "c::one": Skipped}
	if diff := cmp.Diff(want, outcomes(cases)); diff != "" {
		t.Errorf("cases of the good files (-want +got):\n%s", diff)
	}
	if s := Summarize(cases); s != (Summary{Total: 4, Passed: 2, Failed: 1, Skipped: 1}) {
		t.Errorf("Summarize = %+v", s)
	}
}

func TestParseFilesErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"out/report.json": `{"Action":"pass","Package":"p"}`})
	tests := []struct {
		name    string
		format  Format
		pattern string
		is      error
		want    string
	}{
		{"no match", GoTestJSON, "reports/*.json", ErrNoReports, `no report file matches "reports/*.json" in ` + dir},
		{"bad glob", GoTestJSON, "out/[.json", nil, `report pattern "out/[.json" is not a valid glob`},
		{"absolute", GoTestJSON, "/etc/*.json", nil, `report pattern "/etc/*.json" must be relative to the workspace and stay inside it`},
		{"escapes", GoTestJSON, "../*/out/*.json", nil, `report pattern "../*/out/*.json" must be relative to the workspace and stay inside it`},
		{"empty", GoTestJSON, "", nil, `report pattern is empty`},
		{"unknown format", Format("tap"), "out/*.json", ErrUnknownFormat, `unknown report format "tap" (known: junit, go-test-json)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseFiles(tt.format, dir, tt.pattern, time.Time{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
		})
	}
	cases, files, err := ParseFiles(GoTestJSON, dir, "./out/*.json", time.Time{})
	if err != nil || len(files) != 1 || len(cases) != 0 {
		t.Errorf("ParseFiles(./out/*.json) = %v, %v, %v", cases, files, err)
	}
}

func TestParseUnknownFormat(t *testing.T) {
	_, err := Parse("sarif", "x", strings.NewReader(""))
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("err = %v", err)
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string // "" = the input joined
	}{
		{"short", []string{"a\n", "b\n"}, "a\nb"},
		{"exactly the limit", []string{strings.Repeat("x", MaxMessage)}, ""},
		{"one over", []string{strings.Repeat("x", MaxMessage+1)},
			strings.Repeat("x", excerptHead) + omitted + strings.Repeat("x", excerptTail)},
		{"NUL and bad UTF-8", []string{"a\x00b\xffc"}, "ab?c"},
		{"blank lines around", []string{"\n\n  indented\n\n"}, "  indented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bounded(tt.parts...)
			want := tt.want
			if want == "" {
				want = strings.Join(tt.parts, "")
			}
			if got != want {
				t.Errorf("bounded = %q (%d bytes), want %q (%d bytes)", got, len(got), want, len(want))
			}
		})
	}
	// Cuts never split a rune, whatever the alignment.
	for shift := range 4 {
		s := strings.Repeat("x", shift) + strings.Repeat("€", 3*MaxMessage)
		var x excerpt
		for _, r := range s {
			x.WriteString(string(r))
		}
		checkInvariants(t, []TestCase{{Suite: "s", Name: "n", Outcome: Failed, Message: x.String()}})
		if strings.ContainsRune(x.String(), '?') {
			t.Errorf("shift %d: a rune was split", shift)
		}
	}
}

// Report files older than since are leftovers of an earlier run.
func TestParseFilesSince(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"old.xml": `<testsuite name="s"><testcase name="stale"/></testsuite>`,
		"new.xml": `<testsuite name="s"><testcase name="fresh"/></testsuite>`,
	})
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "old.xml"), past, past); err != nil {
		t.Fatal(err)
	}
	cases, files, err := ParseFiles(JUnit, dir, "*.xml", time.Now().Add(-time.Minute))
	if err != nil || len(files) != 1 || files[0] != "new.xml" || len(cases) != 1 || cases[0].Name != "fresh" {
		t.Fatalf("ParseFiles = %v, %v, %v", cases, files, err)
	}
	if _, _, err := ParseFiles(JUnit, dir, "old.xml", time.Now().Add(-time.Minute)); !errors.Is(err, ErrNoReports) {
		t.Errorf("only a stale file: %v, want ErrNoReports", err)
	}
}
