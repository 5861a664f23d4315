package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/slipway-ci/slipway/internal/scan"
)

// maxSnippet bounds a snippet: a minified file's "line" can be megabytes.
const maxSnippet = 240

// Hit is one gitleaks finding with the secret already gone: what the cache
// stores and what a scan.Finding is made from. SecretSHA256 is the hex
// sha256 of the secret, kept for the fingerprint.
type Hit struct {
	Rule         string `json:"rule"`
	Title        string `json:"title,omitempty"`
	Line         int    `json:"line,omitempty"`
	Column       int    `json:"column,omitempty"`
	EndLine      int    `json:"end_line,omitempty"`
	Snippet      string `json:"snippet,omitempty"`
	SecretSHA256 string `json:"secret_sha256"`
}

// hitFrom turns a gitleaks finding into a Hit, dropping the secret.
func hitFrom(f report.Finding) Hit {
	sum := sha256.Sum256([]byte(f.Secret))
	h := Hit{
		Rule:         f.RuleID,
		Title:        f.Description,
		Line:         f.StartLine,
		Column:       f.StartColumn,
		EndLine:      f.EndLine,
		SecretSHA256: hex.EncodeToString(sum[:]),
	}
	line := f.Line
	// gitleaks' line slice starts at the previous newline (and counts the
	// column from it) for every line but a fragment's first.
	if strings.HasPrefix(line, "\n") {
		line = line[1:]
		if h.Column > 1 {
			h.Column--
		}
	}
	if f.Secret != "" || f.Match != "" {
		h.Snippet = snippet(line, f)
	}
	if h.EndLine == h.Line {
		h.EndLine = 0
	}
	return h
}

// snippet redacts the line. A secret found after decoding (base64, hex,
// percent) sits encoded in the line, where scan.Redact cannot see it: the
// whole line is redacted then.
func snippet(line string, f report.Finding) string {
	line = strings.TrimRight(line, "\r\n")
	for _, t := range f.Tags {
		if strings.HasPrefix(t, "decoded:") {
			return scan.RedactValue(strings.TrimSpace(line))
		}
	}
	red := scan.Redact(line, f.Secret)
	if f.Match != f.Secret {
		red = scan.Redact(red, f.Match)
	}
	if f.Secret != "" && strings.Contains(red, f.Secret) {
		// Unreachable with ReplaceAll, but never worth risking.
		return scan.RedactValue(f.Secret)
	}
	return clip(strings.TrimSpace(red))
}

// clip keeps at most maxSnippet bytes of an already redacted line, centred
// on the first redaction mark, cut on UTF-8 boundaries.
func clip(s string) string {
	if len(s) <= maxSnippet {
		return s
	}
	at := max(strings.Index(s, "*****"), 0)
	start := max(at-maxSnippet/2, 0)
	end := min(start+maxSnippet, len(s))
	for start > 0 && start < len(s) && !utf8Start(s[start]) {
		start++
	}
	for end < len(s) && !utf8Start(s[end]) {
		end--
	}
	return "…" + s[start:end] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// finding makes the scan.Finding for a hit in path (and commit, for git).
func (h Hit) finding(path, commit string) scan.Finding {
	return scan.Finding{
		Scanner:     scan.Secrets,
		Rule:        h.Rule,
		Severity:    scan.High,
		Title:       h.Title,
		Path:        path,
		Line:        h.Line,
		Column:      h.Column,
		EndLine:     h.EndLine,
		Snippet:     h.Snippet,
		Commit:      commit,
		Fingerprint: scan.Fingerprint(scan.Secrets, h.Rule, path, h.SecretSHA256),
	}
}
