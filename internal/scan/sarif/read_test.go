package sarif

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/scan"
)

// Logs shaped like what the tools write (field for field as far as
// Slipway reads them), trimmed to one or two results.
const (
	golangciLint = `{"version":"2.1.0","$schema":"https://schemastore.azurewebsites.net/schemas/json/sarif-2.1.0-rtm.6.json",
"runs":[{"tool":{"driver":{"name":"golangci-lint"}},"results":[
 {"ruleId":"errcheck","level":"error","message":{"text":"Error return value of ` + "`f.Close`" + ` is not checked"},
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"pkg/store/file.go","index":0},"region":{"startLine":41,"startColumn":9}}}]},
 {"ruleId":"gocritic","level":"info","message":{"text":"ifElseChain: rewrite if-else to switch statement"},
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"./pkg/a.go","index":0},"region":{"startLine":3,"startColumn":2}}}]}]}]}`

	semgrep = `{"$schema":"https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json","version":"2.1.0",
"runs":[{"invocations":[{"executionSuccessful":true,"toolExecutionNotifications":[]}],
 "results":[{"fingerprints":{"matchBasedId/v1":"7d1c0a1e"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"app/views.py","uriBaseId":"%SRCROOT%"},
  "region":{"endColumn":30,"endLine":12,"snippet":{"text":"    return eval(request.args['q'])"},"startColumn":12,"startLine":12}}}],
  "message":{"text":"Detected the use of eval()."},"properties":{},"ruleId":"python.lang.security.audit.eval-detected.eval-detected"}],
 "tool":{"driver":{"name":"Semgrep OSS","semanticVersion":"1.99.0","rules":[{"id":"python.lang.security.audit.eval-detected.eval-detected",
  "defaultConfiguration":{"level":"warning"},"helpUri":"https://semgrep.dev/r/python.lang.security.audit.eval-detected.eval-detected",
  "shortDescription":{"text":"Semgrep Finding: eval-detected"},"properties":{"precision":"very-high","security-severity":"9.1","tags":["CWE-95"]}}]}}}]}`

	eslint = `{"version":"2.1.0","$schema":"http://json.schemastore.org/sarif-2.1.0-rtm.5",
"runs":[{"tool":{"driver":{"name":"ESLint","informationUri":"https://eslint.org","rules":[{"id":"no-eval","shortDescription":{"text":"Disallow the use of eval()"},"helpUri":"https://eslint.org/docs/latest/rules/no-eval","properties":{"category":"Best Practices"}}],"version":"8.57.0"}},
 "artifacts":[{"location":{"uri":"file:///home/ci/checkout/web/src/app.js"}}],
 "results":[
  {"level":"error","message":{"text":"eval can be harmful."},"locations":[{"physicalLocation":{"artifactLocation":{"index":0},"region":{"startLine":7,"startColumn":3,"endLine":7,"endColumn":7}}}],"ruleId":"no-eval","ruleIndex":0},
  {"level":"error","message":{"text":"eval can be harmful."},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"file:///home/ci/checkout/web/src/app.js","index":0},"region":{"startLine":9,"startColumn":3}}}],"ruleId":"no-eval","ruleIndex":0,
   "suppressions":[{"kind":"inSource","justification":"trusted input"}]}]}]}`

	gosecLog = `{"runs":[{"results":[{"ruleId":"G401","ruleIndex":0,"level":"error","message":{"text":"Use of weak cryptographic primitive"},
 "locations":[{"physicalLocation":{"artifactLocation":{"uri":"hash.go"},"region":{"startLine":9,"endLine":9,"startColumn":7,"endColumn":7,"snippet":{"text":"h := md5.New()"},"sourceLanguage":"go"}}}]}],
 "taxonomies":[],"tool":{"driver":{"name":"gosec","version":"dev","semanticVersion":"2.30.0","informationUri":"https://github.com/securego/gosec/",
 "rules":[{"id":"G401","name":"Use of weak cryptographic primitive","defaultConfiguration":{"level":"error"},"properties":{"tags":["security","MEDIUM"],"precision":"high"}}]}}}],
 "$schema":"https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/Schemata/sarif-schema-2.1.0.json","version":"2.1.0"}`
)

