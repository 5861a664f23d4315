// Package targettest is the deploy target contract suite: every
// implementation of target.Target runs [Run] from its own tests with a
// [Harness] that knows how to open it and what workloads it can run.
package targettest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/target"
)

// Harness adapts one target implementation to the suite.
type Harness struct {
	// Open returns a target over the persisted state named by state, a
	// fresh directory per test case. Called again with the same state
	// after Close, it returns a new instance that finds what the first one
	// persisted (a restart of `slipway up`). The suite closes what it opens.
	Open func(tb testing.TB, state string) target.Target
	// Versions returns at least 3 runnable versions with distinct names
	// and digests. A replica answers GET / with "<version name> <id>",
	// the id unique per process (e.g. "v1 pid=123"), and GET /healthz with 200.
	Versions func(tb testing.TB) []target.Version
	// Crashing returns a version whose workload exits right after it starts.
	Crashing func(tb testing.TB) target.Version
	// Unready returns a version whose workload runs and serves GET / but
	// never passes its readiness probe.
	Unready func(tb testing.TB) target.Version
	// Gone reports whether the process that answered body no longer runs;
	// nil skips those checks (a target whose workloads are not local).
	Gone func(tb testing.TB, body string) bool
}

const (
	service = "hello"
	env     = "contract"
	// caseTimeout bounds every case; waits inside use the case's ctx.
	caseTimeout = 90 * time.Second
)

// workload is what every case runs: fast readiness, a short grace period.
var workload = target.Workload{
	Readiness: target.Probe{Path: "/healthz", Interval: 100 * time.Millisecond, Timeout: time.Second, FailureThreshold: 3},
	StopGrace: 3 * time.Second,
}

// fixture is one case's target, reopened over the same state on demand.
type fixture struct {
	t      *testing.T
	h      Harness
	ctx    context.Context
	state  string
	tg     target.Target
	vs     []target.Version
	client *http.Client
}

func newFixture(t *testing.T, h Harness) *fixture {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	f := &fixture{t: t, h: h, ctx: ctx, state: t.TempDir(), vs: h.Versions(t),
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}}
	if len(f.vs) < 3 {
		t.Fatalf("harness gave %d versions, want at least 3", len(f.vs))
	}
	f.tg = h.Open(t, f.state)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := f.tg.Remove(cctx, service, env); err != nil && !errors.Is(err, target.ErrUnknownSlot) {
			t.Errorf("cleanup: Remove: %v", err)
		}
		if err := f.tg.Close(); err != nil {
			t.Errorf("cleanup: Close: %v", err)
		}
	})
	return f
}

// reopen closes the target and opens a new instance over the same state.
func (f *fixture) reopen() {
	f.t.Helper()
	if err := f.tg.Close(); err != nil {
		f.t.Fatalf("Close: %v", err)
	}
	f.tg = f.h.Open(f.t, f.state)
}

// version returns the i-th harness version with n replicas.
func (f *fixture) version(i, n int) target.Version {
	v := f.vs[i]
	v.Replicas = n
	return v
}

// apply applies the versions with route and waits until all are ready.
func (f *fixture) apply(route target.Route, vs ...target.Version) {
	f.t.Helper()
	d := target.Desired{Service: service, Env: env, Versions: vs, Route: route, Workload: workload}
	if err := f.tg.Apply(f.ctx, d); err != nil {
		f.t.Fatalf("Apply(%+v): %v", route, err)
	}
	for _, v := range vs {
		if err := f.tg.WaitReady(f.ctx, service, env, v.Name, v.Replicas); err != nil {
			f.t.Fatalf("WaitReady(%s, %d): %v", v.Name, v.Replicas, err)
		}
	}
}

func (f *fixture) status() target.Status {
	f.t.Helper()
	st, err := f.tg.Status(f.ctx, service, env)
	if err != nil {
		f.t.Fatalf("Status: %v", err)
	}
	return st
}

// get sends GET / through the slot's endpoint (with the canary header set
// to header unless empty) and returns the body of its 200 answer.
func (f *fixture) get(header string) string {
	f.t.Helper()
	code, body := f.try(header)
	if code != http.StatusOK {
		f.t.Fatalf("GET / (canary header %q): %d %q", header, code, body)
	}
	return body
}

// try is get that returns any answer's status code and body.
func (f *fixture) try(header string) (int, string) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, f.status().Endpoint+"/", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if header != "" {
		req.Header.Set("X-Slipway-Canary", header)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("GET %s: %v", req.URL, err)
	}
	defer resp.Body.Close() //nolint:errcheck
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("GET %s: %v", req.URL, err)
	}
	return resp.StatusCode, string(b)
}

// spread sends n requests and counts the answering bodies and versions.
func (f *fixture) spread(n int, header string) (bodies, versions map[string]int) {
	f.t.Helper()
	bodies, versions = map[string]int{}, map[string]int{}
	for range n {
		b := f.get(header)
		bodies[b]++
		versions[versionOf(b)]++
	}
	return bodies, versions
}

func versionOf(body string) string {
	name, _, _ := strings.Cut(body, " ")
	return name
}

// refused checks that nothing accepts connections at endpoint.
func (f *fixture) refused(endpoint string) {
	f.t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(f.ctx, "tcp", u.Host)
	if err == nil {
		c.Close() //nolint:errcheck
		f.t.Errorf("%s still accepts connections", endpoint)
	}
}

// gone checks that the processes that answered bodies no longer run.
func (f *fixture) gone(bodies map[string]int) {
	f.t.Helper()
	if f.h.Gone == nil {
		return
	}
	for b := range bodies {
		if !f.h.Gone(f.t, b) {
			f.t.Errorf("process %q still runs", b)
		}
	}
}
