package gate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

// WaiversFile is where a repository keeps its waivers, relative to its root.
const WaiversFile = ".slipway/waivers.yaml"

// Waiver forgives findings until it expires. It names either one finding
// by Fingerprint, or a Rule (optionally of one Scanner) in files matching
// Path, a doublestar glob ("internal/legacy/**"; empty = anywhere, including
// findings without a file such as dependency vulnerabilities). Every
// waiver has an owner, a reason and an expiry: a waiver is a tracked debt.
//
// Expires given as a date lasts until the end of that day in UTC.
type Waiver struct {
	Fingerprint string    `json:"fingerprint,omitempty"`
	Scanner     string    `json:"scanner,omitempty"`
	Rule        string    `json:"rule,omitempty"`
	Path        string    `json:"path,omitempty"`
	Owner       string    `json:"owner"`
	Reason      string    `json:"reason"`
	Expires     time.Time `json:"expires"`
	// Where the waiver is written, for messages.
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"column"`
}

// Waivers is a parsed waivers file.
type Waivers struct {
	Entries []Waiver
}

var (
	waiverFileKeys = []string{"waivers"}
	waiverKeys     = []string{"fingerprint", "scanner", "rule", "path", "owner", "reason", "expires"}
)

// Pos is "file:line:col" of the waiver.
func (w Waiver) Pos() string { return fmt.Sprintf("%s:%d:%d", w.File, w.Line, w.Col) }

// Subject names what the waiver covers, for reports.
func (w Waiver) Subject() string {
	if w.Fingerprint != "" {
		return "fingerprint " + w.Fingerprint
	}
	s := "rule " + w.Rule
	if w.Scanner != "" {
		s = w.Scanner + " " + s
	}
	if w.Path != "" {
		s += " in " + w.Path
	}
	return s
}

// ExpiresAt is the first instant the waiver no longer applies.
func (w Waiver) ExpiresAt() time.Time {
	t := w.Expires.UTC()
	if !w.Expires.IsZero() && t.Equal(t.Truncate(24*time.Hour)) {
		return t.AddDate(0, 0, 1)
	}
	return w.Expires
}

// Active reports whether the waiver applies at now.
func (w Waiver) Active(now time.Time) bool { return now.Before(w.ExpiresAt()) }

// Matches reports whether the waiver names f, ignoring expiry.
func (w Waiver) Matches(f scan.Finding) bool {
	if w.Fingerprint != "" {
		return f.Fingerprint == w.Fingerprint
	}
	if f.Rule != w.Rule || w.Scanner != "" && f.Scanner != w.Scanner {
		return false
	}
	if w.Path == "" {
		return true
	}
	ok, err := doublestar.Match(w.Path, f.Path)
	return err == nil && ok
}

// LoadWaivers reads a waivers file; a missing file is no waiver.
func LoadWaivers(path string) (*Waivers, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Waivers{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading waivers: %w", err)
	}
	return ParseWaivers(path, data)
}

// ParseWaivers parses (and lints) a waivers file:
//
//	waivers:
//	  - fingerprint: 3f2a...            # one finding
//	    owner: alice
//	    reason: test fixture, not a real key
//	    expires: 2027-01-31
//	  - rule: G404                      # a rule, optionally of one scanner,
//	    scanner: sast                   # in files matching a glob
//	    path: internal/legacy/**
//	    owner: bob
//	    reason: rewrite tracked in #123
//	    expires: 2026-12-31
//
// Every problem is reported at once with file:line:col (a yamlpos.Errors).
func ParseWaivers(name string, data []byte) (*Waivers, error) {
	root, err := yamlpos.Parse(name, data)
	if err != nil {
		return nil, err
	}
	d := &yamlpos.Decoder{File: name}
	ws := &Waivers{}
	for _, f := range d.Mapping(root, "waivers file", waiverFileKeys) {
		ws.Entries = decodeWaivers(d, f.Value)
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return ws, nil
}

func decodeWaivers(d *yamlpos.Decoder, n *yaml.Node) []Waiver {
	if yamlpos.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, "waivers must be a list of entries, not %s", yamlpos.KindName(n))
		return nil
	}
	var out []Waiver
	seen := map[string]Waiver{}
	for i, item := range n.Content {
		w, ok := decodeWaiver(d, item, fmt.Sprintf("waivers[%d]", i))
		if !ok {
			continue
		}
		key := w.Subject()
		if first, dup := seen[key]; dup {
			d.Errorf(item, "waivers[%d]: %s is already waived at line %d", i, key, first.Line)
			continue
		}
		seen[key] = w
		out = append(out, w)
	}
	return out
}

func decodeWaiver(d *yamlpos.Decoder, item *yaml.Node, at string) (Waiver, bool) {
	for item.Kind == yaml.AliasNode && item.Alias != nil {
		item = item.Alias
	}
	w := Waiver{File: d.File, Line: item.Line, Col: item.Column}
	if item.Kind != yaml.MappingNode {
		d.Errorf(item, "%s must be a mapping with owner, reason, expires and a fingerprint or a rule, not %s", at, yamlpos.KindName(item))
		return w, false
	}
	before := errCount(d)
	present := map[string]*yaml.Node{}
	for _, f := range d.Mapping(item, at, waiverKeys) {
		present[f.Name] = f.Value
		what := at + "." + f.Name
		v := strings.TrimSpace(d.String(f.Value, what))
		switch f.Name {
		case "fingerprint":
			w.Fingerprint = v
			if strings.ContainsAny(v, " \t\n") {
				d.Errorf(f.Value, "%s: %q is not a fingerprint", what, v)
			}
		case "scanner":
			w.Scanner = v
			if !slices.Contains(scan.Kinds, v) {
				d.Errorf(f.Value, "%s: unknown scanner %q; use one of %s%s", what, v, strings.Join(scan.Kinds, ", "), yamlpos.Suggest(v, scan.Kinds))
			}
		case "rule":
			w.Rule = v
		case "path":
			w.Path = v
			if !doublestar.ValidatePattern(v) {
				d.Errorf(f.Value, "%s: %q is not a valid glob", what, v)
			}
		case "owner":
			w.Owner = v
		case "reason":
			w.Reason = v
		case "expires":
			if v != "" {
				w.Expires = d.Date(f.Value, what)
			}
		}
	}
	lint(d, item, at, w, present)
	return w, errCount(d) == before
}

// lint checks what makes a waiver acceptable: someone owns it, it says
// why, it ends, and it names what it waives precisely.
func lint(d *yamlpos.Decoder, item *yaml.Node, at string, w Waiver, present map[string]*yaml.Node) {
	for _, req := range []struct{ key, val string }{{"owner", w.Owner}, {"reason", w.Reason}} {
		if req.val == "" {
			d.Errorf(nodeOr(present[req.key], item), "%s: a waiver needs an %s", at, req.key)
		}
	}
	if w.Expires.IsZero() && (present["expires"] == nil || strings.TrimSpace(present["expires"].Value) == "") {
		d.Errorf(nodeOr(present["expires"], item), "%s: a waiver needs an expiry date (expires: YYYY-MM-DD)", at)
	}
	switch narrows := w.Path != "" || w.Scanner != ""; {
	case w.Fingerprint == "" && w.Rule == "" && narrows:
		d.Errorf(item, "%s: path and scanner narrow a rule: add the rule", at)
	case w.Fingerprint == "" && w.Rule == "":
		d.Errorf(item, "%s: a waiver needs a fingerprint, or a rule (with an optional scanner and path)", at)
	case w.Fingerprint != "" && (w.Rule != "" || narrows):
		d.Errorf(item, "%s: give either a fingerprint or a rule with scanner and path, not both", at)
	}
}

func nodeOr(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

// errCount is the number of problems d has recorded so far.
func errCount(d *yamlpos.Decoder) int {
	var es yamlpos.Errors
	if errors.As(d.Err(), &es) {
		return len(es)
	}
	return 0
}

// WaiverMatch is a waiver with the findings it matched.
type WaiverMatch struct {
	Waiver   Waiver         `json:"waiver"`
	Findings []scan.Finding `json:"findings"`
}

// Applied is the outcome of applying waivers to findings.
type Applied struct {
	Kept    []scan.Finding // findings no active waiver covers
	Applied []WaiverMatch  // active waivers and the findings they forgave
	Expired []WaiverMatch  // expired waivers and the findings they no longer forgive (kept)
	Stale   []Waiver       // active waivers that matched nothing: their finding is gone
}

// Apply waives findings. A finding covered by an active waiver is dropped
// (every active waiver that matches it lists it); one matched only by
// expired waivers is kept, so it fails the gate again. Waivers come out in
// file order.
func Apply(findings []scan.Finding, ws *Waivers, now time.Time) Applied {
	var out Applied
	if ws == nil {
		ws = &Waivers{}
	}
	matched := make([][]scan.Finding, len(ws.Entries))
	for _, f := range findings {
		waived := false
		for i, w := range ws.Entries {
			if w.Matches(f) {
				matched[i] = append(matched[i], f)
				waived = waived || w.Active(now)
			}
		}
		if !waived {
			out.Kept = append(out.Kept, f)
		}
	}
	for i, w := range ws.Entries {
		switch {
		case !w.Active(now):
			out.Expired = append(out.Expired, WaiverMatch{w, matched[i]})
		case len(matched[i]) == 0:
			out.Stale = append(out.Stale, w)
		default:
			out.Applied = append(out.Applied, WaiverMatch{w, matched[i]})
		}
	}
	return out
}
