package router

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves the router on ln until ctx ends, then shuts down gracefully:
// it stops accepting, waits up to Options.ShutdownTimeout for requests in
// flight, and returns nil if they all finished (otherwise an error wrapping
// context.DeadlineExceeded). It closes ln. Serve may be called for several
// listeners at once.
func (r *Router) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 30 * time.Second,
		// Requests do not inherit ctx: its end must drain them, not cut them.
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("router: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("router: shutdown %s: %w", ln.Addr(), err)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("router: serve %s: %w", ln.Addr(), serr)
	}
	return err
}

// Drain waits until no request is in flight to ver, or ctx ends (returning
// ctx.Err()). Called after SetRoute or SetBackends has taken ver out of the
// route, it returns once ver will receive no more requests: the requests it
// waited for are the last ones. A version never routed has nothing in flight.
func (r *Router) Drain(ctx context.Context, ver string) error {
	v, ok := r.lookup(ver)
	if !ok {
		return nil
	}
	if err := v.drain(ctx); err != nil {
		return fmt.Errorf("router: drain %s: %w", ver, err)
	}
	return nil
}

// InFlight returns the number of requests being proxied to ver.
func (r *Router) InFlight(ver string) int64 {
	if v, ok := r.lookup(ver); ok {
		return v.inflight.Load()
	}
	return 0
}

// Snapshot returns ver's cumulative statistics (all zero for a version the
// router never routed). Requests, Errors and Buckets are read together, so
// they are consistent with each other.
func (r *Router) Snapshot(ver string) Snapshot {
	if v, ok := r.lookup(ver); ok {
		return v.snapshot()
	}
	s := Snapshot{Buckets: make([]Bucket, len(latencyBuckets))}
	for i, ub := range latencyBuckets {
		s.Buckets[i].UpperBound = ub
	}
	return s
}

// MetricsHandler serves the router's metrics in the Prometheus exposition
// format, from the router's own registry.
func (r *Router) MetricsHandler() http.Handler { return r.m.handler }
