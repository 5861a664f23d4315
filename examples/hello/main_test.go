package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestRoutes(t *testing.T) {
	h := newServer("v1.2.3", 0, func() float64 { return 0.5 }).routes()
	tests := []struct {
		path, body string
		code       int
	}{
		{"/", "hello from v1.2.3\n", 200},
		{"/healthz", "ok\n", 200},
		{"/nope", "404 page not found\n", 404},
	}
	for _, tt := range tests {
		code, body := get(t, h, tt.path)
		if code != tt.code || body != tt.body {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, code, body, tt.code, tt.body)
		}
	}
}

func TestErrorRate(t *testing.T) {
	n := 0
	rolls := []float64{0.1, 0.5, 0.9, 0.2}
	s := newServer("bad", 0.3, func() float64 { r := rolls[n%len(rolls)]; n++; return r })
	h := s.routes()
	fails := 0
	for range rolls {
		if code, _ := get(t, h, "/"); code == 500 {
			fails++
		}
	}
	if fails != 2 {
		t.Errorf("%d failures, want 2 (rolls below 0.3)", fails)
	}
	_, metrics := get(t, h, "/metrics")
	for _, want := range []string{`hello_requests_total{version="bad"} 4`, `hello_failures_total{version="bad"} 2`, `error_rate="0.3"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}
}
