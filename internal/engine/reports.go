package engine

import (
	"fmt"
	"time"

	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/store"
)

// applyReports reads the test reports an attempt wrote, stores every test
// case, and forgives a failure when every failed test is quarantined.
func (r *runState) applyReports(ns *nodeState, dir string, a *store.Attempt, out outcome, msg string) (outcome, string) {
	reports := ns.node.Reports
	if reports.Empty() || out == outCancelled {
		return out, msg
	}
	var cases []quality.TestCase
	for _, rep := range []struct {
		format   quality.Format
		patterns []string
	}{{quality.Format("junit"), reports.JUnit}, {quality.Format("go-test-json"), reports.GoTestJSON}} {
		for _, p := range rep.patterns {
			got, err := r.readReports(rep.format, dir, p, a.StartedAt)
			if err != nil {
				r.req.Observer.Notice(ns.node.Name, err.Error())
			}
			cases = append(cases, got...)
		}
	}
	if len(cases) == 0 {
		return out, msg
	}
	verdict := quality.Verdict{}
	if r.req.Quarantine != nil {
		verdict = r.req.Quarantine.Decide(cases, r.e.now())
	}
	quarantined := map[string]bool{}
	for _, q := range verdict.Quarantined {
		quarantined[q.Test.ID()] = true
	}
	results := make(store.TestResults, 0, len(cases))
	for _, tc := range cases {
		results = append(results, store.TestResult{RunID: r.run.ID, Step: ns.node.Name, Attempt: a.Number,
			Commit: r.run.Commit, Suite: tc.Suite, Name: tc.Name, Outcome: string(tc.Outcome),
			Duration: tc.Duration, Message: tc.Message, Quarantined: quarantined[tc.ID()]})
	}
	r.commit.SaveAsync(results)
	if out == outFailure && verdict.AllFailuresQuarantined {
		ns.quarantined = append(ns.quarantined, verdict.Quarantined...)
		return outSuccess, fmt.Sprintf("passed with %d quarantined test failure(s)", len(verdict.Quarantined))
	}
	return out, msg
}

// readReports parses the report files a pattern matches that were written
// during this attempt (older files are leftovers of earlier runs); a second
// of slack covers file systems with coarse timestamps.
func (r *runState) readReports(format quality.Format, dir, pattern string, since time.Time) ([]quality.TestCase, error) {
	cases, _, err := quality.ParseFiles(format, dir, pattern, since.Add(-time.Second))
	if err != nil {
		return cases, fmt.Errorf("reports: %w", err)
	}
	return cases, nil
}
