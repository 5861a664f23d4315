package quality

import (
	"path"
	"slices"
	"strings"
	"time"
)

// ExpiresAt is the first instant at which the entry no longer applies. A
// date-only expiry (midnight UTC, as "expires: 2027-01-31" parses) lasts to
// the end of that day in UTC; a zero Expires has always expired.
func (e Entry) ExpiresAt() time.Time {
	t := e.Expires.UTC()
	if !e.Expires.IsZero() && t.Equal(t.Truncate(24*time.Hour)) {
		return t.AddDate(0, 0, 1)
	}
	return e.Expires
}

// Active reports whether the entry applies at now.
func (e Entry) Active(now time.Time) bool { return now.Before(e.ExpiresAt()) }

// Matches reports whether the entry names tc, ignoring expiry. Package
// failures never match.
func (e Entry) Matches(tc TestCase) bool {
	if tc.Name == PackageTest {
		return false
	}
	if e.Suite != "" && !globMatch(e.Suite, tc.Suite) {
		return false
	}
	// "TestX" covers "TestX/sub/case": try the name and each parent.
	for name := tc.Name; ; {
		if globMatch(e.Test, name) {
			return true
		}
		i := strings.LastIndexByte(name, '/')
		if i <= 0 {
			return false
		}
		name = name[:i]
	}
}

// globMatch is path.Match that also accepts names that are not valid
// patterns (pytest ids contain "[...]") by exact comparison.
func globMatch(pattern, s string) bool {
	if pattern == s {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// Match returns the first active entry that matches tc (a copy), or nil.
// Expired entries never apply, and neither does any entry to a package
// failure. A nil Quarantine matches nothing.
func (q *Quarantine) Match(tc TestCase, now time.Time) *Entry {
	if q == nil {
		return nil
	}
	for _, e := range q.Entries {
		if e.Active(now) && e.Matches(tc) {
			return &e
		}
	}
	return nil
}

// Expired returns the entries that no longer apply at now, so they can be
// reported to their owners.
func (q *Quarantine) Expired(now time.Time) []Entry {
	if q == nil {
		return nil
	}
	var out []Entry
	for _, e := range q.Entries {
		if !e.Active(now) {
			out = append(out, e)
		}
	}
	return out
}

// Verdict is the quarantine applied to one step's results.
type Verdict struct {
	Failed      []TestCase           // failures that count, in input order
	Quarantined []QuarantinedFailure // failures forgiven, in input order
	// AllFailuresQuarantined is true when there was at least one failure and
	// every one was forgiven: the step may pass despite its failing tests.
	AllFailuresQuarantined bool
}

// QuarantinedFailure is a failure forgiven by an entry.
type QuarantinedFailure struct {
	Test  TestCase
	Entry Entry
}

// Decide sorts a step's failed and errored cases into those that count and
// those a quarantine entry forgives. Package failures always count.
//
// A Go test that failed only because its subtests failed (its Message is
// empty, it printed nothing of its own) follows its subtests: it is forgiven
// when every failed subtest is, with the entry of the first one, so that
// quarantining "TestX/flaky" alone is enough.
func (q *Quarantine) Decide(cases []TestCase, now time.Time) Verdict {
	entries := make(map[int]Entry) // index into cases → forgiving entry
	var failing []int
	for i, tc := range cases {
		if !tc.Outcome.Failing() {
			continue
		}
		failing = append(failing, i)
		if e := q.Match(tc, now); e != nil {
			entries[i] = *e
		}
	}
	forgiveParents(cases, failing, entries)
	var v Verdict
	for _, i := range failing {
		if e, ok := entries[i]; ok {
			v.Quarantined = append(v.Quarantined, QuarantinedFailure{Test: cases[i], Entry: e})
		} else {
			v.Failed = append(v.Failed, cases[i])
		}
	}
	v.AllFailuresQuarantined = len(failing) > 0 && len(v.Failed) == 0
	return v
}

// forgiveParents forgives failures that only echo forgiven subtests. It
// visits the deepest tests first so that forgiveness climbs a chain of
// parents, and finds subtests by binary search over names sorted per suite.
func forgiveParents(cases []TestCase, failing []int, entries map[int]Entry) {
	sorted := slices.Clone(failing)
	slices.SortFunc(sorted, func(a, b int) int {
		return strings.Compare(cases[a].ID(), cases[b].ID())
	})
	byDepth := slices.Clone(failing)
	slices.SortStableFunc(byDepth, func(a, b int) int {
		return strings.Count(cases[b].Name, "/") - strings.Count(cases[a].Name, "/")
	})
	for _, i := range byDepth {
		tc := cases[i]
		if _, done := entries[i]; done || tc.Message != "" || tc.Name == PackageTest {
			continue
		}
		prefix := tc.ID() + "/"
		start, _ := slices.BinarySearchFunc(sorted, prefix, func(j int, p string) int {
			return strings.Compare(cases[j].ID(), p)
		})
		var first *Entry
		all := true
		for _, j := range sorted[start:] {
			if !strings.HasPrefix(cases[j].ID(), prefix) {
				break
			}
			e, ok := entries[j]
			if !ok {
				all = false
				break
			}
			if first == nil {
				first = &e
			}
		}
		if all && first != nil {
			entries[i] = *first
		}
	}
}
