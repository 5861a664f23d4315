package router

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// statusClientClosed records a request whose client went away before the
// backend answered (nginx's 499): not the backend's fault, so not a 5xx.
const statusClientClosed = 499

type backendKey struct{}

// VersionHeader names the version that answered, on every proxied response.
const VersionHeader = "X-Slipway-Version"

// ServeHTTP routes one request to a ready backend of the version chosen by
// the route and the canary header, and records it for that version.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.opts.MetricsPath != "" && req.URL.Path == r.opts.MetricsPath {
		r.m.handler.ServeHTTP(w, req)
		return
	}
	start := r.opts.Now()
	v, backend := r.pick(ParseOverride(req.Header.Get(r.header)))
	switch {
	case v == nil:
		http.Error(w, "router: no route", http.StatusServiceUnavailable)
		return
	case backend == nil:
		http.Error(w, "router: no ready backend for "+v.name, http.StatusServiceUnavailable)
		r.finish(v, http.StatusServiceUnavailable, start)
		return
	}
	// Say which version answered: clients, load tests and humans can tell
	// stable from canary without asking the application.
	w.Header().Set(VersionHeader, v.name)
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		code := sw.status()
		p := recover()
		if p != nil { // the response broke mid-body (http.ErrAbortHandler)
			code = http.StatusBadGateway
			if req.Context().Err() != nil {
				code = statusClientClosed
			}
		}
		r.finish(v, code, start)
		v.leave()
		if p != nil {
			panic(p)
		}
	}()
	r.proxy.ServeHTTP(sw, req.WithContext(context.WithValue(req.Context(), backendKey{}, backend)))
}

// finish records a request of v that ended with code.
func (r *Router) finish(v *version, code int, start time.Time) {
	v.record(code, r.opts.Now().Sub(start))
	r.m.count(v, code)
}

// pick chooses the version and backend of a request. With a backend, the
// version is returned entered (in flight; the caller must leave it); without
// one, the version is the one the request was meant for (nil: no route).
//
// The in-flight count is raised before the state is read again: if the state
// changed meanwhile, the choice is undone and made again. So once SetRoute or
// SetBackends has returned, every request counted against an old version was
// counted before Drain could look, and Drain waits for it.
func (r *Router) pick(ov Override) (*version, *url.URL) {
	var seq *atomic.Uint64
	var n uint64
	for {
		st := r.state.Load()
		if st == nil {
			return nil, nil
		}
		want, alt := st.stable, st.canary
		switch {
		case st.canary == nil:
			alt = nil
		case ov == OverrideAlways:
			want, alt = st.canary, nil
		case ov == OverrideNever:
			alt = nil
		default:
			if seq != st.seq { // one slot per request, even when retried
				seq, n = st.seq, st.seq.Add(1)
			}
			if toCanary(n, st.ppm) {
				want, alt = st.canary, st.stable
			}
		}
		got := want
		if got.p == nil && alt != nil && alt.p != nil {
			got = alt // fallback: see the package doc
		}
		if got.p == nil {
			return want.v, nil
		}
		if r.afterChoose != nil {
			r.afterChoose()
		}
		got.v.enter()
		if r.state.Load() == st {
			return got.v, got.p.pick()
		}
		got.v.leave()
	}
}

// rewrite points the outgoing request at the chosen backend, keeping the
// client's Host header and adding X-Forwarded-*.
func rewrite(pr *httputil.ProxyRequest) {
	u := pr.In.Context().Value(backendKey{}).(*url.URL)
	pr.Out.URL.Scheme, pr.Out.URL.Host = u.Scheme, u.Host
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
}

// proxyError answers 502 when the backend cannot be reached or fails
// mid-response, or records 499 when the client went away.
func (r *Router) proxyError(w http.ResponseWriter, req *http.Request, err error) {
	if req.Context().Err() != nil {
		w.(*statusWriter).code = statusClientClosed
		return
	}
	r.opts.Logger.Warn("router: backend failed", "service", r.opts.Service, "env", r.opts.Env,
		"backend", req.URL.Host, "err", err)
	w.WriteHeader(http.StatusBadGateway)
}

// statusWriter remembers the response status; Unwrap lets
// http.ResponseController reach Flush and Hijack (streaming, upgrades).
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 && code >= 200 || code == http.StatusSwitchingProtocols {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}
