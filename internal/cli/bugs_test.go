package cli

import (
	"testing"
)

// TestRejectsBadArguments lists arguments that are wrong but accepted: each
// should be a usage error (exit 2), never silently mean something else.
// The bug column records what each row once caught.
func TestRejectsBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		bug  string
	}{
		{"unknown subcommand of tests", []string{"tests", "flakey"},
			"bug: `slipway tests flakey` prints the help of `tests` and exits 0: the parent command has no " +
				"RunE/Args, so cobra accepts any argument; a script piping `tests flakey -o json` gets help text"},
		{"negative attempt", []string{"logs", "1", "hello", "--attempt", "-1"},
			"bug: `logs --attempt -1` is taken as \"the last attempt\" instead of being rejected"},
		{"negative limit", []string{"runs", "-n", "-1"},
			"bug: `runs -n -1` (and -n 0) lists every run instead of being rejected"},
		{"negative max-runs", []string{"prune", "--max-runs", "-1"},
			"bug: `prune --max-runs -1` is accepted and removes nothing; the config file rejects the same value"},
		{"negative max-age", []string{"prune", "--max-age", "-1h"},
			"bug: `prune --max-age -1h` is accepted and removes nothing"},
		{"attempt not a number", []string{"logs", "1", "hello", "--attempt", "last"}, ""},
		{"limit not a number", []string{"runs", "-n", "all"}, ""},
		{"age not a duration", []string{"prune", "--max-age", "30d"}, ""},
		{"stray argument to runs", []string{"runs", "all"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			s.pipeline(t, okPipeline)
			if r := s.runPipeline(t, "-q"); r.code != ExitOK {
				t.Fatalf("run: exit code %d; stderr: %s", r.code, r.stderr)
			}
			r := s.run(t, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("%v: exit code %d, want %d\nstdout:\n%.400s\nstderr:\n%s", tt.args, r.code, ExitUsage, r.stdout, r.stderr)
			}
		})
	}
}
