package sarif

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/slipway-ci/slipway/internal/scan"
)

var update = flag.Bool("update", false, "rewrite the golden SARIF files under testdata/")

// sampleReports covers every shape Write must handle: code findings with
// regions and snippets, dependency findings placed in a lockfile or only
// in a package, a path that needs escaping, a tool without a version and
// an empty report.
func sampleReports() []*scan.Report {
	fp := scan.Fingerprint
	return []*scan.Report{
		{
			Scanner: scan.SAST, Tool: "gosec v2.30.0", Target: ".",
			Findings: []scan.Finding{
				{Scanner: scan.SAST, Rule: "G401", Severity: scan.Medium, Title: "Use of weak cryptographic primitive",
					Path: "internal/hash/hash.go", Line: 12, Column: 7, EndLine: 12, Snippet: "h := md5.New()",
					HelpURL:     "https://cwe.mitre.org/data/definitions/328.html",
					Fingerprint: fp(scan.SAST, "G401", "internal/hash/hash.go", "h := md5.New()")},
				{Scanner: scan.SAST, Rule: "G204", Severity: scan.High, Title: "Subprocess launched with a potential tainted input or cmd arguments",
					Path: "cmd/run me/main.go", Line: 30, Column: 9, EndLine: 32, Snippet: "exec.Command(name,\n\targ)",
					Fingerprint: fp(scan.SAST, "G204", "cmd/run me/main.go", "exec.Command(name, arg)")},
				{Scanner: scan.SAST, Rule: "G401", Severity: scan.Low, Title: "Use of weak cryptographic primitive",
					Path: "internal/hash/legacy.go", Line: 3, Snippet: "sha1.Sum(b)",
					HelpURL:     "https://cwe.mitre.org/data/definitions/328.html",
					Fingerprint: fp(scan.SAST, "G401", "internal/hash/legacy.go", "sha1.Sum(b)")},
			},
		},
		{
			Scanner: scan.Deps, Tool: "slipway-osv", Target: "go.mod",
			Findings: []scan.Finding{
				{Scanner: scan.Deps, Rule: "GO-2099-0001", Severity: scan.Critical, Title: "Request smuggling in example.com/net",
					Path: "go.mod", Package: "example.com/net", Version: "v0.1.0", Ecosystem: "Go", FixedIn: "v0.17.0",
					Reachable: "no", HelpURL: "https://pkg.go.dev/vuln/GO-2099-0001",
					Fingerprint: fp(scan.Deps, "GO-2099-0001", "go.mod", "example.com/net@v0.1.0")},
				{Scanner: scan.Deps, Rule: "GHSA-xxxx-yyyy-zzzz", Severity: scan.Unknown, Title: "Prototype pollution in left-pad",
					Package: "left-pad", Version: "1.0.0", Ecosystem: "npm",
					Fingerprint: fp(scan.Deps, "GHSA-xxxx-yyyy-zzzz", "", "left-pad@1.0.0")},
			},
		},
		{
			Scanner: scan.Secrets, Tool: "gitleaks-lib", Target: "working tree",
			Findings: []scan.Finding{
				{Scanner: scan.Secrets, Rule: "generic-api-key", Severity: scan.Info, Title: "Generic API Key",
					Path: "config/app.env", Line: 4, Column: 1, EndLine: 4, Snippet: "API_KEY=abcd*****",
					Commit:      "0123456789abcdef0123456789abcdef01234567",
					Fingerprint: fp(scan.Secrets, "generic-api-key", "config/app.env", "sha256:fake")},
			},
		},
		{Scanner: scan.Image, Tool: "", Target: "registry.local/app@sha256:0000", Findings: []scan.Finding{}},
	}
}

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// validate checks a SARIF log against the official SARIF 2.1.0 schema,
// with format assertions on (uri, date-time...).
func validate(t testing.TB, data []byte) {
	t.Helper()
	if err := validateErr(data); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
}

func validateErr(data []byte) error {
	schemaOnce.Do(func() {
		f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if schemaErr = c.AddResource("sarif-schema-2.1.0.json", doc); schemaErr != nil {
			return
		}
		schema, schemaErr = c.Compile("sarif-schema-2.1.0.json")
	})
	if schemaErr != nil {
		return fmt.Errorf("load SARIF schema: %w", schemaErr)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("output is not JSON: %w", err)
	}
	if err := schema.Validate(inst); err != nil {
		return fmt.Errorf("output does not validate against SARIF 2.1.0:\n%w", err)
	}
	return nil
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; run with -update if the change is intended\ngot:\n%s", p, got)
	}
}

func write(t testing.TB, reports ...*scan.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, reports...); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}
