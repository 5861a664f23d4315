// Package trust is the verification policy artifacts must pass before they
// enter an environment: which keys are trusted (with validity windows and
// revocations), which builder and source repositories are expected, and what
// evidence each environment requires. Slipway's own configuration is
// authoritative; a repository's .slipway/trust.yaml can only tighten it.
package trust

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/yamlpos"
)

// Evidence kinds.
const (
	Signature  = "signature"
	Provenance = "provenance"
	SBOM       = "sbom"
)

// Kinds lists every evidence kind in the order reports show them.
var Kinds = []string{Signature, Provenance, SBOM}

// DefaultRequire is what every environment requires when nothing is set:
// a signature by a trusted key and Slipway's provenance.
var DefaultRequire = []string{Signature, Provenance}

// Key is a trusted public key.
type Key struct {
	Name      string
	Public    string    // path to a PEM file (relative to the state dir) or inline PEM
	NotBefore time.Time // zero: no lower bound
	NotAfter  time.Time // zero: no upper bound
	Revoked   bool
}

// Policy is a whole trust configuration.
type Policy struct {
	Keys    []Key
	Builder string   // expected builder id; "" = any
	Sources []string // expected source repositories; empty = any
	// Require applies to every environment; Environments add to it.
	Require      []string
	Environments map[string][]string
	// Set says the policy was configured (otherwise defaults apply).
	Set bool
}

// ErrLoosens is wrapped by errors about a repository policy that tries to
// add trust instead of narrowing it.
var ErrLoosens = errors.New("a repository's trust.yaml can only tighten the configured policy")

// Decode reads a `trust:` mapping. Errors are recorded in d.
func Decode(d *yamlpos.Decoder, n *yaml.Node, what string) Policy {
	p := Policy{Set: true, Environments: map[string][]string{}}
	for _, f := range d.Mapping(n, what, []string{"keys", "builder", "sources", "require", "environments"}) {
		at := what + "." + f.Name
		switch f.Name {
		case "keys":
			for i, kn := range seq(d, f.Value, at) {
				p.Keys = append(p.Keys, decodeKey(d, kn, fmt.Sprintf("%s[%d]", at, i)))
			}
		case "builder":
			p.Builder = d.String(f.Value, at)
		case "sources":
			p.Sources = d.StringList(f.Value, at)
		case "require":
			p.Require = decodeRequire(d, f.Value, at)
		case "environments":
			for _, e := range d.Mapping(f.Value, at, nil) {
				for _, r := range d.Mapping(e.Value, at+"."+e.Name, []string{"require"}) {
					p.Environments[e.Name] = decodeRequire(d, r.Value, at+"."+e.Name+".require")
				}
			}
		}
	}
	return p
}

func seq(d *yamlpos.Decoder, n *yaml.Node, what string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, "%s: expected a list", what)
		return nil
	}
	return n.Content
}

func decodeKey(d *yamlpos.Decoder, n *yaml.Node, what string) Key {
	var k Key
	for _, f := range d.Mapping(n, what, []string{"name", "public", "not-before", "not-after", "revoked"}) {
		switch f.Name {
		case "name":
			k.Name = d.String(f.Value, what+".name")
		case "public":
			k.Public = d.String(f.Value, what+".public")
		case "not-before":
			k.NotBefore = d.Date(f.Value, what+".not-before")
		case "not-after":
			k.NotAfter = d.Date(f.Value, what+".not-after")
		case "revoked":
			k.Revoked = d.Bool(f.Value, what+".revoked")
		}
	}
	if k.Name == "" {
		d.Errorf(n, "%s: a key needs a name", what)
	}
	return k
}

func decodeRequire(d *yamlpos.Decoder, n *yaml.Node, what string) []string {
	list := d.StringList(n, what)
	for i, r := range list {
		if !slices.Contains(Kinds, r) {
			d.Errorf(n.Content[i], "%s: unknown evidence %q; use one of %v%s", what, r, Kinds, yamlpos.Suggest(r, Kinds))
		}
	}
	return list
}

