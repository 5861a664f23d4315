package supervisor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Config tunes a Supervisor; the zero value is usable.
type Config struct {
	// Backoff between restarts of a failing replica.
	Backoff Backoff
	// PollInterval is how often a replica's process is checked; default 100 ms.
	PollInterval time.Duration
	// LogMaxBytes bounds a replica's log: above it the log is moved to
	// <log>.1 (replacing the older one) and starts again empty, checked
	// every second. Default 16 MiB; negative: never.
	LogMaxBytes int64
	// CgroupParent is the group, relative to each cgroup hierarchy's mount
	// point, that holds replica groups. Default: "slipway" under the
	// supervising process's own cgroup (v1), or under the root (v2).
	CgroupParent string
	// OnEvent, if set, observes replica changes (see the package doc for rules).
	OnEvent func(Event)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// EventKind names a replica change.
type EventKind string

// Replica changes reported to Config.OnEvent.
const (
	EventStarted  EventKind = "started"   // a process was spawned (new PID: persist the record)
	EventAdopted  EventKind = "adopted"   // a recorded process was found alive
	EventReady    EventKind = "ready"     // readiness passed
	EventNotReady EventKind = "not-ready" // readiness failed or the process ended
	EventExited   EventKind = "exited"    // the process ended or failed liveness; a restart follows
	EventStopped  EventKind = "stopped"   // stopped on request; the record is void
)

// Event is one replica change with a snapshot of the replica after it.
type Event struct {
	Kind    EventKind
	Replica Replica
	Reason  string
	Time    time.Time
}

// Supervisor runs and watches replicas; see the package doc.
type Supervisor struct {
	cfg    Config
	cg     *cgroups
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	opMu   sync.Mutex // serialises Start, Adopt, Stop, StopAll
	evMu   sync.Mutex // one OnEvent call at a time

	mu       sync.Mutex
	closed   bool
	service  string
	env      string
	seq      int
	replicas map[string]*replica
	ports    map[int]bool
	changed  chan struct{} // closed and replaced on every change
}

// New returns an idle Supervisor.
func New(cfg Config) *Supervisor {
	cfg.Backoff = cfg.Backoff.withDefaults()
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LogMaxBytes == 0 {
		cfg.LogMaxBytes = 16 << 20
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Supervisor{
		cfg: cfg, ctx: ctx, cancel: cancel,
		cg:       &cgroups{parent: cfg.CgroupParent, mountTab: "/proc/self/mountinfo", selfTab: "/proc/self/cgroup"},
		replicas: map[string]*replica{},
		ports:    map[int]bool{},
		changed:  make(chan struct{}),
	}
}

// bind checks that spec belongs to this Supervisor's service and environment.
func (s *Supervisor) bind(spec Spec) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.service == "" {
		s.service, s.env = spec.Service, spec.Environment
	}
	if spec.Service != s.service || spec.Environment != s.env {
		return fmt.Errorf("%w: %s/%s, bound to %s/%s", ErrOtherService, spec.Service, spec.Environment, s.service, s.env)
	}
	return nil
}

func (s *Supervisor) prepare(ctx context.Context, spec Spec) (Spec, error) {
	if err := ctx.Err(); err != nil {
		return spec, err
	}
	if err := spec.validate(); err != nil {
		return spec, err
	}
	if err := s.bind(spec); err != nil {
		return spec, err
	}
	if err := os.MkdirAll(spec.LogDir, 0o750); err != nil {
		return spec, fmt.Errorf("supervisor: log dir: %w", err)
	}
	return spec.withDefaults(), nil
}

// Start makes spec.Replicas replicas of spec.Version run: it spawns the
// missing ones (returning once they are spawned, not ready) or stops the
// newest extras gracefully. Idempotent for an unchanged spec.
func (s *Supervisor) Start(ctx context.Context, spec Spec) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	spec, err := s.prepare(ctx, spec)
	if err != nil {
		return err
	}
	have := s.byVersion(spec.Version)
	if len(have) > spec.Replicas {
		for _, r := range have[spec.Replicas:] { // newest last
			if err := s.stopReplica(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}
	for range spec.Replicas - len(have) {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := s.add(spec, Record{})
		if err != nil {
			return err
		}
		if err := r.start(); err != nil {
			s.forget(r)
			return err
		}
		s.launch(r, false)
	}
	return nil
}

// Adopt re-attaches to records of spec.Version persisted earlier. A record
// whose process still runs (same PID and start time) is watched again; any
// other is restarted under the same ID, log file and, if free, port. Records
// already supervised are skipped. Adopt does not change the replica count: call
// Start afterwards to reconcile it with spec.Replicas.
func (s *Supervisor) Adopt(ctx context.Context, spec Spec, records []Record) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	spec, err := s.prepare(ctx, spec)
	if err != nil {
		return err
	}
	for _, rec := range records {
		if err := ctx.Err(); err != nil {
			return err
		}
		if rec.Version != spec.Version || rec.Service != spec.Service || rec.Environment != spec.Environment || !namePart.MatchString(rec.ID) {
			return fmt.Errorf("%w: record %q is not of %s/%s %s", ErrInvalidSpec, rec.ID, spec.Service, spec.Environment, spec.Version)
		}
		s.mu.Lock()
		_, known := s.replicas[rec.ID]
		s.mu.Unlock()
		if known {
			continue
		}
		alive := rec.PID > 0
		if alive {
			alive, _ = checkAlive(rec.PID, rec.StartTime)
		}
		if !alive {
			removeCgroups(rec.Cgroups) // strays of the dead replica go with it
			rec.Cgroups, rec.PID, rec.StartTime = nil, 0, 0
		}
		r, err := s.add(spec, rec)
		if err != nil {
			return err
		}
		if alive {
			r.mu.Lock()
			r.running, r.oomSeen = true, oomKills(rec.Cgroups)
			r.mu.Unlock()
			s.emit(EventAdopted, r, "")
		}
		s.launch(r, !alive)
	}
	return nil
}

// add registers a replica for rec (a new one when rec.ID is empty).
func (s *Supervisor) add(spec Spec, rec Record) (*replica, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if rec.ID == "" {
		rec = Record{ID: spec.Service + "." + spec.Environment + "." + spec.Version + "." + randomHex(4),
			Service: spec.Service, Environment: spec.Environment, Version: spec.Version}
	}
	if rec.LogPath == "" {
		rec.LogPath = filepath.Join(spec.LogDir, rec.ID+".log")
	}
	port := rec.Port
	if rec.PID == 0 || port == 0 {
		var err error
		if port, err = s.allocPortLocked(rec.Port); err != nil {
			return nil, err
		}
	}
	rec.Port = port
	s.ports[port] = true
	s.seq++
	r := &replica{s: s, spec: spec, rec: rec, seq: s.seq, done: make(chan struct{})}
	s.replicas[rec.ID] = r
	return r, nil
}

// launch starts the replica's watching goroutine.
func (s *Supervisor) launch(r *replica, needStart bool) {
	ctx, cancel := context.WithCancel(s.ctx)
	r.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(r.done)
		r.run(ctx, needStart)
	}()
}

