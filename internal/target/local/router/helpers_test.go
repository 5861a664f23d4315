package router

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// backend is a real loopback HTTP server that answers with its name.
type backend struct {
	name string
	addr string
	hits atomic.Int64
}

// startBackend starts a backend; h (optional) runs before the answer and
// may write the response itself (return true).
func startBackend(tb testing.TB, name string, h func(http.ResponseWriter, *http.Request) bool) *backend {
	tb.Helper()
	b := &backend{name: name}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b.hits.Add(1)
		w.Header().Set("X-Backend", name)
		if h != nil && h(w, req) {
			return
		}
		_, _ = io.WriteString(w, name)
	}))
	tb.Cleanup(srv.Close)
	b.addr = strings.TrimPrefix(srv.URL, "http://")
	return b
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// serve runs r.Serve on a loopback listener until the test ends and
// returns its base URL; Serve must then return nil.
func serve(tb testing.TB, r *Router) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// mustSetRoute sets a route that must be valid.
func mustSetRoute(tb testing.TB, r *Router, rt Route) {
	tb.Helper()
	if err := r.SetRoute(rt); err != nil {
		tb.Fatal(err)
	}
}

// mustSetBackends sets backends that must be valid.
func mustSetBackends(tb testing.TB, r *Router, ver string, bs ...*backend) {
	tb.Helper()
	addrs := make([]string, len(bs))
	for i, b := range bs {
		addrs[i] = b.addr
	}
	if err := r.SetBackends(ver, addrs); err != nil {
		tb.Fatal(err)
	}
}

// reply is what one request got.
type reply struct {
	code    int
	backend string // X-Backend of the answer, "" when the router answered
	version string // the router's X-Slipway-Version
	body    string
}

// get sends one GET with optional header pairs (name, value, ...).
func get(tb testing.TB, c *http.Client, url string, hdr ...string) reply {
	tb.Helper()
	rep, err := tryGet(c, url, hdr...)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

func tryGet(c *http.Client, url string, hdr ...string) (reply, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return reply{}, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{code: resp.StatusCode, backend: resp.Header.Get("X-Backend"), version: resp.Header.Get(VersionHeader),
		body: string(body)}, nil
}

// fakeClock is a clock that moves only when told: latency becomes exact.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// listen opens a loopback listener.
func listen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return ln
}
