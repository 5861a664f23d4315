package gate

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// Table writes the decision for people: a verdict line, one aligned row
// per condition (value, threshold, PASS/FAIL), the top findings of each
// failing condition with file:line, and every waiver applied, expired or
// stale.
func (r Result) Table(w io.Writer) error {
	ew := &errWriter{w: w}
	failed := 0
	for _, c := range r.Conditions {
		if !c.Pass {
			failed++
		}
	}
	switch {
	case len(r.Conditions) == 0:
		ew.printf("GATE PASSED: no condition configured\n")
	case r.Pass:
		ew.printf("GATE PASSED: %d of %d conditions pass\n", len(r.Conditions), len(r.Conditions))
	default:
		ew.printf("GATE FAILED: %d of %d conditions fail\n", failed, len(r.Conditions))
	}
	if len(r.Conditions) > 0 {
		ew.printf("\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CONDITION\tSCOPE\tVALUE\tTHRESHOLD\tRESULT")
		for _, c := range r.Conditions {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", clean(c.label()), c.Scope, c.value(), clean(c.Threshold), verdict(c))
		}
		tw.Flush()
	}
	for _, c := range r.Conditions {
		if c.Pass {
			continue
		}
		r.writeFailure(ew, c)
	}
	writeWaivers(ew, "Waivers applied", r.Applied, "")
	writeWaivers(ew, "Expired waivers", r.Expired, "their findings count again")
	if len(r.Stale) > 0 {
		ew.printf("\nStale waivers (%d), nothing matches them any more: remove them\n", len(r.Stale))
		for _, wv := range r.Stale {
			ew.printf("  %s\n", waiverLine(wv))
		}
	}
	return ew.err
}

func (r Result) writeFailure(ew *errWriter, c ConditionResult) {
	ew.printf("\n%s:\n", clean(c.label()))
	if c.Note != "" {
		ew.printf("  %s\n", clean(c.Note))
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, f := range c.Top {
		loc := f.Location()
		if f.EndLine > f.Line && f.Path != "" {
			loc += "-" + strconv.Itoa(f.EndLine)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Severity, clean(loc), clean(f.Rule), clean(f.Describe()))
	}
	tw.Flush()
	if c.More > 0 {
		ew.printf("  ... and %d more\n", c.More)
	}
}

func writeWaivers(ew *errWriter, title string, ms []WaiverMatch, note string) {
	if len(ms) == 0 {
		return
	}
	if note != "" {
		note = ", " + note
	}
	ew.printf("\n%s (%d)%s\n", title, len(ms), note)
	for _, m := range ms {
		ew.printf("  %s\n", waiverLine(m.Waiver))
		for i, f := range m.Findings {
			if i == MaxTop {
				ew.printf("      ... and %d more\n", len(m.Findings)-MaxTop)
				break
			}
			ew.printf("      %s %s %s\n", clean(f.Location()), clean(f.Rule), f.Severity)
		}
	}
}

func waiverLine(w Waiver) string {
	return fmt.Sprintf("%s  %s  owner %s, expires %s: %s", w.Pos(), clean(w.Subject()), clean(w.Owner),
		w.Expires.UTC().Format(time.DateOnly), clean(w.Reason))
}

func (c ConditionResult) label() string {
	if c.Scanner {
		return "scan/" + c.Name
	}
	return c.Name
}

func (c ConditionResult) value() string {
	switch {
	case c.Scanner:
		return strconv.FormatFloat(c.Value, 'f', 0, 64)
	case c.NA:
		return "n/a"
	case math.IsNaN(c.Value) || strings.HasPrefix(c.Note, "not measured"):
		return "missing"
	}
	return strconv.FormatFloat(math.Round(c.Value*100)/100, 'f', -1, 64)
}

func verdict(c ConditionResult) string {
	if c.Pass {
		return "PASS"
	}
	return "FAIL"
}

// clean makes untrusted text (titles, paths, reasons) safe for one table
// cell: control characters become spaces and long text is cut.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
