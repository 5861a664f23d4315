package analysis

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slipway-ci/slipway/internal/testtool"
)

func TestDecodePromResponse(t *testing.T) {
	cases := []struct {
		body    string
		want    string
		wantErr string
	}{
		{`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"0.5"]},{"metric":{},"value":[1,"NaN"]}]}}`, `[0.5,"NaN"]`, ""},
		{`{"status":"success","data":{"resultType":"vector","result":[]}}`, `null`, ""},
		{`{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}`, `2`, ""},
		{`{"status":"success","data":{"resultType":"matrix","result":[]}}`, "", "matrix"},
		{`{"status":"error","errorType":"bad_data","error":"parse error"}`, "", "bad_data: parse error"},
		{`<html>`, "", "not an API response"},
	}
	for _, tc := range cases {
		r, err := decodePromResponse(200, []byte(tc.body), "q")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.body, err, tc.wantErr)
			}
			continue
		}
		if got := (Measurement{Value: r}).ValueJSON(); err != nil || got != tc.want {
			t.Errorf("%s: %s, %v; want %s", tc.body, got, err, tc.want)
		}
	}
}

// FuzzPromResponse: whatever a Prometheus (or something at its address)
// answers, decoding gives a result or an error naming the query, and a
// result always encodes as a measurement value.
func FuzzPromResponse(f *testing.F) {
	for _, b := range []string{
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"0.5"]}]}}`,
		`{"status":"success","data":{"resultType":"scalar","result":[1,"+Inf"]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}`,
		`{"status":"error","errorType":"bad_data","error":"parse error"}`,
		`{"status":"success","data":null}`, `<html>`, ``,
	} {
		f.Add(200, []byte(b))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		r, err := decodePromResponse(status, body, "q")
		if err != nil {
			if !strings.Contains(err.Error(), `prometheus query "q"`) {
				t.Fatalf("error does not name the query: %v", err)
			}
			return
		}
		if v := (Measurement{Value: r}).ValueJSON(); v == "" {
			t.Fatalf("result %+v has no JSON value", r)
		}
	})
}

// pollUntil retries f every 200ms until it reports done or ctx ends.
func pollUntil(ctx context.Context, t *testing.T, what string, f func() bool) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !f() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

func TestPrometheusReal(t *testing.T) {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "router_requests_total", Help: "requests"}, []string{"version", "code"})
	reg.MustRegister(reqs)
	reqs.WithLabelValues("v1", "200").Add(990)
	reqs.WithLabelValues("v1", "500").Add(10)
	reqs.WithLabelValues("v2", "200").Add(60)
	reqs.WithLabelValues("v2", "500").Add(40)
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer metrics.Close()
	u, _ := url.Parse(metrics.URL)
	prom := testtool.StartPrometheus(t, "/metrics", u.Host)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	errorRatio := `sum(router_requests_total{version="{{version}}",code=~"5.."}) / sum(router_requests_total{version="{{version}}"})`
	p, err := NewProvider(ProviderSpec{Prometheus: &PrometheusSpec{Address: prom, Query: errorRatio}}, Deps{HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	q := func(version string) Query {
		return Query{Metric: "errors", Version: version, Args: Args{ArgVersion: version}, Time: time.Now()}
	}
	pollUntil(ctx, t, "the first scrape", func() bool {
		r, err := p.Measure(ctx, q("v2"))
		return err == nil && !r.Empty()
	})
	r, err := p.Measure(ctx, q("v2"))
	if err != nil || len(r.Vector) != 1 || r.Vector[0] != 0.4 {
		t.Fatalf("v2 error ratio = %+v, %v; want [0.4]", r, err)
	}
	if r, err := p.Measure(ctx, q("v9")); err != nil || !r.Empty() {
		t.Errorf("unknown version: %+v, %v; want no data", r, err)
	}

	measure := func(query string) (Result, error) {
		pp, err := NewProvider(ProviderSpec{Prometheus: &PrometheusSpec{Address: prom, Query: query}}, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return pp.Measure(ctx, q("v1"))
	}
	if r, err := measure(`scalar(sum(router_requests_total{version="{{version}}"}))`); err != nil || r.Scalar == nil || *r.Scalar != 1000 {
		t.Errorf("scalar = %+v, %v", r, err)
	}
	if r, err := measure(`sum by (code) (router_requests_total{version="{{version}}"})`); err != nil || len(r.Vector) != 2 {
		t.Errorf("vector by code = %+v, %v", r, err)
	}
	if r, err := measure(`0/0`); err != nil || r.Scalar == nil || !math.IsNaN(*r.Scalar) || !r.Empty() {
		t.Errorf("NaN = %+v, %v; want a NaN scalar that counts as no data", r, err)
	}
	if _, err := measure(`sum(`); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("bad query: %v", err)
	}
	if _, err := measure(`router_requests_total[1m]`); err == nil || !strings.Contains(err.Error(), "matrix") {
		t.Errorf("range query: %v", err)
	}

	// End to end: a canary at 40 % errors fails; the stable one passes.
	m := Metric{Name: "errors", SuccessCondition: "result < 0.05", Provider: ProviderSpec{Prometheus: &PrometheusSpec{Address: prom, Query: errorRatio}}}
	for version, want := range map[string]Phase{"v2": PhaseFailed, "v1": PhaseSuccessful} {
		out, err := Run(ctx, m, Args{ArgVersion: version}, p, RealClock{}, func(Measurement) error { return nil })
		if err != nil || out.Phase != want {
			t.Errorf("Run on %s = %+v, %v; want %s", version, out, err, want)
		}
	}
}
