package quality

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var regenGoTest = flag.Bool("regen-gotest", false,
	"rerun go test -json on testdata/gotest/src and rewrite testdata/gotest/fixture.json")

const goFixture = "testdata/gotest/fixture.json"

// runGoTestJSON runs the real `go test -json` on the fixture module in dir,
// whose packages pass, fail, crash, time out and fail to build on purpose.
func runGoTestJSON(t testing.TB, dir string) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	cmd := exec.Command(goBin, "test", "-json", "-count=1", "-timeout=3s", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("go test -json: %v\n%s", err, stderr.Bytes())
	}
	if len(out) == 0 {
		t.Fatalf("go test -json printed nothing; stderr:\n%s", stderr.Bytes())
	}
	return out
}

func TestGoTestJSONGolden(t *testing.T) {
	if *regenGoTest {
		if err := os.WriteFile(goFixture, runGoTestJSON(t, "testdata/gotest/src"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob("testdata/gotest/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".golden.json") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			cases, err := parseTestFile(t, GoTestJSON, file)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, cases)
			checkGolden(t, strings.TrimSuffix(file, ".json")+".golden.json", cases)
		})
	}
}

// fixtureOutcomes is what the fixture module's tests do, by design.
var fixtureOutcomes = map[string]Outcome{
	"example.com/fixture/buildfail::(package)":              Failed,
	"example.com/fixture/crash::TestBefore":                 Passed,
	"example.com/fixture/crash::TestExit":                   Failed,
	"example.com/fixture/hello::TestGreet":                  Passed,
	"example.com/fixture/hello::TestFail":                   Failed,
	"example.com/fixture/hello::TestSkip":                   Skipped,
	"example.com/fixture/hello::TestTable":                  Failed,
	"example.com/fixture/hello::TestTable/empty":            Passed,
	"example.com/fixture/hello::TestTable/ascii":            Passed,
	"example.com/fixture/hello::TestTable/unicode":          Failed,
	"example.com/fixture/hello::TestParentOwnFailure":       Failed,
	"example.com/fixture/hello::TestParentOwnFailure/child": Failed,
	"example.com/fixture/hello::TestParallel":               Passed,
	"example.com/fixture/hello::TestParallel/p0":            Passed,
	"example.com/fixture/hello::TestParallel/p1":            Passed,
	"example.com/fixture/hello::TestParallel/p2":            Passed,
	"example.com/fixture/hello::TestNoisy":                  Failed,
	"example.com/fixture/initpanic::(package)":              Failed,
	"example.com/fixture/testmain::TestOK":                  Passed,
	"example.com/fixture/testmain::(package)":               Failed,
	"example.com/fixture/timeout::TestQuick":                Passed,
	"example.com/fixture/timeout::TestHangs":                Failed,
}

func TestGoTestJSONFixture(t *testing.T) {
	cases, err := parseTestFile(t, GoTestJSON, goFixture)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixtureOutcomes, outcomes(cases)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	msgs := map[string]struct{ has, hasNot string }{
		"example.com/fixture/hello::TestFail":             {"Greet(\"Zoë\") = \"hello, Zoë\"", "=== RUN"},
		"example.com/fixture/hello::TestTable":            {"", "--- FAIL"},
		"example.com/fixture/hello::TestParentOwnFailure": {"parent broke too", "child broke"},
		"example.com/fixture/hello::TestSkip":             {"needs docker", "--- SKIP"},
		"example.com/fixture/hello::TestNoisy":            {"gave up after 400 lines", "log line 200"},
		"example.com/fixture/crash::TestExit":             {"test did not finish", ""},
		"example.com/fixture/timeout::TestHangs":          {"panic: test timed out", ""},
		"example.com/fixture/buildfail::(package)":        {"cannot use Answer() (value of type int) as string value", ""},
		"example.com/fixture/initpanic::(package)":        {"panic: init: config missing", ""},
		"example.com/fixture/testmain::(package)":         {"teardown: leaked 3 goroutines", ""},
	}
	for _, tc := range cases {
		want, ok := msgs[tc.ID()]
		if !ok {
			continue
		}
		if want.has == "" && tc.Message != "" || !strings.Contains(tc.Message, want.has) {
			t.Errorf("%s: message %q does not contain %q", tc.ID(), tc.Message, want.has)
		}
		if want.hasNot != "" && strings.Contains(tc.Message, want.hasNot) {
			t.Errorf("%s: message %q contains %q", tc.ID(), tc.Message, want.hasNot)
		}
	}
}

// TestGoTestJSONLive runs the installed toolchain, so a change in its
// output format shows up here rather than in production.
func TestGoTestJSONLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on a fixture module (a few seconds)")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/gotest/src")); err != nil {
		t.Fatal(err)
	}
	cases, err := Parse(GoTestJSON, "live", bytes.NewReader(runGoTestJSON(t, dir)))
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, cases)
	if diff := cmp.Diff(fixtureOutcomes, outcomes(cases)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestGoTestJSONErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "r.json: no `go test -json` events found (is this the output of go test -json?)"},
		{"plain go test", "--- FAIL: TestX (0.00s)\nFAIL\nexit status 1\n",
			"r.json: no `go test -json` events found (is this the output of go test -json?); first line: \"--- FAIL: TestX (0.00s)\""},
		{"json without actions", `{"a":1}` + "\n" + `[1,2]`,
			"r.json: no `go test -json` events found (is this the output of go test -json?); first line: \"{\\\"a\\\":1}\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(GoTestJSON, "r.json", strings.NewReader(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestGoTestJSONEvents(t *testing.T) {
	ev := func(action, test, output string) string {
		return fmt.Sprintf(`{"Action":%q,"Package":"p","Test":%q,"Output":%q,"Elapsed":0.5}`, action, test, output)
	}
	tests := []struct {
		name  string
		lines []string
		want  map[string]Outcome
	}{
		{"final action decides", []string{ev("run", "T", ""), ev("output", "T", "--- FAIL: T\n"), ev("pass", "T", ""), ev("pass", "", "")},
			map[string]Outcome{"p::T": Passed}},
		{"result without run", []string{ev("skip", "T", ""), ev("pass", "", "")}, map[string]Outcome{"p::T": Skipped}},
		{"tests pass but the package result is missing", []string{ev("run", "T", ""), ev("pass", "T", "")},
			map[string]Outcome{"p::T": Passed, "p::(package)": Failed}},
		{"package fails without tests", []string{ev("start", "", ""), ev("fail", "", "")},
			map[string]Outcome{"p::(package)": Failed}},
		{"package fails with failing test", []string{ev("run", "T", ""), ev("fail", "T", ""), ev("fail", "", "")},
			map[string]Outcome{"p::T": Failed}},
		{"package passes", []string{ev("run", "T", ""), ev("pass", "T", ""), ev("pass", "", "")},
			map[string]Outcome{"p::T": Passed}},
		{"no test files", []string{ev("start", "", ""), ev("skip", "", "")}, map[string]Outcome{}},
		{"report cut short", []string{ev("start", "", ""), ev("output", "", "building\n")},
			map[string]Outcome{"p::(package)": Failed}},
		{"pause and cont only", []string{ev("pause", "T", ""), ev("cont", "T", ""), ev("pass", "", "")},
			map[string]Outcome{}},
		{"non-JSON between events", []string{"go: downloading x v1", ev("run", "T", ""), "{garbage", ev("pass", "T", ""), ev("pass", "", "")},
			map[string]Outcome{"p::T": Passed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cases, err := Parse(GoTestJSON, "r.json", strings.NewReader(strings.Join(tt.lines, "\n")))
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, cases)
			if diff := cmp.Diff(tt.want, outcomes(cases)); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			for _, tc := range cases {
				if tc.Name == "T" && tc.Duration != 500*time.Millisecond {
					t.Errorf("duration = %v, want 500ms", tc.Duration)
				}
			}
		})
	}
}

