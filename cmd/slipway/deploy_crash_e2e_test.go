package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashEnvironments is the one environment of the crash tests: a canary
// with a timed pause, an analysis step and an indefinite pause, on a fixed
// router port, with fast readiness probes and no liveness probe (so a
// stopped replica stays unready instead of being restarted).
const crashEnvironments = `
environments:
  production:
    trust:
      require: [signature, provenance, sbom]
    target: local
    listen: %s
    replicas: 2
    strategy: canary
    scale-down-delay: 1s
    progress-deadline: 30s
    probes:
      readiness: {path: /healthz, interval: 200ms, timeout: 500ms, failure-threshold: 2}
    canary:
      steps:
        - set-weight: 20
        - pause: {duration: 4s}
        - analysis: errors
        - set-weight: 50
        - pause: {}
    analysis:
      errors:
        metrics:
          - name: error-rate
            interval: 1s
            count: 4
            successCondition: result < 0.05
            noData: pass
            provider: {builtin: {metric: error-rate}}
`

// crashAnalysisCount and crashPause are the analysis step's count and the
// timed pause's duration above.
const (
	crashAnalysisCount = 4
	crashPause         = 4 * time.Second
)

// TestE2EDeployCrash kills `slipway up` with SIGKILL at several points of a
// canary of examples/hello v1 → v2 and restarts it: the deployment resumes
// where its record says (a timed pause, an indefinite pause), re-runs an
// interrupted analysis from scratch (its window cannot be trusted across a
// restart: measurements taken before the kill are kept in the record but do
// not count), and finishes an interrupted rollback. Replicas survive the
// kill and are adopted by PID, never duplicated; the router comes back with
// the recorded weight; after each case exactly the recorded versions'
// replicas run, and `slipway down` leaves none.
func TestE2EDeployCrash(t *testing.T) {
	pub := crashPublish(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *crashCase)
	}{
		{"timed-pause", crashInTimedPause},
		{"indefinite-pause", crashWhilePaused},
		{"analysis", crashInAnalysis},
		{"rollback", crashInRollback},
		{"sigterm", stopWhilePaused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			c := newCrashCase(t, pub)
			tc.run(t, c)
			c.down(t)
			t.Logf("%s took %s", tc.name, time.Since(start).Round(100*time.Millisecond))
		})
	}
}

// a) Killed during the timed pause: the restarted controller finishes the
// pause, runs the analysis and stops at the indefinite pause with the same
// replicas it had; resume then succeeds.
func crashInTimedPause(t *testing.T, c *crashCase) {
	paused := c.waitStatus(t, "the timed pause (step 1)", func(s crashStatus) bool {
		return s.Deployment.State == "progressing" && s.Deployment.Step == 1
	})
	before := c.replicas(t)
	c.kill9(t)
	killed := time.Now()
	if got := c.replicas(t); !samePIDs(got, before) {
		t.Fatalf("replicas did not survive the kill: before %v, after %v", before, got)
	}
	c.up(t)
	st := c.waitStatus(t, "the indefinite pause after the restart", func(s crashStatus) bool {
		return s.Deployment.State == "paused" && s.Deployment.Step == 5 && s.Deployment.Weight == 50
	})
	// The pause counts from when its step was recorded: the analysis after
	// it cannot have started before the pause's full duration.
	ms := st.measurements("step-3")
	if len(ms) != crashAnalysisCount {
		t.Fatalf("step-3 measurements %+v, want %d", ms, crashAnalysisCount)
	}
	first := ms[0].At
	for _, m := range ms {
		if m.At.Before(first) {
			first = m.At
		}
	}
	if end := paused.Deployment.Updated.Add(crashPause); first.Before(end) {
		t.Fatalf("the analysis measured at %s, before the timed pause's end %s", first, end)
	}
	t.Logf("pause began %s, killed %s, first analysis measurement %s",
		paused.Deployment.Updated.Format(time.StampMilli), killed.Format(time.StampMilli), first.Format(time.StampMilli))
	if got := c.replicas(t); !samePIDs(got, before) {
		t.Fatalf("replicas were not adopted as they were: before the kill %v, after the restart %v", before, got)
	}
	c.resumeToSuccess(t)
	c.settled(t, map[string]int{c.pub.v2.Version: 2}, before)
}