func (s *Supervisor) forget(r *replica) {
	s.mu.Lock()
	delete(s.replicas, r.rec.ID)
	delete(s.ports, r.rec.Port)
	s.mu.Unlock()
	s.notify()
}

// allocPortLocked returns prefer when it is free, else a free loopback port
// not handed to another replica. The port is free when checked; a process of
// another program could still take it before the replica binds (accepted).
func (s *Supervisor) allocPortLocked(prefer int) (int, error) {
	if prefer > 0 && !s.ports[prefer] && portFree(prefer) {
		return prefer, nil
	}
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("supervisor: free port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !s.ports[p] {
			return p, nil
		}
	}
	return 0, errors.New("supervisor: no free loopback port")
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// byVersion lists the version's replicas, oldest first.
func (s *Supervisor) byVersion(version string) []*replica {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*replica
	for _, r := range s.replicas {
		if version == "" || r.rec.Version == version {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *replica) int { return a.seq - b.seq })
	return out
}

// Replicas snapshots the replicas of version ("" for all), oldest first.
func (s *Supervisor) Replicas(version string) []Replica {
	rs := s.byVersion(version)
	out := make([]Replica, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.snapshot())
	}
	return out
}

// Records returns the records of all replicas, for persisting.
func (s *Supervisor) Records() []Record {
	var out []Record
	for _, r := range s.Replicas("") {
		out = append(out, r.Record)
	}
	return out
}

// WaitReady waits until at least n replicas of version are ready.
func (s *Supervisor) WaitReady(ctx context.Context, version string, n int) error {
	for {
		s.mu.Lock()
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if closed {
			return ErrClosed
		}
		ready := 0
		for _, r := range s.Replicas(version) {
			if r.Ready {
				ready++
			}
		}
		if ready >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("supervisor: %d of %d replicas of %s ready: %w", ready, n, version, ctx.Err())
		case <-ch:
		}
	}
}

// Stop gracefully stops every replica of version.
func (s *Supervisor) Stop(ctx context.Context, version string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	return s.stopAll(ctx, version)
}

// StopAll gracefully stops every replica of every version.
func (s *Supervisor) StopAll(ctx context.Context) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	return s.stopAll(ctx, "")
}

// stopAll stops replicas concurrently, so grace periods overlap.
func (s *Supervisor) stopAll(ctx context.Context, version string) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	rs := s.byVersion(version)
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() { errs[i] = s.stopReplica(ctx, r) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stopReplica ends the watcher, then the process (SIGTERM, grace, SIGKILL),
// then its cgroups. If ctx ends first the group is SIGKILLed.
func (s *Supervisor) stopReplica(ctx context.Context, r *replica) error {
	r.cancel()
	select {
	case <-r.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.mu.Lock()
	pid, st, running := r.rec.PID, r.rec.StartTime, r.running
	r.mu.Unlock()
	var err error
	if running {
		err = terminate(ctx, pid, st, r.spec.GracePeriod, s.cfg.PollInterval, true)
	}
	removeCgroups(r.rec.Cgroups)
	r.mu.Lock()
	r.running, r.ready = false, false
	r.mu.Unlock()
	s.forget(r)
	s.emit(EventStopped, r, "stop requested")
	if err != nil {
		return fmt.Errorf("supervisor: stop %s: %w", r.rec.ID, err)
	}
	return nil
}

// Close stops watching without stopping the replicas; they keep running and
// can be adopted by another Supervisor. It waits for the goroutines to end.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.notify()
	return nil
}

func (s *Supervisor) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *Supervisor) emit(kind EventKind, r *replica, reason string) {
	s.notify()
	if s.cfg.OnEvent == nil {
		return
	}
	s.evMu.Lock()
	defer s.evMu.Unlock()
	s.cfg.OnEvent(Event{Kind: kind, Replica: r.snapshot(), Reason: reason, Time: s.cfg.Now()})
}
