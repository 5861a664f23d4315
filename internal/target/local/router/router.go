package router

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Router. The zero value works.
type Options struct {
	// Service and Env label the Prometheus series.
	Service, Env string
	// CanaryHeader names the header that forces a version
	// (default DefaultCanaryHeader).
	CanaryHeader string
	// MetricsPath, when set, is answered by the router itself with its
	// Prometheus metrics instead of being proxied (e.g. "/metrics"). Empty:
	// every path is proxied; use MetricsHandler on another listener.
	MetricsPath string
	// Transport carries proxied requests (default: a transport tuned for
	// loopback backends, without proxy-from-environment).
	Transport http.RoundTripper
	// ShutdownTimeout bounds how long Serve waits for in-flight requests
	// after its context ends (default 30 s).
	ShutdownTimeout time.Duration
	// Now is the clock for latency measurement (default time.Now).
	Now func() time.Time
	// Logger receives proxy errors (default slog.Default()).
	Logger *slog.Logger
}

// Router is the traffic router of one service in one environment. Create it
// with New; it is an http.Handler, so it can be served by Serve or by any
// http.Server. Until the first SetRoute every request gets 503.
type Router struct {
	opts   Options
	header string
	proxy  *httputil.ReverseProxy
	m      *metrics

	mu       sync.Mutex // serialises writers; guards the fields below
	versions map[string]*version
	pools    map[string]*pool
	seq      *atomic.Uint64 // weighted-request counter of the current route

	state atomic.Pointer[state] // what the request path reads

	afterChoose func() // test hook: runs between choosing a version and entering it
}

// state is an immutable snapshot of the route and its backends.
type state struct {
	route          Route
	ppm            uint64
	seq            *atomic.Uint64
	stable, canary *target // canary nil without a canary
}

// target is one version of a route with its ready backends (nil: none).
type target struct {
	v *version
	p *pool
}

// pool is one version's ready backends, taken round-robin.
type pool struct {
	addrs []*url.URL
	next  atomic.Uint64
}

func (p *pool) pick() *url.URL {
	return p.addrs[(p.next.Add(1)-1)%uint64(len(p.addrs))]
}

// New returns a Router with no route.
func New(opts Options) *Router {
	if opts.CanaryHeader == "" {
		opts.CanaryHeader = DefaultCanaryHeader
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Transport == nil {
		opts.Transport = loopbackTransport()
	}
	r := &Router{
		opts:     opts,
		header:   http.CanonicalHeaderKey(opts.CanaryHeader),
		m:        newMetrics(opts.Service, opts.Env),
		versions: map[string]*version{},
		pools:    map[string]*pool{},
	}
	r.proxy = &httputil.ReverseProxy{
		Rewrite:      rewrite,
		Transport:    opts.Transport,
		ErrorHandler: r.proxyError,
	}
	return r
}

// loopbackTransport keeps enough idle connections per replica for a busy
// router and never consults proxy environment variables.
func loopbackTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
	}
}

// SetRoute replaces the route in one atomic step: requests that start after
// it returns use the new route; requests in flight finish where they are
// (see Drain). Setting the current route again is a no-op.
func (r *Router) SetRoute(rt Route) error {
	if err := rt.validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur := r.state.Load(); cur != nil && cur.route == rt {
		return nil
	}
	r.seq = new(atomic.Uint64) // weights are exact per route
	r.publish(rt)
	r.m.weight.Set(rt.CanaryWeight)
	return nil
}

// Route returns the current route (zero before the first SetRoute).
func (r *Router) Route() Route {
	if st := r.state.Load(); st != nil {
		return st.route
	}
	return Route{}
}

// SetBackends sets the ready backends ("host:port") of a version, which
// need not be in the route yet; nil or empty means none is ready.
func (r *Router) SetBackends(ver string, addrs []string) error {
	if ver == "" {
		return errors.New("router: backends for an empty version")
	}
	p := &pool{}
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("router: backend %q of %s: %w", a, ver, err)
		}
		p.addrs = append(p.addrs, &url.URL{Scheme: "http", Host: a})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(p.addrs) == 0 {
		delete(r.pools, ver)
	} else {
		r.pools[ver] = p
	}
	if st := r.state.Load(); st != nil {
		r.publish(st.route)
	}
	return nil
}

// publish stores a new state for rt. Callers hold r.mu.
func (r *Router) publish(rt Route) {
	st := &state{route: rt, ppm: rt.ppm(), seq: r.seq, stable: r.target(rt.Stable)}
	if rt.Canary != "" {
		st.canary = r.target(rt.Canary)
	}
	r.state.Store(st)
}

// target returns ver's target, creating its version. Callers hold r.mu.
func (r *Router) target(ver string) *target {
	return &target{v: r.version(ver), p: r.pools[ver]}
}

// version returns ver's state, creating it. Callers hold r.mu.
func (r *Router) version(ver string) *version {
	v, ok := r.versions[ver]
	if !ok {
		v = r.m.newVersion(ver)
		r.versions[ver] = v
	}
	return v
}

// lookup returns ver's state if it was ever routed or given backends.
func (r *Router) lookup(ver string) (*version, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.versions[ver]
	return v, ok
}
