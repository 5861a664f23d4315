// Package quality reads test reports (JUnit XML, `go test -json`), finds
// flaky tests and applies the repository's quarantine file, so a step's
// pass/fail verdict can forgive known-flaky failures without hiding new ones.
package quality

import "time"

// Outcome is the result of one test case.
type Outcome string

// Outcomes of a test case. Errored is JUnit's <error> (the test could not
// run as written); it counts as a failure everywhere a verdict is made.
const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
	Errored Outcome = "error"
)

// Failing reports whether the outcome makes a step fail.
func (o Outcome) Failing() bool { return o == Failed || o == Errored }

// PackageTest is the Name of the synthetic case recorded when a Go package
// fails without any failing test (build failure, panic in init, TestMain), so
// that such a failure is never hidden. It is never quarantined.
const PackageTest = "(package)"

// TestCase is the result of one execution of one test.
type TestCase struct {
	Suite    string // JUnit classname, else the enclosing testsuite name; Go: the package import path
	Name     string // JUnit testcase name; Go: TestX or TestX/sub
	Duration time.Duration
	Outcome  Outcome
	// Message is the failure (or skip) text and output excerpt: at most
	// MaxMessage bytes of valid UTF-8 without NUL bytes; empty for passes.
	Message string
}

// ID is the stable identity of a test across runs, used for flaky
// detection and history: Suite + "::" + Name, e.g.
// "example.com/hello::TestGreet/empty" or "com.example.AppTest::testApp".
func (tc TestCase) ID() string { return tc.Suite + "::" + tc.Name }

// Summary counts test cases by outcome.
type Summary struct {
	Total, Passed, Failed, Skipped, Errored int
}

// Summarize counts cases by outcome. Total counts every case, including any
// with an outcome outside the four known ones.
func Summarize(cases []TestCase) Summary {
	s := Summary{Total: len(cases)}
	for _, tc := range cases {
		switch tc.Outcome {
		case Passed:
			s.Passed++
		case Failed:
			s.Failed++
		case Skipped:
			s.Skipped++
		case Errored:
			s.Errored++
		}
	}
	return s
}
