package sast

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/report"
	"golang.org/x/mod/modfile"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/sarif"
)

// offline keeps the go command from reaching a module proxy: the testdata
// modules import only the standard library.
func offline(t testing.TB) {
	t.Helper()
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
}

func scanDir(t testing.TB, opts Options) *scan.Report {
	t.Helper()
	rep, err := Scan(t.Context(), opts)
	if err != nil {
		t.Fatalf("Scan(%s): %v", opts.Root, err)
	}
	return rep
}

func byRule(rep *scan.Report) map[string][]scan.Finding {
	m := map[string][]scan.Finding{}
	for _, f := range rep.Findings {
		m[f.Rule] = append(m[f.Rule], f)
	}
	return m
}

func TestScanFindings(t *testing.T) {
	offline(t)
	rep := scanDir(t, Options{Root: filepath.Join("testdata", "vuln"), Exclude: []string{"skip*"}})
	if rep.Scanner != scan.SAST || !strings.HasPrefix(rep.Tool, "gosec v2.") || rep.Scanned != 2 {
		t.Errorf("report: scanner %q tool %q scanned %d, want sast, gosec v2.x, 2 files", rep.Scanner, rep.Tool, rep.Scanned)
	}
	got := byRule(rep)
	for _, tt := range []struct {
		rule, path, snippet string
		line                int
		sev                 scan.Severity
	}{
		{"G501", "hash.go", `"crypto/md5"`, 5, scan.Medium},
		{"G401", "hash.go", "h := md5.New()", 13, scan.Medium},
		{"G204", "hash.go", `return exec.Command(tool, "--version").Run()`, 21, scan.Medium},
		{"G702", "hash.go", `return exec.Command(tool, "--version").Run()`, 21, scan.High},
		{"G304", "hash.go", "return os.ReadFile(name)", 26, scan.Medium},
		{"G703", "hash.go", "return os.ReadFile(os.Args[1])", 31, scan.High},
		// HIGH severity, LOW confidence: one step down; the value redacted.
		{"G101", "cmd/tool/main.go", `const dbPassword = "Zq8v*****"`, 6, scan.Medium},
	} {
		fs := got[tt.rule]
		if len(fs) != 1 {
			t.Errorf("%s: %d findings, want 1: %+v", tt.rule, len(fs), rep.Findings)
			continue
		}
		f := fs[0]
		if f.Path != tt.path || f.Line != tt.line || f.Snippet != tt.snippet || f.Severity != tt.sev ||
			f.Column == 0 || f.Title == "" || !strings.HasPrefix(f.HelpURL, "https://") || len(f.Fingerprint) != 32 {
			t.Errorf("%s = %+v\nwant %s:%d %q severity %v", tt.rule, f, tt.path, tt.line, tt.snippet, tt.sev)
		}
	}
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Path, "skipme/") || strings.Contains(f.Path, "testdata") ||
			strings.HasPrefix(f.Path, "nested/") || strings.HasPrefix(f.Path, "gen/") || f.Line == 36 {
			t.Errorf("finding in skipped code: %+v", f)
		}
		if strings.Contains(f.Snippet, "L2rT9wXk4") {
			t.Errorf("secret in snippet: %+v", f)
		}
	}
	if len(rep.Findings) != 7 {
		t.Errorf("%d findings, want 7: %+v", len(rep.Findings), rep.Findings)
	}
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "#nosec") }) {
		t.Errorf("warnings %q do not mention the #nosec suppression", rep.Warnings)
	}
}

func TestScanClean(t *testing.T) {
	offline(t)
	rep := scanDir(t, Options{Root: filepath.Join("testdata", "clean")})
	if len(rep.Findings) != 0 || len(rep.Warnings) != 0 || rep.Scanned != 1 {
		t.Fatalf("clean module: %d findings, warnings %q, %d files", len(rep.Findings), rep.Warnings, rep.Scanned)
	}
}

