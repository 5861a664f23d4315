package gate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"

	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

// Scope says which code a gate looks at.
type Scope string

// Scopes. New is the default: "clean as you code", a change is judged on
// what it adds, so old debt does not block it and new debt cannot hide in it.
const (
	New Scope = "new" // findings not in the base commit; metrics of changed lines
	All Scope = "all" // the whole code base
)

// Metric is a number a condition can test.
type Metric struct {
	Name  string
	Scope Scope
	Doc   string
}

// Issue metrics, computed by Evaluate from the SAST findings (after
// waivers) unless EvalInput.Metrics sets them.
const (
	MetricNewIssues = "new_issues"
	MetricIssues    = "issues"
	// Test metrics, filled in by the caller from the run's test reports.
	MetricTests       = "tests"
	MetricTestsFailed = "tests_failed"
)

// Metrics lists every metric a condition may name.
var Metrics = []Metric{
	{quality.MetricCoverage, All, "% of coverable lines covered"},
	{quality.MetricNewCoverage, New, "% of coverable changed lines covered"},
	{quality.MetricNewLines, New, "lines added or changed"},
	{quality.MetricNewLinesToCover, New, "coverable lines among the changed ones"},
	{quality.MetricNewUncoveredLines, New, "coverable changed lines not covered"},
	{quality.MetricNewDuplicatedLines, New, "added lines in duplicated blocks"},
	{quality.MetricNewDuplicatedLinesPct, New, "% of added source lines in duplicated blocks"},
	{quality.MetricMaxNewFunctionComplexity, New, "highest cyclomatic complexity of a changed Go function"},
	{MetricNewIssues, New, "SAST/lint findings not in the base"},
	{MetricIssues, All, "SAST/lint findings"},
	{MetricTests, All, "test cases run"},
	{MetricTestsFailed, All, "test cases failed"},
}

// MetricNames lists the names of Metrics.
func MetricNames() []string {
	out := make([]string, len(Metrics))
	for i, m := range Metrics {
		out[i] = m.Name
	}
	return out
}

func metricScope(name string) Scope {
	for _, m := range Metrics {
		if m.Name == name {
			return m.Scope
		}
	}
	return All
}

// Condition is a compiled quality condition such as "new_coverage >= 80":
// a CEL expression over the metrics, each a double, that must be true.
// Integer literals are read as doubles, so "new_issues == 0" means what it
// says.
type Condition struct {
	Source string
	// Metrics are the metrics the expression names, in order of appearance.
	Metrics []string
	// Scope is New when any metric it names is about new code.
	Scope Scope
	// Threshold is "op value" ("<= 3") for a comparison of a metric with a
	// number, else the whole expression.
	Threshold string
	subject   string // the metric shown as the value
	prg       cel.Program
}

var (
	envOnce sync.Once
	celEnv  *cel.Env
	envErr  error
)

func conditionEnv() (*cel.Env, error) {
	envOnce.Do(func() {
		opts := []cel.EnvOption{cel.CrossTypeNumericComparisons(true)}
		for _, m := range Metrics {
			opts = append(opts, cel.Variable(m.Name, cel.DoubleType))
		}
		celEnv, envErr = cel.NewEnv(opts...)
	})
	return celEnv, envErr
}

