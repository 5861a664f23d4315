package osv

import (
	"encoding/json"
	"sort"

	"github.com/slipway-ci/slipway/internal/scan"
)

// Vuln is one record that affects a queried package version.
type Vuln struct {
	ID       string
	Aliases  []string
	Summary  string
	Severity scan.Severity
	Score    float64 // CVSS base score, 0 if none
	// FixedIn is the lowest fixed version above the queried one, "" if
	// there is none.
	FixedIn string
	Record  *Record
}

// affects reports whether a covers version v of its package, and the
// version that fixes it.
func (a *Affected) affects(v string) (bool, string) {
	eco := a.Package.Ecosystem
	for _, x := range a.Versions {
		if sameVersion(eco, x, v) {
			return true, a.fixedAbove(v)
		}
	}
	for _, r := range a.Ranges {
		cmp := comparerFor(r.Type, eco)
		if cmp == nil {
			continue
		}
		if in, fixed := r.contains(cmp, v); in {
			return true, fixed
		}
	}
	return false, ""
}

// contains evaluates the range as OSV's schema describes: walk the events
// in version order; introduced opens, fixed and last_affected close.
func (r *Range) contains(cmp comparer, v string) (bool, string) {
	events := r.sortedEvents(cmp)
	affected, fixed := false, ""
	for _, e := range events {
		switch {
		case e.Introduced != "":
			if c, ok := cmp(v, e.Introduced); e.Introduced == "0" || (ok && c >= 0) {
				affected = true
			}
		case e.Fixed != "":
			c, ok := cmp(v, e.Fixed)
			if ok && c >= 0 {
				affected = false
			} else if ok && affected && fixed == "" {
				fixed = e.Fixed
			}
		case e.LastAffected != "":
			if c, ok := cmp(v, e.LastAffected); ok && c > 0 {
				affected = false
			}
		}
	}
	if !affected {
		return false, ""
	}
	if _, ok := cmp(v, v); !ok {
		return false, "" // an unreadable version matches no range
	}
	return true, fixed
}

func (r *Range) sortedEvents(cmp comparer) []Event {
	ev := append([]Event(nil), r.Events...)
	key := func(e Event) string { return e.Introduced + e.Fixed + e.LastAffected + e.Limit }
	sort.SliceStable(ev, func(i, j int) bool {
		a, b := key(ev[i]), key(ev[j])
		if a == "0" || b == "0" {
			return a == "0" && b != "0"
		}
		c, _ := cmp(a, b)
		return c < 0
	})
	return ev
}

// fixedAbove is the lowest fixed event above v in any orderable range.
func (a *Affected) fixedAbove(v string) string {
	best := ""
	for _, r := range a.Ranges {
		cmp := comparerFor(r.Type, a.Package.Ecosystem)
		for _, e := range r.Events {
			if cmp == nil || e.Fixed == "" {
				continue
			}
			if c, ok := cmp(e.Fixed, v); ok && c > 0 {
				if d, _ := cmp(e.Fixed, best); best == "" || d < 0 {
					best = e.Fixed
				}
			}
		}
	}
	return best
}

// severity reads a qualitative severity (GitHub's database_specific,
// or an ecosystem's) or else computes it from a CVSS v3 vector.
func severity(r *Record, a *Affected) (scan.Severity, float64) {
	for _, raw := range []json.RawMessage{a.DatabaseSpecific, a.EcosystemSpecific, r.DatabaseSpecific} {
		var ds struct {
			Severity string `json:"severity"`
		}
		if json.Unmarshal(raw, &ds) == nil && ds.Severity != "" {
			if s, err := scan.ParseSeverity(ds.Severity); err == nil {
				return s, cvssScore(r, a)
			}
		}
	}
	if score := cvssScore(r, a); score > 0 {
		return SeverityOfScore(score), score
	}
	return scan.Unknown, 0
}

func cvssScore(r *Record, a *Affected) float64 {
	for _, s := range append(append([]Score(nil), a.Severity...), r.Severity...) {
		if s.Type == "CVSS_V3" {
			if score, err := CVSS3BaseScore(s.Score); err == nil {
				return score
			}
		}
	}
	return 0
}
