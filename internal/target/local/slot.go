package local

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/target/local/router"
	"github.com/slipway-ci/slipway/internal/target/local/supervisor"
)

// MetricsPath is where a slot's router answers with its Prometheus metrics,
// on the slot's own address.
const MetricsPath = "/_slipway/metrics"

// slot is one service in one environment.
type slot struct {
	t            *Target
	service, env string
	op           chan struct{} // serialises Apply, Remove and close; room for one

	saveMu sync.Mutex // serialises writes of the slot file
	bkMu   sync.Mutex // serialises router backend updates

	mu       sync.Mutex // guards the fields below
	file     slotFile   // the persisted view; Replicas only until adopted
	active   bool       // served and supervised by this Target
	gone     bool       // removed or closed
	sup      *supervisor.Supervisor
	rt       *router.Router
	stopServ context.CancelFunc
	served   chan struct{}
	live     map[string]bool // versions whose ready replicas get traffic
	excluded map[string]bool // replica IDs being stopped
	changed  chan struct{}   // closed and replaced on every replica event
}

func newSlot(t *Target, f slotFile) *slot {
	return &slot{t: t, service: f.Service, env: f.Env, op: make(chan struct{}, 1), file: f,
		live: map[string]bool{}, excluded: map[string]bool{}, changed: make(chan struct{})}
}

// lock takes the slot's operation lock unless ctx ends first.
func (s *slot) lock(ctx context.Context) error {
	select {
	case s.op <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *slot) unlock() { <-s.op }

// supervisor returns the slot's supervisor, creating it.
func (s *slot) supervisor() *supervisor.Supervisor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sup == nil {
		s.sup = supervisor.New(supervisor.Config{CgroupParent: s.t.opts.CgroupParent, OnEvent: s.onEvent, Now: s.t.opts.Now})
	}
	return s.sup
}

// activate serves the router (on w.Listen, else the recorded address,
// else a free loopback port) with the recorded route. Callers hold the op lock.
func (s *slot) activate(w target.Workload) error {
	s.mu.Lock()
	active, addr, route := s.active, s.file.Address, s.file.Route
	s.mu.Unlock()
	if active {
		return nil
	}
	if w.Listen != "" {
		addr = w.Listen
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("local: router of %s/%s: %w", s.service, s.env, err)
	}
	rt := router.New(router.Options{Service: s.service, Env: s.env, CanaryHeader: w.CanaryHeader,
		MetricsPath: MetricsPath, ShutdownTimeout: 5 * time.Second, Now: s.t.opts.Now})
	if route.Stable != "" { // traffic comes back with the recorded weights
		if err := rt.SetRoute(routerRoute(route)); err != nil {
			ln.Close() //nolint:errcheck
			return fmt.Errorf("local: recorded route of %s/%s: %w", s.service, s.env, err)
		}
	}
	s.supervisor()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := rt.Serve(ctx, ln); err != nil {
			s.t.logf("local: router %s/%s: %v", s.service, s.env, err)
		}
	}()
	s.mu.Lock()
	s.active, s.rt, s.stopServ, s.served = true, rt, cancel, served
	s.file.Address = ln.Addr().String()
	s.mu.Unlock()
	return nil
}

// stopServing closes the router's listener, waiting for requests in flight.
func (s *slot) stopServing() {
	s.mu.Lock()
	stop, served := s.stopServ, s.served
	s.stopServ = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-served
	}
}

// onEvent follows the supervisor: readiness moves router backends, new and
// stopped processes are persisted.
func (s *slot) onEvent(e supervisor.Event) {
	if e.Kind == supervisor.EventStopped {
		s.mu.Lock()
		delete(s.excluded, e.Replica.ID)
		s.mu.Unlock()
	}
	s.syncBackends(e.Replica.Version)
	if e.Kind == supervisor.EventStarted || e.Kind == supervisor.EventStopped {
		if err := s.save(); err != nil {
			s.t.logf("%v", err)
		}
	}
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// syncBackends gives the router ver's ready replicas (none unless ver is live).
func (s *slot) syncBackends(ver string) {
	s.bkMu.Lock()
	defer s.bkMu.Unlock()
	s.mu.Lock()
	rt, sup, live := s.rt, s.sup, s.live[ver]
	excluded := make(map[string]bool, len(s.excluded))
	for id := range s.excluded {
		excluded[id] = true
	}
	s.mu.Unlock()
	if rt == nil || sup == nil {
		return
	}
	var addrs []string
	if live {
		for _, r := range sup.Replicas(ver) {
			if r.Ready && !excluded[r.ID] {
				addrs = append(addrs, r.Addr())
			}
		}
	}
	if err := rt.SetBackends(ver, addrs); err != nil {
		s.t.logf("local: %s/%s: %v", s.service, s.env, err)
	}
}

// save persists the slot: its view plus the supervisor's current records.
func (s *slot) save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		return nil
	}
	f := s.file
	f.Versions = slices.Clone(f.Versions)
	sup := s.sup
	s.mu.Unlock()
	if sup != nil {
		f.Replicas = append(sup.Records(), pendingRecords(f.Replicas, sup)...)
	}
	return saveSlot(s.t.dir, s.service, s.env, &f)
}

// pendingRecords are the recorded replicas sup does not supervise (yet).
func pendingRecords(recs []supervisor.Record, sup *supervisor.Supervisor) []supervisor.Record {
	known := map[string]bool{}
	for _, r := range sup.Records() {
		known[r.ID] = true
	}
	var out []supervisor.Record
	for _, r := range recs {
		if !known[r.ID] {
			out = append(out, r)
		}
	}
	return out
}

// close releases the slot's goroutines and listener, leaving replicas running.
func (s *slot) close() error {
	if err := s.lock(context.Background()); err != nil {
		return err
	}
	defer s.unlock()
	s.stopServing()
	s.mu.Lock()
	sup := s.sup
	s.gone = true
	s.mu.Unlock()
	var err error
	if sup != nil {
		err = sup.Close()
	}
	s.notify()
	return err
}

func (s *slot) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func routerRoute(r target.Route) router.Route {
	return router.Route{Stable: r.Stable, Canary: r.Canary, CanaryWeight: r.CanaryWeight}
}
