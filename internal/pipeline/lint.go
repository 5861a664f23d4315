package pipeline

import (
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/yamlpos"
)

// lint checks what needs the whole spec: references between steps, cycles,
// conditions and interpolations. It runs only on a spec that decoded cleanly.
func (p *decoder) lint(s *Spec) {
	groups := map[string]*Step{}
	instances := map[string]bool{}
	for _, st := range s.Steps {
		groups[st.Name] = st
		for _, c := range st.Matrix.Combinations() {
			instances[st.Name+c.Suffix()] = true
		}
	}
	for _, st := range s.Steps {
		p.lintStep(st, groups, instances)
	}
	p.lintCycles(s)
	p.lintEnvironments(s)
}

func (p *decoder) lintStep(st *Step, groups map[string]*Step, instances map[string]bool) {
	what := "step " + st.Name
	for _, r := range st.Needs {
		switch {
		case r.Name == st.Name || strings.HasPrefix(r.Name, st.Name+"["):
			p.errAt(r.Pos, "%s: a step cannot need itself", what)
		case groups[r.Name] != nil || instances[r.Name]:
		default:
			p.errAt(r.Pos, "%s: needs unknown step %q%s", what, r.Name, suggestStep(r.Name, groups))
		}
	}
	if st.If != "" {
		c, err := CompileCondition(st.If)
		if err != nil {
			p.errAt(st.IfPos, "%s: if: %v", what, oneLine(err.Error()))
		}
		st.cond = c
	}
	dims := map[string]bool{}
	if st.Matrix != nil {
		for _, c := range st.Matrix.Combinations() {
			for _, kv := range c {
				dims[kv.Key] = true
			}
		}
	}
	for _, field := range interpolated(st) {
		for _, msg := range interpolationErrors(field.text, dims) {
			p.errAt(st.Pos, "%s: %s: %s", what, field.name, msg)
		}
	}
}

type textField struct{ name, text string }

// interpolated lists the fields of a step where `${{ matrix.x }}` applies.
func interpolated(st *Step) []textField {
	fields := []textField{{"run", st.Run}, {"workdir", st.Workdir}}
	for _, k := range sortedKeys(st.Env) {
		fields = append(fields, textField{"env." + k, st.Env[k]})
	}
	add := func(name string, list []string) {
		for _, v := range list {
			fields = append(fields, textField{name, v})
		}
	}
	add("outputs", st.Outputs)
	for i, globs := range st.Reports.byKind() {
		add("reports."+reportKinds[i], *globs)
	}
	if st.Cache != nil {
		add("cache.inputs", st.Cache.Inputs)
	}
	walkStrings(st.With, "with", func(name, v string) {
		fields = append(fields, textField{name, v})
	})
	return fields
}

func walkStrings(v any, name string, fn func(name, v string)) {
	switch x := v.(type) {
	case string:
		fn(name, x)
	case map[string]any:
		for _, k := range sortedKeys(x) {
			walkStrings(x[k], name+"."+k, fn)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, name, fn)
		}
	}
}

// lintCycles reports each cycle of `needs` once, with its path.
func (p *decoder) lintCycles(s *Spec) {
	byName := map[string]*Step{}
	for _, st := range s.Steps {
		byName[st.Name] = st
	}
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(st *Step)
	visit = func(st *Step) {
		state[st.Name] = onStack
		stack = append(stack, st.Name)
		for _, r := range st.Needs {
			dep := byName[groupOf(r.Name)]
			if dep == nil || dep == st {
				continue
			}
			switch state[dep.Name] {
			case onStack:
				i := indexOf(stack, dep.Name)
				cycle := append(append([]string(nil), stack[i:]...), dep.Name)
				p.errAt(r.Pos, "step %s: needs forms a cycle: %s", st.Name, strings.Join(cycle, " → "))
			case unvisited:
				visit(dep)
			}
		}
		stack = stack[:len(stack)-1]
		state[st.Name] = done
	}
	for _, st := range s.Steps {
		if state[st.Name] == unvisited {
			visit(st)
		}
	}
}

// groupOf strips a matrix suffix: "test[go=1.22]" -> "test".
func groupOf(name string) string {
	if i := strings.IndexByte(name, '['); i > 0 {
		return name[:i]
	}
	return name
}

func (p *decoder) errAt(at Pos, format string, args ...any) {
	p.d.Errorf(&yaml.Node{Line: at.Line, Column: at.Col}, format, args...)
}

func suggestStep(name string, groups map[string]*Step) string {
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	return suggest(name, names)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.Join(strings.Fields(s), " ")
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func suggest(name string, candidates []string) string { return yamlpos.Suggest(name, candidates) }
