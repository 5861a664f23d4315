package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bmatcuk/doublestar/v4"

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
				continue
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
// during this attempt (older files are leftovers of earlier runs).
func (r *runState) readReports(format quality.Format, dir, pattern string, since time.Time) ([]quality.TestCase, error) {
	matches, err := doublestar.Glob(os.DirFS(dir), pattern, doublestar.WithFilesOnly())
	if err != nil {
		return nil, fmt.Errorf("reports %s: %w", pattern, err)
	}
	var cases []quality.TestCase
	fresh := 0
	for _, m := range matches {
		path := filepath.Join(dir, filepath.FromSlash(m))
		info, err := os.Stat(path)
		if err != nil || info.ModTime().Before(since.Add(-time.Second)) {
			continue
		}
		fresh++
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		got, err := quality.Parse(format, m, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("report %s: %w", m, err)
		}
		cases = append(cases, got...)
	}
	if fresh == 0 {
		return nil, fmt.Errorf("no %s report matching %q was written by this attempt", format, pattern)
	}
	return cases, nil
}