// b) Killed while paused at `pause: {}`: still paused at the same step and
// weight after the restart, and the router splits traffic with exactly the
// recorded weight (it is deterministic: 50 of any 100 requests).
func crashWhilePaused(t *testing.T, c *crashCase) {
	st := c.waitStatus(t, "the indefinite pause", func(s crashStatus) bool {
		return s.Deployment.State == "paused" && s.readyBoth(c)
	})
	c.checkSplit(t, st.Deployment.Weight)
	before := c.replicas(t)
	c.kill9(t)
	c.up(t)
	after := c.waitStatus(t, "both versions ready after the restart", func(s crashStatus) bool { return s.readyBoth(c) })
	if a, b := after.Deployment, st.Deployment; a.State != b.State || a.Step != b.Step || a.Weight != b.Weight {
		t.Fatalf("after the restart the deployment is %s at step %d with %g%%, want %s at step %d with %g%%",
			a.State, a.Step, a.Weight, b.State, b.Step, b.Weight)
	}
	if r := after.Target.Route; r.Stable != c.pub.v1.Version || r.Canary != c.pub.v2.Version || r.CanaryWeight != st.Deployment.Weight {
		t.Fatalf("route after the restart %+v, want %g%% of %s to %s", r, st.Deployment.Weight, c.pub.v1.Version, c.pub.v2.Version)
	}
	c.checkSplit(t, st.Deployment.Weight)
	if got := c.replicas(t); !samePIDs(got, before) {
		t.Fatalf("replicas were not adopted as they were: before the kill %v, after the restart %v", before, got)
	}
	c.resumeToSuccess(t)
	c.settled(t, map[string]int{c.pub.v2.Version: 2}, before)
}

// e) A clean stop (SIGTERM) while paused: up exits promptly and leaves the
// replicas serving; the next up has the same deployment, and `deploy finish`
// takes it to 100 %.
func stopWhilePaused(t *testing.T, c *crashCase) {
	st := c.waitStatus(t, "the indefinite pause", func(s crashStatus) bool {
		return s.Deployment.State == "paused" && s.readyBoth(c)
	})
	before := c.replicas(t)
	pid := c.upPID(t)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	crashPoll(t, 15*time.Second, fmt.Sprintf("up (pid %d) to exit on SIGTERM", pid), func() bool { return !procRunning(pid) })
	if _, err := os.Stat(filepath.Join(c.e.state, "up", "info.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a clean stop left up/info.json behind (%v)", err)
	}
	log, _ := os.ReadFile(filepath.Join(c.e.state, "logs", "up.log"))
	if !strings.Contains(string(log), "stopping (replicas keep running)") {
		t.Errorf("up's log does not say it stopped:\n%s", log)
	}
	if got := c.replicas(t); !samePIDs(got, before) {
		t.Fatalf("replicas did not outlive a clean stop: before %v, after %v", before, got)
	}
	c.up(t)
	after := c.waitStatus(t, "both versions ready after the restart", func(s crashStatus) bool { return s.readyBoth(c) })
	if a, b := after.Deployment, st.Deployment; a.State != b.State || a.Step != b.Step || a.Weight != b.Weight {
		t.Fatalf("after the restart the deployment is %s at step %d with %g%%, want %s at step %d with %g%%",
			a.State, a.Step, a.Weight, b.State, b.Step, b.Weight)
	}
	if res := c.e.run(c.dir, "deploy", "finish", "production"); res.code != 0 {
		t.Fatalf("finish: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	done := c.waitStatus(t, "succeeded", func(s crashStatus) bool { return s.Deployment.State == "succeeded" })
	if done.Target.Route.Stable != c.pub.v2.Version || done.Target.Route.CanaryWeight != 0 {
		t.Fatalf("after finish the route is %+v, want all on %s", done.Target.Route, c.pub.v2.Version)
	}
	c.settled(t, map[string]int{c.pub.v2.Version: 2}, before)
}

// c) Killed during the analysis step: after the restart the analysis runs
// again from scratch (count fresh measurements after the restart; the ones
// before the kill stay recorded), then the deployment proceeds.
func crashInAnalysis(t *testing.T, c *crashCase) {
	c.waitStatus(t, "the analysis step's first measurement", func(s crashStatus) bool {
		return s.Deployment.State == "progressing" && s.Deployment.Step == 2 && len(s.measurements("step-3")) > 0
	})
	before := c.replicas(t)
	c.kill9(t)
	restarted := time.Now()
	c.up(t)
	st := c.waitStatus(t, "the indefinite pause after the restart", func(s crashStatus) bool {
		return s.Deployment.State == "paused" && s.Deployment.Step == 5
	})
	var early, late int
	for _, m := range st.measurements("step-3") {
		if m.Phase != "successful" {
			t.Errorf("measurement %+v, want successful", m)
		}
		if m.At.Before(restarted) {
			early++
		} else {
			late++
		}
	}
	if early == 0 || early >= crashAnalysisCount || late != crashAnalysisCount {
		t.Fatalf("step-3 measurements: %d before the kill, %d after the restart; want 1..%d, then a full %d",
			early, late, crashAnalysisCount-1, crashAnalysisCount)
	}
	if got := c.replicas(t); !samePIDs(got, before) {
		t.Fatalf("replicas were not adopted as they were: before the kill %v, after the restart %v", before, got)
	}
	c.resumeToSuccess(t)
	c.settled(t, map[string]int{c.pub.v2.Version: 2}, before)
}

// d) Killed during a rollback: v1's replicas are stopped (SIGSTOP: unready,
// not restarted) so the abort's rollback waits for them; up is killed in
// rolling-back, v1 continued, and the restarted controller completes the
// rollback: rolled-back, all traffic on v1, v2 scaled down.
func crashInRollback(t *testing.T, c *crashCase) {
	c.waitStatus(t, "the indefinite pause", func(s crashStatus) bool {
		return s.Deployment.State == "paused" && s.readyBoth(c)
	})
	before := c.replicas(t)
	var stable []int
	for pid, v := range before {
		if v == c.pub.v1.Version {
			stable = append(stable, pid)
		}
	}
	signal := func(sig syscall.Signal) {
		for _, pid := range stable {
			syscall.Kill(pid, sig) //nolint:errcheck // checked through readiness
		}
	}
	t.Cleanup(func() { signal(syscall.SIGCONT) })
	signal(syscall.SIGSTOP)
	c.waitStatus(t, "v1 unready", func(s crashStatus) bool { return s.version(c.pub.v1.Version).Ready == 0 })
	if res := c.e.run(c.dir, "deploy", "abort", "production"); res.code != 0 {
		t.Fatalf("abort: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	c.waitStatus(t, "rolling-back", func(s crashStatus) bool { return s.Deployment.State == "rolling-back" })
	c.kill9(t)
	signal(syscall.SIGCONT)
	c.up(t)
	st := c.waitStatus(t, "rolled-back after the restart", func(s crashStatus) bool {
		return s.Deployment.State == "rolled-back"
	})
	if !strings.Contains(st.Deployment.Reason, "abort") {
		t.Errorf("reason %q does not say aborted", st.Deployment.Reason)
	}
	if r := st.Target.Route; r.Stable != c.pub.v1.Version || r.Canary != "" {
		t.Errorf("route after the rollback %+v, want all on %s", r, c.pub.v1.Version)
	}
	c.waitStatus(t, "v1 ready", func(s crashStatus) bool { return s.version(c.pub.v1.Version).Ready == 2 })
	c.checkSplit(t, 0)
	c.settled(t, map[string]int{c.pub.v1.Version: 2}, before)
}

// crashFixture is a state dir where hello v1 and v2 are published (no
// deployment, nothing running), and the pipeline without deploy steps.
type crashFixture struct {
	state, spec string
	v1, v2      artifactRecord
}

// crashPublish publishes examples/hello twice, from two commits, with the
// example's pipeline cut before its deploy steps.
func crashPublish(t *testing.T) crashFixture {
	t.Helper()
	e := newEnv(t)
	repo := example(t, "hello")
	spec := readExample(t, "hello", ".slipway.yaml")
	i := strings.Index(spec, "  # Deploy what this run published")
	if i < 0 {
		t.Fatal("the example's pipeline changed: no deploy steps to cut")
	}
	spec = spec[:i]
	repo.Write(".slipway.yaml", spec)
	repo.Commit("publish only")
	publish := func() {
		if res := e.run(repo.Dir(), "run"); res.code != 0 {
			t.Fatalf("run: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
		}
	}
	publish()
	repo.Write("main.go", strings.Replace(readExample(t, "hello", "main.go"), "// Set at build time", "// v2. Set at build time", 1))
	repo.Commit("v2")
	publish()
	ls := e.run(repo.Dir(), "artifact", "ls", "hello", "--output", "json")
	var arts []artifactRecord
	if err := json.Unmarshal([]byte(ls.stdout), &arts); err != nil || len(arts) != 2 || arts[0].Version == arts[1].Version {
		t.Fatalf("artifact ls: %v, want two versions of hello\n%s%s", err, ls.stdout, ls.stderr)
	}
	return crashFixture{state: e.state, spec: spec, v1: arts[1], v2: arts[0]} // newest first
}

// crashCase is one environment with its own copy of the crashFixture state,
// where v1 is deployed and a canary of v2 has started.
type crashCase struct {
	e    *env
	pub  crashFixture
	dir  string // holds the pipeline with the environment
	port string
	bin  string // <state>/deploy/bin/, symlinks resolved
}

func newCrashCase(t *testing.T, pub crashFixture) *crashCase {
	t.Helper()
	e := newEnv(t)
	if out, err := exec.Command("cp", "-a", pub.state+"/.", e.state).CombinedOutput(); err != nil {
		t.Fatalf("copy the crashFixture state: %v\n%s", err, out)
	}
	state, err := filepath.EvalSymlinks(e.state)
	if err != nil {
		t.Fatal(err)
	}
	c := &crashCase{e: e, pub: pub, dir: t.TempDir(), port: freePort(t), bin: filepath.Join(state, "deploy", "bin") + "/"}
	if err := os.WriteFile(filepath.Join(c.dir, ".slipway.yaml"), []byte(pub.spec+fmt.Sprintf(crashEnvironments, c.port)), 0o644); err != nil {
		t.Fatal(err)
	}
	c.up(t)
	if res := e.run(c.dir, "deploy", "production", "--artifact", "hello@"+pub.v1.Digest); res.code != 0 {
		t.Fatalf("deploy v1: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := e.run(c.dir, "deploy", "production", "--artifact", "hello@"+pub.v2.Digest, "--no-wait"); res.code != 0 {
		t.Fatalf("deploy v2: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	return c
}

func (c *crashCase) up(t *testing.T) {
	t.Helper()
	if res := c.e.run(c.dir, "up", "--detach"); res.code != 0 {
		t.Fatalf("up --detach: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// upPID is the running `slipway up`'s pid, from its info.json.
func (c *crashCase) upPID(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.e.state, "up", "info.json"))
	var info struct{ PID int }
	if err != nil || json.Unmarshal(b, &info) != nil || info.PID <= 0 {
		t.Fatalf("up's info.json: %v %q", err, b)
	}
	return info.PID
}

// kill9 kills `slipway up` with SIGKILL and waits until it is gone.
func (c *crashCase) kill9(t *testing.T) {
	t.Helper()
	pid := c.upPID(t)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	crashPoll(t, 10*time.Second, fmt.Sprintf("up (pid %d) to die", pid), func() bool { return !procRunning(pid) })
}

// down stops up and its replicas; none of this case's may remain.
func (c *crashCase) down(t *testing.T) {
	t.Helper()
	if res := c.e.run(c.dir, "down"); res.code != 0 {
		t.Fatalf("down: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	crashPoll(t, 20*time.Second, "no replica after down", func() bool { return len(c.replicas(t)) == 0 })
}

// crashStatus is what the tests read of `deploy status -o json`.
type crashStatus struct {
	Deployment struct {
		State   string
		Step    int
		Weight  float64
		Reason  string
		Updated time.Time
	}
	Measurements []crashMeasurement
	Target       *struct {
		Route struct {
			Stable, Canary string
			CanaryWeight   float64 `json:"canary_weight"`
		}
		Versions []crashVersion
	}
}

type crashMeasurement struct {
	Analysis, Metric, Phase string
	At                      time.Time
}

type crashVersion struct {
	Name                     string
	Replicas, Running, Ready int
}

func (s crashStatus) version(name string) crashVersion {
	if s.Target != nil {
		for _, v := range s.Target.Versions {
			if v.Name == name {
				return v
			}
		}
	}
	return crashVersion{Name: name}
}

func (s crashStatus) readyBoth(c *crashCase) bool {
	return s.version(c.pub.v1.Version).Ready == 2 && s.version(c.pub.v2.Version).Ready == 2
}

func (s crashStatus) measurements(analysis string) []crashMeasurement {
	var out []crashMeasurement
	for _, m := range s.Measurements {
		if m.Analysis == analysis {
			out = append(out, m)
		}
	}
	return out
}

// waitStatus polls the environment's status (up may still be starting)
// until cond holds, for at most 40 s.
func (c *crashCase) waitStatus(t *testing.T, what string, cond func(crashStatus) bool) crashStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	for {
		res := c.e.run(c.dir, "deploy", "status", "production", "-o", "json")
		var st crashStatus
		if res.code == 0 && json.Unmarshal([]byte(res.stdout), &st) == nil && cond(st) {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; last status:\n%s%s", what, res.stdout, res.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// resumeToSuccess resumes the paused deployment and waits for success.
func (c *crashCase) resumeToSuccess(t *testing.T) {
	t.Helper()
	if res := c.e.run(c.dir, "deploy", "resume", "production"); res.code != 0 {
		t.Fatalf("resume: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	c.waitStatus(t, "succeeded", func(s crashStatus) bool { return s.Deployment.State == "succeeded" })
}

// checkSplit sends 100 requests without the canary header: exactly weight
// of them must be answered by v2 (the router is deterministic), the rest by v1.
func (c *crashCase) checkSplit(t *testing.T, weight float64) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	got := map[string]int{}
	for range 100 {
		resp, err := client.Get("http://" + c.port + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got[fmt.Sprintf("%s %d", resp.Header.Get("X-Slipway-Version"), resp.StatusCode)]++
	}
	want := map[string]int{c.pub.v1.Version + " 200": 100 - int(weight), c.pub.v2.Version + " 200": int(weight)}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("100 requests at %g%% to the canary: %v, want %v", weight, got, want)
		}
	}
}

// replicas maps the PID of every live process running a binary extracted
// under this case's state dir to the version it runs.
func (c *crashCase) replicas(t *testing.T) map[int]string {
	t.Helper()
	versions := map[string]string{
		strings.TrimPrefix(c.pub.v1.Digest, "sha256:"): c.pub.v1.Version,
		strings.TrimPrefix(c.pub.v2.Digest, "sha256:"): c.pub.v2.Version,
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || !procRunning(pid) {
			continue
		}
		exe, err := os.Readlink("/proc/" + ent.Name() + "/exe")
		if err != nil || !strings.HasPrefix(exe, c.bin) {
			continue
		}
		hex, _, _ := strings.Cut(strings.TrimPrefix(exe, c.bin), "/")
		v, ok := versions[hex]
		if !ok {
			v = "unknown:" + hex
		}
		out[pid] = v
	}
	return out
}

// settled waits until exactly want's replicas run and the slot file
// records exactly them (it is saved just after a replica stops), then
// checks they all ran before the kill (adopted, never restarted).
func (c *crashCase) settled(t *testing.T, want map[string]int, before map[int]string) {
	t.Helper()
	var got, recorded map[int]string
	crashPoll(t, 20*time.Second, fmt.Sprintf("exactly %v running and recorded", want), func() bool {
		got, recorded = c.replicas(t), c.recorded(t)
		n := map[string]int{}
		for _, v := range got {
			n[v]++
		}
		return fmt.Sprint(n) == fmt.Sprint(want) && samePIDs(recorded, got)
	})
	for pid, v := range got {
		if before[pid] != v {
			t.Errorf("%s replica pid %d was started after the kill (before: %v)", v, pid, before)
		}
	}
}

// recorded maps the PIDs the slot file records to the version running
// there now ("" when none does).
func (c *crashCase) recorded(t *testing.T) map[int]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.e.state, "deploy", "slots", "hello.production.json"))
	var slot struct{ Replicas []struct{ PID int } }
	if err != nil || json.Unmarshal(b, &slot) != nil {
		t.Fatalf("slot file: %v\n%s", err, b)
	}
	running := c.replicas(t)
	out := map[int]string{}
	for _, r := range slot.Replicas {
		out[r.PID] = running[r.PID]
	}
	return out
}

func samePIDs(a, b map[int]string) bool {
	if len(a) != len(b) {
		return false
	}
	for pid, v := range a {
		if w, ok := b[pid]; !ok || w != v {
			return false
		}
	}
	return true
}

// procRunning reports whether pid exists and is not a zombie.
func procRunning(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// crashPoll polls cond every 50 ms until it holds or timeout passes.
func crashPoll(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
