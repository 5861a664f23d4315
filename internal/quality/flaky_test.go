package quality

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFlaky(t *testing.T) {
	r := func(commit string, run int64, attempt int, name string, o Outcome) Result {
		return Result{Commit: commit, RunID: run, Attempt: attempt, Case: TestCase{Suite: "p", Name: name, Outcome: o}}
	}
	tests := []struct {
		name    string
		results []Result
		want    []FlakyTest
	}{
		{"nothing", nil, nil},
		{"always passes", []Result{r("c1", 1, 1, "T", Passed), r("c1", 2, 1, "T", Passed)}, nil},
		{"always fails", []Result{r("c1", 1, 1, "T", Failed), r("c1", 2, 1, "T", Failed)}, nil},
		{"pass and fail on different commits", []Result{r("c1", 1, 1, "T", Passed), r("c2", 2, 1, "T", Failed)}, nil},
		{"skip does not count", []Result{r("c1", 1, 1, "T", Skipped), r("c1", 2, 1, "T", Failed)}, nil},
		{"retry of the same run", []Result{r("c1", 7, 1, "T", Failed), r("c1", 7, 2, "T", Passed)},
			[]FlakyTest{{ID: "p::T", Suite: "p", Name: "T", Commit: "c1", Passes: 1, Failures: 1, LastSeen: 7, Runs: []int64{7}}}},
		{"error counts as failure, across runs", []Result{
			r("c1", 9, 1, "T", Passed), r("c1", 3, 1, "T", Errored), r("c1", 5, 1, "T", Passed), r("c1", 5, 1, "U", Passed),
		}, []FlakyTest{{ID: "p::T", Suite: "p", Name: "T", Commit: "c1", Passes: 2, Failures: 1, LastSeen: 9, Runs: []int64{3, 5, 9}}}},
		{"sorted by ID then commit", []Result{
			r("c2", 1, 1, "B", Passed), r("c2", 2, 1, "B", Failed),
			r("c1", 3, 1, "B", Failed), r("c1", 4, 1, "B", Passed),
			r("c1", 5, 1, "A", Failed), r("c1", 6, 1, "A", Passed),
		}, []FlakyTest{
			{ID: "p::A", Suite: "p", Name: "A", Commit: "c1", Passes: 1, Failures: 1, LastSeen: 6, Runs: []int64{5, 6}},
			{ID: "p::B", Suite: "p", Name: "B", Commit: "c1", Passes: 1, Failures: 1, LastSeen: 4, Runs: []int64{3, 4}},
			{ID: "p::B", Suite: "p", Name: "B", Commit: "c2", Passes: 1, Failures: 1, LastSeen: 2, Runs: []int64{1, 2}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Flaky(tt.results)); diff != "" {
				t.Errorf("Flaky (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFlakyFromReport feeds Flaky a real report in which go test -count=2
// and a rerun saw one test both fail and pass.
func TestFlakyFromReport(t *testing.T) {
	cases, err := parseTestFile(t, GoTestJSON, "testdata/gotest/count-and-rerun.json")
	if err != nil {
		t.Fatal(err)
	}
	var results []Result
	for _, tc := range cases {
		results = append(results, Result{Commit: "abc123", Case: tc, RunID: 42, Attempt: 1})
	}
	got := Flaky(results)
	if len(got) != 1 || got[0].ID != "example.com/app/cache::TestEvict" || got[0].Passes != 2 || got[0].Failures != 1 {
		t.Errorf("Flaky = %+v", got)
	}
}
