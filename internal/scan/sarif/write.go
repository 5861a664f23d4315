package sarif

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/slipway-ci/slipway/internal/scan"
)

// The types below are the subset of SARIF 2.1.0 that Write produces.

type sarifLog struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []run  `json:"runs"`
}

type run struct {
	Tool       tool           `json:"tool"`
	Results    []result       `json:"results"`
	Properties map[string]any `json:"properties,omitempty"`
}

type tool struct {
	Driver driver `json:"driver"`
}

type driver struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	InformationURI string `json:"informationUri,omitempty"`
	Rules          []rule `json:"rules"`
}

type rule struct {
	ID                   string         `json:"id"`
	ShortDescription     *message       `json:"shortDescription,omitempty"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration *configuration `json:"defaultConfiguration,omitempty"`
	Properties           map[string]any `json:"properties,omitempty"`
}

type configuration struct {
	Level string `json:"level"`
}

type message struct {
	Text string `json:"text"`
}

type result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             message           `json:"message"`
	Locations           []location        `json:"locations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type location struct {
	PhysicalLocation *physicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []logicalLocation `json:"logicalLocations,omitempty"`
}

type physicalLocation struct {
	ArtifactLocation artifactLocation `json:"artifactLocation"`
	Region           *region          `json:"region,omitempty"`
}

type artifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type region struct {
	StartLine   int      `json:"startLine,omitempty"`
	StartColumn int      `json:"startColumn,omitempty"`
	EndLine     int      `json:"endLine,omitempty"`
	Snippet     *message `json:"snippet,omitempty"`
}

type logicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

// Write writes reports as one SARIF 2.1.0 log, one run per report, in the
// order given. Output is deterministic: rules are sorted by id and results
// keep the report's order, so logs diff cleanly.
func Write(w io.Writer, reports ...*scan.Report) error {
	l := sarifLog{Schema: SchemaURI, Version: Version, Runs: make([]run, 0, len(reports))}
	for i, r := range reports {
		if r == nil {
			return fmt.Errorf("sarif: report %d is nil", i)
		}
		l.Runs = append(l.Runs, toRun(r))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return fmt.Errorf("sarif: write: %w", err)
	}
	return nil
}

func toRun(r *scan.Report) run {
	name, version := splitTool(r.Tool, r.Scanner)
	rules, index := toRules(r.Findings)
	out := run{
		Tool: tool{Driver: driver{
			Name: name, Version: version, InformationURI: informationURI(name), Rules: rules,
		}},
		Results:    make([]result, 0, len(r.Findings)),
		Properties: map[string]any{propScanner: r.Scanner},
	}
	if r.Target != "" {
		out.Properties[propTarget] = r.Target
	}
	for _, f := range r.Findings {
		out.Results = append(out.Results, toResult(f, index[ruleID(f)]))
	}
	return out
}

// splitTool reads "gitleaks 8.30.1" as name and version.
func splitTool(t, scanner string) (name, version string) {
	t = strings.TrimSpace(t)
	if t == "" {
		return "slipway-" + scanner, ""
	}
	if i := strings.LastIndexByte(t, ' '); i > 0 {
		return strings.TrimSpace(t[:i]), t[i+1:]
	}
	return t, ""
}

func informationURI(name string) string {
	if u, ok := informationURIs[strings.ToLower(name)]; ok {
		return u
	}
	return slipwayURI
}

func ruleID(f scan.Finding) string {
	if f.Rule != "" {
		return f.Rule
	}
	return f.Scanner
}

// toRules makes one rule per rule id, described by its first finding and
// configured at the highest severity any of its findings has.
func toRules(fs []scan.Finding) ([]rule, map[string]int) {
	first := map[string]scan.Finding{}
	worst := map[string]scan.Severity{}
	for _, f := range fs {
		id := ruleID(f)
		if _, ok := first[id]; !ok {
			first[id] = f
		}
		worst[id] = max(worst[id], f.Severity)
	}
	ids := make([]string, 0, len(first))
	for id := range first {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rules := make([]rule, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		f, sev := first[id], worst[id]
		rules[i] = rule{
			ID:                   id,
			ShortDescription:     &message{Text: firstNonEmpty(f.Title, id)},
			HelpURI:              absoluteURL(f.HelpURL),
			DefaultConfiguration: &configuration{Level: level(sev)},
			Properties: map[string]any{
				"security-severity": securitySeverity(sev),
				"tags":              []string{"security", f.Scanner},
			},
		}
		index[id] = i
	}
	return rules, index
}

func toResult(f scan.Finding, ruleIndex int) result {
	res := result{
		RuleID:     ruleID(f),
		RuleIndex:  ruleIndex,
		Level:      level(f.Severity),
		Message:    message{Text: resultMessage(f)},
		Properties: resultProperties(f),
	}
	if loc, ok := toLocation(f); ok {
		res.Locations = []location{loc}
	}
	if f.Fingerprint != "" {
		res.PartialFingerprints = map[string]string{FingerprintKey: f.Fingerprint}
	}
	return res
}

func resultMessage(f scan.Finding) string {
	msg := firstNonEmpty(f.Title, ruleID(f))
	if f.Package != "" {
		msg += " (" + f.Package
		if f.Version != "" {
			msg += "@" + f.Version
		}
		if f.FixedIn != "" {
			msg += ", fixed in " + f.FixedIn
		}
		msg += ")"
	}
	return msg
}

func resultProperties(f scan.Finding) map[string]any {
	p := map[string]any{"severity": f.Severity.String()}
	for k, v := range map[string]string{
		"package": f.Package, "version": f.Version, "ecosystem": f.Ecosystem,
		"fixedIn": f.FixedIn, "reachable": f.Reachable, "commit": f.Commit,
	} {
		if v != "" {
			p[k] = v
		}
	}
	return p
}

// toLocation places a finding in its file, or for a dependency in its
// lockfile and package; a finding with neither has no location.
func toLocation(f scan.Finding) (location, bool) {
	var loc location
	if f.Path != "" {
		pl := &physicalLocation{ArtifactLocation: artifactLocation{URI: pathURI(f.Path), URIBaseID: SrcRoot}}
		if f.Line > 0 {
			rg := &region{StartLine: f.Line, StartColumn: max(f.Column, 0)}
			if f.EndLine >= f.Line {
				rg.EndLine = f.EndLine
			}
			if f.Snippet != "" {
				rg.Snippet = &message{Text: f.Snippet}
			}
			pl.Region = rg
		}
		loc.PhysicalLocation = pl
	}
	if f.Package != "" {
		fq := f.Package
		if f.Version != "" {
			fq += "@" + f.Version
		}
		loc.LogicalLocations = []logicalLocation{{Name: f.Package, FullyQualifiedName: fq, Kind: "module"}}
	}
	return loc, loc.PhysicalLocation != nil || loc.LogicalLocations != nil
}

// pathURI turns a slash-separated relative path into a relative URI
// reference, escaping what a URI cannot hold (spaces, '%', '#', '?').
func pathURI(p string) string {
	return (&url.URL{Path: strings.TrimPrefix(p, "/")}).String()
}

func absoluteURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return ""
	}
	return u.String()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
