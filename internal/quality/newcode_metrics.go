package quality

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway-ci/slipway/internal/scan"
)

// Quality metric names, as gate conditions use them. Percentages are 0-100.
// A metric that does not apply (no coverable new line, no new line, no
// function touched) is NaN, which a gate reports as "n/a" and passes.
const (
	MetricCoverage                 = "coverage"                    // % of coverable lines covered, whole code base
	MetricNewCoverage              = "new_coverage"                // % of coverable changed lines covered
	MetricNewLines                 = "new_lines"                   // lines added or changed
	MetricNewLinesToCover          = "new_lines_to_cover"          // coverable lines among them
	MetricNewUncoveredLines        = "new_uncovered_lines"         // coverable changed lines not covered
	MetricNewDuplicatedLines       = "new_duplicated_lines"        // added lines in duplicated blocks
	MetricNewDuplicatedLinesPct    = "new_duplicated_lines_pct"    // % of added significant source lines in duplicated blocks
	MetricMaxNewFunctionComplexity = "max_new_function_complexity" // highest cyclomatic complexity of a Go function the change touches
)

// Scanner and rules of the evidence findings NewCode.Evidence returns.
const (
	EvidenceScanner = "quality"
	RuleUncovered   = "uncovered-new-code"
	RuleDuplicated  = "duplicated-new-code"
	RuleComplexity  = "complex-function"
)

// NewCodeOptions say what to measure.
type NewCodeOptions struct {
	Root string // top of the git work tree
	Base string // base commit; "" = no base (every line is new)
	// Coverage is the merged coverage of the run (paths relative to Root);
	// nil leaves the coverage metrics out.
	Coverage *Coverage
	// MinDuplicateLines is the duplicated block size; 0 = default (10).
	MinDuplicateLines int
	// Changed, when set, is used instead of ChangedLines(ctx, Root, Base).
	Changed map[string][]LineRange
}

// NewCode is the quality of the code a change adds.
type NewCode struct {
	Changed      map[string][]LineRange
	NewLines     int
	Coverage     *Coverage // nil without a coverage report
	NewCoverable int
	NewCovered   int
	Uncovered    map[string][]LineRange // coverable changed lines not covered
	Duplication  *DuplicationResult
	// Functions are the Go functions (outside _test.go and generated
	// files) the change touches, most complex first.
	Functions []FunctionComplexity
	// Warnings are files that could not be measured (a Go file that does
	// not parse); they do not stop the other measurements.
	Warnings []string
}

