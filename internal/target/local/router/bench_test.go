package router

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkRouterOverhead measures, under a fixed bounded loopback load
// (2000 GETs at concurrency 8 per round), request latency straight to a
// backend and through the router, and reports p50/p99 of both and the
// latency the router adds. One iteration is one round of each.
func BenchmarkRouterOverhead(b *testing.B) {
	const requests, concurrency = 2000, 8
	be := startBackend(b, "v1", nil)
	r := New(Options{Service: "bench", Env: "bench"})
	mustSetBackends(b, r, "v1", be)
	mustSetRoute(b, r, Route{Stable: "v1"})
	routerURL, directURL := serve(b, r), "http://"+be.addr

	client := func() *http.Client {
		return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	}
	direct, routed := client(), client()
	load(b, direct, directURL, 100, concurrency) // warm connections
	load(b, routed, routerURL, 100, concurrency)

	var d, rt []time.Duration
	for b.Loop() {
		d = append(d, load(b, direct, directURL, requests, concurrency)...)
		rt = append(rt, load(b, routed, routerURL, requests, concurrency)...)
	}
	slices.Sort(d)
	slices.Sort(rt)
	us := func(x time.Duration) float64 { return float64(x) / float64(time.Microsecond) }
	p50d, p99d, p50r, p99r := pct(d, 0.50), pct(d, 0.99), pct(rt, 0.50), pct(rt, 0.99)
	b.ReportMetric(us(p50d), "p50-direct-µs")
	b.ReportMetric(us(p99d), "p99-direct-µs")
	b.ReportMetric(us(p50r), "p50-router-µs")
	b.ReportMetric(us(p99r), "p99-router-µs")
	b.ReportMetric(us(p50r-p50d), "p50-added-µs")
	b.ReportMetric(us(p99r-p99d), "p99-added-µs")
}

// load sends total GETs from conc workers and returns each one's latency.
func load(tb testing.TB, c *http.Client, url string, total, conc int) []time.Duration {
	tb.Helper()
	lat := make([]time.Duration, total)
	next := make(chan int, total)
	for i := range total {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	var once sync.Once
	var failure error
	for range conc {
		wg.Go(func() {
			for i := range next {
				start := time.Now()
				resp, err := c.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = io.ErrUnexpectedEOF
					}
				}
				if err != nil {
					once.Do(func() { failure = err })
					return
				}
				lat[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	if failure != nil {
		tb.Fatalf("load on %s: %v", url, failure)
	}
	return lat
}

// pct is the q-quantile of sorted latencies (nearest rank).
func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
