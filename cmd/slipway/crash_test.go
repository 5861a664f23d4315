package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The ledger pipeline: every step appends "<step>:start" and "<step>:end"
// to ledger. Step "slow" blocks (leaving a background child) until its
// second attempt, so the test can kill slipway while it runs.
const ledgerSpec = `
steps:
  a: {run: "echo a:start >> ledger; echo a:end >> ledger"}
  b: {needs: a, run: "echo b:start >> ledger; echo b:end >> ledger"}
  slow:
    needs: a
    run: |
      echo slow:start >> ledger
      if [ "$SLIPWAY_RUN_ATTEMPT" = 1 ]; then
        sleep 300 &
        echo $! > orphan.pid
        wait
      fi
      echo slow:end >> ledger
  c: {needs: [b, slow], run: "echo c:start >> ledger; echo c:end >> ledger"}
  d: {needs: b, run: "echo d:start >> ledger; echo d:end >> ledger"}
`

// After a kill -9 of slipway mid-run, --resume kills what outlived it and
// continues the same run: every step completed exactly once, and the step
// that was running ran again because it had not finished.
func TestE2EKill9Resume(t *testing.T) {
	for _, sandbox := range []string{"off", "on"} {
		t.Run("sandbox-"+sandbox, func(t *testing.T) {
			e := newEnv(t)
			e.setenv("SLIPWAY_SANDBOX=" + sandbox)
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte(ledgerSpec), 0o644)
			cmd := e.command(context.Background(), dir, "run", "--parallel", "1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ledger := filepath.Join(dir, "ledger")
			// The pid file exists before the pid is in it, and the child is
			// a shell until it execs sleep: wait for both.
			waitFor(t, "slow to start", func() bool {
				b, err := os.ReadFile(filepath.Join(dir, "orphan.pid"))
				pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
				return err == nil && perr == nil && (sandbox == "on" || alive(pid))
			})
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			orphan := readPID(t, filepath.Join(dir, "orphan.pid"))
			if sandbox == "off" && !alive(orphan) {
				t.Fatal("the step's child died with slipway: nothing to reap, the test proves nothing")
			}
			res := e.run(dir, "run", "--resume", "--output", "json")
			if res.code != 0 {
				t.Fatalf("resume: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
			}
			if alive(orphan) {
				t.Error("the orphaned process group survived --resume")
			}
			got := lines(ledger)
			for _, s := range []string{"a", "b", "c", "d", "slow"} {
				if n := count(got, s+":end"); n != 1 {
					t.Errorf("%s completed %d times, want exactly once (ledger %v)", s, n, got)
				}
			}
			if n := count(got, "slow:start"); n != 2 {
				t.Errorf("slow started %d times, want 2 (interrupted, then re-run)", n)
			}
			for _, s := range []string{"a", "b"} {
				if count(got, s+":start") != 1 {
					t.Errorf("%s re-ran though it had finished (ledger %v)", s, got)
				}
			}
			steps := finalSteps(t, res.stdout)
			if steps["slow"]["attempts"] != 2.0 {
				t.Errorf("slow = %v", steps["slow"])
			}
			runs := e.run(dir, "runs", "--output", "json")
			if !strings.Contains(runs.stdout, `"attempt":2`) || strings.Count(runs.stdout, `"id":`) != 1 {
				t.Errorf("the resume is not the same run as a new attempt: %s", runs.stdout)
			}
		})
	}
}

// Ctrl-C (SIGINT) stops running steps (their whole process group), records
// the run as cancelled and exits 130.
func TestE2EInterrupt(t *testing.T) {
	e := newEnv(t)
	e.setenv("SLIPWAY_SANDBOX=off")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte(`
steps:
  slow:
    run: |
      sleep 300 &
      echo $! > child.pid
      wait
  after: {needs: slow, run: "touch after.ran"}
`), 0o644)
	cmd := e.command(context.Background(), dir, "run", "--grace", "1s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Unsandboxed, so the child's pid is a host pid the check below can
	// see; wait until it has exec'd sleep.
	waitFor(t, "the step", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && perr == nil && alive(pid)
	})
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d (%v), want 130", code, err)
	}
	if alive(readPID(t, filepath.Join(dir, "child.pid"))) {
		t.Error("the step's child survived Ctrl-C")
	}
	if _, err := os.Stat(filepath.Join(dir, "after.ran")); err == nil {
		t.Error("a step started after Ctrl-C")
	}
	runs := e.run(dir, "runs", "--output", "json")
	if !strings.Contains(runs.stdout, `"status":"cancelled"`) {
		t.Errorf("runs: %s", runs.stdout)
	}
}

// Two runs of one concurrency group: without cancel-in-progress the second
// waits for the first; with it, the second cancels the first.
func TestE2EConcurrencyGroups(t *testing.T) {
	for _, cancel := range []bool{false, true} {
		t.Run("cancel-in-progress="+strconv.FormatBool(cancel), func(t *testing.T) {
			e := newEnv(t)
			dir := t.TempDir()
			spec := `
concurrency: {group: deploy, cancel-in-progress: ` + strconv.FormatBool(cancel) + `}
steps:
  s:
    run: |
      echo "$SLIPWAY_RUN_ID:start" >> ledger
      if [ "$SLIPWAY_RUN_ID" = 1 ]; then i=0; while [ ! -e release ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; fi
      echo "$SLIPWAY_RUN_ID:end" >> ledger
`
			os.WriteFile(filepath.Join(dir, ".slipway.yaml"), []byte(spec), 0o644)
			first := e.command(context.Background(), dir, "run")
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			ledger := filepath.Join(dir, "ledger")
			waitFor(t, "run 1", func() bool { return slices.Contains(lines(ledger), "1:start") })
			second := e.command(context.Background(), dir, "run")
			out := &strings.Builder{}
			second.Stdout = out
			if err := second.Start(); err != nil {
				t.Fatal(err)
			}
			if !cancel {
				waitFor(t, "run 2 to wait", func() bool { return strings.Contains(out.String(), "waiting for the running run") })
				if slices.Contains(lines(ledger), "2:start") {
					t.Fatal("run 2 started while run 1 held the group")
				}
				os.WriteFile(filepath.Join(dir, "release"), nil, 0o644)
			}
			first.Wait()
			second.Wait()
			got := lines(ledger)
			if cancel {
				if first.ProcessState.ExitCode() != 130 || slices.Contains(got, "1:end") {
					t.Errorf("run 1 was not cancelled: exit %d, ledger %v", first.ProcessState.ExitCode(), got)
				}
			} else if !slices.Equal(got, []string{"1:start", "1:end", "2:start", "2:end"}) {
				t.Errorf("ledger %v: runs overlapped", got)
			}
			if second.ProcessState.ExitCode() != 0 || !slices.Contains(got, "2:end") {
				t.Errorf("run 2: exit %d, ledger %v\n%s", second.ProcessState.ExitCode(), got, out)
			}
		})
	}
}

func readPID(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// alive reports whether pid runs (and is not a zombie), in the sandbox's
// namespace terms when the pid came from inside one: a pid from a PID
// namespace is meaningless outside, so such callers only check "not alive".
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z" && strings.Contains(string(b), "(sleep)")
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

var _ = time.Second
