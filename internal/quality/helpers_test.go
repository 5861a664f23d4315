package quality

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenCase is how a parsed case is written in golden files.
type goldenCase struct {
	ID       string  `json:"id"`
	Outcome  Outcome `json:"outcome"`
	Duration string  `json:"duration"`
	Message  string  `json:"message,omitempty"`
}

// checkGolden compares cases with the golden file, or rewrites it with -update.
func checkGolden(t testing.TB, golden string, cases []TestCase) {
	t.Helper()
	view := make([]goldenCase, len(cases))
	for i, tc := range cases {
		view[i] = goldenCase{tc.ID(), tc.Outcome, tc.Duration.String(), tc.Message}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(view); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("%s mismatch (-want +got; go test -update rewrites it):\n%s", golden, diff)
	}
}

// checkInvariants asserts what every parser promises about its cases,
// whatever the input.
func checkInvariants(t testing.TB, cases []TestCase) {
	t.Helper()
	for _, tc := range cases {
		switch tc.Outcome {
		case Passed, Failed, Skipped, Errored:
		default:
			t.Errorf("%s: outcome %q", tc.ID(), tc.Outcome)
		}
		if tc.Name == "" {
			t.Errorf("case in suite %q has no name", tc.Suite)
		}
		for what, s := range map[string]string{"suite": tc.Suite, "name": tc.Name, "message": tc.Message} {
			if !utf8.ValidString(s) || strings.Contains(s, "\x00") {
				t.Errorf("%s: %s %q is not clean UTF-8", tc.ID(), what, s)
			}
		}
		if len(tc.Message) > MaxMessage {
			t.Errorf("%s: message is %d bytes, more than %d", tc.ID(), len(tc.Message), MaxMessage)
		}
		if len(tc.Name) > maxName || len(tc.Suite) > maxName {
			t.Errorf("%s: name or suite longer than %d bytes", tc.ID(), maxName)
		}
		if tc.Duration < 0 {
			t.Errorf("%s: negative duration %v", tc.ID(), tc.Duration)
		}
	}
}

func parseTestFile(t testing.TB, format Format, file string) ([]TestCase, error) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(format, filepath.ToSlash(file), f)
}

func outcomes(cases []TestCase) map[string]Outcome {
	m := make(map[string]Outcome, len(cases))
	for _, tc := range cases {
		m[tc.ID()] = tc.Outcome
	}
	return m
}
