package quality

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEntryExpiry(t *testing.T) {
	tests := []struct {
		name    string
		expires string
		now     string
		active  bool
	}{
		{"date: during the day", "2027-01-31", "2027-01-31T23:59:59Z", true},
		{"date: the next day in UTC", "2027-01-31", "2027-02-01T00:00:00Z", false},
		{"date: still the 31st in UTC", "2027-01-31", "2027-02-01T00:30:00+01:00", true},
		{"date: long before", "2027-01-31", "2026-06-01T00:00:00Z", true},
		{"instant: just before", "2027-01-31T12:00:00+01:00", "2027-01-31T10:59:59Z", true},
		{"instant: at it", "2027-01-31T12:00:00+01:00", "2027-01-31T11:00:00Z", false},
		{"instant: later that day", "2027-01-31T12:00:00Z", "2027-01-31T18:00:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entry{Test: "T", Expires: date(tt.expires)}
			if got := e.Active(date(tt.now)); got != tt.active {
				t.Errorf("Active(%s) with expires %s = %v, want %v (ExpiresAt %v)", tt.now, tt.expires, got, tt.active, e.ExpiresAt())
			}
		})
	}
	if (Entry{Test: "T"}).Active(time.Time{}) {
		t.Error("an entry without expiry is active")
	}
}

func TestMatch(t *testing.T) {
	now := date("2027-01-01")
	q := &Quarantine{Entries: []Entry{
		{Test: "TestFlakyThing", Suite: "example.com/hello", Owner: "a", Reason: "r", Expires: date("2027-01-31")},
		{Test: "TestUpload*", Owner: "b", Reason: "r", Expires: date("2027-01-31")},
		{Test: "test_x[1-2]", Suite: "tests.*", Owner: "c", Reason: "r", Expires: date("2027-01-31")},
		{Test: "TestOld", Owner: "d", Reason: "r", Expires: date("2026-12-31")},
		{Test: "*", Suite: "example.com/legacy", Owner: "e", Reason: "r", Expires: date("2027-01-31")},
	}}
	tests := []struct {
		suite, name string
		owner       string // "" = no match
	}{
		{"example.com/hello", "TestFlakyThing", "a"},
		{"example.com/other", "TestFlakyThing", ""},
		{"example.com/hello", "TestFlakyThing/subcase", "a"},
		{"example.com/hello", "TestFlakyThingy", ""},
		{"example.com/hello", "TestFlaky", ""},
		{"any/suite", "TestUploadLarge", "b"},
		{"any/suite", "TestUploadLarge/retry/3", "b"},
		{"any/suite", "TestDownload", ""},
		{"tests.test_x", "test_x[1-2]", "c"}, // exact name that is also a glob
		{"tests.test_x", "test_x1", "c"},
		{"tests.test_x", "test_x3", ""},
		{"tests", "test_x1", ""},
		{"example.com/hello", "TestOld", ""}, // expired
		{"example.com/legacy", "TestAnything/sub", "e"},
		{"example.com/legacy", PackageTest, ""}, // package failures are never quarantined
	}
	for _, tt := range tests {
		got := q.Match(TestCase{Suite: tt.suite, Name: tt.name, Outcome: Failed}, now)
		switch {
		case tt.owner == "" && got != nil:
			t.Errorf("Match(%s::%s) = entry of %s, want none", tt.suite, tt.name, got.Owner)
		case tt.owner != "" && (got == nil || got.Owner != tt.owner):
			t.Errorf("Match(%s::%s) = %v, want the entry of %s", tt.suite, tt.name, got, tt.owner)
		}
	}
	if m := (*Quarantine)(nil).Match(TestCase{Name: "T"}, now); m != nil {
		t.Errorf("nil quarantine matched %v", m)
	}
	if got := q.Match(TestCase{Suite: "example.com/hello", Name: "TestFlakyThing"}, now); got != nil {
		got.Owner = "mallory"
		if q.Entries[0].Owner != "a" {
			t.Error("Match returned a pointer into the quarantine")
		}
	}
}

func TestExpired(t *testing.T) {
	q := &Quarantine{Entries: []Entry{
		{Test: "A", Expires: date("2027-01-31")},
		{Test: "B", Expires: date("2026-12-31")},
		{Test: "C", Expires: date("2027-01-01T00:00:00Z")},
	}}
	var got []string
	for _, e := range q.Expired(date("2027-01-01T12:00:00Z")) {
		got = append(got, e.Test)
	}
	if diff := cmp.Diff([]string{"B"}, got); diff != "" {
		t.Errorf("Expired (-want +got):\n%s", diff)
	}
}

