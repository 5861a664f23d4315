package pipeline

import (
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/parser"
)

// Status functions a condition may call. Each is a macro expanding to a
// variable, so one compiled program serves every evaluation.
var statusFuncs = map[string]string{
	"success": "__success",
	"failure": "__failure",
	"always":  "__always",
}

// Condition is a compiled `if:` expression.
type Condition struct {
	Source string
	prg    cel.Program
	// status is set when the expression calls success(), failure() or
	// always(); otherwise `success() &&` is implied.
	status bool
}

// CondInput is what a condition can see.
type CondInput struct {
	Branch, Event, Tag, Commit string
	ChangedFiles               []string
	Env, Matrix                map[string]string
	Needs                      map[string]string // needed step (group) name -> result
	// Success: every needed step succeeded or was skipped. Failure: one of
	// them failed or was blocked.
	Success, Failure bool
}

var (
	celEnvOnce sync.Once
	celEnv     *cel.Env
	celEnvErr  error
)

func conditionEnv() (*cel.Env, error) {
	celEnvOnce.Do(func() {
		opts := []cel.EnvOption{
			cel.Variable("branch", cel.StringType),
			cel.Variable("event", cel.StringType),
			cel.Variable("tag", cel.StringType),
			cel.Variable("commit", cel.StringType),
			cel.Variable("changed_files", cel.ListType(cel.StringType)),
			cel.Variable("env", cel.MapType(cel.StringType, cel.StringType)),
			cel.Variable("matrix", cel.MapType(cel.StringType, cel.StringType)),
			cel.Variable("needs", cel.MapType(cel.StringType, cel.MapType(cel.StringType, cel.StringType))),
		}
		for fn, v := range statusFuncs {
			opts = append(opts, cel.Variable(v, cel.BoolType), cel.Macros(statusMacro(fn, v)))
		}
		celEnv, celEnvErr = cel.NewEnv(opts...)
	})
	return celEnv, celEnvErr
}

func statusMacro(fn, variable string) cel.Macro {
	return cel.GlobalMacro(fn, 0, func(eh parser.ExprHelper, _ ast.Expr, _ []ast.Expr) (ast.Expr, *common.Error) {
		return eh.NewIdent(variable), nil
	})
}

// CompileCondition parses and type-checks an `if:` expression; it must be a bool.
func CompileCondition(src string) (*Condition, error) {
	env, err := conditionEnv()
	if err != nil {
		return nil, fmt.Errorf("condition environment: %w", err)
	}
	checked, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("bad condition: %w", iss.Err())
	}
	if !checked.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("bad condition: it must be true or false, not a %s", checked.OutputType())
	}
	prg, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(100000))
	if err != nil {
		return nil, fmt.Errorf("bad condition: %w", err)
	}
	c := &Condition{Source: src, prg: prg}
	for _, ref := range checked.NativeRep().ReferenceMap() {
		for _, v := range statusFuncs {
			if ref.Name == v {
				c.status = true
			}
		}
	}
	return c, nil
}

// Eval decides whether the step runs. Without a status function the
// expression only runs when every needed step succeeded.
func (c *Condition) Eval(in CondInput) (bool, error) {
	if c == nil {
		return in.Success, nil
	}
	if !c.status && !in.Success {
		return false, nil
	}
	needs := make(map[string]map[string]string, len(in.Needs))
	for k, v := range in.Needs {
		needs[k] = map[string]string{"result": v}
	}
	out, _, err := c.prg.Eval(map[string]any{
		"branch": in.Branch, "event": in.Event, "tag": in.Tag, "commit": in.Commit,
		"changed_files": nonNil(in.ChangedFiles),
		"env":           nonNilMap(in.Env), "matrix": nonNilMap(in.Matrix), "needs": needs,
		"__success": in.Success, "__failure": in.Failure, "__always": true,
	})
	if err != nil {
		return false, fmt.Errorf("if: %s: %w", c.Source, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("if: %s: result is not a bool", c.Source)
	}
	return b, nil
}

// UsesStatus reports whether the condition decides itself about failed or
// cancelled needs (it calls a status function).
func (c *Condition) UsesStatus() bool { return c != nil && c.status }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
