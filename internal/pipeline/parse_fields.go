package pipeline

import (
	"errors"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// globs decodes a glob or a list of globs (doublestar syntax, slash-separated,
// relative to the repository or the step's workdir).
func (p *decoder) globs(n *yaml.Node, what string) []string {
	items := listItems(n)
	list := p.d.StringOrList(n, what)
	for i, g := range list {
		at := items[min(i, len(items)-1)]
		switch {
		case g == "":
			p.d.Errorf(at, "%s: empty pattern", what)
		case !doublestar.ValidatePattern(g):
			p.d.Errorf(at, "%s: bad glob %q (check brackets and braces)", what, g)
		case escapes(strings.TrimPrefix(g, "!")):
			p.d.Errorf(at, "%s: %q must be relative and stay inside the checkout", what, g)
		}
	}
	return list
}

// relPaths decodes a list of relative paths or globs that stay inside the checkout.
func (p *decoder) relPaths(n *yaml.Node, what string) []string {
	return p.globs(n, what)
}

func (p *decoder) relPath(n *yaml.Node, what string) string {
	v := p.d.String(n, what)
	if v != "" && escapes(v) {
		p.d.Errorf(n, "%s: %q must be relative and stay inside the checkout", what, v)
		return ""
	}
	return v
}

// escapes reports whether a slash path is absolute or climbs out with "..".
func escapes(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "\\") {
		return true
	}
	c := path.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../")
}

func (p *decoder) matrix(n *yaml.Node, what string) *Matrix {
	m := &Matrix{}
	for _, f := range p.d.Mapping(n, what, nil) {
		switch f.Name {
		case "exclude":
			m.Exclude = p.combos(f.Value, what+".exclude")
		case "include":
			m.Include = p.combos(f.Value, what+".include")
		default:
			if !envNameRE.MatchString(f.Name) {
				p.d.Errorf(f.Key, "%s: dimension %q must be a name of letters, digits and '_'", what, f.Name)
				continue
			}
			vals := p.d.StringList(f.Value, what+"."+f.Name)
			if len(vals) == 0 && f.Value.Kind == yaml.SequenceNode {
				p.d.Errorf(f.Value, "%s.%s: list at least one value", what, f.Name)
			}
			if dup := firstDuplicate(vals); dup != "" {
				p.d.Errorf(f.Value, "%s.%s: value %q is listed twice", what, f.Name, dup)
			}
			m.Dims = append(m.Dims, Dim{Name: f.Name, Values: vals})
		}
	}
	if len(m.Dims) == 0 && len(m.Include) == 0 {
		p.d.Errorf(n, "%s: declare at least one dimension, e.g. `go: [\"1.22\", \"1.23\"]`", what)
		return m
	}
	p.checkCombos(n, what, m)
	return m
}

func (p *decoder) combos(n *yaml.Node, what string) []map[string]string {
	if n.Kind != yaml.SequenceNode {
		p.d.Errorf(n, "%s must be a list of mappings", what)
		return nil
	}
	out := make([]map[string]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, p.d.StringMap(c, what))
	}
	return out
}

func (p *decoder) checkCombos(n *yaml.Node, what string, m *Matrix) {
	dims := map[string]bool{}
	for _, d := range m.Dims {
		dims[d.Name] = true
	}
	for _, ex := range m.Exclude {
		for k := range ex {
			if !dims[k] {
				p.d.Errorf(n, "%s.exclude: %q is not a dimension of this matrix", what, k)
			}
		}
	}
	for _, in := range m.Include {
		for k := range in {
			if len(m.Dims) > 0 && !dims[k] {
				p.d.Errorf(n, "%s.include: %q is not a dimension of this matrix", what, k)
			}
		}
		for d := range dims {
			if _, ok := in[d]; !ok {
				p.d.Errorf(n, "%s.include: each entry must give every dimension; %q is missing", what, d)
			}
		}
	}
	if count := len(m.Combinations()); count > MaxMatrix {
		p.d.Errorf(n, "%s expands into %d instances; the limit is %d", what, count, MaxMatrix)
	} else if count == 0 {
		p.d.Errorf(n, "%s: every combination is excluded", what)
	}
}

func firstDuplicate(vals []string) string {
	seen := map[string]bool{}
	for _, v := range vals {
		if seen[v] {
			return v
		}
		seen[v] = true
	}
	return ""
}

// validateWith checks `with:` against the built-in's schema and reports each
// problem at the offending node.
func (p *decoder) validateWith(s *Step, withNode *yaml.Node, what string) {
	err := p.actions.Validate(s.Uses, s.With)
	if err == nil {
		return
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		p.d.Errorf(withNode, "%s: %v", what, err)
		return
	}
	printer := message.NewPrinter(language.English)
	for _, leaf := range leaves(ve) {
		at := nodeAt(withNode, leaf.InstanceLocation)
		if at == nil {
			at = withNode
		}
		loc := "with"
		if len(leaf.InstanceLocation) > 0 {
			loc += "." + strings.Join(leaf.InstanceLocation, ".")
		}
		p.d.Errorf(at, "%s: %s: %s", what, loc, leaf.ErrorKind.LocalizedString(printer))
	}
}

func leaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// nodeAt follows a JSON instance location through YAML nodes.
func nodeAt(n *yaml.Node, loc []string) *yaml.Node {
	for _, tok := range loc {
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == tok {
					next = n.Content[i+1]
				}
			}
			n = next
		case yaml.SequenceNode:
			idx := 0
			for _, ch := range tok {
				idx = idx*10 + int(ch-'0')
			}
			if idx >= len(n.Content) {
				return nil
			}
			n = n.Content[idx]
		default:
			return nil
		}
	}
	if n == nil && len(loc) == 0 {
		return nil
	}
	return n
}
