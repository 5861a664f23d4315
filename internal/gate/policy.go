// Package gate decides whether a change may move forward: it applies the
// repository's waivers to the findings of the scanners, compares what is
// left with the `gates:` policy (a severity threshold per scanner, quality
// conditions on metrics), and renders the verdict as a table. There is no
// override: a failing gate is fixed, waived with an owner and an expiry, or
// the policy is changed in a reviewed commit.
package gate

import (
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

// Policy is a `gates:` block.
type Policy struct {
	// Scanners are the severity thresholds, in scan.Kinds order.
	Scanners []ScannerGate
	// Conditions are the quality conditions, in file order.
	Conditions []*Condition
	// Set says a `gates:` block was written (even an empty one).
	Set bool
}

// ScannerGate fails when a finding of Scanner at or above FailOn is in
// Scope (and not waived).
type ScannerGate struct {
	Scanner string
	FailOn  scan.Severity
	Scope   Scope
}

// QualityKey is the key of the quality conditions in a `gates:` block.
const QualityKey = "quality"

var scannerKeys = []string{"fail-on", "scope"}

// DecodePolicy reads a `gates:` mapping, recording errors in d:
//
//	gates:
//	  secrets: low                          # = {fail-on: low}
//	  deps: {fail-on: high, scope: all}     # scope: new (default) | all
//	  sast: {fail-on: medium}
//	  image: {fail-on: critical}
//	  quality:
//	    - new_coverage >= 80
//	    - max_new_function_complexity <= 15
//
// A quality condition's scope follows from the metrics it names (new_*
// metrics are about changed code).
func DecodePolicy(d *yamlpos.Decoder, n *yaml.Node, what string) Policy {
	p := Policy{Set: true}
	known := append(slices.Clone(scan.Kinds), QualityKey)
	for _, f := range d.Mapping(n, what, known) {
		at := what + "." + f.Name
		if f.Name == QualityKey {
			p.Conditions = decodeConditions(d, f.Value, at)
			continue
		}
		if g, ok := decodeScanner(d, f.Name, f.Value, at); ok {
			p.Scanners = append(p.Scanners, g)
		}
	}
	slices.SortStableFunc(p.Scanners, func(a, b ScannerGate) int {
		return slices.Index(scan.Kinds, a.Scanner) - slices.Index(scan.Kinds, b.Scanner)
	})
	return p
}

func decodeScanner(d *yamlpos.Decoder, kind string, n *yaml.Node, at string) (ScannerGate, bool) {
	g := ScannerGate{Scanner: kind, Scope: New}
	switch {
	case yamlpos.IsNull(n):
		d.Errorf(n, "%s needs fail-on: <severity> (info, low, medium, high or critical)", at)
		return g, false
	case n.Kind == yaml.ScalarNode:
		return g, decodeSeverity(d, n, at, &g.FailOn)
	}
	fields := d.Mapping(n, at, scannerKeys)
	if n.Kind == yaml.MappingNode && !hasField(fields, "fail-on") {
		d.Errorf(n, "%s needs fail-on: <severity> (info, low, medium, high or critical)", at)
	}
	ok := false
	for _, f := range fields {
		switch f.Name {
		case "fail-on":
			ok = decodeSeverity(d, f.Value, at+".fail-on", &g.FailOn)
		case "scope":
			switch s := Scope(d.String(f.Value, at+".scope")); s {
			case New, All:
				g.Scope = s
			default:
				d.Errorf(f.Value, "%s.scope must be %q or %q, not %q", at, New, All, s)
			}
		}
	}
	return g, ok
}

func hasField(fields []yamlpos.Field, name string) bool {
	return slices.ContainsFunc(fields, func(f yamlpos.Field) bool { return f.Name == name })
}

func decodeSeverity(d *yamlpos.Decoder, n *yaml.Node, at string, out *scan.Severity) bool {
	s, err := scan.ParseSeverity(d.String(n, at))
	if err != nil {
		d.Errorf(n, "%s: %v", at, err)
		return false
	}
	*out = s
	return true
}

func decodeConditions(d *yamlpos.Decoder, n *yaml.Node, at string) []*Condition {
	var out []*Condition
	list := d.StringOrList(n, at)
	for i, src := range list {
		node := n
		if n.Kind == yaml.SequenceNode {
			node = n.Content[i]
		}
		c, err := ParseCondition(src)
		if err != nil {
			d.Errorf(node, "%s[%d]: %v", at, i, err)
			continue
		}
		out = append(out, c)
	}
	return out
}

// LoadPolicy reads a policy file whose top level is the `gates:` mapping
// (.slipway/gates.yaml).
func LoadPolicy(file string, data []byte) (Policy, error) {
	root, err := yamlpos.Parse(file, data)
	if err != nil {
		return Policy{}, err
	}
	if yamlpos.IsNull(root) {
		return Policy{}, nil
	}
	d := yamlpos.Decoder{File: file}
	p := DecodePolicy(&d, root, "gates")
	if err := d.Err(); err != nil {
		return Policy{}, err
	}
	return p, nil
}