// TestScanFingerprintsSurviveMoves inserts lines above every finding: the
// lines change, the fingerprints do not.
func TestScanFingerprintsSurviveMoves(t *testing.T) {
	offline(t)
	dir := t.TempDir()
	copyTree(t, filepath.Join("testdata", "vuln"), dir)
	before := scanDir(t, Options{Root: dir})
	p := filepath.Join(dir, "hash.go")
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	moved := strings.Replace(string(src), "// Sum hashes", "// Padding moves the code down.\nconst _ = 1\n\n// Sum hashes", 1)
	if err := os.WriteFile(p, []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	after := scanDir(t, Options{Root: dir})
	if len(before.Findings) == 0 || len(after.Findings) != len(before.Findings) {
		t.Fatalf("%d findings became %d", len(before.Findings), len(after.Findings))
	}
	for i, b := range before.Findings {
		a := after.Findings[i]
		if a.Fingerprint != b.Fingerprint {
			t.Errorf("%s %s:%d: fingerprint changed when moved to line %d", b.Rule, b.Path, b.Line, a.Line)
		}
		if b.Path == "hash.go" && b.Line > 10 && a.Line != b.Line+3 {
			t.Errorf("%s: line %d -> %d, want moved by 3", b.Rule, b.Line, a.Line)
		}
	}
}

// TestGosecSARIFAgrees: gosec's own SARIF output, read by sarif.Read,
// gives the same fingerprints as the library scan (except G101, whose
// snippet only Slipway redacts), so a step that runs the gosec CLI and
// the built-in scanner report the same findings.
func TestGosecSARIFAgrees(t *testing.T) {
	offline(t)
	root := filepath.Join("testdata", "vuln")
	res, err := analyze(t.Context(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	info := gosec.NewReportInfo(res.issues, res.metrics, res.errors).WithVersion(Version())
	if err := report.CreateReport(&buf, "sarif", false, []string{res.root}, info); err != nil {
		t.Fatal(err)
	}
	ingested, err := sarif.Read(&buf, "gosec.sarif")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, f := range scanDir(t, Options{Root: root}).Findings {
		if f.Rule != "G101" {
			want[f.Fingerprint] = true
		}
	}
	got := map[string]bool{}
	for _, f := range ingested[0].Findings {
		if f.Rule != "G101" {
			got[f.Fingerprint] = true
		}
	}
	if len(want) == 0 || !mapsEqual(got, want) {
		t.Errorf("gosec SARIF fingerprints %v\nlibrary fingerprints %v", got, want)
	}
}

func TestScanErrors(t *testing.T) {
	offline(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Scan(ctx, Options{Root: filepath.Join("testdata", "vuln")}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	if _, err := Scan(t.Context(), Options{Root: filepath.Join("testdata", "missing")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing root: err = %v", err)
	}
	if _, err := Scan(t.Context(), Options{Root: ".", Exclude: []string{"[unclosed"}}); err == nil || !strings.Contains(err.Error(), "[unclosed") {
		t.Errorf("bad pattern: err = %v", err)
	}
	badMod := t.TempDir()
	writeFile(t, filepath.Join(badMod, "go.mod"), "modul example.com/typo\n")
	writeFile(t, filepath.Join(badMod, "a.go"), "package a\n")
	if _, err := Scan(t.Context(), Options{Root: badMod}); !errors.Is(err, ErrNoPackages) || !strings.Contains(err.Error(), "unknown directive") {
		t.Errorf("broken go.mod: err = %v", err)
	}
}

// TestScanTypeErrors: a package that does not type-check is still
// scanned, and the error is a warning naming file and line.
func TestScanTypeErrors(t *testing.T) {
	offline(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/broken\n\ngo 1.22\n")
	writeFile(t, filepath.Join(dir, "b.go"), "package broken\n\nimport \"crypto/md5\"\n\nvar _ = md5.New\n\nfunc F() int { return undefined }\n")
	rep := scanDir(t, Options{Root: dir})
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.HasPrefix(w, "b.go:7:") }) {
		t.Errorf("warnings = %q, want b.go:7: ...", rep.Warnings)
	}
	if len(byRule(rep)["G501"]) != 1 {
		t.Errorf("findings = %+v, want the G501 import still reported", rep.Findings)
	}
}

func TestSeverity(t *testing.T) {
	for _, tt := range []struct {
		sev, conf/* gosec */ int
		want scan.Severity
	}{{2, 2, scan.High}, {2, 1, scan.High}, {2, 0, scan.Medium}, {1, 2, scan.Medium}, {1, 0, scan.Low}, {0, 2, scan.Low}, {0, 0, scan.Low}} {
		if got := severity(scoreOf(tt.sev), scoreOf(tt.conf)); got != tt.want {
			t.Errorf("severity(%d, confidence %d) = %v, want %v", tt.sev, tt.conf, got, tt.want)
		}
	}
}

func TestFlaggedAndRedact(t *testing.T) {
	code := "11: before()\n12: \th := md5.New(\n13: \t\tx)\n14: after()\n"
	if got := flagged(code, 12, 13); got != "h := md5.New(\nx)" {
		t.Errorf("flagged = %q", got)
	}
	lit := `pw := "s3cr3t-value-1234" + ` + "`raw-secret-value`" + ` + "a\"b"`
	got := redactLiterals(lit)
	if strings.Contains(got, "s3cr3t-value") || strings.Contains(got, "raw-secret-value") || !strings.HasPrefix(got, `pw := "s3cr*****"`) {
		t.Errorf("redactLiterals = %q", got)
	}
}

// TestVersionMatchesGoMod keeps the fallback version in step with go.mod.
func TestVersionMatchesGoMod(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mf.Require {
		if r.Mod.Path == gosecModule {
			if r.Mod.Version != gosecVersion || Version() != gosecVersion {
				t.Errorf("go.mod requires gosec %s, gosecVersion is %s, Version() %s", r.Mod.Version, gosecVersion, Version())
			}
			return
		}
	}
	t.Errorf("go.mod does not require %s", gosecModule)
}

// TestScanSelf scans this repository, for timing (about a minute on two
// cores): set SLIPWAY_TEST_SAST_SELF=1 to run it.
func TestScanSelf(t *testing.T) {
	if os.Getenv("SLIPWAY_TEST_SAST_SELF") == "" {
		t.Skip("set SLIPWAY_TEST_SAST_SELF=1 to scan the whole repository")
	}
	t.Setenv("GOFLAGS", "-mod=mod") // must not rewrite go.mod: see readOnlyEnv
	modBefore, err := os.ReadFile(filepath.Join("..", "..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	rep := scanDir(t, Options{Root: filepath.Join("..", "..", "..")})
	if modAfter, _ := os.ReadFile(filepath.Join("..", "..", "..", "go.mod")); !bytes.Equal(modBefore, modAfter) {
		t.Errorf("the scan rewrote go.mod")
	}
	count := map[scan.Severity]int{}
	rules := map[string]int{}
	for _, f := range rep.Findings {
		count[f.Severity]++
		rules[f.Rule]++
	}
	t.Logf("%d files, %d findings in %v; by severity %v; by rule %v; %d warnings", rep.Scanned, len(rep.Findings), rep.Took, count, rules, len(rep.Warnings))
	for _, w := range rep.Warnings {
		t.Log(w)
	}
	if rep.Scanned < 100 {
		t.Errorf("scanned %d files, want the whole repository", rep.Scanned)
	}
}
