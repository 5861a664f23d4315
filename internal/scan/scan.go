// Package scan holds what every security scanner produces: findings with a
// severity and a stable fingerprint, grouped in a report per scanner. The
// scanners live in sub-packages (secrets, deps, sast, image); SARIF output
// and input live in scan/sarif. A scanner reports; only the gate decides.
package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Scanner kinds, as in `uses: scan/<kind>` and `slipway scan <kind>`.
const (
	Secrets = "secrets"
	Deps    = "deps"
	SAST    = "sast"
	Image   = "image"
)

// Kinds lists every scanner kind.
var Kinds = []string{Secrets, Deps, SAST, Image}

// Severity orders findings; thresholds compare against it.
type Severity int

// Severities, lowest first. Unknown sorts below Low so that a threshold
// never fails on a finding whose severity nobody knows, unless asked to.
const (
	Unknown Severity = iota
	Info
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"unknown", "info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively ("moderate" is
// GitHub's word for medium; "error"/"warning"/"note" are SARIF levels).
func ParseSeverity(name string) (Severity, error) {
	switch n := strings.ToLower(strings.TrimSpace(name)); n {
	case "moderate", "warning":
		return Medium, nil
	case "error":
		return High, nil
	case "note":
		return Low, nil
	case "none":
		return Info, nil
	default:
		for i, s := range severityNames {
			if n == s {
				return Severity(i), nil
			}
		}
	}
	return Unknown, fmt.Errorf("severity %q: want one of %s", name, strings.Join(severityNames[1:], ", "))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Finding is one problem a scanner found. Secret values never appear in
// it: Snippet is redacted by the scanner before a Finding exists.
type Finding struct {
	Scanner  string   `json:"scanner"`
	Rule     string   `json:"rule"` // gitleaks rule, OSV id, gosec rule, SARIF ruleId
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Path     string   `json:"path,omitempty"` // slash-separated, relative to the scanned root
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	EndLine  int      `json:"end_line,omitempty"`
	Snippet  string   `json:"snippet,omitempty"` // redacted
	// Dependencies and images.
	Package   string `json:"package,omitempty"`
	Version   string `json:"version,omitempty"`
	Ecosystem string `json:"ecosystem,omitempty"`
	FixedIn   string `json:"fixed_in,omitempty"`
	// Reachable is "yes", "no" or "" (unknown), from call-graph analysis.
	Reachable string `json:"reachable,omitempty"`
	Commit    string `json:"commit,omitempty"` // where a secret was added, for git scans
	HelpURL   string `json:"help_url,omitempty"`
	// Fingerprint identifies the finding across runs and line shifts: see
	// Fingerprint.
	Fingerprint string `json:"fingerprint"`
}

// Location is path:line, or the package for findings without a file.
func (f Finding) Location() string {
	switch {
	case f.Path != "" && f.Line > 0:
		return fmt.Sprintf("%s:%d", f.Path, f.Line)
	case f.Path != "":
		return f.Path
	case f.Package != "":
		return f.Package + "@" + f.Version
	}
	return ""
}

// Fingerprint is a stable identity for a finding: the scanner, the rule,
// the file or package and a content key chosen by the scanner (the hash of
// a secret, the vulnerable package version, the normalised source line),
// never the line number, so that code moving around does not make a known
// finding look new.
func Fingerprint(scanner, rule, where, contentKey string) string {
	h := sha256.New()
	for _, p := range []string{scanner, rule, where, contentKey} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Describe is the finding in one line for tables: its title, the fix,
// whether it is reachable, and for a secret its redacted match.
func (f Finding) Describe() string {
	text := f.Title
	if f.Scanner == Secrets && f.Snippet != "" {
		text += ": " + strings.TrimSpace(f.Snippet)
	}
	if f.FixedIn != "" {
		text += " (fixed in " + f.FixedIn + ")"
	}
	if f.Reachable == "no" {
		text += " [not reachable]"
	}
	if r := []rune(text); len(r) > 120 {
		text = string(r[:117]) + "..."
	}
	return text
}

// Report is one scanner's result over one target.
type Report struct {
	Scanner  string        `json:"scanner"`
	Tool     string        `json:"tool"` // e.g. "gitleaks 8.30.1"
	Target   string        `json:"target"`
	Scanned  int           `json:"scanned"` // files, packages or layers looked at
	Cached   int           `json:"cached,omitempty"`
	Took     time.Duration `json:"took_ns"`
	Findings []Finding     `json:"findings"`
	Warnings []string      `json:"warnings,omitempty"` // e.g. a stale vulnerability database
}

// Count returns how many findings are at or above min.
func (r *Report) Count(min Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity >= min {
			n++
		}
	}
	return n
}

// Redact hides a secret in text: at most its first four characters stay
// (fewer for short secrets, none under eight), the rest becomes "*****",
// so a reader can tell which credential it is without being able to use it.
func Redact(text, secret string) string {
	if secret == "" {
		return text
	}
	return strings.ReplaceAll(text, secret, RedactValue(secret))
}

// RedactValue is the redacted form of one secret value.
func RedactValue(secret string) string {
	keep := min(len(secret)/4, 4)
	if len(secret) < 8 {
		keep = 0
	}
	return secret[:keep] + "*****"
}

// SeverityOfScore is the qualitative rating of a CVSS-like score (0–10), as
// CVSS v3 defines it and GitHub reads SARIF's "security-severity".
func SeverityOfScore(score float64) Severity {
	switch {
	case score >= 9:
		return Critical
	case score >= 7:
		return High
	case score >= 4:
		return Medium
	case score > 0:
		return Low
	}
	return Info
}
