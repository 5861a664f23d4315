package executortest

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// guard checks the Output contract: one write at a time, none after Wait
// has returned. Violations fail the test at cleanup.
type guard struct {
	inflight atomic.Int32
	closed   atomic.Bool
	mu       sync.Mutex
	problems []string
}

func (g *guard) enter() {
	if g.closed.Load() {
		g.problem("write after Wait returned")
	}
	if g.inflight.Add(1) > 1 {
		g.problem("concurrent writes to Job.Output")
	}
}

func (g *guard) leave() { g.inflight.Add(-1) }

// close marks Wait as returned.
func (g *guard) close() { g.closed.Store(true) }

func (g *guard) problem(p string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.problems = append(g.problems, p)
}

func (g *guard) check(t testing.TB) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.problems) > 0 {
		t.Errorf("Output contract broken: %q", g.problems)
	}
}

// recorder keeps a job's output and lets a test wait for a marker in it.
type recorder struct {
	guard
	mu      sync.Mutex
	buf     bytes.Buffer
	markers map[string]chan struct{}
}

func newRecorder(t testing.TB) *recorder {
	r := &recorder{markers: map[string]chan struct{}{}}
	t.Cleanup(func() { r.check(t) })
	return r
}

func (r *recorder) Write(p []byte) (int, error) {
	r.enter()
	defer r.leave()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Write(p)
	for m, c := range r.markers {
		if bytes.Contains(r.buf.Bytes(), []byte(m)) {
			close(c)
			delete(r.markers, m)
		}
	}
	return len(p), nil
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// await blocks until the output contains marker.
func (r *recorder) await(t testing.TB, marker string) {
	t.Helper()
	r.mu.Lock()
	c := make(chan struct{})
	if bytes.Contains(r.buf.Bytes(), []byte(marker)) {
		close(c)
	} else {
		r.markers[marker] = c
	}
	r.mu.Unlock()
	select {
	case <-c:
	case <-time.After(limit):
		t.Fatalf("output has no %q after %v: %q", marker, limit, r.String())
	}
}

// patternWriter checks, without keeping it, that the output is pattern
// repeated, and counts it.
type patternWriter struct {
	guard
	pattern []byte
	n       int64
	bad     error
}

func (w *patternWriter) Write(p []byte) (int, error) {
	w.enter()
	defer w.leave()
	for i, b := range p {
		if want := w.pattern[(w.n+int64(i))%int64(len(w.pattern))]; b != want && w.bad == nil {
			w.bad = fmt.Errorf("byte %d is %q, want %q", w.n+int64(i), b, want)
		}
	}
	w.n += int64(len(p))
	return len(p), nil
}
