package analysis

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// condition is a successCondition or failureCondition compiled twice: with
// `result` a double and with `result` a list(double). A scalar and a
// one-element vector are interchangeable, so `result < 0.05` works on a
// Prometheus `sum(...)` vector and `result[0] < 0.05` on a builtin scalar.
type condition struct {
	src            string
	scalar, vector cel.Program // nil when the expression does not type-check that way
	scalarErr      error
	vectorErr      error
}

var (
	condEnvOnce               sync.Once
	condScalarEnv, condVecEnv *cel.Env
	condEnvErr                error
)

// helperFuncs are the functions conditions may call besides CEL's own:
// isNaN and isInf on a double, and on a list (true when any element is).
func helperFuncs() []cel.EnvOption {
	anyList := func(pred func(float64) bool) func(ref.Val) ref.Val {
		return func(v ref.Val) ref.Val {
			l, ok := v.(traits.Lister)
			if !ok {
				return types.NewErr("expected a list")
			}
			it := l.Iterator()
			for it.HasNext() == types.True {
				if d, ok := it.Next().(types.Double); ok && pred(float64(d)) {
					return types.True
				}
			}
			return types.False
		}
	}
	one := func(pred func(float64) bool) func(ref.Val) ref.Val {
		return func(v ref.Val) ref.Val {
			d, ok := v.(types.Double)
			if !ok {
				return types.NewErr("expected a double")
			}
			return types.Bool(pred(float64(d)))
		}
	}
	isInf := func(f float64) bool { return math.IsInf(f, 0) }
	dl := cel.ListType(cel.DoubleType)
	return []cel.EnvOption{
		cel.Function("isNaN",
			cel.Overload("isNaN_double", []*cel.Type{cel.DoubleType}, cel.BoolType, cel.UnaryBinding(one(math.IsNaN))),
			cel.Overload("isNaN_list_double", []*cel.Type{dl}, cel.BoolType, cel.UnaryBinding(anyList(math.IsNaN)))),
		cel.Function("isInf",
			cel.Overload("isInf_double", []*cel.Type{cel.DoubleType}, cel.BoolType, cel.UnaryBinding(one(isInf))),
			cel.Overload("isInf_list_double", []*cel.Type{dl}, cel.BoolType, cel.UnaryBinding(anyList(isInf)))),
		cel.CrossTypeNumericComparisons(true),
	}
}

func condEnvs() (*cel.Env, *cel.Env, error) {
	condEnvOnce.Do(func() {
		condScalarEnv, condEnvErr = cel.NewEnv(append(helperFuncs(), cel.Variable("result", cel.DoubleType))...)
		if condEnvErr == nil {
			condVecEnv, condEnvErr = cel.NewEnv(append(helperFuncs(), cel.Variable("result", cel.ListType(cel.DoubleType)))...)
		}
	})
	return condScalarEnv, condVecEnv, condEnvErr
}

// errCondType is returned when a condition type-checks neither way.
var errCondType = errors.New("condition must be a bool expression over result (a double, or a list of doubles)")

func compileCondition(src string) (*condition, error) {
	se, ve, err := condEnvs()
	if err != nil {
		return nil, fmt.Errorf("condition environment: %w", err)
	}
	c := &condition{src: src}
	c.scalar, c.scalarErr = compileBool(se, src)
	c.vector, c.vectorErr = compileBool(ve, src)
	if c.scalar == nil && c.vector == nil {
		// The scalar error is usually the clearer one (e.g. a syntax error).
		return nil, fmt.Errorf("%w: %v", errCondType, c.scalarErr)
	}
	return c, nil
}

func compileBool(env *cel.Env, src string) (cel.Program, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("the expression is a %s, not a bool", ast.OutputType())
	}
	return env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(100000))
}

// eval evaluates the condition on a non-empty result.
func (c *condition) eval(r Result) (bool, error) {
	var prg cel.Program
	var in any
	switch {
	case r.Scalar != nil && c.scalar != nil:
		prg, in = c.scalar, *r.Scalar
	case r.Scalar != nil:
		prg, in = c.vector, []float64{*r.Scalar}
	case c.vector != nil:
		prg, in = c.vector, r.Vector
	case len(r.Vector) == 1:
		prg, in = c.scalar, r.Vector[0]
	default:
		return false, fmt.Errorf("condition %q needs a scalar but the result is a vector of %d values: index it, e.g. result[0]", c.src, len(r.Vector))
	}
	out, _, err := prg.Eval(map[string]any{"result": in})
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", c.src, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("condition %q: not a bool: %v", c.src, out.Value())
	}
	return b, nil
}

// conditions are a metric's compiled success and failure conditions.
type conditions struct{ success, failure *condition }

// phase is Argo's evaluation: failure wins; with only a successCondition a
// false one fails; with only a failureCondition a false one succeeds; with
// both and neither true it is inconclusive; with none it succeeds.
func (cs conditions) phase(r Result) (Phase, error) {
	var ok, bad bool
	var err error
	if cs.success != nil {
		if ok, err = cs.success.eval(r); err != nil {
			return PhaseError, err
		}
	}
	if cs.failure != nil {
		if bad, err = cs.failure.eval(r); err != nil {
			return PhaseError, err
		}
	}
	switch {
	case cs.success == nil && cs.failure == nil:
		return PhaseSuccessful, nil
	case cs.failure == nil:
		bad = !ok
	case cs.success == nil:
		ok = !bad
	}
	switch {
	case bad:
		return PhaseFailed, nil
	case ok:
		return PhaseSuccessful, nil
	}
	return PhaseInconclusive, nil
}
