package router

import (
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// statsFixture routes v1 (2 ms, always 200) and v2 (300 ms, 500 on /fail)
// through a router with a fake clock that only the backends move, then
// sends 4 requests to v1, 3 good and 2 failing ones to v2, and one to v2
// after its only backend went away (502).
func statsFixture(t *testing.T) (*Router, string) {
	t.Helper()
	clock := newFakeClock()
	v1 := startBackend(t, "v1", func(http.ResponseWriter, *http.Request) bool {
		clock.Advance(2 * time.Millisecond)
		return false
	})
	v2 := startBackend(t, "v2", func(w http.ResponseWriter, req *http.Request) bool {
		clock.Advance(300 * time.Millisecond)
		if req.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	})
	r := New(Options{Service: "hello", Env: "staging", Now: clock.Now, MetricsPath: "/metrics"})
	mustSetBackends(t, r, "v1", v1)
	mustSetBackends(t, r, "v2", v2)
	mustSetRoute(t, r, Route{Stable: "v1", Canary: "v2", CanaryWeight: 25})
	url := serve(t, r)
	send := func(n int, path, override string, wantCode int) {
		for range n {
			if rep := get(t, http.DefaultClient, url+path, DefaultCanaryHeader, override); rep.code != wantCode {
				t.Fatalf("GET %s (%s): %d, want %d", path, override, rep.code, wantCode)
			}
		}
	}
	send(4, "/", "never", http.StatusOK)
	send(3, "/ok", "always", http.StatusOK)
	send(2, "/fail", "always", http.StatusInternalServerError)
	if err := r.SetBackends("v2", []string{deadAddr(t)}); err != nil {
		t.Fatal(err)
	}
	send(1, "/", "always", http.StatusBadGateway)
	return r, url
}

func TestSnapshotPerVersion(t *testing.T) {
	r, _ := statsFixture(t)
	tests := []struct {
		version          string
		requests, errors int64
		sum              float64
		cumulative       map[float64]int64 // upper bound -> cumulative count
	}{
		{"v1", 4, 0, 0.008, map[float64]int64{0.001: 0, 0.0025: 4, 10: 4}},
		// The 502 took no (fake) time; the others 300 ms each.
		{"v2", 6, 3, 1.5, map[float64]int64{0.0005: 1, 0.25: 1, 0.5: 6, 10: 6}},
		{"unknown", 0, 0, 0, map[float64]int64{0.0005: 0, 10: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			s := r.Snapshot(tt.version)
			if s.Requests != tt.requests || s.Errors != tt.errors {
				t.Errorf("requests/errors = %d/%d, want %d/%d", s.Requests, s.Errors, tt.requests, tt.errors)
			}
			if d := s.Sum - tt.sum; d > 1e-9 || d < -1e-9 {
				t.Errorf("sum = %v, want %v", s.Sum, tt.sum)
			}
			if len(s.Buckets) != len(latencyBuckets) {
				t.Fatalf("%d buckets, want %d", len(s.Buckets), len(latencyBuckets))
			}
			for _, b := range s.Buckets {
				if want, ok := tt.cumulative[b.UpperBound]; ok && b.Count != want {
					t.Errorf("bucket le=%v: %d, want %d", b.UpperBound, b.Count, want)
				}
			}
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	r, url := statsFixture(t)
	fams := scrape(t, url+"/metrics")
	if again := scrape(t, url+"/metrics"); len(again) != len(fams) {
		t.Fatal("metrics endpoint not stable")
	}
	// MetricsHandler serves the same registry.
	if got := len(scrapeHandler(t, r.MetricsHandler())); got != len(fams) {
		t.Errorf("MetricsHandler has %d families, /metrics %d", got, len(fams))
	}

	counters := []struct {
		version, code string
		want          float64
	}{
		{"v1", "200", 4}, {"v2", "200", 3}, {"v2", "500", 2}, {"v2", "502", 1},
	}
	for _, c := range counters {
		m := find(t, fams, "slipway_router_requests_total", map[string]string{
			"service": "hello", "env": "staging", "version": c.version, "code": c.code})
		if got := m.GetCounter().GetValue(); got != c.want {
			t.Errorf("requests_total{%s,%s} = %v, want %v", c.version, c.code, got, c.want)
		}
	}
	h := find(t, fams, "slipway_router_request_duration_seconds",
		map[string]string{"service": "hello", "env": "staging", "version": "v2"}).GetHistogram()
	if h.GetSampleCount() != 6 || h.GetSampleSum() < 1.4999 || h.GetSampleSum() > 1.5001 {
		t.Errorf("v2 histogram count/sum = %d/%v, want 6/1.5", h.GetSampleCount(), h.GetSampleSum())
	}
	w := find(t, fams, "slipway_router_canary_weight_percent", map[string]string{"service": "hello"})
	if got := w.GetGauge().GetValue(); got != 25 {
		t.Errorf("canary weight gauge = %v, want 25", got)
	}
	inflight := find(t, fams, "slipway_router_in_flight_requests", map[string]string{"version": "v1"})
	if got := inflight.GetGauge().GetValue(); got != 0 {
		t.Errorf("in-flight gauge = %v after all requests ended", got)
	}
	// /metrics is answered by the router, so it is not a proxied request.
	if s := r.Snapshot("v1"); s.Requests != 4 {
		t.Errorf("scrapes were counted as v1 requests: %d", s.Requests)
	}
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

func scrapeHandler(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	ln := listen(t)
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return scrape(t, "http://"+ln.Addr().String())
}

// find returns the one metric of family name whose labels include want.
func find(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s", name)
	}
	var found *dto.Metric
	for _, m := range fam.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if match {
			if found != nil {
				t.Fatalf("%s%v matches several series", name, want)
			}
			found = m
		}
	}
	if found == nil {
		t.Fatalf("no series %s%v", name, want)
	}
	return found
}
