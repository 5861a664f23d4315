package router

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"
)

func TestWeightedDistributionIsExact(t *testing.T) {
	tests := []struct {
		weight     float64
		requests   int
		wantCanary int
	}{
		{5, 100, 5},
		{5, 1000, 50},
		{50, 100, 50},
		{50, 1000, 500},
		{0, 100, 0},
		{100, 100, 100},
		{0.5, 1000, 5},
		{33.3333, 300, 99},
		{12.5, 1000, 125},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v%%x%d", tt.weight, tt.requests), func(t *testing.T) {
			r := New(Options{})
			s1, s2 := startBackend(t, "stable-1", nil), startBackend(t, "stable-2", nil)
			c1, c2 := startBackend(t, "canary-1", nil), startBackend(t, "canary-2", nil)
			mustSetBackends(t, r, "v1", s1, s2)
			mustSetBackends(t, r, "v2", c1, c2)
			mustSetRoute(t, r, Route{Stable: "v1", Canary: "v2", CanaryWeight: tt.weight})
			url := serve(t, r)

			canary := 0
			for i := 1; i <= tt.requests; i++ {
				rep := get(t, http.DefaultClient, url)
				if rep.code != http.StatusOK {
					t.Fatalf("request %d: status %d", i, rep.code)
				}
				if rep.backend == "canary-1" || rep.backend == "canary-2" {
					canary++
				}
				// Every prefix holds its exact share: the weights are spread.
				if want := int(math.Floor(float64(i)*tt.weight/100 + 1e-9)); canary != want {
					t.Fatalf("after %d requests: %d to the canary, want %d", i, canary, want)
				}
			}
			if canary != tt.wantCanary {
				t.Errorf("canary got %d of %d, want %d", canary, tt.requests, tt.wantCanary)
			}
			// Round-robin over each version's replicas.
			for _, pair := range [][2]*backend{{s1, s2}, {c1, c2}} {
				if d := pair[0].hits.Load() - pair[1].hits.Load(); d < 0 || d > 1 {
					t.Errorf("%s/%s hits %d/%d: not round-robin", pair[0].name, pair[1].name,
						pair[0].hits.Load(), pair[1].hits.Load())
				}
			}
			if got := r.Snapshot("v2").Requests; got != int64(tt.wantCanary) {
				t.Errorf("Snapshot(v2).Requests = %d, want %d", got, tt.wantCanary)
			}
		})
	}
}

func TestToCanaryLargeCounts(t *testing.T) {
	// Near the top of the counter the 128-bit product keeps the quota exact.
	n := uint64(math.MaxUint64)
	if got, want := quota(n, 500_000), n/2; got != want {
		t.Errorf("quota(max, 50%%) = %d, want %d", got, want)
	}
	if !toCanary(n, weightScale) || toCanary(n, 0) {
		t.Error("100 % must always and 0 % never pick the canary")
	}
}

func TestCanaryHeaderOverride(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		route  Route
		header [2]string
		want   string
	}{
		{"always at 0%", Options{}, Route{"v1", "v2", 0}, [2]string{DefaultCanaryHeader, "always"}, "canary"},
		{"case and blanks", Options{}, Route{"v1", "v2", 0}, [2]string{"x-slipway-canary", "  ALWAYS "}, "canary"},
		{"never at 100%", Options{}, Route{"v1", "v2", 100}, [2]string{DefaultCanaryHeader, "never"}, "stable"},
		{"unknown value routes by weight", Options{}, Route{"v1", "v2", 100}, [2]string{DefaultCanaryHeader, "sometimes"}, "canary"},
		{"no canary in route", Options{}, Route{Stable: "v1"}, [2]string{DefaultCanaryHeader, "always"}, "stable"},
		{"custom header", Options{CanaryHeader: "X-Preview"}, Route{"v1", "v2", 0}, [2]string{"X-Preview", "always"}, "canary"},
		{"default header ignored when renamed", Options{CanaryHeader: "X-Preview"}, Route{"v1", "v2", 0}, [2]string{DefaultCanaryHeader, "always"}, "stable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.opts)
			mustSetBackends(t, r, "v1", startBackend(t, "stable", nil))
			mustSetBackends(t, r, "v2", startBackend(t, "canary", nil))
			mustSetRoute(t, r, tt.route)
			url := serve(t, r)
			for i := range 10 {
				rep := get(t, http.DefaultClient, url, tt.header[0], tt.header[1])
				if rep.backend != tt.want {
					t.Fatalf("request %d went to %q (%d), want %q", i, rep.backend, rep.code, tt.want)
				}
				if wantVer := map[string]string{"stable": "v1", "canary": "v2"}[tt.want]; rep.version != wantVer {
					t.Fatalf("request %d: %s = %q, want %q", i, VersionHeader, rep.version, wantVer)
				}
			}
		})
	}
}

