package executortest

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// shellVars are variables a shell or sandbox may add on its own.
var shellVars = map[string]bool{"PWD": true, "OLDPWD": true, "SHLVL": true, "_": true}

// testEnv: the step sees exactly Job.Env, nothing of slipway's.
func (s *suite) testEnv(t *testing.T) {
	secret := "slipway-secret-" + rand.Text()
	t.Setenv("SLIPWAY_SECRET_LEAK", secret)
	t.Setenv("SLIPWAY_TEST_"+rand.Text(), secret)

	job, out := s.newJob(t, "env -0")
	job.Env = append(job.Env,
		"SPACES=a b  c",
		"MULTI=line1\nline2",
		"EQUALS=k=v=w",
		"EMPTY=",
		"UNICODE=žluťoučký",
	)
	exit := s.run(t, s.newExecutor(t), job, out)
	if !exit.Success() {
		t.Fatalf("exit %+v, output %q", exit, out.String())
	}
	got := map[string]string{}
	for kv := range strings.SplitSeq(strings.TrimSuffix(out.String(), "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		if !shellVars[k] {
			got[k] = v
		}
	}
	want := map[string]string{}
	for _, kv := range job.Env {
		k, v, _ := strings.Cut(kv, "=")
		want[k] = v
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("step environment differs from Job.Env (-want +got):\n%s", d)
	}
	if strings.Contains(out.String(), secret) {
		t.Error("slipway's environment leaked into the step")
	}
}

// testDir: the step runs in Job.Dir.
func (s *suite) testDir(t *testing.T) {
	t.Parallel()
	job, out := s.newJob(t, "pwd -P; echo hi > here.txt")
	exit := s.run(t, s.newExecutor(t), job, out)
	if !exit.Success() {
		t.Fatalf("exit %+v, output %q", exit, out.String())
	}
	if got, want := out.String(), job.Dir+"\n"; got != want {
		t.Errorf("pwd printed %q, want %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(job.Dir, "here.txt")); err != nil || string(b) != "hi\n" {
		t.Errorf("file written in the working directory: %q, %v", b, err)
	}
}

// testStdin: stdin is at end of file, not a terminal, never slipway's.
func (s *suite) testStdin(t *testing.T) {
	t.Parallel()
	job, out := s.newJob(t, `if read -r line; then echo "read: $line"; else echo eof; fi
if [ -t 0 ]; then echo tty; else echo notty; fi`)
	exit := s.run(t, s.newExecutor(t), job, out)
	if !exit.Success() {
		t.Fatalf("exit %+v, output %q", exit, out.String())
	}
	if got := out.String(); got != "eof\nnotty\n" {
		t.Errorf("output %q, want %q", got, "eof\nnotty\n")
	}
}
