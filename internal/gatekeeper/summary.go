package gatekeeper

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/internal/scan"
)

// Summary prints a report for people: counts by severity, warnings, then
// the top findings with file:line (snippets are already redacted).
func Summary(w io.Writer, rep *scan.Report, top int) {
	var bySev []string
	for s := scan.Critical; s >= scan.Unknown; s-- {
		if n := countExactly(rep.Findings, s); n > 0 {
			bySev = append(bySev, fmt.Sprintf("%d %s", n, s))
		}
	}
	detail := ""
	if len(bySev) > 0 {
		detail = " (" + strings.Join(bySev, ", ") + ")"
	}
	cached := ""
	if rep.Cached > 0 {
		cached = fmt.Sprintf(", %d from cache", rep.Cached)
	}
	fmt.Fprintf(w, "%s: %s%s; %d scanned%s in %s by %s\n", rep.Scanner, plural(len(rep.Findings), "finding"), detail, rep.Scanned,
		cached, rep.Took.Round(time.Millisecond), rep.Tool)
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	for i, f := range rep.Findings {
		if i == top {
			fmt.Fprintf(w, "  ... and %d more (--output json or --sarif for all)\n", len(rep.Findings)-top)
			break
		}
		fmt.Fprintf(w, "  %-8s %-28s %s  %s\n", strings.ToUpper(f.Severity.String()), f.Rule, f.Location(), f.Describe())
	}
}

func countExactly(fs []scan.Finding, s scan.Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity == s {
			n++
		}
	}
	return n
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