// ParseCondition compiles a condition. Errors name the condition; an
// unknown metric is an error (with a suggestion), so a typo cannot turn a
// gate into one that never fails.
func ParseCondition(src string) (*Condition, error) {
	env, err := conditionEnv()
	if err != nil {
		return nil, fmt.Errorf("condition environment: %w", err)
	}
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, fmt.Errorf("empty condition: write one like %q", "new_coverage >= 80")
	}
	parsed, iss := env.Parse(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("condition %q: %w", src, iss.Err())
	}
	c := &Condition{Source: src, Scope: All}
	var unknown []string
	fac := ast.NewExprFactory()
	ast.PreOrderVisit(parsed.NativeRep().Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		switch e.Kind() {
		case ast.IdentKind:
			name := e.AsIdent()
			switch {
			case !slices.Contains(MetricNames(), name):
				unknown = append(unknown, name)
			case !slices.Contains(c.Metrics, name):
				c.Metrics = append(c.Metrics, name)
			}
		case ast.LiteralKind:
			switch v := e.AsLiteral().(type) {
			case types.Int:
				e.SetKindCase(fac.NewLiteral(e.ID(), types.Double(float64(v))))
			case types.Uint:
				e.SetKindCase(fac.NewLiteral(e.ID(), types.Double(float64(v))))
			}
		}
	}))
	if len(unknown) > 0 {
		return nil, fmt.Errorf("condition %q: unknown metric %q%s; known metrics: %s",
			src, unknown[0], yamlpos.Suggest(unknown[0], MetricNames()), strings.Join(MetricNames(), ", "))
	}
	if len(c.Metrics) == 0 {
		return nil, fmt.Errorf("condition %q names no metric; known metrics: %s", src, strings.Join(MetricNames(), ", "))
	}
	checked, iss := env.Check(parsed)
	if iss.Err() != nil {
		return nil, fmt.Errorf("condition %q: %w", src, iss.Err())
	}
	if !checked.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("condition %q must be true or false, not a %s", src, checked.OutputType())
	}
	if c.prg, err = env.Program(checked, cel.CostLimit(10000)); err != nil {
		return nil, fmt.Errorf("condition %q: %w", src, err)
	}
	for _, m := range c.Metrics {
		if metricScope(m) == New {
			c.Scope = New
		}
	}
	c.subject, c.Threshold = threshold(checked.NativeRep().Expr(), c)
	return c, nil
}

var flipped = map[string]string{">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}

// threshold splits "metric op number" (either way round) into the metric
// and "op number"; other expressions show the first metric and the source.
func threshold(e ast.Expr, c *Condition) (string, string) {
	if e.Kind() == ast.CallKind && len(e.AsCall().Args()) == 2 {
		op := strings.Trim(e.AsCall().FunctionName(), "_")
		l, r := e.AsCall().Args()[0], e.AsCall().Args()[1]
		if _, ok := flipped[op]; ok {
			if l.Kind() == ast.LiteralKind && r.Kind() == ast.IdentKind {
				l, r, op = r, l, flipped[op]
			}
			if l.Kind() == ast.IdentKind && r.Kind() == ast.LiteralKind {
				if v, ok := r.AsLiteral().(types.Double); ok {
					return l.AsIdent(), op + " " + strconv.FormatFloat(float64(v), 'f', -1, 64)
				}
			}
		}
	}
	return c.Metrics[0], c.Source
}

// Outcome is one evaluation of a condition.
type Outcome struct {
	Value float64 // the metric shown for the condition
	Pass  bool
	// NA: a metric it names is NaN (does not apply: no coverable new line,
	// no function changed...). A condition that does not apply passes.
	NA bool
	// Missing lists the metrics it names that were not measured at all
	// (e.g. no coverage report); such a condition fails.
	Missing []string
}

// Eval evaluates the condition over metrics.
func (c *Condition) Eval(metrics map[string]float64) (Outcome, error) {
	out := Outcome{Value: math.NaN()}
	vars := make(map[string]any, len(Metrics))
	for _, m := range Metrics {
		vars[m.Name] = 0.0
	}
	for _, name := range c.Metrics {
		v, ok := metrics[name]
		switch {
		case !ok:
			out.Missing = append(out.Missing, name)
		case math.IsNaN(v):
			out.NA = true
		}
		vars[name] = v
	}
	if v, ok := metrics[c.subject]; ok {
		out.Value = v
	}
	if len(out.Missing) > 0 {
		out.NA = false
		return out, nil
	}
	if out.NA {
		out.Pass = true
		return out, nil
	}
	val, _, err := c.prg.Eval(vars)
	if err != nil {
		return out, fmt.Errorf("condition %q: %w", c.Source, err)
	}
	pass, ok := val.Value().(bool)
	if !ok {
		return out, fmt.Errorf("condition %q: result is not a bool", c.Source)
	}
	out.Pass = pass
	return out, nil
}
