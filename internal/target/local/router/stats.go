package router

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets are the upper bounds, in seconds, of the latency
// histogram: finer than Prometheus' defaults at the low end, because
// loopback replicas answer in well under a millisecond.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Snapshot is a version's cumulative data since the router started: the
// counters only grow. Buckets are cumulative, as in Prometheus, and leave out
// +Inf (that count is Requests).
type Snapshot struct {
	Requests int64
	Errors   int64 // 5xx responses, including the router's own 502/503
	Buckets  []Bucket
	Sum      float64 // seconds, total latency
}

// Bucket is one cumulative histogram bucket: Count requests took at most
// UpperBound seconds.
type Bucket struct {
	UpperBound float64
	Count      int64
}

// version is one version's live state: in-flight requests, statistics and
// cached Prometheus children. It lives as long as the Router, so the
// statistics of a version survive route changes.
type version struct {
	name     string
	inflight atomic.Int64

	drainMu sync.Mutex
	drained []chan struct{} // closed when inflight next reaches zero

	mu       sync.Mutex // guards the fields below, so a Snapshot is consistent
	requests int64
	errors   int64
	buckets  []int64 // per bucket (not cumulative); len(latencyBuckets)
	sumNanos int64

	latency       prometheus.Observer
	inflightGauge prometheus.Gauge
}

// enter counts a request in flight.
func (v *version) enter() {
	v.inflight.Add(1)
	v.inflightGauge.Inc()
}

// leave ends an in-flight request and wakes Drain waiters at zero.
func (v *version) leave() {
	v.inflightGauge.Dec()
	if v.inflight.Add(-1) != 0 {
		return
	}
	v.drainMu.Lock()
	for _, c := range v.drained {
		close(c)
	}
	v.drained = nil
	v.drainMu.Unlock()
}

// drain waits until no request is in flight, or ctx ends.
func (v *version) drain(ctx context.Context) error {
	for {
		c := make(chan struct{})
		v.drainMu.Lock()
		v.drained = append(v.drained, c)
		v.drainMu.Unlock()
		// Registered before checking, so a leave() reaching zero after this
		// load closes c.
		if v.inflight.Load() == 0 {
			return nil
		}
		select {
		case <-c:
			// Zero was reached, but a new request may have entered since:
			// check again.
		case <-ctx.Done():
			v.drainMu.Lock()
			v.drained = slices.DeleteFunc(v.drained, func(d chan struct{}) bool { return d == c })
			v.drainMu.Unlock()
			return ctx.Err()
		}
	}
}

// record adds one finished request.
func (v *version) record(code int, d time.Duration) {
	i := bucketIndex(d.Seconds())
	v.mu.Lock()
	v.requests++
	if code >= 500 {
		v.errors++
	}
	if i < len(v.buckets) {
		v.buckets[i]++
	}
	v.sumNanos += int64(d)
	v.mu.Unlock()
	v.latency.Observe(d.Seconds())
}

// snapshot returns the cumulative figures.
func (v *version) snapshot() Snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := Snapshot{Requests: v.requests, Errors: v.errors, Sum: time.Duration(v.sumNanos).Seconds(),
		Buckets: make([]Bucket, len(latencyBuckets))}
	var cum int64
	for i, ub := range latencyBuckets {
		cum += v.buckets[i]
		s.Buckets[i] = Bucket{UpperBound: ub, Count: cum}
	}
	return s
}

// bucketIndex is the first bucket whose bound holds s, len(latencyBuckets)
// for +Inf.
func bucketIndex(s float64) int {
	for i, ub := range latencyBuckets {
		if s <= ub {
			return i
		}
	}
	return len(latencyBuckets)
}

// metrics is the router's Prometheus registry and collectors.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inflight *prometheus.GaugeVec
	weight   prometheus.Gauge
	handler  http.Handler
}

func newMetrics(service, env string) *metrics {
	labels := prometheus.Labels{"service": service, "env": env}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slipway_router_requests_total", ConstLabels: labels,
			Help: "Requests served by the router, by version and status code.",
		}, []string{"version", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "slipway_router_request_duration_seconds", ConstLabels: labels,
			Help:    "Time from receiving a request to the end of its response, by version.",
			Buckets: latencyBuckets,
		}, []string{"version"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "slipway_router_in_flight_requests", ConstLabels: labels,
			Help: "Requests being proxied, by version.",
		}, []string{"version"}),
		weight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "slipway_router_canary_weight_percent", ConstLabels: labels,
			Help: "The canary's share of weighted traffic in percent.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.inflight, m.weight)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// newVersion creates a version with zeroed, already exported series.
func (m *metrics) newVersion(name string) *version {
	return &version{
		name:          name,
		buckets:       make([]int64, len(latencyBuckets)),
		latency:       m.latency.WithLabelValues(name),
		inflightGauge: m.inflight.WithLabelValues(name),
	}
}

// count records a finished request in Prometheus.
func (m *metrics) count(v *version, code int) {
	m.requests.WithLabelValues(v.name, strconv.Itoa(code)).Inc()
}
