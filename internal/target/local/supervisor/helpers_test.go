package supervisor

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"
)

// testSpec runs this test binary as the test server.
func testSpec(tb testing.TB, version string, n int, env ...string) Spec {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	fast := Probe{Interval: 50 * time.Millisecond, Timeout: 500 * time.Millisecond, FailureThreshold: 2}
	ready, live := fast, fast
	ready.Path, live.Path = "/ready", "/healthz"
	// Startup of a -race binary on a loaded machine can take a second: only
	// the liveness test makes liveness strict.
	live.InitialDelay = 5 * time.Second
	return Spec{
		Service: "hello", Environment: "test", Version: version,
		Binary: exe, Env: append([]string{"SUPERVISOR_TEST_SERVER=1"}, env...),
		Replicas: n, Readiness: ready, Liveness: live,
		GracePeriod: 5 * time.Second, LogDir: tb.TempDir(),
	}
}

// eventLog collects events for assertions.
type eventLog struct {
	mu  sync.Mutex
	evs []Event
}

func (l *eventLog) add(e Event) { l.mu.Lock(); l.evs = append(l.evs, e); l.mu.Unlock() }

func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.evs...)
}

// newTestSupervisor returns a fast Supervisor whose replicas are all stopped
// when the test ends.
func newTestSupervisor(tb testing.TB, cfg Config) (*Supervisor, *eventLog) {
	tb.Helper()
	log := &eventLog{}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff = Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}
	}
	cfg.OnEvent = log.add
	s := New(cfg)
	tb.Cleanup(func() { stopAndClose(tb, s) })
	return s, log
}

func stopAndClose(tb testing.TB, s *Supervisor) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.StopAll(ctx); err != nil && err != ErrClosed {
		tb.Errorf("StopAll: %v", err)
	}
	_ = s.Close()
}

// waitUntil waits, without sleeping, for cond over the replicas of version.
func waitUntil(tb testing.TB, s *Supervisor, version string, d time.Duration, what string, cond func([]Replica) bool) []Replica {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		rs := s.Replicas(version)
		if cond(rs) {
			return rs
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("timed out waiting for %s; replicas: %+v", what, rs)
		case <-ch:
		}
	}
}

func waitReady(tb testing.TB, s *Supervisor, version string, n int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitReady(ctx, version, n); err != nil {
		tb.Fatalf("WaitReady: %v (%+v)", err, s.Replicas(version))
	}
}

func mustStart(tb testing.TB, s *Supervisor, spec Spec) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Start(ctx, spec); err != nil {
		tb.Fatalf("Start: %v", err)
	}
}

func alive(r Record) bool {
	ok, _ := checkAlive(r.PID, r.StartTime)
	return ok
}
