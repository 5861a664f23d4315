package quality

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, err = time.Parse("2006-01-02", s)
	}
	if err != nil {
		panic(err)
	}
	return t
}

func TestLoadQuarantine(t *testing.T) {
	q, err := LoadQuarantine("testdata/quarantine/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := "testdata/quarantine/valid.yaml"
	want := []Entry{
		{Test: "TestFlakyThing", Suite: "example.com/hello", Owner: "alice@example.com", Reason: "races with the clock",
			Expires: date("2027-01-31"), File: file, Line: 3, Col: 5},
		{Test: "TestUpload*", Owner: "@storage-team", Reason: "S3 fake drops connections under load (STOR-412)",
			Expires: date("2027-02-15T12:00:00+01:00"), File: file, Line: 8, Col: 5},
		{Test: "test_rejects_bad_magic[0x00]", Suite: "tests.*", Owner: "bob", Reason: "depends on the host's libmagic",
			Expires: date("2026-12-31"), File: file, Line: 12, Col: 5},
	}
	if diff := cmp.Diff(want, q.Entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestLoadQuarantineMissing(t *testing.T) {
	q, err := LoadQuarantine(filepath.Join(t.TempDir(), QuarantineFile))
	if err != nil || q == nil || len(q.Entries) != 0 {
		t.Fatalf("LoadQuarantine(missing) = %v, %v; want an empty quarantine", q, err)
	}
}

func TestLoadQuarantineUnreadable(t *testing.T) {
	_, err := LoadQuarantine(t.TempDir()) // a directory
	if err == nil || !strings.Contains(err.Error(), "reading quarantine") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseQuarantineErrors(t *testing.T) {
	file := "testdata/quarantine/invalid.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseQuarantine(file, data)
	want := []string{
		`2:5: quarantine entry: missing required key "reason"`,
		`4:5: quarantine entry: unknown key "reasn" (did you mean "reason"?)`,
		`6:11: quarantine entry: test must not be empty`,
		`7:12: quarantine entry: owner must not be empty`,
		`9:14: quarantine entry: expires must be a date such as 2027-01-31`,
		`10:5: quarantine entry must be a mapping with test, owner, reason, expires, not the value "TestB"`,
		`11:11: quarantine entry: test: "Test[a" is not a valid pattern (write \[ to match a literal [)`,
		`16:5: quarantine entry would quarantine every test: name the test or its suite`,
		`28:12: quarantine entry: suite must be a string, not a list`,
		`29:4: quarantine entry is empty: it needs test, owner, reason, expires`,
		`30:1: quarantine file: unknown key "quarantaine" (did you mean "quarantine"?)`,
	}
	var es yamlpos.Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T %v is not yamlpos.Errors", err, err)
	}
	var got []string
	for _, e := range es {
		got = append(got, strings.TrimPrefix(e.Error(), file+":"))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestParseQuarantineShapes(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
		entries             int
	}{
		{"empty file", "", "", 0},
		{"only comments", "# nothing quarantined\n", "", 0},
		{"null list", "quarantine:\n", "", 0},
		{"empty list", "quarantine: []\n", "", 0},
		{"not a mapping", "- test: TestA\n", "q.yaml:1:1: quarantine file must be a mapping, not a list", 0},
		{"list is a mapping", "quarantine:\n  test: TestA\n", "q.yaml:2:3: quarantine must be a list of entries, not a mapping", 0},
		{"syntax error", "quarantine:\n  - test: [\n", "q.yaml:2:11: invalid YAML: sequence end token ']' not found", 0},
		{"suite wildcard with test", "quarantine:\n- {test: '*', suite: example.com/flaky, owner: a, reason: b, expires: 2027-01-01}\n", "", 1},
		{"anchors", "x: &e {test: T, owner: a, reason: b, expires: 2027-01-01}\nquarantine: [*e]\n",
			`q.yaml:1:1: quarantine file: unknown key "x"`, 0},
		{"alias entry", "quarantine:\n- &e {test: T, owner: a, reason: b, expires: 2027-01-01}\n- *e\n",
			`q.yaml:3:3: quarantine entry: test "T" is already quarantined at line 2`, 0},
		{"duplicate", "quarantine:\n- {test: T, suite: s, owner: a, reason: b, expires: 2027-01-01}\n- {test: T, suite: s, owner: c, reason: d, expires: 2027-02-01}\n",
			`q.yaml:3:3: quarantine entry: test "T" in suite "s" is already quarantined at line 2`, 0},
		{"same test, other suite", "quarantine:\n- {test: T, suite: s, owner: a, reason: b, expires: 2027-01-01}\n- {test: T, owner: c, reason: d, expires: 2027-02-01}\n", "", 2},
		{"expires null", "quarantine:\n- {test: T, owner: a, reason: b, expires: }\n", "q.yaml:2:43: quarantine entry: expires must not be empty", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuarantine("q.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Entries) != tt.entries {
				t.Errorf("%d entries, want %d", len(q.Entries), tt.entries)
			}
		})
	}
}
