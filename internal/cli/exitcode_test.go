package cli

import (
	"strings"
	"testing"
)

const okPipeline = `steps:
  hello:
    run: echo hello
`

// TestExitCodes drives the whole command line: every way in which a
// command ends maps to one exit code, with a message on stderr.
func TestExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		pipeline string   // "" leaves the checkout without .slipway.yaml
		extra    []string // more environment
		args     []string // "$DIR" is the checkout
		code     int
		stderr   string // a substring of stderr ("" = stderr must be empty)
	}{
		{"run succeeds", okPipeline, nil, []string{"run", "-C", "$DIR", "--sandbox", "off"}, ExitOK, ""},
		{"run fails", "steps:\n  boom:\n    run: exit 4\n", nil,
			[]string{"run", "-C", "$DIR", "--sandbox", "off"}, ExitFailed, "run #1 failed: step boom failure"},
		{"failure allowed", "steps:\n  soft:\n    run: exit 4\n    continue-on-error: true\n", nil,
			[]string{"run", "-C", "$DIR", "--sandbox", "off"}, ExitOK, ""},
		{"run timeout", "steps:\n  nap:\n    run: sleep 30\n", nil,
			[]string{"run", "-C", "$DIR", "--sandbox", "off", "--timeout", "300ms", "--grace", "100ms"}, ExitFailed, "run timed out"},
		{"fail fast", "steps:\n  boom:\n    run: exit 1\n  nap:\n    run: sleep 30\n", nil,
			[]string{"run", "-C", "$DIR", "--sandbox", "off", "--fail-fast", "-j", "2", "--grace", "100ms"}, ExitFailed, "failed"},
		{"unknown flag", okPipeline, nil, []string{"run", "-C", "$DIR", "--bogus"}, ExitUsage, "unknown flag: --bogus"},
		{"unknown shorthand", okPipeline, nil, []string{"run", "-Z"}, ExitUsage, "unknown shorthand flag"},
		{"flag without value", okPipeline, nil, []string{"run", "-C"}, ExitUsage, "flag needs an argument"},
		{"bad flag value", okPipeline, nil, []string{"run", "-C", "$DIR", "--parallel", "many"}, ExitUsage, "invalid argument"},
		{"unknown command", "", nil, []string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{"stray argument", okPipeline, nil, []string{"run", "now"}, ExitUsage, `unknown command "now"`},
		{"bad output", okPipeline, nil, []string{"version", "--output", "yaml"}, ExitUsage, `--output must be text or json, not "yaml"`},
		{"bad output from env", okPipeline, []string{"SLIPWAY_OUTPUT=xml"}, []string{"version"}, ExitUsage, `not "xml"`},
		{"output from env", okPipeline, []string{"SLIPWAY_OUTPUT=json"}, []string{"version"}, ExitOK, ""},
		{"parallel zero", okPipeline, nil, []string{"run", "-C", "$DIR", "--sandbox", "off", "-j", "0"}, ExitUsage, "--parallel must be at least 1"},
		{"negative grace", okPipeline, nil, []string{"run", "-C", "$DIR", "--sandbox", "off", "--grace", "-1s"}, ExitUsage, "--grace not negative"},
		{"bad sandbox", okPipeline, nil, []string{"run", "-C", "$DIR", "--sandbox", "sometimes"}, ExitUsage, "sometimes"},
		{"bad env variable", okPipeline, []string{"SLIPWAY_PARALLEL=lots"}, []string{"run", "-C", "$DIR", "--sandbox", "off"}, ExitUsage, "SLIPWAY_PARALLEL"},
		{"missing config file", okPipeline, nil, []string{"--config", "$DIR/nope.yaml", "runs"}, ExitUsage, "nope.yaml"},
		{"bad config file", okPipeline, nil, []string{"--config", "$DIR/.slipway.yaml", "runs"}, ExitUsage, `unknown key "steps"`},
		{"bad pipeline", "steps:\n  build:\n    run: make\n    neds: [x]\n", nil,
			[]string{"run", "-C", "$DIR", "--sandbox", "off"}, ExitUsage, `.slipway.yaml:4:5: step build: unknown key "neds" (did you mean "needs"?)`},
		{"pipeline not yaml", "steps: [\n", nil, []string{"run", "-C", "$DIR", "--sandbox", "off"}, ExitUsage, ".slipway.yaml:"},
		{"no pipeline", "", nil, []string{"run", "-C", "$DIR", "--sandbox", "off"}, ExitUsage, "no .slipway.yaml in"},
		{"missing pipeline file", okPipeline, nil, []string{"run", "-C", "$DIR", "--sandbox", "off", "-f", "$DIR/other.yaml"}, ExitUsage, "other.yaml"},
		{"missing secret", "steps:\n  deploy:\n    secrets: [API_TOKEN]\n    run: echo deploying\n", nil,
			[]string{"run", "-C", "$DIR", "--sandbox", "off"}, ExitUsage, `secret "API_TOKEN" is not set`},
		{"secret given", "steps:\n  deploy:\n    secrets: [API_TOKEN]\n    run: test -n \"$API_TOKEN\"\n",
			[]string{"SLIPWAY_SECRET_API_TOKEN=s3cr3t"}, []string{"run", "-C", "$DIR", "--sandbox", "off"}, ExitOK, ""},
		{"bad event", okPipeline, nil, []string{"run", "-C", "$DIR", "--sandbox", "off", "--event", "tuesday"}, ExitUsage, "tuesday"},
		{"nothing to resume", okPipeline, nil, []string{"run", "-C", "$DIR", "--sandbox", "off", "--resume"}, ExitOK, ""},
		{"lint ok", okPipeline, nil, []string{"lint", "-C", "$DIR"}, ExitOK, ""},
		{"lint problems", "steps:\n  a:\n    runn: x\n", nil, []string{"lint", "-C", "$DIR"}, ExitFailed, "2 problem(s) found"},
		{"lint without pipeline", "", nil, []string{"lint", "-C", "$DIR"}, ExitUsage, "no .slipway.yaml"},
		{"logs before any run", okPipeline, nil, []string{"logs"}, ExitUsage, "no run yet in"},
		{"logs of a bad run number", okPipeline, nil, []string{"logs", "first"}, ExitUsage, `"first" is not a run number`},
		{"logs of a missing run", okPipeline, nil, []string{"logs", "42"}, ExitUsage, "42"},
		{"logs with too many arguments", okPipeline, nil, []string{"logs", "1", "a", "b"}, ExitUsage, "accepts at most 2 arg(s)"},
		{"prune bad size", okPipeline, nil, []string{"prune", "--cache-max-size", "huge"}, ExitUsage, "huge"},
		{"prune", okPipeline, nil, []string{"prune"}, ExitOK, ""},
		{"runs", okPipeline, nil, []string{"runs"}, ExitOK, ""},
		{"schema", "", nil, []string{"schema"}, ExitOK, ""},
		{"version", "", nil, []string{"version"}, ExitOK, ""},
		{"tests flaky", "", nil, []string{"tests", "flaky"}, ExitOK, ""},
		{"help", "", nil, []string{"--help"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			s.extra = tt.extra
			if tt.pipeline != "" {
				s.pipeline(t, tt.pipeline)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "$DIR", s.dir)
			}
			r := s.run(t, args...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			switch {
			case tt.stderr == "" && r.stderr != "":
				t.Errorf("stderr = %q, want nothing", r.stderr)
			case tt.stderr != "" && !strings.Contains(r.stderr, tt.stderr):
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.stderr)
			case tt.stderr != "" && !strings.HasPrefix(r.stderr, "slipway: "):
				t.Errorf("stderr = %q, want it to start with \"slipway: \"", r.stderr)
			}
		})
	}
}

// TestUsageErrorLeavesNoRun checks that input errors are found before a
// run is recorded: a typo in the pipeline must not leave a failed run.
func TestUsageErrorLeavesNoRun(t *testing.T) {
	s := newSandbox(t)
	s.pipeline(t, "steps:\n  a:\n    secrets: [MISSING]\n    run: echo\n")
	if r := s.runPipeline(t); r.code != ExitUsage {
		t.Fatalf("run: exit code %d, want %d; stderr: %s", r.code, ExitUsage, r.stderr)
	}
	r := s.run(t, "runs", "-o", "json")
	if r.code != ExitOK || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("runs after a usage error: code %d, stdout %q; want 0 and []", r.code, r.stdout)
	}
}
