package quality

import (
	"cmp"
	"slices"
)

// Result is one test case as recorded for a run, the input of Flaky.
type Result struct {
	Commit  string
	Case    TestCase
	RunID   int64
	Attempt int // the step attempt (1 for the first, more on retries)
}

// FlakyTest is a test that both passed and failed on one commit: the code
// did not change, so the test (or its environment) is nondeterministic.
type FlakyTest struct {
	ID, Suite, Name, Commit string
	Passes, Failures        int     // failures include errors
	LastSeen                int64   // the highest run ID among the results
	Runs                    []int64 // the distinct run IDs, ascending
}

// Flaky finds the flaky tests in results: per commit and test ID, at least
// one pass and at least one failure or error. Skips are ignored. The result
// is sorted by ID, then commit.
func Flaky(results []Result) []FlakyTest {
	type key struct{ commit, id string }
	groups := map[key]*FlakyTest{}
	var order []key
	for _, r := range results {
		k := key{r.Commit, r.Case.ID()}
		g := groups[k]
		if g == nil {
			g = &FlakyTest{ID: k.id, Suite: r.Case.Suite, Name: r.Case.Name, Commit: r.Commit}
			groups[k] = g
			order = append(order, k)
		}
		switch {
		case r.Case.Outcome == Passed:
			g.Passes++
		case r.Case.Outcome.Failing():
			g.Failures++
		default:
			continue
		}
		if !slices.Contains(g.Runs, r.RunID) {
			g.Runs = append(g.Runs, r.RunID)
		}
		g.LastSeen = max(g.LastSeen, r.RunID)
	}
	var out []FlakyTest
	for _, k := range order {
		if g := groups[k]; g.Passes > 0 && g.Failures > 0 {
			slices.Sort(g.Runs)
			out = append(out, *g)
		}
	}
	slices.SortFunc(out, func(a, b FlakyTest) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Commit, b.Commit))
	})
	return out
}
