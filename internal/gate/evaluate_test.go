package gate

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var now = time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC)

func testPolicy(t testing.TB) Policy {
	t.Helper()
	root, err := yamlpos.Parse(".slipway.yaml", []byte(`gates:
  secrets: {fail-on: low}
  deps: {fail-on: high, scope: all}
  sast: {fail-on: medium}
  quality:
    - new_coverage >= 80
    - new_duplicated_lines_pct <= 3
    - new_issues == 0
    - max_new_function_complexity <= 15
    - coverage >= 50
`))
	if err != nil {
		t.Fatal(err)
	}
	d := &yamlpos.Decoder{File: ".slipway.yaml"}
	fields := d.Mapping(root, "config", []string{"gates"})
	p := DecodePolicy(d, fields[0].Value, "gates")
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	return p
}

func finding(scanner, rule string, sev scan.Severity, path string, line int, title string) scan.Finding {
	return scan.Finding{Scanner: scanner, Rule: rule, Severity: sev, Path: path, Line: line, Title: title,
		Fingerprint: scan.Fingerprint(scanner, rule, path, title)}
}

// failingInput has a new secret, an old high vulnerability (scope all), new
// SAST issues, low coverage on new code and a complex new function.
func failingInput(t testing.TB) EvalInput {
	secret := finding(scan.Secrets, "generic-api-key", scan.High, "config/app.env", 3, "Generic API Key: ABCD*****")
	oldVuln := scan.Finding{Scanner: scan.Deps, Rule: "GO-2024-0001", Severity: scan.High, Package: "example.com/lib",
		Version: "v1.0.0", Title: "Path traversal in lib", Fingerprint: "fp-vuln"}
	oldSAST := finding(scan.SAST, "G104", scan.Medium, "internal/old/x.go", 5, "Errors unhandled")
	var findings []scan.Finding
	findings = append(findings, secret, oldVuln, oldSAST)
	for i := 1; i <= 12; i++ {
		findings = append(findings, finding(scan.SAST, "G404", scan.Medium, "internal/new/rand.go", i*10, "Use of weak random number generator"))
	}
	ev := map[string][]scan.Finding{
		quality.MetricNewCoverage: {
			{Scanner: "quality", Rule: quality.RuleUncovered, Severity: scan.Info, Path: "calc.go", Line: 9, EndLine: 10, Title: "lines 9-10 not covered by tests"},
		},
		quality.MetricMaxNewFunctionComplexity: {
			{Scanner: "quality", Rule: quality.RuleComplexity, Severity: scan.Info, Path: "calc.go", Line: 40, EndLine: 90, Title: "Classify has cyclomatic complexity 18"},
		},
	}
	return EvalInput{
		Policy:           testPolicy(t),
		Findings:         findings,
		BaseFingerprints: map[string]bool{oldVuln.Fingerprint: true, oldSAST.Fingerprint: true},
		Metrics: map[string]float64{
			quality.MetricNewCoverage: 62.5, quality.MetricNewDuplicatedLinesPct: math.NaN(),
			quality.MetricMaxNewFunctionComplexity: 18,
			// coverage is not measured: its condition fails.
		},
		Evidence: ev,
		Now:      now,
	}
}

func TestEvaluateFails(t *testing.T) {
	in := failingInput(t)
	ws, err := ParseWaivers(WaiversFile, []byte(`waivers:
  - fingerprint: never-seen
    owner: dave
    reason: fixed since
    expires: 2027-12-31
  - rule: generic-api-key
    path: config/**
    owner: alice
    reason: rotated, history rewrite pending
    expires: 2027-01-10
`))
	if err != nil {
		t.Fatal(err)
	}
	in.Waivers = ws
	res := Evaluate(in)
	if res.Pass {
		t.Fatal("gate passed")
	}
	got := map[string]bool{}
	for _, c := range res.Conditions {
		got[c.Name] = c.Pass
	}
	want := map[string]bool{
		"secrets": false, "deps": false, "sast": false,
		"new_coverage >= 80": false, "new_duplicated_lines_pct <= 3": true, "new_issues == 0": false,
		"max_new_function_complexity <= 15": false, "coverage >= 50": false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pass per condition (-want +got):\n%s", diff)
	}
	checkGolden(t, "testdata/table_fail.golden", res)
}

func TestEvaluatePassesWithWaivers(t *testing.T) {
	in := failingInput(t)
	in.Policy.Conditions = in.Policy.Conditions[:3] // coverage, duplication, issues
	in.Metrics[quality.MetricNewCoverage] = 85
	ws, err := ParseWaivers(WaiversFile, []byte(`waivers:
  - rule: generic-api-key
    path: config/**
    owner: alice
    reason: fake key for the demo
    expires: 2027-01-31
  - rule: G404
    scanner: sast
    path: internal/new/**
    owner: bob
    reason: jitter only
    expires: 2027-02-28
  - rule: GO-2024-0001
    owner: carol
    reason: unreachable, upgrade in #42
    expires: 2027-03-01
`))
	if err != nil {
		t.Fatal(err)
	}
	in.Waivers = ws
	res := Evaluate(in)
	if !res.Pass {
		var buf bytes.Buffer
		res.Table(&buf)
		t.Fatalf("gate failed:\n%s", buf.String())
	}
	if len(res.Applied) != 3 || len(res.Applied[1].Findings) != 12 {
		t.Errorf("applied = %+v", res.Applied)
	}
	checkGolden(t, "testdata/table_pass.golden", res)

	// The same waivers once expired no longer apply: the gate fails again.
	in.Now = time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)
	if res := Evaluate(in); res.Pass || len(res.Expired) != 3 {
		t.Errorf("expired waivers: pass=%v expired=%d", res.Pass, len(res.Expired))
	}
}

func TestEvaluateNoConditions(t *testing.T) {
	res := Evaluate(EvalInput{Findings: []scan.Finding{finding(scan.Secrets, "r", scan.Critical, "a", 1, "t")}, Now: now})
	if !res.Pass || len(res.Conditions) != 0 {
		t.Errorf("result = %+v", res)
	}
}

// checkGolden compares the table with the golden file, or rewrites it with -update.
func checkGolden(t testing.TB, golden string, res Result) {
	t.Helper()
	var buf bytes.Buffer
	if err := res.Table(&buf); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(filepath.FromSlash(golden))
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("%s mismatch (-want +got; go test -update rewrites it):\n%s", golden, diff)
	}
}

func TestTableWriteError(t *testing.T) {
	res := Evaluate(failingInput(t))
	if err := res.Table(failWriter{}); err == nil {
		t.Error("a write error was lost")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }
