package supervisor

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReplicasBecomeReadyOnDistinctPorts(t *testing.T) {
	s, log := newTestSupervisor(t, Config{})
	spec := testSpec(t, "v1.0.0", 3)
	mustStart(t, s, spec)
	mustStart(t, s, spec) // idempotent
	waitReady(t, s, "v1.0.0", 3)

	rs := s.Replicas("v1.0.0")
	if len(rs) != 3 {
		t.Fatalf("got %d replicas, want 3", len(rs))
	}
	ports := map[int]bool{}
	for _, r := range rs {
		ports[r.Port] = true
		resp, err := http.Get("http://" + r.Addr() + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if string(body) != strconv.Itoa(r.PID) {
			t.Errorf("%s answered as pid %s, record says %d", r.Addr(), body, r.PID)
		}
		st, err := readProcStat(r.PID)
		if err != nil || st.StartTime != r.StartTime {
			t.Errorf("start time %d, /proc says %+v %v", r.StartTime, st, err)
		}
		if pgid, _ := syscall.Getpgid(r.PID); pgid != r.PID {
			t.Errorf("replica %d is in process group %d, want its own session", r.PID, pgid)
		}
		logData, err := os.ReadFile(r.LogPath)
		if err != nil || !strings.Contains(string(logData), "listening on "+strconv.Itoa(r.Port)) {
			t.Errorf("log %s = %q, %v", r.LogPath, logData, err)
		}
	}
	if len(ports) != 3 {
		t.Errorf("ports not distinct: %v", ports)
	}
	count := map[EventKind]int{}
	for _, e := range log.all() {
		count[e.Kind]++
	}
	if count[EventStarted] != 3 || count[EventReady] != 3 {
		t.Errorf("events %v, want 3 started and 3 ready", count)
	}
	if got := s.Replicas("v2"); len(got) != 0 {
		t.Errorf("Replicas(v2) = %v", got)
	}
}

func TestScaleDownStopsNewest(t *testing.T) {
	s, _ := newTestSupervisor(t, Config{})
	spec := testSpec(t, "v1", 3)
	mustStart(t, s, spec)
	waitReady(t, s, "v1", 3)
	before := s.Replicas("v1")
	spec.Replicas = 1
	mustStart(t, s, spec)
	after := s.Replicas("v1")
	if len(after) != 1 || after[0].ID != before[0].ID {
		t.Fatalf("after scale down: %+v, want only %s", after, before[0].ID)
	}
	for _, r := range before[1:] {
		if alive(r.Record) {
			t.Errorf("scaled-down replica %d still runs", r.PID)
		}
	}
}

func TestLivenessFailureRestartsWithBackoff(t *testing.T) {
	backoff := Backoff{Initial: 100 * time.Millisecond, Max: 200 * time.Millisecond}
	s, log := newTestSupervisor(t, Config{Backoff: backoff})
	spec := testSpec(t, "v1", 1, "TS_FAIL_LIVE_AFTER=1500ms")
	spec.Liveness.InitialDelay = time.Second // covers startup, even under -race
	mustStart(t, s, spec)
	rs := waitUntil(t, s, "v1", 20*time.Second, "3 restarts", func(rs []Replica) bool { return len(rs) == 1 && rs[0].Restarts >= 3 })
	if !strings.Contains(rs[0].LastExit, "liveness probe /healthz failed") {
		t.Errorf("LastExit = %q", rs[0].LastExit)
	}
	// Every incarnation was ready (so the kill came from the knob, not from a
	// slow start) and each restart waited at least the back-off: 100, 200, 200 ms.
	var exitAt time.Time
	pids, restarts, ready := map[int]bool{}, 0, false
	for _, e := range log.all() {
		switch e.Kind {
		case EventReady:
			ready = true
		case EventExited:
			if !ready {
				t.Errorf("incarnation %d exited before it was ready: %s", e.Replica.PID, e.Reason)
			}
			exitAt, ready = e.Time, false
		case EventStarted:
			pids[e.Replica.PID] = true
			if !exitAt.IsZero() {
				restarts++
				if gap, want := e.Time.Sub(exitAt), backoff.Delay(restarts); gap < want {
					t.Errorf("restart %d after %v, want >= %v", restarts, gap, want)
				}
			}
		}
	}
	if len(pids) < 4 {
		t.Errorf("want 4 distinct PIDs, got %v", pids)
	}
}

func TestCrashRestarts(t *testing.T) {
	s, _ := newTestSupervisor(t, Config{})
	mustStart(t, s, testSpec(t, "v1", 1, "TS_EXIT_AFTER=150ms"))
	rs := waitUntil(t, s, "v1", 10*time.Second, "2 restarts", func(rs []Replica) bool { return len(rs) == 1 && rs[0].Restarts >= 2 })
	if rs[0].LastExit != "exit status 3" {
		t.Errorf("LastExit = %q, want exit status 3", rs[0].LastExit)
	}
	data, _ := os.ReadFile(rs[0].LogPath)
	if n := strings.Count(string(data), "exiting by request"); n < 2 {
		t.Errorf("log has %d exits, want appended logs of every run:\n%s", n, data)
	}
}

func TestGracefulStop(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		grace    time.Duration
		min, max time.Duration
	}{
		{"exits on SIGTERM", nil, 5 * time.Second, 0, 3 * time.Second},
		{"ignores SIGTERM: killed after grace", []string{"TS_IGNORE_TERM=1"}, 400 * time.Millisecond, 400 * time.Millisecond, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, log := newTestSupervisor(t, Config{})
			spec := testSpec(t, "v1", 1, tt.env...)
			spec.GracePeriod = tt.grace
			mustStart(t, s, spec)
			waitReady(t, s, "v1", 1)
			r := s.Replicas("v1")[0]
			start := time.Now()
			if err := s.Stop(context.Background(), "v1"); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < tt.min || d > tt.max {
				t.Errorf("stop took %v, want in [%v, %v]", d, tt.min, tt.max)
			}
			if alive(r.Record) {
				t.Error("process still alive after Stop")
			}
			if got := s.Replicas("v1"); len(got) != 0 {
				t.Errorf("replicas after stop: %+v", got)
			}
			data, _ := os.ReadFile(r.LogPath)
			if !strings.Contains(string(data), "got SIGTERM") {
				t.Errorf("replica never saw SIGTERM; log:\n%s", data)
			}
			evs := log.all()
			if evs[len(evs)-1].Kind != EventStopped {
				t.Errorf("last event %v, want stopped", evs[len(evs)-1].Kind)
			}
		})
	}
}

func TestReplicasSurviveCloseAndAreAdopted(t *testing.T) {
	s1, _ := newTestSupervisor(t, Config{})
	spec := testSpec(t, "v1", 2)
	mustStart(t, s1, spec)
	waitReady(t, s1, "v1", 2)
	records := s1.Records()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s1.Start(context.Background(), spec); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
	for _, r := range records {
		if !alive(r) {
			t.Fatalf("replica %d died with Close", r.PID)
		}
		resp, err := http.Get("http://" + r.Addr() + "/ready")
		if err != nil {
			t.Fatalf("replica unreachable after Close: %v", err)
		}
		_ = resp.Body.Close()
	}

	s2, log := newTestSupervisor(t, Config{})
	if err := s2.Adopt(context.Background(), spec, records); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s2, "v1", 2)
	for i, r := range s2.Replicas("v1") {
		if r.PID != records[i].PID || r.Port != records[i].Port || r.Restarts != 0 {
			t.Errorf("adopted %+v, recorded %+v", r, records[i])
		}
	}
	adopted := 0
	for _, e := range log.all() {
		if e.Kind == EventAdopted {
			adopted++
		}
	}
	if adopted != 2 {
		t.Errorf("%d adopted events, want 2", adopted)
	}
	// An adopted replica is not our child; its death is still seen.
	if err := syscall.Kill(records[0].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, s2, "v1", 10*time.Second, "restart of the killed adopted replica", func(rs []Replica) bool {
		return rs[0].Restarts == 1 && rs[0].Ready && rs[0].PID != records[0].PID
	})
}

func TestAdoptRestartsDeadAndReusedRecords(t *testing.T) {
	s, _ := newTestSupervisor(t, Config{})
	spec := testSpec(t, "v1", 2)

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	self, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	rec := func(id string, pid int, st uint64) Record {
		return Record{ID: id, Service: "hello", Environment: "test", Version: "v1", PID: pid, StartTime: st}
	}
	records := []Record{
		rec("hello.test.v1.dead", dead.Process.Pid, 12345),
		// This PID is alive but is another process (ours): it must not be touched.
		rec("hello.test.v1.reused", os.Getpid(), self.StartTime+1),
	}
	if err := s.Adopt(context.Background(), spec, records); err != nil {
		t.Fatal(err)
	}
	waitReady(t, s, "v1", 2)
	for _, r := range s.Replicas("v1") {
		if r.PID == records[0].PID || r.PID == os.Getpid() || r.Restarts != 1 {
			t.Errorf("replica %s: pid %d restarts %d, want a fresh process counted as a restart", r.ID, r.PID, r.Restarts)
		}
	}
	bad := records[0]
	bad.Version = "v9"
	if err := s.Adopt(context.Background(), spec, []Record{bad}); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("Adopt of another version = %v, want ErrInvalidSpec", err)
	}
}

func TestContextCancellation(t *testing.T) {
	t.Run("Start with a cancelled ctx spawns nothing", func(t *testing.T) {
		s, _ := newTestSupervisor(t, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Start(ctx, testSpec(t, "v1", 2)); !errors.Is(err, context.Canceled) {
			t.Errorf("Start = %v", err)
		}
		if n := len(s.Replicas("")); n != 0 {
			t.Errorf("%d replicas", n)
		}
	})
	t.Run("WaitReady", func(t *testing.T) {
		s, _ := newTestSupervisor(t, Config{})
		mustStart(t, s, testSpec(t, "v1", 1, "TS_FAIL_READY=1"))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if err := s.WaitReady(ctx, "v1", 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitReady = %v", err)
		}
	})
	t.Run("Stop kills when ctx ends during the grace period", func(t *testing.T) {
		s, _ := newTestSupervisor(t, Config{})
		spec := testSpec(t, "v1", 1, "TS_IGNORE_TERM=1")
		spec.GracePeriod = time.Minute
		mustStart(t, s, spec)
		waitReady(t, s, "v1", 1)
		r := s.Replicas("v1")[0]
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := s.Stop(ctx, "v1"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Stop took %v", d)
		}
		waitGone(t, r.Record)
	})
}

// waitGone waits for a SIGKILLed process to disappear.
func waitGone(t *testing.T, r Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for alive(r) {
		select {
		case <-ctx.Done():
			t.Fatalf("process %d still alive", r.PID)
		case <-tick.C:
		}
	}
}

func TestSpecValidation(t *testing.T) {
	good := testSpec(t, "v1", 1)
	tests := []struct {
		name   string
		mutate func(*Spec)
	}{
		{"relative binary", func(s *Spec) { s.Binary = "hello" }},
		{"missing binary", func(s *Spec) { s.Binary = "/nonexistent/hello" }},
		{"bad version", func(s *Spec) { s.Version = "../v1" }},
		{"empty service", func(s *Spec) { s.Service = "" }},
		{"negative replicas", func(s *Spec) { s.Replicas = -1 }},
		{"no log dir", func(s *Spec) { s.LogDir = "" }},
		{"tiny cpu", func(s *Spec) { s.Resources.CPUMillicores = 5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := good
			tt.mutate(&spec)
			s, _ := newTestSupervisor(t, Config{})
			if err := s.Start(context.Background(), spec); !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("Start = %v, want ErrInvalidSpec", err)
			}
		})
	}
	t.Run("other service", func(t *testing.T) {
		s, _ := newTestSupervisor(t, Config{})
		mustStart(t, s, func() Spec { s := good; s.Replicas = 0; return s }())
		other := good
		other.Service = "other"
		if err := s.Start(context.Background(), other); !errors.Is(err, ErrOtherService) {
			t.Errorf("Start = %v, want ErrOtherService", err)
		}
	})
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Delay(i + 1); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if got := (Backoff{}).Delay(100); got != 30*time.Second {
		t.Errorf("default cap = %v", got)
	}
}
