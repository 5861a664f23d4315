// Package yamlpos decodes YAML documents node by node so that every error
// carries the file, line and column it is about. It is shared by every parser
// of repository config (pipeline, quarantine, secrets files...).
//
// A Decoder collects errors instead of stopping at the first one, so a user
// sees every problem of a file in one go.
package yamlpos

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"go.yaml.in/yaml/v3"
)

// Error is one problem at one place of a file.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.File != "":
		return e.File + ": " + e.Msg
	default:
		return e.Msg
	}
}

// Errors is every problem found in a file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Decoder walks yaml.v3 nodes of one file and collects positioned errors.
type Decoder struct {
	File string
	errs Errors
}

// Parse parses data as one YAML document. A syntax error is returned with its
// position; an empty document yields a nil node and no error.
func Parse(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(file, data, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// syntaxError positions a YAML syntax error. yaml.v3 reports the line where
// the enclosing construct started, so the precise place comes from goccy's
// parser when it agrees that the document is invalid.
func syntaxError(file string, data []byte, err error) error {
	var se *goccy.SyntaxError
	if _, gerr := goccyparser.ParseBytes(data, 0); errors.As(gerr, &se) && se.Token != nil {
		return Errors{{File: file, Line: se.Token.Position.Line, Col: se.Token.Position.Column,
			Msg: "invalid YAML: " + se.Message}}
	}
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, convErr := strconv.Atoi(rest[:i]); convErr == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	if line == 0 {
		return &Error{File: file, Msg: "invalid YAML: " + msg}
	}
	return Errors{{File: file, Line: line, Col: 1, Msg: "invalid YAML: " + msg}}
}

// Errorf records an error at node n.
func (d *Decoder) Errorf(n *yaml.Node, format string, args ...any) {
	e := &Error{File: d.File, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// Err returns the collected errors sorted by position, or nil.
func (d *Decoder) Err() error {
	if len(d.errs) == 0 {
		return nil
	}
	es := append(Errors(nil), d.errs...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Col < es[j].Col
	})
	return es
}

// Field is one key of a mapping with its key and value nodes.
type Field struct {
	Name  string
	Key   *yaml.Node
	Value *yaml.Node
}

// Mapping returns the fields of a mapping node in file order. Unknown keys
// (not in known) and duplicate keys are reported; known may be nil to accept
// any key (a map of user-chosen names).
func (d *Decoder) Mapping(n *yaml.Node, what string, known []string) []Field {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return nil
	}
	seen := map[string]bool{}
	var out []Field
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.Errorf(k, "%s: keys must be plain strings", what)
			continue
		}
		if seen[k.Value] {
			d.Errorf(k, "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		if known != nil && !slices.Contains(known, k.Value) {
			d.Errorf(k, "%s: unknown key %q%s", what, k.Value, Suggest(k.Value, known))
			continue
		}
		out = append(out, Field{Name: k.Value, Key: k, Value: resolve(v)})
	}
	return out
}

// Suggest returns ` (did you mean "x"?)` when one of the candidates is close
// to name, else "".
func Suggest(name string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := levenshtein.ComputeDistance(strings.ToLower(name), strings.ToLower(c))
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(2, len(name)/3)
	if best == "" || bestDist > limit || bestDist >= len(name) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// String decodes a scalar as a string. Numbers and booleans are accepted as
// their literal text, since users write `go: 1.22` meaning the string.
func (d *Decoder) String(n *yaml.Node, what string) string {
	n = resolve(n)
	if n == nil || isNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		d.Errorf(n, "%s must be a string, not %s", what, kindName(n))
		return ""
	}
	return n.Value
}

// StringOrList decodes either one string or a sequence of strings.
func (d *Decoder) StringOrList(n *yaml.Node, what string) []string {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	return d.StringList(n, what)
}

// StringList decodes a sequence of strings.
func (d *Decoder) StringList(n *yaml.Node, what string) []string {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, "%s must be a list, not %s", what, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		c = resolve(c)
		if c.Kind != yaml.ScalarNode {
			d.Errorf(c, "%s: each item must be a string, not %s", what, kindName(c))
			continue
		}
		out = append(out, c.Value)
	}
	return out
}

// StringMap decodes a mapping of strings to strings (e.g. env:).
func (d *Decoder) StringMap(n *yaml.Node, what string) map[string]string {
	fields := d.Mapping(n, what, nil)
	if fields == nil {
		return nil
	}
	out := make(map[string]string, len(fields))
	for _, f := range fields {
		out[f.Name] = d.String(f.Value, what+"."+f.Name)
	}
	return out
}

// Bool decodes a boolean scalar.
func (d *Decoder) Bool(n *yaml.Node, what string) bool {
	n = resolve(n)
	if n == nil || isNull(n) {
		return false
	}
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
			return true
		case "false", "no", "off":
			return false
		}
	}
	d.Errorf(n, "%s must be true or false", what)
	return false
}

// Int decodes an integer scalar within [lo, hi].
func (d *Decoder) Int(n *yaml.Node, what string, lo, hi int) int {
	n = resolve(n)
	if n == nil || isNull(n) {
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		d.Errorf(n, "%s must be a whole number", what)
		return 0
	}
	if v < lo || v > hi {
		d.Errorf(n, "%s must be between %d and %d, not %d", what, lo, hi, v)
		return 0
	}
	return v
}

// Duration decodes a Go duration ("90s", "10m", "1h30m"); a bare number is
// read as seconds.
func (d *Decoder) Duration(n *yaml.Node, what string) time.Duration {
	n = resolve(n)
	if n == nil || isNull(n) {
		return 0
	}
	if n.Kind == yaml.ScalarNode {
		if secs, err := strconv.Atoi(n.Value); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second
		}
		if v, err := time.ParseDuration(n.Value); err == nil && v >= 0 {
			return v
		}
	}
	d.Errorf(n, "%s must be a duration such as 30s, 10m or 1h", what)
	return 0
}

// Date decodes a calendar date (2006-01-02) or an RFC 3339 time.
func (d *Decoder) Date(n *yaml.Node, what string) time.Time {
	n = resolve(n)
	if n == nil || isNull(n) {
		return time.Time{}
	}
	if n.Kind == yaml.ScalarNode {
		if t, err := time.Parse("2006-01-02", n.Value); err == nil {
			return t
		}
		if t, err := time.Parse(time.RFC3339, n.Value); err == nil {
			return t
		}
	}
	d.Errorf(n, "%s must be a date such as 2027-01-31", what)
	return time.Time{}
}

// IsNull reports whether n is absent or an explicit null.
func IsNull(n *yaml.Node) bool { n = resolve(n); return n == nil || isNull(n) }

// KindName names a node's kind for error messages.
func KindName(n *yaml.Node) string { return kindName(resolve(n)) }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return resolve(n.Content[0])
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "an unsupported YAML node"
}

// Add records errors found in another file (an included policy, say), so
// that every problem is reported at once; other errors are recorded
// against this decoder's file.
func (d *Decoder) Add(err error) {
	var es Errors
	var e *Error
	switch {
	case errors.As(err, &es):
		d.errs = append(d.errs, es...)
	case errors.As(err, &e):
		d.errs = append(d.errs, e)
	case err != nil:
		d.errs = append(d.errs, &Error{File: d.File, Line: 1, Col: 1, Msg: err.Error()})
	}
}
