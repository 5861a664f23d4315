package analysis

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWebhook(t *testing.T) {
	type call struct {
		method, path, auth, ctype string
		body                      map[string]any
	}
	var mu sync.Mutex
	var calls []call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := call{method: r.Method, path: r.URL.RequestURI(), auth: r.Header.Get("Authorization"), ctype: r.Header.Get("Content-Type")}
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			if len(b) > 0 {
				if err := json.Unmarshal(b, &c.body); err != nil {
					t.Errorf("body %q: %v", b, err)
				}
			}
		}
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
		switch r.URL.Path {
		case "/kpi":
			io.WriteString(w, `{"data":{"errorRate":0.02,"series":[1,2.5],"none":null,"ok":true}}`)
		case "/down":
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case "/slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		case "/text":
			io.WriteString(w, "<html>")
		}
	}))
	defer srv.Close()
	args := Args{ArgVersion: "v2", ArgService: "shop", "token": "s3cret"}
	cases := []struct {
		name    string
		spec    WebhookSpec
		want    string // Result as JSON
		wantErr string
	}{
		{"GET scalar", WebhookSpec{URL: srv.URL + "/kpi?v={{version}}", Value: "response.data.errorRate"}, `0.02`, ""},
		{"vector", WebhookSpec{URL: srv.URL + "/kpi", Value: "response.data.series"}, `[1,2.5]`, ""},
		{"mapped vector", WebhookSpec{URL: srv.URL + "/kpi", Value: "response.data.series.map(x, x * 2.0)"}, `[2,5]`, ""},
		{"null is no data", WebhookSpec{URL: srv.URL + "/kpi", Value: "response.data.none"}, `null`, ""},
		{"bool", WebhookSpec{URL: srv.URL + "/kpi", Value: "response.data.ok"}, `1`, ""},
		{"POST templated", WebhookSpec{URL: srv.URL + "/kpi", Method: "post", Headers: map[string]string{"Authorization": "Bearer {{token}}"},
			Body: `{"service":"{{service}}","version":"{{.version}}"}`, Value: "response.data.errorRate"}, `0.02`, ""},
		{"non-2xx", WebhookSpec{URL: srv.URL + "/down", Value: "response.x"}, "", "HTTP 503"},
		{"timeout", WebhookSpec{URL: srv.URL + "/slow", Value: "response.x", Timeout: Duration{50 * time.Millisecond}}, "", "deadline"},
		{"not JSON", WebhookSpec{URL: srv.URL + "/text", Value: "response.x"}, "", "not JSON"},
		{"missing key", WebhookSpec{URL: srv.URL + "/kpi", Value: "response.data.nope"}, "", "no such key"},
		{"a string", WebhookSpec{URL: srv.URL + "/kpi", Value: "'x'"}, "", "not a number"},
		{"unknown arg", WebhookSpec{URL: srv.URL + "/kpi?t={{nope}}", Value: "response.x"}, "", "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewProvider(ProviderSpec{Webhook: &tc.spec}, Deps{})
			if err != nil {
				t.Fatal(err)
			}
			r, err := p.Measure(context.Background(), Query{Metric: "m", Version: "v2", Args: args})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(r); string(got) != tc.want {
				t.Errorf("result %s, want %s", got, tc.want)
			}
		})
	}
	// The POST case sent the templated header and body.
	mu.Lock()
	defer mu.Unlock()
	var sawPost, sawGet bool
	for _, c := range calls {
		switch {
		case c.method == http.MethodPost:
			sawPost = true
			if c.auth != "Bearer s3cret" || c.ctype != "application/json" || c.body["service"] != "shop" || c.body["version"] != "v2" {
				t.Errorf("POST call %+v", c)
			}
		case c.path == "/kpi?v=v2":
			sawGet = c.method == http.MethodGet
		}
	}
	if !sawPost || !sawGet {
		t.Errorf("templated calls seen: POST %v, GET %v", sawPost, sawGet)
	}
}

func FuzzWebhookResponse(f *testing.F) {
	prgs := map[string]bool{}
	for _, seed := range []struct{ body, expr string }{
		{`{"v":1}`, "response.v"},
		{`{"a":[1,2,3]}`, "response.a"},
		{`{"a":[{"v":1},{"v":2}]}`, "response.a.map(x, x.v)"},
		{`null`, "response"},
		{`[1e308, -1e308]`, "response"},
		{`{"v":"1"}`, "response.v"},
		{`{"deep":{"er":{"x":true}}}`, "response.deep.er.x"},
	} {
		f.Add([]byte(seed.body), seed.expr)
		prgs[seed.expr] = true
	}
	f.Fuzz(func(t *testing.T, body []byte, expr string) {
		prg, err := compileWebhookValue(expr)
		if err != nil {
			return
		}
		r, err := webhookValue(prg, body)
		if err != nil {
			return
		}
		if r.Scalar != nil && len(r.Vector) > 0 {
			t.Fatalf("both a scalar and a vector: %+v", r)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("result does not encode: %v", err)
		}
	})
}
