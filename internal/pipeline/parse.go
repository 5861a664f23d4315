package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/gate"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

// MaxMatrix bounds the instances one step may expand into.
const MaxMatrix = 256

var (
	stepNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Load reads, decodes and lints the spec at path. Every problem found is
// returned at once as yamlpos.Errors.
func Load(path string, actions *action.Registry) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline: %w", err)
	}
	gatesPath, gatesData, err := readGatesFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, data, actions, gatesPath, gatesData)
}

// Parse decodes and lints spec bytes; file names the source in errors.
func Parse(file string, data []byte, actions *action.Registry) (*Spec, error) {
	return parse(file, data, actions, "", nil)
}

func parse(file string, data []byte, actions *action.Registry, gatesPath string, gatesData []byte) (*Spec, error) {
	root, err := yamlpos.Parse(file, data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	p := &decoder{d: yamlpos.Decoder{File: file}, actions: actions}
	spec := p.spec(root)
	spec.File, spec.Digest = file, hex.EncodeToString(sum[:])
	if gatesData != nil {
		p.gatesFromFile(spec, gatesPath, gatesData)
	}
	p.addGateStep(spec)
	p.lint(spec)
	if err := p.d.Err(); err != nil {
		return nil, err
	}
	return spec, nil
}

type decoder struct {
	d       yamlpos.Decoder
	actions *action.Registry
}

func (p *decoder) spec(root *yaml.Node) *Spec {
	s := &Spec{}
	if yamlpos.IsNull(root) {
		p.d.Errorf(root, "the pipeline is empty: add a `steps:` mapping")
		return s
	}
	var stepsNode *yaml.Node
	for _, f := range p.d.Mapping(root, "pipeline", topKeys) {
		switch f.Name {
		case "steps":
			stepsNode = f.Value
			s.Steps = p.steps(f.Value)
		case "env":
			s.Env = p.env(f.Value, "env")
		case "timeout":
			s.Timeout = p.d.Duration(f.Value, "timeout")
		case "concurrency":
			s.Concurrency = p.concurrency(f.Value)
		case "environments":
			s.Environments = p.environments(f.Value)
		case "gates":
			g := gate.DecodePolicy(&p.d, f.Value, "gates")
			s.Gates, s.GatesPos = &g, Pos{f.Key.Line, f.Key.Column}
		}
	}
	if stepsNode == nil && root.Kind == yaml.MappingNode {
		p.d.Errorf(root, "pipeline: missing `steps:`")
	}
	return s
}

func (p *decoder) concurrency(n *yaml.Node) *Concurrency {
	c := &Concurrency{}
	if n.Kind == yaml.ScalarNode {
		c.Group = p.d.String(n, "concurrency")
	} else {
		for _, f := range p.d.Mapping(n, "concurrency", []string{"group", "cancel-in-progress"}) {
			switch f.Name {
			case "group":
				c.Group = p.d.String(f.Value, "concurrency.group")
			case "cancel-in-progress":
				c.CancelInProgress = p.d.Bool(f.Value, "concurrency.cancel-in-progress")
			}
		}
	}
	if c.Group == "" {
		p.d.Errorf(n, "concurrency: a group name is required")
		return nil
	}
	return c
}

func (p *decoder) steps(n *yaml.Node) []*Step {
	fields := p.d.Mapping(n, "steps", nil)
	if n.Kind == yaml.MappingNode && len(fields) == 0 && len(n.Content) == 0 {
		p.d.Errorf(n, "steps: at least one step is required")
	}
	steps := make([]*Step, 0, len(fields))
	for _, f := range fields {
		if !stepNameRE.MatchString(f.Name) {
			p.d.Errorf(f.Key, "step name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", f.Name)
			continue
		}
		steps = append(steps, p.step(f))
	}
	return steps
}

func (p *decoder) step(f yamlpos.Field) *Step {
	s := &Step{Name: f.Name, Pos: Pos{f.Key.Line, f.Key.Column}, Shell: "sh", Executor: "local"}
	what := "step " + f.Name
	if yamlpos.IsNull(f.Value) {
		p.d.Errorf(f.Key, "%s: needs `run:` or `uses:`", what)
		return s
	}
	var runNode, usesNode, withNode *yaml.Node
	for _, k := range p.d.Mapping(f.Value, what, stepKeys) {
		w := what + ": " + k.Name
		v := k.Value
		switch k.Name {
		case "run":
			runNode = v
			s.Run = joinLines(p.d.StringOrList(v, w))
		case "shell":
			s.Shell = p.oneOf(v, w, "sh", "bash")
		case "uses":
			usesNode = v
			s.Uses = p.d.String(v, w)
		case "with":
			withNode = v
			s.With = p.with(v, w)
		case "env":
			s.Env = p.env(v, w)
		case "needs":
			s.Needs = p.refs(v, w)
		case "if":
			s.If, s.IfPos = p.d.String(v, w), Pos{v.Line, v.Column}
		case "paths":
			s.Paths = p.globs(v, w)
		case "paths-ignore":
			s.PathsIgnore = p.globs(v, w)
		case "matrix":
			s.Matrix = p.matrix(v, w)
		case "timeout":
			s.Timeout = p.d.Duration(v, w)
		case "retry":
			s.Retry = p.retry(v, w)
		case "outputs":
			s.Outputs = p.relPaths(v, w)
		case "cache":
			s.Cache = p.cache(v, w)
		case "secrets":
			s.Secrets = p.names(v, w)
		case "workdir":
			s.Workdir = p.relPath(v, w)
		case "continue-on-error":
			s.ContinueOnError = p.d.Bool(v, w)
		case "reports":
			s.Reports = p.reports(v, w)
		case "sandbox":
			s.Sandbox = p.oneOf(v, w, "on", "off", "strict")
		case "executor":
			s.Executor = p.oneOf(v, w, "local")
		}
	}
	switch {
	case runNode == nil && usesNode == nil:
		p.d.Errorf(f.Key, "%s: needs `run:` or `uses:`", what)
	case runNode != nil && usesNode != nil:
		p.d.Errorf(usesNode, "%s: `run:` and `uses:` cannot both be set", what)
	case runNode != nil && s.Run == "":
		p.d.Errorf(runNode, "%s: run: is empty", what)
	case usesNode != nil:
		p.checkUses(s, usesNode, withNode, what)
	}
	if withNode != nil && usesNode == nil {
		p.d.Errorf(withNode, "%s: `with:` only applies to a built-in (`uses:`)", what)
	}
	return s
}

func (p *decoder) oneOf(n *yaml.Node, what string, allowed ...string) string {
	v := p.d.String(n, what)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.d.Errorf(n, "%s must be one of %v, not %q%s", what, allowed, v, yamlpos.Suggest(v, allowed))
	return ""
}

func (p *decoder) env(n *yaml.Node, what string) map[string]string {
	m := p.d.StringMap(n, what)
	for _, f := range p.d.Mapping(n, what, nil) {
		if !envNameRE.MatchString(f.Name) {
			p.d.Errorf(f.Key, "%s: %q is not a valid variable name", what, f.Name)
		}
	}
	return m
}

func (p *decoder) names(n *yaml.Node, what string) []string {
	names := p.d.StringOrList(n, what)
	seq := listItems(n)
	for i, name := range names {
		if !envNameRE.MatchString(name) {
			p.d.Errorf(seq[min(i, len(seq)-1)], "%s: %q is not a valid secret name (letters, digits, '_')", what, name)
		}
	}
	return names
}

func (p *decoder) refs(n *yaml.Node, what string) []Ref {
	names := p.d.StringOrList(n, what)
	seq := listItems(n)
	refs := make([]Ref, len(names))
	for i, name := range names {
		at := seq[min(i, len(seq)-1)]
		refs[i] = Ref{Name: name, Pos: Pos{at.Line, at.Column}}
	}
	return refs
}

func (p *decoder) retry(n *yaml.Node, what string) Retry {
	if n.Kind == yaml.ScalarNode {
		return Retry{Max: p.d.Int(n, what, 0, 10), When: defaultRetryWhen()}
	}
	r := Retry{}
	var whenSet bool
	for _, f := range p.d.Mapping(n, what, []string{"max", "when"}) {
		switch f.Name {
		case "max":
			r.Max = p.d.Int(f.Value, what+".max", 0, 10)
		case "when":
			whenSet = true
			p.retryWhen(f.Value, what+".when", &r)
		}
	}
	if !whenSet {
		r.When = defaultRetryWhen()
	}
	return r
}

func defaultRetryWhen() []string {
	return []string{RetryFailure, RetryTimeout, RetryExecutorError}
}

func (p *decoder) retryWhen(n *yaml.Node, what string, r *Retry) {
	reasons := []string{RetryFailure, RetryTimeout, RetryExecutorError}
	items := listItems(n)
	for i, v := range p.d.StringOrList(n, what) {
		at := items[min(i, len(items)-1)]
		if code, err := strconv.Atoi(v); err == nil {
			if code < 1 || code > 255 {
				p.d.Errorf(at, "%s: exit code %d is out of range 1-255", what, code)
			}
			r.ExitCodes = append(r.ExitCodes, code)
			continue
		}
		if !slices.Contains(reasons, v) {
			p.d.Errorf(at, "%s: %q is not one of %v or an exit code%s", what, v, reasons, yamlpos.Suggest(v, reasons))
			continue
		}
		r.When = append(r.When, v)
	}
}

func (p *decoder) cache(n *yaml.Node, what string) *CacheSpec {
	c := &CacheSpec{}
	if n.Kind == yaml.ScalarNode && p.d.Bool(n, what) {
		return c
	}
	for _, f := range p.d.Mapping(n, what, []string{"inputs", "env"}) {
		switch f.Name {
		case "inputs":
			c.Inputs = p.globs(f.Value, what+".inputs")
		case "env":
			c.Env = p.names(f.Value, what+".env")
		}
	}
	return c
}

func (p *decoder) reports(n *yaml.Node, what string) Reports {
	var r Reports
	dst := r.byKind()
	for _, f := range p.d.Mapping(n, what, reportKinds) {
		*dst[slices.Index(reportKinds, f.Name)] = p.globs(f.Value, what+"."+f.Name)
	}
	return r
}

// with converts the `with:` mapping to plain Go values (maps, lists, scalars
// typed by their YAML tag) for schema validation and the action.
func (p *decoder) with(n *yaml.Node, what string) map[string]any {
	if yamlpos.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.d.Errorf(n, "%s must be a mapping, not %s", what, yamlpos.KindName(n))
		return nil
	}
	var out map[string]any
	if err := n.Decode(&out); err != nil {
		p.d.Errorf(n, "%s: %v", what, err)
	}
	return out
}

func (p *decoder) checkUses(s *Step, usesNode, withNode *yaml.Node, what string) {
	if _, ok := p.actions.Lookup(s.Uses); !ok {
		if slices.Contains(action.Planned, s.Uses) {
			p.d.Errorf(usesNode, "%s: built-in %q is not available in this version of slipway", what, s.Uses)
			return
		}
		p.d.Errorf(usesNode, "%s: unknown built-in %q%s", what, s.Uses, yamlpos.Suggest(s.Uses, append(p.actions.Names(), action.Planned...)))
		return
	}
	if s.ContinueOnError && s.Uses == "gate" {
		p.d.Errorf(usesNode, "%s: continue-on-error is not allowed on a gate step", what)
	}
	p.validateWith(s, withNode, what)
}

func joinLines(lines []string) string {
	out := ""
	for i, l := range lines {
		if i > 0 {
			out += "\n"
		}
		out += l
	}
	return out
}

// listItems returns the nodes of a sequence, or the scalar itself, so errors
// about the i-th item point at it.
func listItems(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		return n.Content
	}
	return []*yaml.Node{n}
}
