// Package registry is Slipway's embedded OCI registry: CNCF distribution on
// the filesystem of the state dir, served by exactly one process at a time,
// behind a policy that makes release tags immutable and environment tags
// Slipway-moved only.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/slipway-ci/slipway/internal/flock"
)

// Options configure Serve.
type Options struct {
	StateDir string
	Addr     string                           // listen address; "" = 127.0.0.1:0; must be loopback
	Holder   string                           // who serves: HolderRegistry (default), HolderRun, HolderUp
	Logf     func(format string, args ...any) // nil = silent
	// Wait, when the registry is held by a transient holder (a run or a
	// garbage collection), waits for it to end instead of failing with
	// HeldError. Long-lived holders ("registry", "up") are never waited for.
	Wait bool
}

// Server is a running embedded registry.
type Server struct {
	info Info
	lock *fileLock
	srv  *http.Server
	app  *handlers.App
	logf func(string, ...any)

	conns     *connTracker
	serveDone chan struct{}
	stopWatch chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Serve takes the state dir's registry lock, listens and serves until Close
// is called or ctx is done. If another holder serves it, Serve returns a
// *HeldError (after waiting, with o.Wait, for a transient holder).
func Serve(ctx context.Context, o Options) (*Server, error) {
	if o.StateDir == "" {
		return nil, errors.New("registry: no state dir")
	}
	if o.Holder == "" {
		o.Holder = HolderRegistry
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if err := checkLoopback(o.Addr); err != nil {
		return nil, err
	}
	quietDistribution()
	lock, err := acquire(ctx, o.StateDir, o.Wait)
	if err != nil {
		return nil, err
	}
	s, err := start(ctx, o, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	o.Logf("registry: %s serves %s at %s", o.Holder, o.StateDir, s.info.Addr)
	return s, nil
}

// start listens and serves under a lock already taken.
func start(ctx context.Context, o Options, lock *fileLock) (*Server, error) {
	creds, err := Credentials(o.StateDir)
	if err != nil {
		return nil, err
	}
	_, ns, err := openStorage(ctx, o.StateDir)
	if err != nil {
		return nil, err
	}
	app, err := newApp(o.StateDir)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		app.Shutdown()
		return nil, fmt.Errorf("registry listen: %w", err)
	}
	pt := &protectedTags{path: protectedPath(o.StateDir)}
	conns := &connTracker{states: map[net.Conn]http.ConnState{}}
	s := &Server{
		conns: conns,
		info:  Info{Addr: ln.Addr().String(), Holder: o.Holder, PID: os.Getpid(), Started: time.Now().UTC()},
		lock:  lock,
		app:   app,
		logf:  o.Logf,
		srv: &http.Server{
			Handler:           &policy{creds: creds, protected: pt.has, tagDigest: tagDigester(ns), next: app},
			ReadHeaderTimeout: 30 * time.Second,
			ConnState:         conns.track,
		},
		serveDone: make(chan struct{}),
		stopWatch: make(chan struct{}),
	}
	if err := lock.publish(s.info); err != nil {
		ln.Close()
		app.Shutdown()
		return nil, err
	}
	go func() {
		defer close(s.serveDone)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("registry: serve: %v", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.stopWatch:
		}
	}()
	return s, nil
}

// newApp builds distribution's handler; NewApp panics on bad storage.
func newApp(stateDir string) (app *handlers.App, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("registry: start distribution: %v", p)
		}
	}()
	return handlers.NewApp(context.Background(), distConfig(stateDir, randomToken())), nil
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.info.Addr }

// Info returns what the server published in its lock file.
func (s *Server) Info() Info { return s.info }

// Close shuts the server down gracefully (up to 10 s for requests in
// flight) and releases the lock. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stopWatch)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := s.shutdown(ctx)
		<-s.serveDone
		err = errors.Join(err, s.app.Shutdown(), s.lock.release())
		s.closeErr = err
		s.logf("registry: %s stopped serving at %s", s.info.Holder, s.info.Addr)
	})
	return s.closeErr
}

// shutdown is http.Server.Shutdown without its 5 s wait for connections
// that never sent a request (clients dial spare connections): once the
// listener is closed, those are closed at once.
func (s *Server) shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			s.conns.closeUnused()
		}
	}
}

// connTracker knows which connections have not sent a request yet.
type connTracker struct {
	mu     sync.Mutex
	states map[net.Conn]http.ConnState
}

func (t *connTracker) track(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(t.states, c)
	default:
		t.states[c] = st
	}
}

func (t *connTracker) closeUnused() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, st := range t.states {
		if st == http.StateNew {
			c.Close()
			delete(t.states, c)
		}
	}
}

// checkLoopback refuses listen addresses reachable from other hosts: reads
// are anonymous.
func checkLoopback(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("registry addr %q: %w", addr, err)
	}
	if IsLoopback(addr) {
		return nil
	}
	return fmt.Errorf("registry addr %q: not a loopback address (reads are anonymous)", addr)
}

// IsLoopback reports whether a host or host:port ("localhost", "[::1]:80")
// names this machine's loopback interface.
func IsLoopback(hostport string) bool {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		h = hostport
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// transient holders end by themselves; Serve with Wait waits for them.
func transient(holder string) bool { return holder == HolderRun || holder == HolderGC }

// acquire takes the lock, telling a live holder from a prober or a holder
// that has not published yet, and waiting for transient holders if asked.
func acquire(ctx context.Context, stateDir string, wait bool) (*fileLock, error) {
	var unknownSince time.Time
	for {
		l, err := tryLock(stateDir)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, flock.ErrLocked) {
			return nil, err
		}
		info := readInfo(stateDir)
		switch {
		case info.PID == 0:
			// A Running probe or a holder between lock and publish.
			if unknownSince.IsZero() {
				unknownSince = time.Now()
			} else if time.Since(unknownSince) > 2*time.Second {
				return nil, &HeldError{Info: info, StateDir: stateDir}
			}
		case !wait || !transient(info.Holder):
			return nil, &HeldError{Info: info, StateDir: stateDir}
		default:
			unknownSince = time.Time{}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("registry: waiting for %s (pid %d) to release: %w", info.Holder, info.PID, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Ensure returns the address of the state dir's registry: the running one
// if any (release is then a no-op), else one served in-process with holder
// "run" until release is called.
func Ensure(ctx context.Context, stateDir string, logf func(string, ...any)) (addr string, release func() error, err error) {
	for attempt := 0; ; attempt++ {
		info, ok, err := Running(stateDir)
		if err != nil {
			return "", nil, err
		}
		if ok && info.Addr != "" && info.Holder != HolderGC {
			return info.Addr, func() error { return nil }, nil
		}
		s, err := Serve(ctx, Options{StateDir: stateDir, Holder: HolderRun, Logf: logf, Wait: true})
		var held *HeldError
		if errors.As(err, &held) && attempt < 20 {
			continue // someone else started serving in between: use theirs
		}
		if err != nil {
			return "", nil, err
		}
		return s.Addr(), s.Close, nil
	}
}
