package sarif

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/slipway-ci/slipway/internal/scan"
)

// The types below read SARIF 2.1.0 leniently: what Slipway does not use is
// ignored, and the parts it walks are kept raw so that an error can name
// the index of the run, result and location it is in.

type inLog struct {
	Version *string           `json:"version"`
	Runs    []json.RawMessage `json:"runs"`
}

type inRun struct {
	Tool        *inTool                       `json:"tool"`
	Results     []json.RawMessage             `json:"results"`
	Artifacts   []inArtifact                  `json:"artifacts"`
	BaseIDs     map[string]inArtifactLocation `json:"originalUriBaseIds"`
	Invocations []inInvocation                `json:"invocations"`
	Properties  map[string]any                `json:"properties"`
}

type inTool struct {
	Driver     inComponent   `json:"driver"`
	Extensions []inComponent `json:"extensions"`
}

type inComponent struct {
	Name            string   `json:"name"`
	Version         string   `json:"version"`
	SemanticVersion string   `json:"semanticVersion"`
	Rules           []inRule `json:"rules"`
}

type inRule struct {
	ID               string         `json:"id"`
	ShortDescription *inMessage     `json:"shortDescription"`
	HelpURI          string         `json:"helpUri"`
	DefaultConfig    *inConfig      `json:"defaultConfiguration"`
	Properties       map[string]any `json:"properties"`
}

type inConfig struct {
	Level string `json:"level"`
}

type inMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type inArtifact struct {
	Location *inArtifactLocation `json:"location"`
}

type inArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
	Index     *int   `json:"index"`
}

type inInvocation struct {
	ExecutionSuccessful *bool `json:"executionSuccessful"`
}

type inResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           *int              `json:"ruleIndex"`
	Rule                *inRuleRef        `json:"rule"`
	Kind                string            `json:"kind"`
	Level               string            `json:"level"`
	Message             inMessage         `json:"message"`
	Locations           []json.RawMessage `json:"locations"`
	Fingerprints        map[string]string `json:"fingerprints"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []inSuppression   `json:"suppressions"`
	Properties          map[string]any    `json:"properties"`
}

type inRuleRef struct {
	ID    string `json:"id"`
	Index *int   `json:"index"`
}

type inSuppression struct {
	Status string `json:"status"`
}

type inLocation struct {
	Physical *struct {
		Artifact *inArtifactLocation `json:"artifactLocation"`
		Region   *inRegion           `json:"region"`
	} `json:"physicalLocation"`
}

type inRegion struct {
	StartLine   int        `json:"startLine"`
	StartColumn int        `json:"startColumn"`
	EndLine     int        `json:"endLine"`
	Snippet     *inMessage `json:"snippet"`
}

// maxTitle bounds a finding's title: some tools put pages in a message.
const maxTitle = 1000

var fingerprintRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Read parses a SARIF 2.1.0 log into one report per run. name is the file
// the log came from; every error names it and the JSON path of what is
// wrong, as an *Error. Absolute file: URIs are kept as local paths; use
// ReadRooted to make them relative to a checkout.
func Read(r io.Reader, name string) ([]*scan.Report, error) {
	return ReadRooted(r, name, "")
}

// ReadRooted is Read that also turns file: URIs under root (an absolute
// directory, as eslint writes them) into paths relative to root, so that
// fingerprints do not depend on where the code was checked out.
func ReadRooted(r io.Reader, name, root string) ([]*scan.Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	if int64(len(data)) > limit {
		return nil, &Error{File: name, Err: fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)}
	}
	var l inLog
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, syntaxOrDecodeErr(name, data, err)
	}
	switch {
	case l.Version == nil:
		return nil, &Error{File: name, Path: "version", Err: errors.New("missing: not a SARIF log")}
	case *l.Version != Version:
		return nil, &Error{File: name, Path: "version", Err: fmt.Errorf("%q is not supported, want %q", *l.Version, Version)}
	}
	rd := reader{name: name, root: root}
	reports := make([]*scan.Report, 0, len(l.Runs))
	for i, raw := range l.Runs {
		rep, err := rd.run(fmt.Sprintf("runs[%d]", i), raw)
		if err != nil {
			return nil, err
		}
		reports = append(reports, rep)
	}
	return reports, nil
}

func syntaxOrDecodeErr(name string, data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return &Error{File: name, Err: errors.New("empty file")}
	case errors.As(err, &se) && se.Offset >= int64(len(data)):
		return &Error{File: name, Path: position(data, se.Offset), Err: errors.New("truncated JSON")}
	case errors.As(err, &se):
		return &Error{File: name, Path: position(data, se.Offset), Err: err}
	}
	return &Error{File: name, Err: decodeErr(err)}
}

type reader struct {
	name, root string
}

func (rd reader) errorf(at, format string, args ...any) error {
	return &Error{File: rd.name, Path: at, Err: fmt.Errorf(format, args...)}
}

func (rd reader) decode(at string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return &Error{File: rd.name, Path: at, Err: decodeErr(err)}
	}
	return nil
}

// runCtx is what results of one run share.
type runCtx struct {
	at      string
	scanner string
	tool    inTool
	rules   map[string]*inRule
	run     *inRun
	secrets bool // the tool reports secrets: redact snippets
}

func (rd reader) run(at string, raw json.RawMessage) (*scan.Report, error) {
	var r inRun
	if err := rd.decode(at, raw, &r); err != nil {
		return nil, err
	}
	if r.Tool == nil || strings.TrimSpace(r.Tool.Driver.Name) == "" {
		return nil, rd.errorf(at+".tool.driver.name", "missing")
	}
	rc := &runCtx{at: at, tool: *r.Tool, run: &r, rules: map[string]*inRule{}}
	rc.scanner = scan.SAST
	if s, _ := r.Properties[propScanner].(string); slices.Contains(scan.Kinds, s) {
		rc.scanner = s
	}
	name := r.Tool.Driver.Name
	if strings.EqualFold(name, "gitleaks") {
		rc.scanner, rc.secrets = scan.Secrets, true
	}
	for _, c := range append([]inComponent{r.Tool.Driver}, r.Tool.Extensions...) {
		for i := range c.Rules {
			if _, dup := rc.rules[c.Rules[i].ID]; !dup {
				rc.rules[c.Rules[i].ID] = &c.Rules[i]
			}
		}
	}
	rep := &scan.Report{
		Scanner:  rc.scanner,
		Tool:     strings.TrimSpace(name + " " + firstNonEmpty(r.Tool.Driver.Version, r.Tool.Driver.SemanticVersion)),
		Target:   rd.name,
		Findings: []scan.Finding{},
	}
	if t, _ := r.Properties[propTarget].(string); t != "" {
		rep.Target = t
	}
	for _, inv := range r.Invocations {
		if inv.ExecutionSuccessful != nil && !*inv.ExecutionSuccessful {
			rep.Warnings = append(rep.Warnings, name+" reported that its run did not succeed")
		}
	}
	suppressed := 0
	for j, raw := range r.Results {
		f, keep, err := rd.result(rc, fmt.Sprintf("%s.results[%d]", at, j), raw)
		if err != nil {
			return nil, err
		}
		switch {
		case keep == skipSuppressed:
			suppressed++
		case keep == include:
			rep.Findings = append(rep.Findings, f)
		}
	}
	if suppressed > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d result(s) suppressed in the source were left out", suppressed))
	}
	return rep, nil
}

type verdict int

const (
	include verdict = iota
	skipPassed
	skipSuppressed
)

func (rd reader) result(rc *runCtx, at string, raw json.RawMessage) (scan.Finding, verdict, error) {
	var res inResult
	if err := rd.decode(at, raw, &res); err != nil {
		return scan.Finding{}, include, err
	}
	switch res.Kind {
	case "", "fail", "open", "review", "informational":
	case "pass", "notApplicable":
		return scan.Finding{}, skipPassed, nil
	default:
		return scan.Finding{}, include, rd.errorf(at+".kind", "%q is not a SARIF result kind", res.Kind)
	}
	if suppressedResult(res.Suppressions) {
		return scan.Finding{}, skipSuppressed, nil
	}
	rl, id, err := rd.ruleOf(rc, at, &res)
	if err != nil {
		return scan.Finding{}, include, err
	}
	f := scan.Finding{Scanner: rc.scanner, Rule: id}
	if f.Severity, err = rd.severity(at, &res, rl); err != nil {
		return scan.Finding{}, include, err
	}
	if rl != nil {
		f.HelpURL = absoluteURL(rl.HelpURI)
	}
	for k, dst := range map[string]*string{
		"package": &f.Package, "version": &f.Version, "ecosystem": &f.Ecosystem,
		"fixedIn": &f.FixedIn, "reachable": &f.Reachable, "commit": &f.Commit,
	} {
		*dst, _ = res.Properties[k].(string)
	}
	f.Title = title(res, rl, f)
	if len(res.Locations) > 0 {
		if err := rd.location(rc, at+".locations[0]", res.Locations[0], &f); err != nil {
			return scan.Finding{}, include, err
		}
	}
	// Fingerprint before redacting, so that two secrets with the same
	// first characters stay two findings; only the hash keeps the secret.
	f.Fingerprint = fingerprint(res, f)
	if rc.secrets && f.Snippet != "" {
		f.Snippet = scan.RedactValue(f.Snippet)
	}
	return f, include, nil
}

// suppressedResult is true when a suppression applies: SARIF treats a
// suppression without status as accepted.
func suppressedResult(ss []inSuppression) bool {
	for _, s := range ss {
		if s.Status == "" || s.Status == "accepted" {
			return true
		}
	}
	return false
}

func (rd reader) ruleOf(rc *runCtx, at string, res *inResult) (*inRule, string, error) {
	id := res.RuleID
	idx := res.RuleIndex
	if res.Rule != nil {
		id = firstNonEmpty(id, res.Rule.ID)
		if idx == nil {
			idx = res.Rule.Index
		}
	}
	if idx != nil && *idx >= 0 {
		rules := rc.tool.Driver.Rules
		if *idx >= len(rules) {
			return nil, "", rd.errorf(at+".ruleIndex", "%d is out of range: the driver has %d rules", *idx, len(rules))
		}
		if id == "" {
			id = rules[*idx].ID
		}
		if id != "" && id == rules[*idx].ID {
			return &rules[*idx], id, nil
		}
	}
	if id == "" {
		return nil, "", rd.errorf(at, "no ruleId")
	}
	return rc.rules[id], id, nil
}

// severity follows, in order: Slipway's own severity property, a
// "security-severity" score on the result or its rule, the result's level,
// the rule's default level, and SARIF's default level "warning".
func (rd reader) severity(at string, res *inResult, rl *inRule) (scan.Severity, error) {
	if s, ok := res.Properties["severity"].(string); ok {
		if sev, err := scan.ParseSeverity(s); err == nil {
			return sev, nil
		}
	}
	for _, c := range []struct {
		at    string
		props map[string]any
	}{{at + ".properties", res.Properties}, {"rule.properties", ruleProps(rl)}} {
		if v, ok := c.props["security-severity"]; ok {
			score, err := parseScore(v)
			if err != nil {
				return scan.Unknown, rd.errorf(c.at+".security-severity", "%v", err)
			}
			return scan.SeverityOfScore(score), nil
		}
	}
	lvl := res.Level
	lvlAt := at + ".level"
	if lvl == "" && rl != nil && rl.DefaultConfig != nil {
		lvl, lvlAt = rl.DefaultConfig.Level, "rule "+rl.ID+": defaultConfiguration.level"
	}
	switch lvl {
	case "error":
		return scan.High, nil
	case "warning", "":
		return scan.Medium, nil
	case "note":
		return scan.Low, nil
	case "none":
		return scan.Info, nil
	}
	// Not a SARIF level, but some tools write their own severity names
	// there (golangci-lint's configurable severities): take those.
	if sev, err := scan.ParseSeverity(lvl); err == nil {
		return sev, nil
	}
	return scan.Unknown, rd.errorf(lvlAt, "%q is neither a SARIF level (none, note, warning, error) nor a severity", lvl)
}

func ruleProps(rl *inRule) map[string]any {
	if rl == nil {
		return nil
	}
	return rl.Properties
}

func parseScore(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
	default:
		return 0, fmt.Errorf("want a number or numeric string, got %T", v)
	}
	if f < 0 || f > 10 || f != f {
		return 0, fmt.Errorf("%v is outside 0..10", f)
	}
	return f, nil
}

func title(res inResult, rl *inRule, f scan.Finding) string {
	t := strings.TrimSpace(firstNonEmpty(res.Message.Text, res.Message.Markdown))
	if t != "" && f.Package != "" {
		// Undo the package suffix Write adds, so a round trip keeps titles.
		t = strings.TrimSuffix(t, strings.TrimPrefix(resultMessage(scan.Finding{Title: "x", Package: f.Package, Version: f.Version, FixedIn: f.FixedIn}), "x"))
	}
	if t == "" && rl != nil && rl.ShortDescription != nil {
		t = rl.ShortDescription.Text
	}
	if t == "" {
		t = f.Rule
	}
	if r := []rune(t); len(r) > maxTitle {
		t = string(r[:maxTitle]) + "…"
	}
	return t
}

func (rd reader) location(rc *runCtx, at string, raw json.RawMessage, f *scan.Finding) error {
	var loc inLocation
	if err := rd.decode(at, raw, &loc); err != nil {
		return err
	}
	if loc.Physical == nil {
		return nil
	}
	if a := loc.Physical.Artifact; a != nil {
		uri := a.URI
		// The index matters only without a uri: golangci-lint writes
		// "index": 0 with no artifacts array.
		if a.Index != nil && uri == "" {
			if *a.Index < 0 || *a.Index >= len(rc.run.Artifacts) {
				return rd.errorf(at+".physicalLocation.artifactLocation.index", "%d is out of range: the run lists %d artifacts", *a.Index, len(rc.run.Artifacts))
			}
			if l := rc.run.Artifacts[*a.Index].Location; l != nil {
				uri = l.URI
			}
		}
		p, err := rd.localPath(uri)
		if err != nil {
			return rd.errorf(at+".physicalLocation.artifactLocation.uri", "%v", err)
		}
		f.Path = p
	}
	if rg := loc.Physical.Region; rg != nil {
		switch {
		case rg.StartLine < 0 || rg.StartColumn < 0 || rg.EndLine < 0:
			return rd.errorf(at+".physicalLocation.region", "line and column numbers must not be negative")
		case rg.EndLine > 0 && rg.EndLine < rg.StartLine:
			return rd.errorf(at+".physicalLocation.region", "endLine %d is before startLine %d", rg.EndLine, rg.StartLine)
		}
		f.Line, f.Column, f.EndLine = rg.StartLine, rg.StartColumn, rg.EndLine
		if rg.Snippet != nil {
			f.Snippet = strings.TrimSpace(rg.Snippet.Text)
		}
	}
	return nil
}

// localPath turns an artifact URI into a slash-separated path: relative
// URIs are unescaped, file: URIs become local paths (relative to the
// root when under it), other schemes are kept as they are.
func (rd reader) localPath(uri string) (string, error) {
	if uri == "" {
		return "", nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("%q is not a URI reference", uri)
	}
	switch {
	case u.Scheme == "file":
		p := u.Path
		if rd.root != "" {
			if rel, err := filepath.Rel(rd.root, filepath.FromSlash(p)); err == nil && !strings.HasPrefix(rel, "..") {
				return filepath.ToSlash(rel), nil
			}
		}
		return p, nil
	case u.Scheme != "":
		return uri, nil
	}
	return strings.TrimPrefix(path.Clean(u.Path), "./"), nil
}

// fingerprint keeps Slipway's own fingerprint, derives one from the tool's
// fingerprints when it gave any, and otherwise hashes what identifies the
// finding without its line: the rule, the file and the flagged code (or
// the message when there is no code).
func fingerprint(res inResult, f scan.Finding) string {
	if fp := res.PartialFingerprints[FingerprintKey]; fingerprintRE.MatchString(fp) {
		return fp
	}
	var given []string
	for _, m := range []map[string]string{res.Fingerprints, res.PartialFingerprints} {
		for k, v := range m {
			given = append(given, k+"="+v)
		}
	}
	if len(given) > 0 {
		slices.Sort(given)
		return scan.Fingerprint(f.Scanner, f.Rule, f.Path, "fp:"+strings.Join(given, "\x00"))
	}
	if f.Snippet != "" {
		return scan.Fingerprint(f.Scanner, f.Rule, f.Path, NormalizeSnippet(f.Snippet))
	}
	return scan.Fingerprint(f.Scanner, f.Rule, f.Path, "msg:"+NormalizeSnippet(f.Title))
}
