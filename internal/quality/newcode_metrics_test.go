package quality

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ci/slipway/internal/change/changetest"
)

const calcGo = `package m

// Add adds.
func Add(a, b int) int { return a + b }
`

const classifyGo = `
// Classify names the sign of n.
func Classify(n int) string {
	if n < 0 {
		return "negative"
	}
	if n == 0 {
		return "zero"
	}
	return "positive"
}
`

const tableGo = `package m

// Table is a fixture for duplication.
func Table() []int {
	var out []int
	out = append(out, 1)
	out = append(out, 2)
	out = append(out, 3)
	out = append(out, 4)
	out = append(out, 5)
	out = append(out, 6)
	out = append(out, 7)
	out = append(out, 8)
	out = append(out, 9)
	out = append(out, 10)
	return out
}
`

// copyGo repeats Table's body with other spacing and comments.
const copyGo = `package m

import "fmt"

func Copied() []int {
	var out []int // same code, other comments
	out = append(out, 1)
	out = append(out,   2)
	out = append(out, 3)
	out = append(out, 4)

	out = append(out, 5)
	out = append(out, 6)
	out = append(out, 7) /* spaced */
	out = append(out, 8)
	out = append(out, 9)
	out = append(out, 10)
	return out
}

var _ = fmt.Sprint
`

// TestMeasureNewCode runs the real go test -coverprofile on a change in a
// real git repository and checks every new-code metric.
func TestMeasureNewCode(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not installed")
	}
	r := changetest.NewRepo(t)
	r.Write("go.mod", "module example.com/m\n\ngo 1.22\n")
	r.Write("calc.go", calcGo)
	r.Write("calc_test.go", "package m\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal(\"add\")\n\t}\n}\n")
	r.Write("table.go", tableGo)
	r.Commit("base")
	r.Branch("feature")
	r.Write("calc.go", calcGo+classifyGo)
	r.Write("calc_test.go", "package m\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal(\"add\")\n\t}\n}\n"+
		"\nfunc TestClassify(t *testing.T) {\n\tif Classify(5) != \"positive\" {\n\t\tt.Fatal(\"5\")\n\t}\n}\n")
	r.Write("copy.go", copyGo)
	r.Commit("classify and a copy")

	profile := filepath.Join(t.TempDir(), "cover.out")
	cmd := exec.Command(goBin, "test", "-count=1", "-coverprofile="+profile, "./...")
	cmd.Dir = r.Dir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	mods, err := GoModules(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	cov, _, err := ParseCoverageFiles(GoCover, filepath.Dir(profile), "cover.out", CoverageOptions{Root: r.Dir(), Modules: mods})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := MeasureNewCode(context.Background(), NewCodeOptions{Root: r.Dir(), Base: "main", Coverage: cov})
	if err != nil {
		t.Fatal(err)
	}

	// Classify is lines 7-15 of calc.go; Classify(5) runs lines 7, 8, 11
	// and 14; 9-10 and 12-13 never run. Nothing calls Copied (lines 5-19).
	wantUncovered := map[string][]LineRange{"calc.go": {{9, 10}, {12, 13}}, "copy.go": {{5, 19}}}
	if diff := cmp.Diff(wantUncovered, nc.Uncovered); diff != "" {
		t.Errorf("uncovered (-want +got):\n%s", diff)
	}
	got := nc.Metrics()
	covered, coverable := cov.Totals()
	want := map[string]float64{
		MetricCoverage:                 float64(covered) * 100 / float64(coverable),
		MetricNewCoverage:              4 * 100.0 / (8 + 15),
		MetricNewLinesToCover:          8 + 15,
		MetricNewUncoveredLines:        4 + 15,
		MetricNewLines:                 11 + 6 + 21, // calc.go, calc_test.go, copy.go
		MetricNewDuplicatedLines:       12,
		MetricNewDuplicatedLinesPct:    12 * 100.0 / (6 + 3 + 14), // significant added lines: Classify, TestClassify, copy.go
		MetricMaxNewFunctionComplexity: 3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	if coverable == 0 || covered == coverable {
		t.Errorf("overall coverage %d/%d: the fixture should be partly covered", covered, coverable)
	}
	names := []string{}
	for _, f := range nc.Functions {
		names = append(names, f.Name)
	}
	if diff := cmp.Diff([]string{"Classify", "Copied"}, names); diff != "" {
		t.Errorf("touched functions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Duplication{{Path: "copy.go", Start: 6, End: 18, OtherPath: "table.go", OtherLine: 5}}, nc.Duplication.Blocks); diff != "" {
		t.Errorf("duplications (-want +got):\n%s", diff)
	}
	ev := nc.Evidence()
	if len(ev[MetricNewCoverage]) != 3 || ev[MetricNewCoverage][0].Location() != "calc.go:9" ||
		!strings.Contains(ev[MetricMaxNewFunctionComplexity][0].Title, "Classify has cyclomatic complexity 3") ||
		!strings.Contains(ev[MetricNewDuplicatedLinesPct][0].Title, "lines 6-18 duplicate table.go:5") {
		t.Errorf("evidence = %+v", ev)
	}
}

func TestMeasureNewCodeNothingApplies(t *testing.T) {
	r := changetest.NewRepo(t)
	r.Write("README.md", "hello\n")
	r.Commit("base")
	r.Write("README.md", "hello\nworld\n")
	nc, err := MeasureNewCode(context.Background(), NewCodeOptions{Root: r.Dir(), Base: "HEAD", Coverage: NewCoverage()})
	if err != nil {
		t.Fatal(err)
	}
	m := nc.Metrics()
	for _, name := range []string{MetricNewCoverage, MetricNewDuplicatedLinesPct, MetricMaxNewFunctionComplexity, MetricCoverage} {
		if !math.IsNaN(m[name]) {
			t.Errorf("%s = %v, want NaN (not applicable)", name, m[name])
		}
	}
	if m[MetricNewLines] != 1 {
		t.Errorf("new lines = %v, want 1", m[MetricNewLines])
	}
}

func TestFindDuplicationText(t *testing.T) {
	root := t.TempDir()
	block := numbered("x := compute", 9)
	writeFile(t, filepath.Join(root, "a.py"), block+"tail_a()\n")
	// The same nine lines with brace-only lines between them: below the
	// ten-line threshold, since brace lines do not count.
	writeFile(t, filepath.Join(root, "b.py"), strings.ReplaceAll(block, "\n", "\n  }\n\n")+"tail_b()\n")
	changed := map[string][]LineRange{"b.py": {{1, 100}}}
	res, err := FindDuplication(context.Background(), root, []string{"a.py", "b.py"}, changed, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.DuplicatedLines != 0 || res.NewLines != 10 {
		t.Errorf("9 repeated lines: %+v", res)
	}
	// With ten lines they are a duplicate, whatever the indentation.
	writeFile(t, filepath.Join(root, "a.py"), numbered("x := compute", 10))
	writeFile(t, filepath.Join(root, "b.py"), "first()\n"+strings.ReplaceAll(numbered("  x :=   compute", 10), "\n", "\n\n"))
	res, err = FindDuplication(context.Background(), root, []string{"a.py"}, changed, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &DuplicationResult{NewLines: 11, DuplicatedLines: 10, Blocks: []Duplication{{Path: "b.py", Start: 2, End: 20, OtherPath: "a.py", OtherLine: 1}}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// vendor, testdata and non-source files never count.
	for _, p := range []string{"vendor/x/a.go", "a/testdata/b.py", "go.sum", "package-lock.json"} {
		if IsSourceFile(p) {
			t.Errorf("IsSourceFile(%q) = true", p)
		}
	}
}