// gitleaksLog carries a fake secret, built here so no token-shaped literal
// sits in the source.
func gitleaksLog() (log, secret string) {
	secret = "ghp_" + strings.Repeat("FAKE0", 7) + "x"
	return `{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{"tool":{"driver":{"name":"gitleaks","semanticVersion":"v8.30.1","informationUri":"https://github.com/gitleaks/gitleaks",
 "rules":[{"id":"github-pat","shortDescription":{"text":"GitHub Personal Access Token"}}]}},
 "results":[{"message":{"text":"github-pat has detected secret for file deploy.sh."},"ruleId":"github-pat",
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"deploy.sh"},"region":{"startLine":3,"startColumn":8,"endLine":3,"endColumn":48,"snippet":{"text":"` + secret + `"}}}}],
  "partialFingerprints":{"commitSha":"","email":"","author":"","date":"","commitMessage":""}}]}]}`, secret
}

func readOne(t testing.TB, doc, root string) *scan.Report {
	t.Helper()
	reps, err := ReadRooted(strings.NewReader(doc), "in.sarif", root)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(reps) != 1 {
		t.Fatalf("got %d reports, want 1", len(reps))
	}
	return reps[0]
}

func TestReadTools(t *testing.T) {
	leaks, secret := gitleaksLog()
	type want struct {
		rule, path, snippet, help string
		sev                       scan.Severity
		line, col, endLine        int
	}
	for _, tt := range []struct {
		name, doc, root, scanner, tool string
		warnings                       int
		want                           []want
	}{
		{name: "golangci-lint", doc: golangciLint, scanner: scan.SAST, tool: "golangci-lint", want: []want{
			{rule: "errcheck", path: "pkg/store/file.go", sev: scan.High, line: 41, col: 9},
			{rule: "gocritic", path: "pkg/a.go", sev: scan.Info, line: 3, col: 2},
		}},
		{name: "semgrep security-severity beats level", doc: semgrep, scanner: scan.SAST, tool: "Semgrep OSS 1.99.0", want: []want{
			{rule: "python.lang.security.audit.eval-detected.eval-detected", path: "app/views.py", sev: scan.Critical,
				line: 12, col: 12, endLine: 12, snippet: "return eval(request.args['q'])",
				help: "https://semgrep.dev/r/python.lang.security.audit.eval-detected.eval-detected"},
		}},
		{name: "eslint absolute URIs under root, suppressed result", doc: eslint, root: "/home/ci/checkout", scanner: scan.SAST,
			tool: "ESLint 8.57.0", warnings: 1, want: []want{
				{rule: "no-eval", path: "web/src/app.js", sev: scan.High, line: 7, col: 3, endLine: 7, help: "https://eslint.org/docs/latest/rules/no-eval"},
			}},
		{name: "eslint without root keeps local paths", doc: eslint, scanner: scan.SAST, tool: "ESLint 8.57.0", warnings: 1, want: []want{
			{rule: "no-eval", path: "/home/ci/checkout/web/src/app.js", sev: scan.High, line: 7, col: 3, endLine: 7, help: "https://eslint.org/docs/latest/rules/no-eval"},
		}},
		{name: "gosec", doc: gosecLog, scanner: scan.SAST, tool: "gosec dev", want: []want{
			{rule: "G401", path: "hash.go", sev: scan.High, line: 9, col: 7, endLine: 9, snippet: "h := md5.New()"},
		}},
		{name: "gitleaks: secrets, redacted", doc: leaks, scanner: scan.Secrets, tool: "gitleaks v8.30.1", want: []want{
			{rule: "github-pat", path: "deploy.sh", sev: scan.Medium, line: 3, col: 8, endLine: 3, snippet: scan.RedactValue(secret)},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := readOne(t, tt.doc, tt.root)
			if rep.Scanner != tt.scanner || rep.Tool != tt.tool || rep.Target != "in.sarif" || len(rep.Warnings) != tt.warnings {
				t.Errorf("report = %q %q %q warnings %q", rep.Scanner, rep.Tool, rep.Target, rep.Warnings)
			}
			if len(rep.Findings) != len(tt.want) {
				t.Fatalf("got %d findings, want %d: %+v", len(rep.Findings), len(tt.want), rep.Findings)
			}
			for i, w := range tt.want {
				f := rep.Findings[i]
				got := want{rule: f.Rule, path: f.Path, snippet: f.Snippet, help: f.HelpURL, sev: f.Severity, line: f.Line, col: f.Column, endLine: f.EndLine}
				if got != w {
					t.Errorf("finding %d = %+v\nwant %+v", i, got, w)
				}
				if f.Title == "" || len(f.Fingerprint) != 32 || f.Scanner != tt.scanner {
					t.Errorf("finding %d: title %q fingerprint %q scanner %q", i, f.Title, f.Fingerprint, f.Scanner)
				}
				if strings.Contains(f.Snippet+f.Title, secret) {
					t.Errorf("finding %d leaks the secret", i)
				}
			}
		})
	}
}

