package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/testtool"
)

// productionCanary replaces the example's production environment: a fixed
// router port (so Prometheus can scrape it), an analysis over both the
// router's own data and the real Prometheus, and noData inconclusive.
const productionCanary = `  production:
    requires: staging
    target: local
    listen: %s
    replicas: 2
    strategy: canary
    scale-down-delay: 1s
    probes:
      readiness: {path: /healthz, interval: 200ms}
      liveness: {path: /healthz, failure-threshold: 3}
    canary:
      analysis: errors
      steps:
        - set-weight: 20
        - pause: {duration: 4s}
        - analysis: checks
        - set-weight: 60
        - pause: {duration: 2s}
    analysis:
      errors:
        metrics:
          - name: error-rate
            initialDelay: 1s
            interval: 1s
            failureLimit: 0
            successCondition: result < 0.05
            provider: {builtin: {metric: error-rate}}
      checks:
        metrics:
          - name: error-rate
            interval: 1s
            count: 2
            successCondition: result < 0.05
            provider: {builtin: {metric: error-rate}}
          - name: prometheus-error-ratio
            initialDelay: 2s
            interval: 1s
            count: 2
            successCondition: result < 0.05
            provider:
              prometheus:
                address: %s
                query: >-
                  sum(rate(slipway_router_requests_total{env="production",version="{{version}}",code=~"5.."}[10s]) or vector(0))
                  / sum(rate(slipway_router_requests_total{env="production",version="{{version}}"}[10s]))
`

// TestE2ECanaryRollback is the deployments issue's "done means": the
// example deploys v1, canaries v2 to 100 % under analysis by the router and
// a real Prometheus while a bounded load generator sends traffic, and v3,
// built to fail half its requests, is rolled back automatically; after the
// rollback completes no request reaches v3. A manual rollback then returns
// production to v1.
func TestE2ECanaryRollback(t *testing.T) {
	e := newEnv(t)
	repo := example(t, "hello")
	port := freePort(t)
	prom := testtool.StartPrometheus(t, "/_slipway/metrics", port)
	spec := readExample(t, "hello", ".slipway.yaml")
	spec = spec[:strings.Index(spec, "  production:\n")] + fmt.Sprintf(productionCanary, port, prom)
	spec = strings.Replace(spec, "    rolling: {max-surge: 1}\n", "    rolling: {max-surge: 1}\n    scale-down-delay: 1s\n", 1)
	repo.Write(".slipway.yaml", spec)
	repo.Commit("production canary against prometheus")

	v1 := e.deployRun(t, repo.Dir(), 0)
	load := startLoad(t, "http://"+port+"/")
	repo.Write("main.go", strings.Replace(readExample(t, "hello", "main.go"), "// Set at build time", "// v2. Set at build time", 1))
	repo.Commit("v2")
	v2 := e.deployRun(t, repo.Dir(), 0)
	if n := load.count(v2); n == 0 {
		t.Fatalf("the canary of %s got no traffic: %v", v2, load.versions())
	}
	// Its step analysis asked the real Prometheus, which scraped the router.
	if st := e.run(repo.Dir(), "deploy", "status", "production", "-o", "json"); !regexp.MustCompile(
		`"metric":"prometheus-error-ratio","at":"[^"]*","phase":"successful","value":"\[0\]"`).MatchString(st.stdout) {
		t.Fatalf("no successful Prometheus measurement of %s:\n%s%s", v2, st.stdout, st.stderr)
	}

	repo.Write(".slipway.yaml", strings.Replace(spec, `ERROR_RATE: "0"`, `ERROR_RATE: "0.5"`, 1))
	repo.Commit("v3: fails half its requests")
	v3 := e.deployRun(t, repo.Dir(), 1)
	d := e.lastDeployment(t, repo.Dir(), "production")
	if d.Version != v3 || d.State != "rolled-back" || !strings.Contains(d.Reason, "error-rate") {
		t.Fatalf("v3 deployment = %+v, want rolled back by error-rate", d)
	}
	time.Sleep(2 * time.Second) // traffic after the rollback
	load.stop()
	if late := load.after(v3, d.Finished); len(late) > 0 {
		t.Fatalf("%d requests reached %s after the rollback completed at %s; first at %s", len(late), v3, d.Finished, late[0])
	}
	if load.count(v3) == 0 {
		t.Fatalf("v3 got no canary traffic before its rollback: %v", load.versions())
	}
	if st := e.run(repo.Dir(), "deploy", "status", "production"); !strings.Contains(st.stdout, "production runs "+v2) {
		t.Fatalf("status after rollback:\n%s%s", st.stdout, st.stderr)
	}

	// A manual rollback returns to the version before v2 (stopped by now:
	// a redeploy by digest).
	rb := e.run(repo.Dir(), "deploy", "rollback", "production")
	if rb.code != 0 || !strings.Contains(rb.stdout, "production now runs "+v1) {
		t.Fatalf("rollback: exit %d\n%s%s", rb.code, rb.stdout, rb.stderr)
	}
	resp, err := http.Get("http://" + port + "/")
	if err != nil || resp.Header.Get("X-Slipway-Version") != v1 {
		t.Fatalf("after rollback production answers %v, %v", resp, err)
	}
	resp.Body.Close()
}

// deployRun runs the pipeline (which deploys staging, then production) and
// returns the version it published.
func (e *env) deployRun(t *testing.T, dir string, wantCode int) string {
	t.Helper()
	res := e.run(dir, "run")
	if res.code != wantCode {
		t.Fatalf("run: exit %d, want %d\n%s\n%s", res.code, wantCode, res.stdout, res.stderr)
	}
	d := e.lastDeployment(t, dir, "production")
	return d.Version
}

type deployment struct {
	ID       int64     `json:"id"`
	Version  string    `json:"version"`
	State    string    `json:"state"`
	Reason   string    `json:"reason"`
	Finished time.Time `json:"finished"`
}

func (e *env) lastDeployment(t *testing.T, dir, env string) deployment {
	t.Helper()
	res := e.run(dir, "deploy", "history", env, "-n", "1", "-o", "json")
	var ds []deployment
	if err := json.Unmarshal([]byte(res.stdout), &ds); err != nil || len(ds) != 1 {
		t.Fatalf("history: %v\n%s%s", err, res.stdout, res.stderr)
	}
	return ds[0]
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// load is a bounded loopback load generator: one request every 10 ms (at
// most 20,000), recording which version answered and when it was sent.
type load struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	hits   []hit
}

type hit struct {
	sent    time.Time
	version string
	code    int
}

func startLoad(t *testing.T, url string) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for range 20000 {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			sent := time.Now()
			resp, err := client.Get(url)
			if err != nil {
				continue
			}
			resp.Body.Close()
			l.mu.Lock()
			l.hits = append(l.hits, hit{sent, resp.Header.Get("X-Slipway-Version"), resp.StatusCode})
			l.mu.Unlock()
		}
	}()
	t.Cleanup(l.stop)
	return l
}

func (l *load) stop() { l.cancel(); <-l.done }

func (l *load) count(version string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, h := range l.hits {
		if h.version == version {
			n++
		}
	}
	return n
}

// after lists when requests sent after t reached version.
func (l *load) after(version string, t time.Time) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Time
	for _, h := range l.hits {
		if h.version == version && h.sent.After(t) {
			out = append(out, h.sent)
		}
	}
	return out
}

func (l *load) versions() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := map[string]int{}
	for _, h := range l.hits {
		m[fmt.Sprintf("%s %d", h.version, h.code)]++
	}
	return m
}