// MeasureNewCode computes the new-code metrics of a change.
func MeasureNewCode(ctx context.Context, opts NewCodeOptions) (*NewCode, error) {
	changed := opts.Changed
	if changed == nil {
		var err error
		if changed, err = ChangedLines(ctx, opts.Root, opts.Base); err != nil {
			return nil, err
		}
	}
	n := &NewCode{Changed: changed, Coverage: opts.Coverage}
	for _, rs := range changed {
		for _, r := range rs {
			n.NewLines += r.Len()
		}
	}
	if opts.Coverage != nil {
		n.NewCovered, n.NewCoverable, n.Uncovered = CoverageOnLines(opts.Coverage, changed)
	}
	out, err := gitRunner{dir: opts.Root}.run(ctx, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name")
	if err != nil {
		return nil, err
	}
	files := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if n.Duplication, err = FindDuplication(ctx, opts.Root, files, changed, opts.MinDuplicateLines); err != nil {
		return nil, err
	}
	n.Functions, n.Warnings = touchedFunctions(opts.Root, changed)
	return n, nil
}

// CoverageOnLines measures coverage on changed lines: among the changed lines
// the report marks coverable, how many ran, and the ranges that did not.
func CoverageOnLines(cov *Coverage, changed map[string][]LineRange) (covered, coverable int, uncovered map[string][]LineRange) {
	uncovered = map[string][]LineRange{}
	for p, rs := range changed {
		fc := cov.Files[p]
		if fc == nil {
			continue
		}
		for _, r := range rs {
			for l := r.Start; l <= r.End; l++ {
				hits, ok := fc.Lines[l]
				switch {
				case !ok:
				case hits > 0:
					coverable++
					covered++
				default:
					coverable++
					uncovered[p] = append(uncovered[p], LineRange{l, l})
				}
			}
		}
		if u := uncovered[p]; len(u) > 0 {
			uncovered[p] = mergeRanges(u)
		}
	}
	return covered, coverable, uncovered
}

// touchedFunctions measures the Go functions whose body the change touches.
func touchedFunctions(root string, changed map[string][]LineRange) ([]FunctionComplexity, []string) {
	var out []FunctionComplexity
	var warnings []string
	for _, p := range sortedKeys(changed) {
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || !IsSourceFile(p) {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil || generatedGo.Match(src) {
			continue
		}
		fns, err := GoComplexity(p, src)
		if err != nil {
			warnings = append(warnings, err.Error())
			continue
		}
		for _, f := range fns {
			if rangesOverlap(changed[p], LineRange{f.Line, f.EndLine}) {
				out = append(out, f)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b FunctionComplexity) int { return cmp.Compare(b.Complexity, a.Complexity) })
	return out, warnings
}

func rangesOverlap(rs []LineRange, x LineRange) bool {
	for _, r := range rs {
		if r.Start <= x.End && x.Start <= r.End {
			return true
		}
	}
	return false
}

// Metrics returns the metrics by name (see the Metric constants). Coverage
// metrics are absent without a coverage report.
func (n *NewCode) Metrics() map[string]float64 {
	m := map[string]float64{
		MetricNewLines:                 float64(n.NewLines),
		MetricNewDuplicatedLines:       float64(n.Duplication.DuplicatedLines),
		MetricNewDuplicatedLinesPct:    n.Duplication.Percent(),
		MetricMaxNewFunctionComplexity: math.NaN(),
	}
	if len(n.Functions) > 0 {
		m[MetricMaxNewFunctionComplexity] = float64(n.Functions[0].Complexity)
	}
	if n.Coverage != nil {
		m[MetricCoverage] = n.Coverage.Percent()
		m[MetricNewCoverage] = percent(n.NewCovered, n.NewCoverable)
		m[MetricNewLinesToCover] = float64(n.NewCoverable)
		m[MetricNewUncoveredLines] = float64(n.NewCoverable - n.NewCovered)
	}
	return m
}

// Evidence returns, per metric, the places that explain its value, as
// findings of scanner "quality" for a gate report: uncovered changed lines,
// duplicated added blocks, touched functions by complexity.
func (n *NewCode) Evidence() map[string][]scan.Finding {
	ev := map[string][]scan.Finding{}
	var unc []scan.Finding
	for _, p := range sortedKeys(n.Uncovered) {
		for _, r := range n.Uncovered[p] {
			unc = append(unc, evidence(RuleUncovered, p, r.Start, r.End, lineText(r)+" not covered by tests",
				fmt.Sprint(r.Start, "-", r.End)))
		}
	}
	ev[MetricNewCoverage], ev[MetricNewUncoveredLines] = unc, unc
	var dup []scan.Finding
	for _, d := range n.Duplication.Blocks {
		dup = append(dup, evidence(RuleDuplicated, d.Path, d.Start, d.End,
			fmt.Sprintf("%s duplicate %s:%d", lineText(LineRange{d.Start, d.End}), d.OtherPath, d.OtherLine),
			fmt.Sprint(d.Start, "-", d.End)))
	}
	ev[MetricNewDuplicatedLines], ev[MetricNewDuplicatedLinesPct] = dup, dup
	var fns []scan.Finding
	for _, f := range n.Functions {
		fns = append(fns, evidence(RuleComplexity, f.Path, f.Line, f.EndLine,
			fmt.Sprintf("%s has cyclomatic complexity %d", f.Name, f.Complexity), f.Name))
	}
	ev[MetricMaxNewFunctionComplexity] = fns
	return ev
}

func evidence(rule, p string, start, end int, title, key string) scan.Finding {
	return scan.Finding{Scanner: EvidenceScanner, Rule: rule, Severity: scan.Info, Title: title,
		Path: p, Line: start, EndLine: end, Fingerprint: scan.Fingerprint(EvidenceScanner, rule, p, key)}
}

func lineText(r LineRange) string {
	if r.Start == r.End {
		return fmt.Sprintf("line %d", r.Start)
	}
	return fmt.Sprintf("lines %d-%d", r.Start, r.End)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