// TestReadFingerprint: moving code keeps a finding's identity, changing
// the flagged code or file does not; given fingerprints win.
func TestReadFingerprint(t *testing.T) {
	doc := func(uri string, line int, snippet, extra string) string {
		return fmt.Sprintf(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[{"ruleId":"R","message":{"text":"m"},`+
			`"locations":[{"physicalLocation":{"artifactLocation":{"uri":%q},"region":{"startLine":%d,"snippet":{"text":%q}}}}]%s}]}]}`,
			uri, line, snippet, extra)
	}
	fp := func(d string) string { return readOne(t, d, "").Findings[0].Fingerprint }
	base := fp(doc("a.go", 1, "x := md5.New()", ""))
	for _, tt := range []struct {
		name string
		doc  string
		same bool
	}{
		{"moved down", doc("a.go", 2, "x := md5.New()", ""), true},
		{"reindented", doc("a.go", 3, "\t x  :=  md5.New() ", ""), true},
		{"other code", doc("a.go", 1, "y := md5.New()", ""), false},
		{"other file", doc("b.go", 1, "x := md5.New()", ""), false},
		{"tool fingerprint", doc("a.go", 1, "x := md5.New()", `,"partialFingerprints":{"primaryLocationLineHash":"39fa2ee980eb94b0:1"}`), false},
	} {
		if got := fp(tt.doc); (got == base) != tt.same {
			t.Errorf("%s: fingerprint %s vs %s, want same=%v", tt.name, got, base, tt.same)
		}
	}
	withOwn := doc("a.go", 1, "x", `,"partialFingerprints":{"slipway/v1":"0123456789abcdef0123456789abcdef"}`)
	if got := fp(withOwn); got != "0123456789abcdef0123456789abcdef" {
		t.Errorf("own fingerprint not kept: %s", got)
	}
}

func TestReadErrors(t *testing.T) {
	run := func(results string) string {
		return `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t","rules":[{"id":"R"}]}},"results":[` + results + `]}]}`
	}
	ok := `{"ruleId":"R","message":{"text":"m"}}`
	for _, tt := range []struct{ name, doc, want string }{
		{"empty", " \n", "bad.sarif: empty file"},
		{"truncated", `{"version":"2.1.0","runs":[`, "bad.sarif: 1:27: truncated JSON"},
		{"syntax", "{\n  \"version\": \"2.1.0\",\n  \"runs\": [}", "bad.sarif: 3:"},
		{"not sarif", `{"hello":"world"}`, "bad.sarif: version: missing"},
		{"old version", `{"version":"2.0.0","runs":[]}`, `bad.sarif: version: "2.0.0" is not supported`},
		{"runs not array", `{"version":"2.1.0","runs":{}}`, "bad.sarif: runs: want array"},
		{"no tool", `{"version":"2.1.0","runs":[{"results":[]}]}`, "bad.sarif: runs[0].tool.driver.name: missing"},
		{"message type", run(ok + `,{"ruleId":"R","message":"m"}`), "bad.sarif: runs[0].results[1]: message: want object, got JSON string"},
		{"bad level", run(`{"ruleId":"R","level":"fatal","message":{"text":"m"}}`), `runs[0].results[0].level: "fatal" is neither`},
		{"bad kind", run(`{"ruleId":"R","kind":"oops","message":{"text":"m"}}`), `runs[0].results[0].kind: "oops"`},
		{"no rule", run(`{"message":{"text":"m"}}`), "runs[0].results[0]: no ruleId"},
		{"rule index", run(`{"ruleId":"R","ruleIndex":4,"message":{"text":"m"}}`), "runs[0].results[0].ruleIndex: 4 is out of range"},
		{"security-severity", run(`{"ruleId":"R","message":{"text":"m"},"properties":{"security-severity":"high"}}`),
			`runs[0].results[0].properties.security-severity: "high" is not a number`},
		{"region order", run(ok + `,` + ok + `,` + ok + `,{"ruleId":"R","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":9,"endLine":2}}}]}`),
			"bad.sarif: runs[0].results[3].locations[0].physicalLocation.region: endLine 2 is before startLine 9"},
		{"artifact index", run(`{"ruleId":"R","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"index":2}}}]}`),
			"runs[0].results[0].locations[0].physicalLocation.artifactLocation.index: 2 is out of range"},
		{"location type", run(`{"ruleId":"R","message":{"text":"m"},"locations":[{"physicalLocation":{"region":{"startLine":"1"}}}]}`),
			"runs[0].results[0].locations[0]: physicalLocation.region.startLine: want number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.doc), "bad.sarif")
			var se *Error
			if !errors.As(err, &se) || se.File != "bad.sarif" {
				t.Fatalf("err = %v (%T), want *sarif.Error", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadTooLarge(t *testing.T) {
	defer func(l int64) { limit = l }(limit)
	limit = 64
	_, err := Read(strings.NewReader(`{"version":"2.1.0","runs":[]}`+strings.Repeat(" ", 64)), "big.sarif")
	if !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "big.sarif: ") {
		t.Fatalf("err = %v, want ErrTooLarge naming the file", err)
	}
}

func TestReadSkips(t *testing.T) {
	doc := `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"invocations":[{"executionSuccessful":false}],"results":[
 {"ruleId":"A","kind":"pass","message":{"text":"ok"}},
 {"ruleId":"B","message":{"text":"m"},"suppressions":[{"kind":"external","status":"rejected"}]},
 {"ruleId":"C","message":{"text":"m"},"suppressions":[{"kind":"external","status":"accepted"}]}]},
 {"tool":{"driver":{"name":"u"}},"results":null}]}`
	reps, err := Read(strings.NewReader(doc), "s.sarif")
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 || len(reps[0].Findings) != 1 || reps[0].Findings[0].Rule != "B" || len(reps[0].Warnings) != 2 || len(reps[1].Findings) != 0 {
		t.Fatalf("reports = %+v", reps)
	}
}

func TestSeverityFromScore(t *testing.T) {
	for _, tt := range []struct {
		score float64
		want  scan.Severity
	}{{10, scan.Critical}, {9, scan.Critical}, {8.9, scan.High}, {7, scan.High}, {6.9, scan.Medium}, {4, scan.Medium}, {3.9, scan.Low}, {0.1, scan.Low}, {0, scan.Info}} {
		if got := scan.SeverityOfScore(tt.score); got != tt.want {
			t.Errorf("scan.SeverityOfScore(%v) = %v, want %v", tt.score, got, tt.want)
		}
	}
	// What Write puts in a rule maps back to the same severity.
	for s := scan.Info; s <= scan.Critical; s++ {
		score, err := parseScore(securitySeverity(s))
		if err != nil || (s > scan.Info && scan.SeverityOfScore(score) != s) {
			t.Errorf("security-severity of %v = %v (%v)", s, score, err)
		}
	}
}
