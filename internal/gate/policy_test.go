package gate

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ci/slipway/internal/scan"
)

func TestLoadPolicy(t *testing.T) {
	p, err := LoadPolicy("gates.yaml", []byte(`
image: {fail-on: critical}
secrets: low
deps: {fail-on: high, scope: all}
quality:
  - new_coverage >= 80
  - coverage >= 60
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []ScannerGate{{scan.Secrets, scan.Low, New}, {scan.Deps, scan.High, All}, {scan.Image, scan.Critical, New}}
	if diff := cmp.Diff(want, p.Scanners); diff != "" {
		t.Errorf("scanners (-want +got):\n%s", diff)
	}
	if len(p.Conditions) != 2 || p.Conditions[0].Scope != New || p.Conditions[1].Scope != All || !p.Set {
		t.Errorf("policy = %+v", p)
	}
}

func TestLoadPolicyErrors(t *testing.T) {
	_, err := LoadPolicy("gates.yaml", []byte(`secrets: {scope: new}
deps: {fail-on: severe}
sast: {fail-on: high, scope: changed}
images: high
quality:
  - new_coverage >= 80
  - new_coverag >= 80
`))
	want := `gates.yaml:1:10: gates.secrets needs fail-on: <severity> (info, low, medium, high or critical)
gates.yaml:2:17: gates.deps.fail-on: severity "severe": want one of info, low, medium, high, critical
gates.yaml:3:30: gates.sast.scope must be "new" or "all", not "changed"
gates.yaml:4:1: gates: unknown key "images" (did you mean "image"?)
gates.yaml:7:5: gates.quality[1]: condition "new_coverag >= 80": unknown metric "new_coverag" (did you mean "new_coverage"?); known metrics: coverage, new_coverage, new_lines, new_lines_to_cover, new_uncovered_lines, new_duplicated_lines, new_duplicated_lines_pct, max_new_function_complexity, new_issues, issues, tests, tests_failed`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}