func TestOnlyReadyBackends(t *testing.T) {
	tests := []struct {
		name           string
		route          Route
		stable, canary []string // backend names of each version, from a1, a2, b1
		header         string
		want           []string // backend per request; "503" for the router's 503
	}{
		{"round-robin", Route{Stable: "v1"}, []string{"a1", "a2"}, nil, "", []string{"a1", "a2", "a1", "a2"}},
		{"unready replica skipped", Route{Stable: "v1"}, []string{"a2"}, nil, "", []string{"a2", "a2", "a2"}},
		{"canary down falls back to stable", Route{"v1", "v2", 100}, []string{"a1"}, nil, "", []string{"a1", "a1"}},
		{"stable down falls back to canary", Route{"v1", "v2", 0}, nil, []string{"b1"}, "", []string{"b1", "b1"}},
		{"forced canary does not fall back", Route{"v1", "v2", 0}, []string{"a1"}, nil, "always", []string{"503"}},
		{"forced stable does not fall back", Route{"v1", "v2", 100}, nil, []string{"b1"}, "never", []string{"503"}},
		{"nothing ready", Route{"v1", "v2", 50}, nil, nil, "", []string{"503", "503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := map[string]*backend{}
			for _, n := range []string{"a1", "a2", "b1"} {
				all[n] = startBackend(t, n, nil)
			}
			pick := func(names []string) []*backend {
				var bs []*backend
				for _, n := range names {
					bs = append(bs, all[n])
				}
				return bs
			}
			r := New(Options{})
			mustSetBackends(t, r, "v1", pick(tt.stable)...)
			mustSetBackends(t, r, "v2", pick(tt.canary)...)
			mustSetRoute(t, r, tt.route)
			url := serve(t, r)
			for i, want := range tt.want {
				rep := get(t, http.DefaultClient, url, DefaultCanaryHeader, tt.header)
				got := rep.backend
				if rep.code == http.StatusServiceUnavailable && got == "" {
					got = "503"
				}
				if got != want {
					t.Fatalf("request %d: got %q (%d), want %q", i, got, rep.code, want)
				}
			}
		})
	}
}

func TestNoBackendsCounts503AgainstIntendedVersion(t *testing.T) {
	r := New(Options{})
	mustSetRoute(t, r, Route{Stable: "v1"})
	url := serve(t, r)
	if rep := get(t, http.DefaultClient, url); rep.code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rep.code)
	}
	if s := r.Snapshot("v1"); s.Requests != 1 || s.Errors != 1 {
		t.Errorf("Snapshot(v1) = %d requests, %d errors; want 1, 1", s.Requests, s.Errors)
	}
}

func TestNoRouteIs503(t *testing.T) {
	r := New(Options{})
	url := serve(t, r)
	if rep := get(t, http.DefaultClient, url); rep.code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rep.code)
	}
	if got := r.Route(); got != (Route{}) {
		t.Errorf("Route() = %+v before SetRoute", got)
	}
}

func TestSetRouteRejectsInvalid(t *testing.T) {
	tests := []Route{
		{},
		{Stable: "v1", Canary: "v1"},
		{Stable: "v1", Canary: "v2", CanaryWeight: -1},
		{Stable: "v1", Canary: "v2", CanaryWeight: 100.5},
		{Stable: "v1", Canary: "v2", CanaryWeight: math.NaN()},
		{Stable: "v1", CanaryWeight: 5},
	}
	r := New(Options{})
	mustSetRoute(t, r, Route{Stable: "ok"})
	for _, rt := range tests {
		if err := r.SetRoute(rt); !errors.Is(err, ErrInvalidRoute) {
			t.Errorf("SetRoute(%+v) = %v, want ErrInvalidRoute", rt, err)
		}
	}
	if got := r.Route(); got != (Route{Stable: "ok"}) {
		t.Errorf("a rejected route was applied: %+v", got)
	}
}

func TestSetBackendsRejectsBadAddress(t *testing.T) {
	r := New(Options{})
	for _, tt := range []struct{ ver, addr string }{{"", "127.0.0.1:1"}, {"v1", "no-port"}, {"v1", "http://127.0.0.1:1"}} {
		if err := r.SetBackends(tt.ver, []string{tt.addr}); err == nil {
			t.Errorf("SetBackends(%q, %q) accepted", tt.ver, tt.addr)
		}
	}
}

func TestReadySetChangesLive(t *testing.T) {
	a1, a2 := startBackend(t, "a1", nil), startBackend(t, "a2", nil)
	r := New(Options{})
	mustSetBackends(t, r, "v1", a1, a2)
	mustSetRoute(t, r, Route{Stable: "v1"})
	url := serve(t, r)
	steps := []struct {
		ready []*backend
		want  []string
	}{
		{[]*backend{a1, a2}, []string{"a1", "a2", "a1"}},
		{[]*backend{a2}, []string{"a2", "a2"}}, // a1 failed its readiness probe
		{nil, []string{"", ""}},                // nothing ready: 503
		{[]*backend{a1}, []string{"a1"}},
	}
	for i, st := range steps {
		mustSetBackends(t, r, "v1", st.ready...)
		for j, want := range st.want {
			rep := get(t, http.DefaultClient, url)
			if rep.backend != want || (want == "" && rep.code != http.StatusServiceUnavailable) {
				t.Fatalf("step %d request %d: %q (%d), want %q", i, j, rep.backend, rep.code, want)
			}
		}
	}
}
