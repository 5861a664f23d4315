package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// logsPipeline has a matrix step "b", a step "bb" whose name starts like
// it, a step that succeeds on its second attempt and one that prints nothing.
const logsPipeline = `steps:
  b:
    matrix: {x: [1, 2]}
    run: echo "b ${{ matrix.x }}"
  bb:
    needs: b
    run: echo "bb"
  flaky:
    needs: bb
    run: |
      echo "attempt $SLIPWAY_STEP_ATTEMPT"
      if [ "$SLIPWAY_STEP_ATTEMPT" = 1 ]; then exit 1; fi
    retry: {max: 1, when: [failure]}
  silent:
    needs: flaky
    run: "true"
`

func TestLogs(t *testing.T) {
	s := newSandbox(t)
	s.pipeline(t, logsPipeline)
	if r := s.runPipeline(t, "-j", "1", "-q"); r.code != ExitOK {
		t.Fatalf("run: exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"latest run, every step", []string{"logs"}, ExitOK, "" +
			"── b[x=1] (attempt 1, success) ──\nb 1\n" +
			"── b[x=2] (attempt 1, success) ──\nb 2\n" +
			"── bb (attempt 1, success) ──\nbb\n" +
			"── flaky (attempt 2, success) ──\nattempt 2\n" +
			"── silent (attempt 1, success) ──\n"},
		{"every instance of a matrix step", []string{"logs", "1", "b"}, ExitOK,
			"── b[x=1] (attempt 1, success) ──\nb 1\n── b[x=2] (attempt 1, success) ──\nb 2\n"},
		{"one instance, no header", []string{"logs", "1", "b[x=2]"}, ExitOK, "b 2\n"},
		{"run number with #", []string{"logs", "#1", "bb"}, ExitOK, "bb\n"},
		{"last attempt by default", []string{"logs", "1", "flaky"}, ExitOK, "attempt 2\n"},
		{"one attempt", []string{"logs", "1", "flaky", "--attempt", "1"}, ExitOK, "attempt 1\n"},
		{"every attempt", []string{"logs", "1", "flaky", "--all-attempts"}, ExitOK,
			"── flaky (attempt 1, failure) ──\nattempt 1\n── flaky (attempt 2, success) ──\nattempt 2\n"},
		{"first attempt of every step", []string{"logs", "1", "--attempt", "1"}, ExitOK, "" +
			"── b[x=1] (attempt 1, success) ──\nb 1\n" +
			"── b[x=2] (attempt 1, success) ──\nb 2\n" +
			"── bb (attempt 1, success) ──\nbb\n" +
			"── flaky (attempt 1, failure) ──\nattempt 1\n" +
			"── silent (attempt 1, success) ──\n"},
		{"silent step", []string{"logs", "1", "silent"}, ExitOK, ""},
		{"attempt that never ran", []string{"logs", "1", "flaky", "--attempt", "3"}, ExitUsage, ""},
		{"unknown step", []string{"logs", "1", "deploy"}, ExitUsage, ""},
		{"prefix is not a step", []string{"logs", "1", "fla"}, ExitUsage, ""},
		{"unknown run", []string{"logs", "2"}, ExitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.run(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if r.stdout != tt.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, tt.want)
			}
		})
	}
}

func TestLogsJSON(t *testing.T) {
	s := newSandbox(t)
	s.pipeline(t, logsPipeline)
	if r := s.runPipeline(t, "-j", "1", "-q"); r.code != ExitOK {
		t.Fatalf("run: exit code %d; stderr: %s", r.code, r.stderr)
	}
	r := s.run(t, "logs", "1", "flaky", "--all-attempts", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit code %d; stderr: %s", r.code, r.stderr)
	}
	type line struct {
		Step    string `json:"step"`
		Attempt int    `json:"attempt"`
		Line    string `json:"line"`
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		var v line
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got = append(got, v)
	}
	want := []line{{"flaky", 1, "attempt 1"}, {"flaky", 2, "attempt 2"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
