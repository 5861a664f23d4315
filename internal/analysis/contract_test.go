package analysis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slipway-ci/slipway/internal/analysis"
	"github.com/slipway-ci/slipway/internal/analysis/providertest"
	"github.com/slipway-ci/slipway/internal/testtool"
)

// Every metric provider passes the one contract suite: builtin over a
// router-like counter source, prometheus over a real Prometheus, webhook
// over an HTTP endpoint.
func TestProviderContract(t *testing.T) {
	t.Run("builtin", func(t *testing.T) {
		providertest.Run(t, providertest.Harness{New: newBuiltin, Unreachable: func(tb testing.TB) analysis.Provider {
			return mustProvider(tb, analysis.ProviderSpec{Builtin: &analysis.BuiltinSpec{Metric: analysis.BuiltinErrorRate}},
				analysis.Deps{Builtin: analysis.NewBuiltin(func(string) (analysis.Sample, error) {
					return analysis.Sample{}, errors.New("the router is gone")
				}, nil)})
		}})
	})
	t.Run("prometheus", func(t *testing.T) {
		ps := startPromSource(t)
		providertest.Run(t, providertest.Harness{New: ps.new, Unreachable: func(tb testing.TB) analysis.Provider {
			return mustProvider(tb, analysis.ProviderSpec{Prometheus: &analysis.PrometheusSpec{Address: "http://" + closedAddr(tb),
				Query: "up"}}, analysis.Deps{})
		}})
	})
	t.Run("webhook", func(t *testing.T) {
		providertest.Run(t, providertest.Harness{New: newWebhook, Unreachable: func(tb testing.TB) analysis.Provider {
			return mustProvider(tb, analysis.ProviderSpec{Webhook: &analysis.WebhookSpec{URL: "http://" + closedAddr(tb) + "/v",
				Value: "response.value"}}, analysis.Deps{})
		}})
	})
}

func mustProvider(tb testing.TB, spec analysis.ProviderSpec, deps analysis.Deps) analysis.Provider {
	tb.Helper()
	p, err := analysis.NewProvider(spec, deps)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// counters is a router's cumulative per-version data: Set adds a window
// of 1000 requests of which the ratio v failed.
type counters struct {
	mu sync.Mutex
	s  map[string]analysis.Sample
}

func (c *counters) sample(version string) (analysis.Sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.s[version], nil
}

func (c *counters) Set(_ context.Context, _ testing.TB, version string, v float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s[version]
	s.Requests += 1000
	s.Errors += int64(math.Round(v * 1000))
	c.s[version] = s
}

func newBuiltin(tb testing.TB) (analysis.Provider, providertest.Source) {
	c := &counters{s: map[string]analysis.Sample{}}
	p := mustProvider(tb, analysis.ProviderSpec{Builtin: &analysis.BuiltinSpec{Metric: analysis.BuiltinErrorRate}},
		analysis.Deps{Builtin: analysis.NewBuiltin(c.sample, nil)})
	return p, c
}

// promSource is a real Prometheus scraping a registry the test writes; each
// fixture gets its own gauge.
type promSource struct {
	reg  *prometheus.Registry
	prom string
	n    atomic.Int64
}

func startPromSource(tb testing.TB) *promSource {
	ps := &promSource{reg: prometheus.NewRegistry()}
	srv := httptest.NewServer(promhttp.HandlerFor(ps.reg, promhttp.HandlerOpts{}))
	tb.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	ps.prom = testtool.StartPrometheus(tb, "/metrics", u.Host)
	return ps
}

func (ps *promSource) new(tb testing.TB) (analysis.Provider, providertest.Source) {
	name := fmt.Sprintf("contract_value_%d", ps.n.Add(1))
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "contract"}, []string{"version"})
	ps.reg.MustRegister(g)
	tb.Cleanup(func() { ps.reg.Unregister(g) })
	p := mustProvider(tb, analysis.ProviderSpec{Prometheus: &analysis.PrometheusSpec{Address: ps.prom,
		Query: name + `{version="{{version}}"}`}}, analysis.Deps{})
	return p, &promGauge{g: g, p: p}
}

type promGauge struct {
	g *prometheus.GaugeVec
	p analysis.Provider
}

// Set sets the gauge and waits until Prometheus has scraped it.
func (s *promGauge) Set(ctx context.Context, tb testing.TB, version string, v float64) {
	tb.Helper()
	s.g.WithLabelValues(version).Set(v)
	q := analysis.Query{Metric: "scrape", Version: version, Args: analysis.Args{analysis.ArgVersion: version}}
	for {
		if r, err := s.p.Measure(ctx, q); err == nil && len(r.Values()) == 1 && r.Values()[0] == v {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("Prometheus did not scrape %s=%g", version, v)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// hook is a webhook's endpoint: GET /v?version=X answers {"value": ...}.
type hook struct {
	mu sync.Mutex
	v  map[string]float64
}

func (h *hook) Set(_ context.Context, _ testing.TB, version string, v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.v[version] = v
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	v, ok := h.v[r.URL.Query().Get("version")]
	h.mu.Unlock()
	if !ok {
		io.WriteString(w, `{"value": null}`)
		return
	}
	fmt.Fprintf(w, `{"value": %g}`, v)
}

func newWebhook(tb testing.TB) (analysis.Provider, providertest.Source) {
	h := &hook{v: map[string]float64{}}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	p := mustProvider(tb, analysis.ProviderSpec{Webhook: &analysis.WebhookSpec{URL: srv.URL + "/v?version={{version}}",
		Value: "response.value"}}, analysis.Deps{})
	return p, h
}
