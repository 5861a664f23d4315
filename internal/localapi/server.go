package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slipway-ci/slipway/internal/flock"
)

// Options configure Serve.
type Options struct {
	// StateDir holds up/ (token, lock, info.json). Required.
	StateDir string
	// Addr is a loopback host:port; "" means 127.0.0.1:0 (a free port).
	// Any non-loopback address is refused.
	Addr string
	// Handler serves every route except /v1/ping and /v1/shutdown. It is
	// only reached by authenticated requests. nil answers 404.
	Handler http.Handler
	// Logf receives operational messages (start, denied requests); nil
	// discards them.
	Logf func(format string, args ...any)
	// Version is published in info.json and /v1/ping.
	Version string
}

// lockSettle bounds how long Serve waits for a lock holder to publish its
// info before reporting it as running anyway.
const lockSettle = 2 * time.Second

// Server is a running local API. Its lifecycle, for the owner (`slipway up`):
//
//  1. Serve takes the state dir's lock, binds, publishes info.json.
//  2. The owner waits for its signal context or ShutdownRequested (closed by
//     POST /v1/shutdown, i.e. `slipway down`).
//  3. The owner stops its own components first, while the API still
//     answers (so clients see progress rather than connection errors), then
//     calls Shutdown, which drains in-flight requests, removes info.json and
//     releases the lock — the signal Stop waits for. Done is closed last.
//
// Shutdown waits for in-flight requests; a long-running handler (a progress
// stream) should end on its own when the owner stops the work it reports,
// otherwise its request context is cancelled only when Shutdown's ctx ends.
// Nothing shuts the server down on its own: the owner must call Shutdown or
// Close after ShutdownRequested. All methods are safe for concurrent use.
type Server struct {
	opts       Options
	info       Info
	lock       *fileLock
	hs         *http.Server
	cancelBase context.CancelFunc

	reqOnce   sync.Once
	requested chan struct{}
	stopping  atomic.Bool
	stopErr   error // set before done is closed
	done      chan struct{}
}

// Serve starts the local API for opts.StateDir. ctx bounds start-up only.
// When another server holds the state dir it returns a *RunningError.
func Serve(ctx context.Context, opts Options) (*Server, error) {
	if opts.StateDir == "" {
		return nil, errors.New("local api: no state dir")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	addr, err := loopbackAddr(opts.Addr)
	if err != nil {
		return nil, err
	}
	lock, err := acquire(ctx, opts.StateDir)
	if err != nil {
		return nil, err
	}
	s, err := start(opts, addr, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	opts.Logf("local api listening on %s (pid %d)", s.info.Addr, s.info.PID)
	return s, nil
}

func start(opts Options, addr string, lock *fileLock) (*Server, error) {
	// Left over by a server that was killed: nobody may dial it any more.
	if err := os.Remove(infoPath(opts.StateDir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale info.json: %w", err)
	}
	token, err := Token(opts.StateDir)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("local api listen: %w", err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("local api: %s is not a loopback address", ln.Addr())
	}
	base, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:       opts,
		info:       Info{Addr: ln.Addr().String(), PID: os.Getpid(), Started: time.Now().UTC(), Version: opts.Version},
		lock:       lock,
		cancelBase: cancel,
		requested:  make(chan struct{}),
		done:       make(chan struct{}),
	}
	s.hs = &http.Server{
		Handler:           s.routes(token),
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	go s.serve(ln)
	b, _ := json.Marshal(s.info)
	if err := writeFileAtomic(infoPath(opts.StateDir), b); err != nil {
		s.hs.Close()
		cancel()
		return nil, fmt.Errorf("publish info.json: %w", err)
	}
	return s, nil
}

func (s *Server) serve(ln net.Listener) {
	if err := s.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.opts.Logf("local api: %v", err)
		s.requestShutdown() // the owner should wind down: the API is gone
	}
}

// acquire takes the lock, or explains who holds it. A holder that has not
// published info.json yet (or whose info names a dead pid) is given
// lockSettle to do so.
func acquire(ctx context.Context, stateDir string) (*fileLock, error) {
	deadline := time.Now().Add(lockSettle)
	for {
		l, err := tryLock(stateDir)
		if !errors.Is(err, flock.ErrLocked) {
			return l, err
		}
		info, ierr := readInfo(stateDir)
		if ierr == nil && pidAlive(info.PID) || time.Now().After(deadline) {
			return nil, &RunningError{PID: info.PID, Addr: info.Addr, Started: info.Started, StateDir: stateDir}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// Addr is the host:port the API listens on.
func (s *Server) Addr() string { return s.info.Addr }

// Info is what the server published in info.json.
func (s *Server) Info() Info { return s.info }

// ShutdownRequested is closed when a client asked for shutdown
// (POST /v1/shutdown), when Shutdown or Close was called, or when the
// listener failed.
func (s *Server) ShutdownRequested() <-chan struct{} { return s.requested }

// Done is closed once the server has stopped and released the state dir.
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) requestShutdown() { s.reqOnce.Do(func() { close(s.requested) }) }

// Shutdown stops accepting connections, waits for in-flight requests until
// ctx ends (then cancels their contexts and closes them), removes info.json
// and releases the lock. Later calls wait for the first one's result.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.stopping.CompareAndSwap(false, true) {
		s.requestShutdown()
		err := s.hs.Shutdown(ctx)
		if err != nil {
			s.cancelBase()
			s.hs.Close()
		}
		s.cancelBase()
		if rerr := os.Remove(infoPath(s.opts.StateDir)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
		s.lock.release()
		s.stopErr = err
		s.opts.Logf("local api stopped")
		close(s.done)
		return err
	}
	select {
	case <-s.done:
		return s.stopErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the server at once, without draining requests.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Shutdown(ctx)
	if errors.Is(err, context.Canceled) {
		return nil // requests were cut, as asked
	}
	return err
}

// loopbackAddr validates addr; only literal loopback IPs and "localhost"
// (bound as 127.0.0.1) are accepted.
func loopbackAddr(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("local api address %q: %w", addr, err)
	}
	if host == "localhost" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("local api address %q: only loopback addresses (127.0.0.1, ::1) are allowed", addr)
	}
	return addr, nil
}
