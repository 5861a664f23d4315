package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// golden compares got with testdata/<name>.golden, or rewrites it with -update.
func golden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		tb.Errorf("%s differs (-want +got; run with -update to accept):\n%s", path, diff)
	}
}

var (
	// durations as time.Duration prints them, ending a line or before " ·".
	durationRE = regexp.MustCompile(`(?m) (?:[0-9]+(?:\.[0-9]+)?(?:h|m|s|ms|µs|ns))+( ·|$)`)
	runIDRE    = regexp.MustCompile(`(run #|slipway logs )[0-9]+`)
)

// normalize replaces what changes from one run to the next: durations,
// run ids and the checkout's path.
func normalize(s, dir string) string {
	if dir != "" {
		s = strings.ReplaceAll(s, dir, "$DIR")
	}
	s = durationRE.ReplaceAllString(s, " <dur>$1")
	return runIDRE.ReplaceAllString(s, "${1}N")
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"✔ a 2ms", "✔ a <dur>"},
		{"✔ a 1.5s", "✔ a <dur>"},
		{"✔ a 1m2.345s", "✔ a <dur>"},
		{"✔ a 0s\n✔ b 17µs", "✔ a <dur>\n✔ b <dur>"},
		{"run #12 failed in 6ms · 1 success · logs: slipway logs 12", "run #N failed in <dur> · 1 success · logs: slipway logs N"},
		{"a │ took 3s to run", "a │ took 3s to run"},
		{"cd /tmp/x/project && ls", "cd $DIR && ls"},
	}
	for _, tt := range tests {
		if got := normalize(tt.in, "/tmp/x/project"); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
