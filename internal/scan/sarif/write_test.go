package sarif

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slipway-ci/slipway/internal/scan"
)

func TestWriteGolden(t *testing.T) {
	out := write(t, sampleReports()...)
	validate(t, out)
	golden(t, "write.sarif", out)
}

func TestWriteValidates(t *testing.T) {
	for name, reports := range map[string][]*scan.Report{
		"no reports":    nil,
		"empty report":  {{Scanner: scan.SAST}},
		"no rule":       {{Scanner: scan.Deps, Findings: []scan.Finding{{Scanner: scan.Deps, Package: "p"}}}},
		"odd severity":  {{Scanner: scan.SAST, Findings: []scan.Finding{{Rule: "R", Severity: scan.Severity(42), Path: "a#b?c%d.go", Line: 1}}}},
		"bad help url":  {{Scanner: scan.SAST, Findings: []scan.Finding{{Rule: "R", HelpURL: "not a url", Path: "C:/x.go"}}}},
		"colon in path": {{Scanner: scan.SAST, Findings: []scan.Finding{{Rule: "R", Path: "a:b/c.go", Line: 2, EndLine: 1}}}},
	} {
		t.Run(name, func(t *testing.T) {
			validate(t, write(t, reports...))
		})
	}
}

func TestWriteFields(t *testing.T) {
	var l struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name, Version, InformationURI string
					Rules                         []struct {
						ID                   string
						DefaultConfiguration struct{ Level string }
						Properties           map[string]any
					}
				}
			}
			Results []struct {
				RuleID              string
				RuleIndex           int
				Level               string
				PartialFingerprints map[string]string
				Properties          map[string]any
				Locations           []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string }
						Region           struct{ StartLine, StartColumn, EndLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(write(t, sampleReports()...), &l); err != nil {
		t.Fatal(err)
	}
	d := l.Runs[0].Tool.Driver
	if d.Name != "gosec" || d.Version != "v2.30.0" || d.InformationURI != "https://github.com/securego/gosec" {
		t.Errorf("driver = %+v", d)
	}
	// G401 has a medium and a low finding: the rule defaults to the worst.
	if len(d.Rules) != 2 || d.Rules[1].ID != "G401" || d.Rules[1].DefaultConfiguration.Level != "warning" {
		t.Errorf("rules = %+v", d.Rules)
	}
	levels := []string{}
	for _, run := range l.Runs {
		for _, r := range run.Results {
			levels = append(levels, r.Level)
			if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
				t.Errorf("result %s points at rule %d", r.RuleID, r.RuleIndex)
			}
			if len(r.PartialFingerprints[FingerprintKey]) != 32 {
				t.Errorf("result %s: partialFingerprints = %v", r.RuleID, r.PartialFingerprints)
			}
		}
	}
	// medium, high, low | critical, unknown | info.
	if want := []string{"warning", "error", "note", "error", "warning", "note"}; !cmp.Equal(levels, want) {
		t.Errorf("levels = %v, want %v", levels, want)
	}
	g204 := l.Runs[0].Results[1]
	loc := g204.Locations[0].PhysicalLocation
	if loc.ArtifactLocation.URI != "cmd/run%20me/main.go" || loc.ArtifactLocation.URIBaseID != SrcRoot ||
		loc.Region.StartLine != 30 || loc.Region.StartColumn != 9 || loc.Region.EndLine != 32 {
		t.Errorf("G204 location = %+v", loc)
	}
	dep := l.Runs[1].Results[0]
	if dep.Locations[0].PhysicalLocation.ArtifactLocation.URI != "go.mod" ||
		dep.Properties["package"] != "example.com/net" || dep.Properties["fixedIn"] != "v0.17.0" ||
		dep.Properties["reachable"] != "no" || dep.Properties["severity"] != "critical" {
		t.Errorf("dependency result = %+v", dep)
	}
}

// TestRoundTrip reads back what Write wrote: every finding comes back the
// same, fingerprint included, so stored findings survive a SARIF hop.
func TestRoundTrip(t *testing.T) {
	want := sampleReports()
	got, err := Read(bytes.NewReader(write(t, want...)), "round.sarif")
	if err != nil {
		t.Fatal(err)
	}
	want[3].Tool = "slipway-image" // a report without a tool gets a name
	opts := cmpopts.EquateEmpty()
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWriteNilReport(t *testing.T) {
	err := Write(&bytes.Buffer{}, &scan.Report{}, nil)
	if err == nil || !strings.Contains(err.Error(), "report 1 is nil") {
		t.Fatalf("err = %v", err)
	}
}

// TestSchemaRejects proves the schema check can fail: a log Write could
// never produce, with a level SARIF does not define and a relative helpUri.
func TestSchemaRejects(t *testing.T) {
	for _, bad := range []string{
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"R","level":"fatal","message":{"text":"m"}}]}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","rules":[{"id":"R","helpUri":"no scheme"}]}}}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"R","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}}}]}]}]}`,
	} {
		if err := validateErr([]byte(bad)); err == nil {
			t.Errorf("schema accepted %s", bad)
		}
	}
}
