package registry

import (
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/testtool"
)

// conformanceSuite is the OCI distribution-spec conformance suite, a go
// tool dependency of the module.
const conformanceSuite = "github.com/opencontainers/distribution-spec/conformance"

// TestConformance runs the OCI distribution-spec conformance suite against
// the embedded registry, through the policy, with the normal credentials.
// It is slow (it builds the suite), so it runs only with
// SLIPWAY_CONFORMANCE=1 or "conformance" in SLIPWAY_TEST_REQUIRE.
func TestConformance(t *testing.T) {
	if os.Getenv("SLIPWAY_CONFORMANCE") != "1" && !testtool.Required("conformance") {
		t.Skip("set SLIPWAY_CONFORMANCE=1 to run the OCI conformance suite")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	results := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-v", "-count=1", conformanceSuite)
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+s.Addr(),
		"OCI_TLS=disabled",
		"OCI_REPO1=conformance/repo1",
		"OCI_REPO2=conformance/repo2",
		"OCI_USERNAME="+c.Username,
		"OCI_PASSWORD="+c.Password,
		"OCI_RESULTS_DIR="+results,
		"OCI_LOG=error",
		// Not implemented by CNCF distribution v3.1.2.
		"OCI_DATA_SHA512=false",
		"OCI_API_REFERRER=false",
		"OCI_DATA_SUBJECT=false",
		"OCI_DATA_SUBJECT_MISSING=false",
		"OCI_DATA_SUBJECT_LIST=false",
		"OCI_DATA_NONDISTRIBUTABLE=false",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("conformance suite failed: %v\n%s", err, tail(out, 8000))
	}
	pass, fail, skip, err := junitCounts(filepath.Join(results, "junit.xml"))
	if err != nil {
		t.Fatalf("reading the suite's report: %v\n%s", err, tail(out, 4000))
	}
	summary := summaryRE.FindSubmatch(out)
	if summary == nil || string(summary[1]) != "Pass" {
		t.Fatalf("suite result is not Pass\n%s", tail(out, 8000))
	}
	t.Logf("OCI conformance: Pass (%s passed in the suite's count; %d test cases passed, %d failed, %d skipped)",
		summary[2], pass, fail, skip)
	if fail > 0 || pass == 0 {
		t.Fatalf("OCI conformance: %d passed, %d failed\n%s", pass, fail, tail(out, 8000))
	}
}

// summaryRE reads the suite's closing summary.
var summaryRE = regexp.MustCompile(`OCI Conformance Result: (\w+)\s+Disabled\.*:\s*\d+\s+Skip\.*:\s*\d+\s+Pass\.*:\s*(\d+)`)

// junitCounts counts the suite's junit.xml test cases by status.
func junitCounts(path string) (pass, fail, skip int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, err
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Status string `xml:"status,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return 0, 0, 0, err
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			switch c.Status {
			case "passed":
				pass++
			case "skipped":
				skip++
			default:
				fail++
			}
		}
	}
	return pass, fail, skip, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
