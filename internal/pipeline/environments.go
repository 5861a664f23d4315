package pipeline

import (
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/yamlpos"
)

// Environment is one entry of the `environments:` block: a place an artifact
// is promoted (or, later, deployed) to, in an order set by `requires:`.
type Environment struct {
	Name     string `json:"name,omitempty"`
	Pos      Pos    `json:"-"`
	Requires string `json:"requires,omitempty"` // the environment an artifact must be in first; "" = none
	ReqPos   Pos    `json:"-"`
	// Target says who deploys it. "external": another tool (Argo CD, Flux)
	// watches the environment tag that promotion moves.
	Target string `json:"target,omitempty"`
	// Require lists the evidence an artifact needs before it may enter:
	// "signature", "provenance", "sbom". It can only add to the trust
	// policy of the state dir's configuration, never remove from it.
	Require []string `json:"require,omitempty"`
	// Deploy is how slipway deploys it; nil for an external target.
	Deploy *Deploy `json:"deploy,omitempty"`
}

// Evidence kinds a trust policy can require.
const (
	EvidenceSignature  = "signature"
	EvidenceProvenance = "provenance"
	EvidenceSBOM       = "sbom"
)

// Targets this build knows.
const TargetExternal = "external"

var (
	envNameTagRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	envKeys      = append([]string{"requires", "target", "trust"}, deployKeys...)
	evidence     = []string{EvidenceSignature, EvidenceProvenance, EvidenceSBOM}
)

// Environment returns the environment named name, or nil.
func (s *Spec) Environment(name string) *Environment {
	for _, e := range s.Environments {
		if e.Name == name {
			return e
		}
	}
	return nil
}

func (p *decoder) environments(n *yaml.Node) []*Environment {
	var envs []*Environment
	for _, f := range p.d.Mapping(n, "environments", nil) {
		if !envNameTagRE.MatchString(f.Name) || f.Name[0] == 'v' && len(f.Name) > 1 && f.Name[1] >= '0' && f.Name[1] <= '9' || len(f.Name) > 3 && f.Name[:4] == "sha-" {
			p.d.Errorf(f.Key, "environment name %q: it becomes a registry tag, so use lower-case letters, digits, '.', '_' and '-', and not the form of a version (v1...) or commit tag (sha-...)", f.Name)
			continue
		}
		e := &Environment{Name: f.Name, Pos: Pos{f.Key.Line, f.Key.Column}, Target: TargetExternal}
		if !yamlpos.IsNull(f.Value) {
			p.environment(e, f.Value)
		}
		envs = append(envs, e)
	}
	return envs
}

func (p *decoder) environment(e *Environment, n *yaml.Node) {
	what := "environments." + e.Name
	for _, f := range p.d.Mapping(n, what, envKeys) {
		switch f.Name {
		case "requires":
			e.Requires, e.ReqPos = p.d.String(f.Value, what+".requires"), Pos{f.Value.Line, f.Value.Column}
		case "target":
			e.Target = p.d.String(f.Value, what+".target")
			if e.Target != TargetExternal && e.Target != TargetLocal {
				p.d.Errorf(f.Value, "%s.target: %q is not a target of this version; use %q (slipway runs it) or %q (deployed by a tool that watches the environment tag)", what, e.Target, TargetLocal, TargetExternal)
			}
		case "trust":
			for _, t := range p.d.Mapping(f.Value, what+".trust", []string{"require"}) {
				e.Require = p.d.StringList(t.Value, what+".trust.require")
				for i, r := range e.Require {
					if !slices.Contains(evidence, r) {
						p.d.Errorf(t.Value.Content[i], "%s.trust.require: unknown evidence %q; use one of %v%s", what, r, evidence, suggest(r, evidence))
					}
				}
			}
		default:
			p.deploy(e, f.Name, f.Value)
		}
	}
}

// lintEnvironments checks that `requires:` names a known environment and
// that the chain has no cycle.
func (p *decoder) lintEnvironments(s *Spec) {
	names := make([]string, 0, len(s.Environments))
	for _, e := range s.Environments {
		names = append(names, e.Name)
	}
	for _, e := range s.Environments {
		p.lintDeploy(e)
		if e.Requires == "" {
			continue
		}
		if s.Environment(e.Requires) == nil {
			p.errAt(e.ReqPos, "environments.%s.requires: no environment %q%s", e.Name, e.Requires, suggest(e.Requires, names))
			continue
		}
		seen := map[string]bool{e.Name: true}
		for at := s.Environment(e.Requires); at != nil; at = s.Environment(at.Requires) {
			if seen[at.Name] {
				p.errAt(e.ReqPos, "environments.%s.requires: the chain of requires: loops back to %q", e.Name, at.Name)
				break
			}
			seen[at.Name] = true
		}
	}
}