func TestDecide(t *testing.T) {
	now := date("2027-01-01")
	q := &Quarantine{Entries: []Entry{
		{Test: "TestFlaky", Suite: "p", Owner: "a", Reason: "r", Expires: date("2027-01-31")},
		{Test: "TestTable/racy", Suite: "p", Owner: "b", Reason: "r", Expires: date("2027-01-31")},
		{Test: "TestExpired", Owner: "c", Reason: "r", Expires: date("2026-01-31")},
		{Test: "*", Suite: "legacy", Owner: "d", Reason: "r", Expires: date("2027-01-31")},
	}}
	tc := func(suite, name string, o Outcome, msg string) TestCase {
		return TestCase{Suite: suite, Name: name, Outcome: o, Message: msg}
	}
	tests := []struct {
		name        string
		cases       []TestCase
		failed      []string
		quarantined map[string]string // ID → owner of the entry
		all         bool
	}{
		{"no failures", []TestCase{tc("p", "TestA", Passed, ""), tc("p", "TestB", Skipped, "")}, nil, nil, false},
		{"nothing at all", nil, nil, nil, false},
		{"only quarantined failures", []TestCase{tc("p", "TestA", Passed, ""), tc("p", "TestFlaky", Failed, "boom")},
			nil, map[string]string{"p::TestFlaky": "a"}, true},
		{"errors count as failures", []TestCase{tc("p", "TestFlaky", Errored, "boom"), tc("p", "TestB", Errored, "boom")},
			[]string{"p::TestB"}, map[string]string{"p::TestFlaky": "a"}, false},
		{"expired entry", []TestCase{tc("p", "TestExpired", Failed, "boom")}, []string{"p::TestExpired"}, nil, false},
		{"package failure never forgiven", []TestCase{tc("legacy", PackageTest, Failed, "build failed")},
			[]string{"legacy::(package)"}, nil, false},
		{"parent failing only through a quarantined subtest",
			[]TestCase{tc("p", "TestTable/ok", Passed, ""), tc("p", "TestTable/racy", Failed, "boom"), tc("p", "TestTable", Failed, "")},
			nil, map[string]string{"p::TestTable/racy": "b", "p::TestTable": "b"}, true},
		{"parent with its own failure",
			[]TestCase{tc("p", "TestTable/racy", Failed, "boom"), tc("p", "TestTable", Failed, "setup failed")},
			[]string{"p::TestTable"}, map[string]string{"p::TestTable/racy": "b"}, false},
		{"parent with another failing subtest",
			[]TestCase{tc("p", "TestTable/racy", Failed, "boom"), tc("p", "TestTable/real", Failed, "bug"), tc("p", "TestTable", Failed, "")},
			[]string{"p::TestTable/real", "p::TestTable"}, map[string]string{"p::TestTable/racy": "b"}, false},
		{"grandparent chain",
			[]TestCase{tc("p", "TestTable/racy/deep", Failed, "boom"), tc("p", "TestTable/racy", Failed, ""), tc("p", "TestTable", Failed, "")},
			nil, map[string]string{"p::TestTable/racy/deep": "b", "p::TestTable/racy": "b", "p::TestTable": "b"}, true},
		{"same name in another suite",
			[]TestCase{tc("q", "TestTable/racy", Failed, "boom"), tc("q", "TestTable", Failed, "")},
			[]string{"q::TestTable/racy", "q::TestTable"}, nil, false},
		{"parent failing with no failed subtest", []TestCase{tc("p", "TestTable", Failed, "")},
			[]string{"p::TestTable"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := q.Decide(tt.cases, now)
			var failed []string
			for _, f := range v.Failed {
				failed = append(failed, f.ID())
			}
			quarantined := map[string]string{}
			for _, f := range v.Quarantined {
				quarantined[f.Test.ID()] = f.Entry.Owner
			}
			if tt.quarantined == nil {
				tt.quarantined = map[string]string{}
			}
			if diff := cmp.Diff(tt.failed, failed); diff != "" {
				t.Errorf("Failed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.quarantined, quarantined); diff != "" {
				t.Errorf("Quarantined (-want +got):\n%s", diff)
			}
			if v.AllFailuresQuarantined != tt.all {
				t.Errorf("AllFailuresQuarantined = %v, want %v", v.AllFailuresQuarantined, tt.all)
			}
		})
	}
}

// TestDecideOnRealReport applies a quarantine to the real go test fixture:
// subtests and parents forgive each other as documented, and package
// failures (testmain's included, though an entry names its suite) remain.
func TestDecideOnRealReport(t *testing.T) {
	cases, err := parseTestFile(t, GoTestJSON, goFixture)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseQuarantine("q.yaml", []byte(`quarantine:
  - {test: TestTable/unicode, suite: example.com/fixture/hello, owner: a, reason: r, expires: 2027-01-31}
  - {test: TestParentOwnFailure, suite: example.com/fixture/hello, owner: b, reason: r, expires: 2027-01-31}
  - {test: "*", suite: example.com/fixture/crash, owner: c, reason: r, expires: 2027-01-31}
  - {test: "Test*", suite: example.com/fixture/time*, owner: d, reason: r, expires: 2027-01-31}
  - {test: "*", suite: example.com/fixture/*main, owner: e, reason: r, expires: 2027-01-31}
`))
	if err != nil {
		t.Fatal(err)
	}
	v := q.Decide(cases, date("2027-01-01"))
	var failed []string
	for _, f := range v.Failed {
		failed = append(failed, f.ID())
	}
	want := []string{
		"example.com/fixture/buildfail::(package)",
		"example.com/fixture/hello::TestFail",
		"example.com/fixture/hello::TestNoisy",
		"example.com/fixture/initpanic::(package)",
		"example.com/fixture/testmain::(package)",
	}
	if diff := cmp.Diff(want, failed); diff != "" {
		t.Errorf("Failed (-want +got):\n%s", diff)
	}
	forgiven := map[string]string{}
	for _, f := range v.Quarantined {
		forgiven[f.Test.ID()] = f.Entry.Owner
	}
	wantForgiven := map[string]string{
		"example.com/fixture/hello::TestTable/unicode":          "a",
		"example.com/fixture/hello::TestTable":                  "a", // through its subtest
		"example.com/fixture/hello::TestParentOwnFailure":       "b",
		"example.com/fixture/hello::TestParentOwnFailure/child": "b", // through its parent's entry
		"example.com/fixture/crash::TestExit":                   "c",
		"example.com/fixture/timeout::TestHangs":                "d",
	}
	if diff := cmp.Diff(wantForgiven, forgiven); diff != "" {
		t.Errorf("Quarantined (-want +got):\n%s", diff)
	}
	if v.AllFailuresQuarantined {
		t.Error("AllFailuresQuarantined with package failures left")
	}
}