// hugeTestOutput streams a report in which one test prints n lines before
// failing, plus one line longer than maxLine, without building it in memory.
func hugeTestOutput(n int) io.Reader {
	const line = `{"Action":"output","Package":"p","Test":"TestBig","Output":"    big_test.go:9: line %07d of noise\n"}` + "\n"
	var i int
	head := strings.NewReader(`{"Action":"run","Package":"p","Test":"TestBig"}` + "\n" +
		`{"Action":"output","Package":"p","Test":"TestBig","Output":"first words\n"}` + "\n")
	body := readerFunc(func(p []byte) (int, error) {
		if i >= n {
			return 0, io.EOF
		}
		i++
		return copy(p, fmt.Sprintf(line, i)), nil
	})
	long := strings.NewReader(strings.Repeat("x", maxLine+10) + "\n")
	tail := strings.NewReader(`{"Action":"output","Package":"p","Test":"TestBig","Output":"last words\n"}` + "\n" +
		`{"Action":"fail","Package":"p","Test":"TestBig","Elapsed":1}` + "\n" +
		`{"Action":"fail","Package":"p","Elapsed":1}` + "\n")
	return io.MultiReader(head, body, long, tail)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestGoTestJSONLargeReport(t *testing.T) {
	cases, err := Parse(GoTestJSON, "big.json", hugeTestOutput(200_000)) // ~25 MB
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, cases)
	if len(cases) != 1 || cases[0].Outcome != Failed {
		t.Fatalf("cases = %v", outcomes(cases))
	}
	msg := cases[0].Message
	if !strings.HasPrefix(msg, "first words") || !strings.HasSuffix(msg, "last words") || !strings.Contains(msg, "truncated") {
		t.Errorf("message does not keep both ends: %q", msg)
	}
}

func BenchmarkParseGoTestJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(GoTestJSON, "big.json", hugeTestOutput(20_000)); err != nil {
			b.Fatal(err)
		}
	}
}
