package analysis

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// Sample is the router's cumulative data for one version since it started
// counting: the counters only grow (a decrease is read as a reset).
type Sample struct {
	Requests int64
	Errors   int64 // 5xx responses
	Buckets  []Bucket
	Sum      float64 // seconds, total latency
}

// Bucket is a cumulative latency histogram bucket, as in Prometheus: Count
// requests took at most UpperBound seconds. The +Inf bucket may be left out
// (Requests is used for it).
type Bucket struct {
	UpperBound float64
	Count      int64
}

// Source reads the router's current Sample of a version. It is the
// consumer side of the router's statistics, so this package does not
// import the router. It must be safe for concurrent use.
type Source func(version string) (Sample, error)

// Builtin metric names.
const (
	BuiltinErrorRate   = "error-rate"   // errors/requests
	BuiltinRequestRate = "request-rate" // requests per second
	BuiltinRequests    = "requests"
	BuiltinLatencyP50  = "latency-p50" // seconds
	BuiltinLatencyP95  = "latency-p95"
	BuiltinLatencyP99  = "latency-p99"
)

// BuiltinMetrics lists the builtin metric names.
var BuiltinMetrics = []string{BuiltinErrorRate, BuiltinRequestRate, BuiltinRequests,
	BuiltinLatencyP50, BuiltinLatencyP95, BuiltinLatencyP99}

var builtinQuantiles = map[string]float64{BuiltinLatencyP50: 0.5, BuiltinLatencyP95: 0.95, BuiltinLatencyP99: 0.99}

// Builtin measures the router's own per-version data over the window since
// the previous measurement of the same (metric, version): every metric is
// computed from the difference of two cumulative Samples. A window without
// requests is no data, for every builtin metric. The first measurement of
// a pair that was not primed measures since the router started counting.
// Safe for concurrent use.
type Builtin struct {
	src  Source
	now  func() time.Time
	mu   sync.Mutex
	prev map[[2]string]stamped
}

type stamped struct {
	s  Sample
	at time.Time
}

// NewBuiltin reads samples from src; now is the clock (nil: time.Now).
func NewBuiltin(src Source, now func() time.Time) *Builtin {
	if now == nil {
		now = time.Now
	}
	return &Builtin{src: src, now: now, prev: map[[2]string]stamped{}}
}

// builtinMetric is a Builtin bound to one metric name.
type builtinMetric struct {
	b      *Builtin
	metric string
}

// Prime starts the window of (q.Metric, q.Version) now.
func (p builtinMetric) Prime(_ context.Context, q Query) error {
	_, _, err := p.b.advance(q.Metric, q.Version)
	return err
}

// Measure computes the metric over the window since the last measurement.
func (p builtinMetric) Measure(ctx context.Context, q Query) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	d, secs, err := p.b.advance(q.Metric, q.Version)
	if err != nil {
		return Result{}, err
	}
	return builtinValue(p.metric, d, secs)
}

// advance reads the current sample and returns its delta from the
// previous one and the window's length in seconds (0 when unknown).
func (b *Builtin) advance(metric, version string) (Sample, float64, error) {
	cur, err := b.src(version)
	if err != nil {
		return Sample{}, 0, fmt.Errorf("builtin %s: %w", version, err)
	}
	now := b.now()
	key := [2]string{metric, version}
	b.mu.Lock()
	prev, ok := b.prev[key]
	b.prev[key] = stamped{s: cur, at: now}
	b.mu.Unlock()
	if !ok {
		return cur, 0, nil
	}
	return delta(prev.s, cur), now.Sub(prev.at).Seconds(), nil
}

// delta is cur - prev; if any counter went down the router restarted, and
// cur alone is the window (Prometheus's rule for counter resets).
func delta(prev, cur Sample) Sample {
	if cur.Requests < prev.Requests || cur.Errors < prev.Errors || cur.Sum < prev.Sum || !sameBounds(prev.Buckets, cur.Buckets) {
		return cur
	}
	d := Sample{Requests: cur.Requests - prev.Requests, Errors: cur.Errors - prev.Errors, Sum: cur.Sum - prev.Sum}
	for i, bk := range cur.Buckets {
		if bk.Count < prev.Buckets[i].Count {
			return cur
		}
		d.Buckets = append(d.Buckets, Bucket{UpperBound: bk.UpperBound, Count: bk.Count - prev.Buckets[i].Count})
	}
	return d
}

func sameBounds(a, b []Bucket) bool {
	return slices.EqualFunc(a, b, func(x, y Bucket) bool { return x.UpperBound == y.UpperBound })
}

func builtinValue(metric string, d Sample, secs float64) (Result, error) {
	if d.Requests <= 0 {
		return NoData(), nil
	}
	switch metric {
	case BuiltinErrorRate:
		return ScalarResult(float64(d.Errors) / float64(d.Requests)), nil
	case BuiltinRequests:
		return ScalarResult(float64(d.Requests)), nil
	case BuiltinRequestRate:
		if secs <= 0 {
			return NoData(), nil
		}
		return ScalarResult(float64(d.Requests) / secs), nil
	}
	if q, ok := builtinQuantiles[metric]; ok {
		bs := d.Buckets
		if len(bs) == 0 || !math.IsInf(bs[len(bs)-1].UpperBound, 1) {
			bs = append(slices.Clone(bs), Bucket{UpperBound: math.Inf(1), Count: d.Requests})
		}
		return ScalarResult(HistogramQuantile(q, bs)), nil
	}
	return Result{}, fmt.Errorf("builtin: unknown metric %q", metric)
}

// HistogramQuantile estimates the q-quantile from cumulative buckets by
// linear interpolation inside the bucket the rank falls in, exactly like
// PromQL's histogram_quantile: the lowest bucket starts at 0 (unless its
// bound is not positive); a rank in the +Inf bucket yields the highest
// finite bound; q < 0 is -Inf, q > 1 is +Inf; no +Inf bucket, fewer than
// two buckets or no observations is NaN.
func HistogramQuantile(q float64, buckets []Bucket) float64 {
	switch {
	case math.IsNaN(q):
		return math.NaN()
	case q < 0:
		return math.Inf(-1)
	case q > 1:
		return math.Inf(1)
	}
	bs := slices.Clone(buckets)
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].UpperBound < bs[j].UpperBound })
	if len(bs) < 2 || !math.IsInf(bs[len(bs)-1].UpperBound, 1) {
		return math.NaN()
	}
	// Counts must not decrease (they can, slightly, when scraped mid-update).
	for i := 1; i < len(bs); i++ {
		bs[i].Count = max(bs[i].Count, bs[i-1].Count)
	}
	total := float64(bs[len(bs)-1].Count)
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	b := sort.Search(len(bs)-1, func(i int) bool { return float64(bs[i].Count) >= rank })
	if b == len(bs)-1 {
		return bs[len(bs)-2].UpperBound
	}
	if b == 0 && bs[0].UpperBound <= 0 {
		return bs[0].UpperBound
	}
	start, end, count := 0.0, bs[b].UpperBound, float64(bs[b].Count)
	if b > 0 {
		start = bs[b-1].UpperBound
		count -= float64(bs[b-1].Count)
		rank -= float64(bs[b-1].Count)
	}
	return start + (end-start)*(rank/count)
}