// Required returns the evidence env requires, sorted in Kinds order: the
// policy's own requirements plus extra (e.g. the pipeline's environment
// block, which can only add).
func (p Policy) Required(env string, extra ...string) []string {
	base := p.Require
	if !p.Set && len(base) == 0 {
		base = DefaultRequire
	}
	var out []string
	for _, k := range Kinds {
		if slices.Contains(base, k) || slices.Contains(p.Environments[env], k) || slices.Contains(extra, k) {
			out = append(out, k)
		}
	}
	return out
}

// Tighten applies a repository's policy to the configured one. The repo may
// drop keys (by naming the subset it trusts), revoke keys, shorten
// validity windows, set a builder or sources where none is configured or
// narrow the configured sources, and add requirements. Anything else
// returns an error wrapping ErrLoosens.
func (p Policy) Tighten(repo Policy) (Policy, error) {
	out := p
	out.Environments = map[string][]string{}
	for k, v := range p.Environments {
		out.Environments[k] = slices.Clone(v)
	}
	if len(repo.Keys) > 0 {
		keys, err := narrowKeys(p.Keys, repo.Keys)
		if err != nil {
			return p, err
		}
		out.Keys = keys
	}
	switch {
	case repo.Builder == "":
	case p.Builder == "" || p.Builder == repo.Builder:
		out.Builder = repo.Builder
	default:
		return p, fmt.Errorf("%w: builder %q differs from the configured %q", ErrLoosens, repo.Builder, p.Builder)
	}
	if len(repo.Sources) > 0 {
		for _, s := range repo.Sources {
			if len(p.Sources) > 0 && !slices.Contains(p.Sources, s) {
				return p, fmt.Errorf("%w: source %q is not among the configured sources %v", ErrLoosens, s, p.Sources)
			}
		}
		out.Sources = slices.Clone(repo.Sources)
	}
	out.Require = union(p.Required(""), repo.Require)
	for env, req := range repo.Environments {
		out.Environments[env] = union(out.Environments[env], req)
	}
	out.Set = true
	return out, nil
}

func narrowKeys(conf, repo []Key) ([]Key, error) {
	var out []Key
	for _, rk := range repo {
		i := slices.IndexFunc(conf, func(k Key) bool { return k.Name == rk.Name })
		if i < 0 {
			return nil, fmt.Errorf("%w: key %q is not a configured key (a repository cannot add keys)", ErrLoosens, rk.Name)
		}
		k := conf[i]
		if rk.Public != "" && rk.Public != k.Public {
			return nil, fmt.Errorf("%w: key %q: a repository cannot change a key's public part", ErrLoosens, rk.Name)
		}
		if rk.NotBefore.After(k.NotBefore) {
			k.NotBefore = rk.NotBefore
		}
		if !rk.NotAfter.IsZero() && (k.NotAfter.IsZero() || rk.NotAfter.Before(k.NotAfter)) {
			k.NotAfter = rk.NotAfter
		}
		k.Revoked = k.Revoked || rk.Revoked
		out = append(out, k)
	}
	return out, nil
}

func union(a, b []string) []string {
	set := map[string]bool{}
	for _, s := range append(slices.Clone(a), b...) {
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return slices.Index(Kinds, out[i]) < slices.Index(Kinds, out[j]) })
	return out
}

// Usable reports whether k may vouch for something signed at t, and why not.
func (k Key) Usable(t time.Time) (bool, string) {
	switch {
	case k.Revoked:
		return false, fmt.Sprintf("key %q is revoked", k.Name)
	case !k.NotBefore.IsZero() && t.Before(k.NotBefore):
		return false, fmt.Sprintf("key %q is not valid before %s", k.Name, k.NotBefore.Format(time.DateOnly))
	case !k.NotAfter.IsZero() && t.After(k.NotAfter):
		return false, fmt.Sprintf("key %q expired on %s", k.Name, k.NotAfter.Format(time.DateOnly))
	}
	return true, ""
}

// LoadRepo reads a repository's trust file (.slipway/trust.yaml), whose
// top level is the same mapping as the configuration's `trust:` block.
func LoadRepo(file string, data []byte) (Policy, error) {
	root, err := yamlpos.Parse(file, data)
	if err != nil {
		return Policy{}, err
	}
	d := yamlpos.Decoder{File: file}
	if yamlpos.IsNull(root) {
		return Policy{}, nil
	}
	p := Decode(&d, root, "trust")
	return p, d.Err()
}
