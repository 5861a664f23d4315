package sast

import (
	"cmp"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/issue"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/sarif"
)

// gosecDocs is where gosec documents its rules, for rules without a CWE.
const gosecDocs = "https://github.com/securego/gosec#available-rules"

// secretRules report code that holds a credential: their snippets get
// every string literal redacted before anything keeps them.
var secretRules = map[string]bool{"G101": true}

var stringLiteral = regexp.MustCompile("\"(?:[^\"\\\\\\n]|\\\\.)*\"|`[^`]*`")

// toFinding maps a gosec issue; ok is false for issues outside root or in
// an excluded file.
func toFinding(is *issue.Issue, root string, ex matcher) (scan.Finding, bool) {
	rel, err := filepath.Rel(root, is.File)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return scan.Finding{}, false
	}
	rel = filepath.ToSlash(rel)
	if ex.excludes(rel) {
		return scan.Finding{}, false
	}
	line, endLine := lines(is.Line)
	col, _ := strconv.Atoi(is.Col)
	snippet := flagged(is.Code, line, endLine)
	if secretRules[is.RuleID] {
		snippet = redactLiterals(snippet)
	}
	f := scan.Finding{
		Scanner:  scan.SAST,
		Rule:     is.RuleID,
		Severity: severity(is.Severity, is.Confidence),
		Title:    is.What,
		Path:     rel,
		Line:     line,
		Column:   col,
		EndLine:  endLine,
		Snippet:  snippet,
		HelpURL:  gosecDocs,
	}
	if is.Cwe != nil {
		f.HelpURL = is.Cwe.SprintURL()
	}
	// The same key sarif.Read derives from gosec's own SARIF snippet, so
	// a finding has one identity whether gosec ran here or in a step.
	f.Fingerprint = scan.Fingerprint(scan.SAST, f.Rule, rel, sarif.NormalizeSnippet(snippet))
	return f, true
}

// severity is gosec's severity, one step lower when gosec itself has low
// confidence in the finding. Dropping it to Low outright would let a
// hardcoded credential (G101 is HIGH severity, LOW confidence) through a
// "fail-on: medium" gate; keeping it High would fail gates on guesses.
func severity(sev, confidence issue.Score) scan.Severity {
	s := scan.Low
	switch sev {
	case issue.High:
		s = scan.High
	case issue.Medium:
		s = scan.Medium
	}
	if confidence == issue.Low && s > scan.Low {
		s--
	}
	return s
}

// lines reads gosec's "12" or "12-14".
func lines(s string) (start, end int) {
	a, b, found := strings.Cut(s, "-")
	start, _ = strconv.Atoi(a)
	end = start
	if found {
		if n, err := strconv.Atoi(b); err == nil && n >= start {
			end = n
		}
	}
	return start, end
}

// flagged keeps, from gosec's numbered excerpt ("11: ...\n12: ..."), the
// flagged lines only, trimmed, without their numbers: the context lines
// around them belong to other code.
func flagged(code string, start, end int) string {
	var out []string
	for l := range strings.SplitSeq(code, "\n") {
		num, text, ok := strings.Cut(l, ":")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < start || n > end {
			continue
		}
		out = append(out, strings.TrimSpace(text))
	}
	return strings.Join(out, "\n")
}

func redactLiterals(s string) string {
	return stringLiteral.ReplaceAllStringFunc(s, func(lit string) string {
		q := lit[:1]
		return q + scan.RedactValue(lit[1:len(lit)-1]) + q
	})
}

func compareFindings(a, b scan.Finding) int {
	return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column), strings.Compare(a.Rule, b.Rule))
}

// maxWarnings bounds the load errors listed; the rest are counted.
const maxWarnings = 20

func warnings(res *result) []string {
	var ws []string
	files := make([]string, 0, len(res.errors))
	for f := range res.errors {
		files = append(files, f)
	}
	slices.Sort(files)
	more := 0
	for _, file := range files {
		name := file
		if rel, err := filepath.Rel(res.root, file); err == nil && !strings.HasPrefix(rel, "..") {
			name = filepath.ToSlash(rel)
		}
		for _, e := range res.errors[file] {
			if len(ws) == maxWarnings {
				more++
				continue
			}
			ws = append(ws, loadWarning(name, e))
		}
	}
	if more > 0 {
		ws = append(ws, fmt.Sprintf("and %d more load errors", more))
	}
	if n := res.metrics.NumNosec; n > 0 {
		ws = append(ws, fmt.Sprintf("%d #nosec annotation(s) suppressed gosec findings", n))
	}
	return ws
}

// loadWarning is "file:line:col: error" on one line; go list errors come
// without a file or line.
func loadWarning(name string, e gosec.Error) string {
	msg := strings.Join(strings.Fields(e.Err), " ")
	switch {
	case name == "" || name == ".":
		return msg
	case e.Line <= 0:
		return name + ": " + msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", name, e.Line, e.Column, msg)
}
