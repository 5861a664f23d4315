package pipeline

import "sort"

// Node is one step instance of the DAG: a step, or one matrix combination of
// it, with `${{ matrix.x }}` substituted.
type Node struct {
	Index int
	Name  string // "build", or "test[go=1.22,os=linux]"
	Step  *Step  // as written
	Combo Combo  // matrix values; nil without a matrix

	Run     string
	Env     map[string]string // spec env, then step env, then MATRIX_<NAME>
	With    map[string]any
	Outputs []string
	Workdir string
	Reports Reports
	Inputs  []string // cache inputs

	Deps       []int // indices of the nodes this one needs, sorted
	Dependants []int // indices of the nodes needing this one, sorted
}

// Cond is the node's compiled `if:` (nil means success()).
func (n *Node) Cond() *Condition { return n.Step.cond }

// Plan is the expanded DAG of a spec.
type Plan struct {
	Spec   *Spec
	Nodes  []*Node
	byName map[string]*Node
	groups map[string][]*Node
}

// Plan expands matrices and resolves `needs` into edges. The spec must have
// been linted (Parse does it), so every reference resolves.
func (s *Spec) Plan() *Plan {
	p := &Plan{Spec: s, byName: map[string]*Node{}, groups: map[string][]*Node{}}
	for _, st := range s.Steps {
		for _, c := range st.Matrix.Combinations() {
			n := p.newNode(st, c)
			p.byName[n.Name] = n
			p.groups[st.Name] = append(p.groups[st.Name], n)
		}
	}
	for _, n := range p.Nodes {
		deps := map[int]bool{}
		for _, r := range n.Step.Needs {
			for _, d := range p.Resolve(r.Name) {
				deps[d.Index] = true
			}
		}
		for d := range deps {
			n.Deps = append(n.Deps, d)
			p.Nodes[d].Dependants = append(p.Nodes[d].Dependants, n.Index)
		}
		sort.Ints(n.Deps)
	}
	for _, n := range p.Nodes {
		sort.Ints(n.Dependants)
	}
	return p
}

func (p *Plan) newNode(st *Step, c Combo) *Node {
	m := c.Map()
	n := &Node{
		Index: len(p.Nodes), Name: st.Name + c.Suffix(), Step: st, Combo: c,
		Run: interpolate(st.Run, m), Workdir: interpolate(st.Workdir, m),
		Env: map[string]string{},
	}
	for k, v := range p.Spec.Env {
		n.Env[k] = v
	}
	for k, v := range st.Env {
		n.Env[k] = interpolate(v, m)
	}
	for _, kv := range c {
		n.Env["MATRIX_"+upper(kv.Key)] = kv.Value
	}
	n.Outputs = interpolateAll(st.Outputs, m)
	src, dst := st.Reports.byKind(), n.Reports.byKind()
	for i := range src {
		*dst[i] = interpolateAll(*src[i], m)
	}
	if st.Cache != nil {
		n.Inputs = interpolateAll(st.Cache.Inputs, m)
	}
	if st.With != nil {
		n.With, _ = interpolateAny(st.With, m).(map[string]any)
	}
	p.Nodes = append(p.Nodes, n)
	return n
}

// Resolve returns the nodes a `needs` name designates: every instance of a
// step, or one instance.
func (p *Plan) Resolve(name string) []*Node {
	if g, ok := p.groups[name]; ok {
		return g
	}
	if n, ok := p.byName[name]; ok {
		return []*Node{n}
	}
	return nil
}

func interpolateAll(list []string, m map[string]string) []string {
	var out []string
	for _, s := range list {
		out = append(out, interpolate(s, m))
	}
	return out
}

func interpolateAny(v any, m map[string]string) any {
	switch x := v.(type) {
	case string:
		return interpolate(x, m)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = interpolateAny(e, m)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = interpolateAny(e, m)
		}
		return out
	}
	return v
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
