package analysis

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestMannWhitneyU(t *testing.T) {
	cases := []struct {
		name string
		x, y []float64
		u1   float64
		z, p float64
	}{
		// scipy.stats.mannwhitneyu(males, females, method="asymptotic")
		// from scipy's documentation: U1 = 17, p = 0.11134688653314041.
		{"scipy docs example", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, 17, 1.5921683328090657, 0.11134688653314041},
		// With ties (ranks 3 and 6 shared by three values each): worked by
		// hand: R1 = 21, U1 = 6, σ² = 30/12·(12 − 48/110), z = (24−15−½)/σ.
		{"ties", []float64{1, 2, 2, 3, 4}, []float64{2, 3, 3, 5, 6, 7}, 6, 1.5808902038022714, 0.11390314458853065},
		// Fully separated samples of 10: U1 = 0; z = (100−50−½)/√(100·21/12).
		{"separated", seq(1, 10), seq(11, 20), 0, 49.5 / math.Sqrt(175), math.Erfc(49.5 / math.Sqrt(175) / math.Sqrt2)},
		{"all tied", []float64{1, 1, 1}, []float64{1, 1}, 3, 0, 1},
	}
	for _, tc := range cases {
		got, err := MannWhitneyU(tc.x, tc.y)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.U1 != tc.u1 || math.Abs(got.Z-tc.z) > 1e-12 || math.Abs(got.P-tc.p) > 1e-12 {
			t.Errorf("%s: got %+v, want U1=%v z=%v p=%v", tc.name, got, tc.u1, tc.z, tc.p)
		}
		if got.U1+got.U2 != float64(len(tc.x)*len(tc.y)) {
			t.Errorf("%s: U1+U2 = %v", tc.name, got.U1+got.U2)
		}
	}
	if _, err := MannWhitneyU(nil, []float64{1}); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("empty sample: %v", err)
	}
}

func seq(from, to float64) []float64 {
	var out []float64
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}

func TestCompareBaseline(t *testing.T) {
	low, high := seq(1, 10), seq(11, 20)
	cases := []struct {
		name           string
		b              Baseline
		canary, stable []float64
		want           Phase
	}{
		{"ratio within tolerance", Baseline{Mode: BaselineRatio, Tolerance: 0.2}, []float64{0.11}, []float64{0.1}, PhaseSuccessful},
		{"ratio above tolerance", Baseline{Mode: BaselineRatio, Tolerance: 0.2}, []float64{0.13}, []float64{0.1}, PhaseFailed},
		{"ratio lower is fine by default", Baseline{Mode: BaselineRatio}, []float64{0.01}, []float64{0.1}, PhaseSuccessful},
		{"ratio decrease", Baseline{Mode: BaselineRatio, Direction: DirectionDecrease, Tolerance: 0.1}, []float64{80}, []float64{100}, PhaseFailed},
		{"ratio either", Baseline{Mode: BaselineRatio, Direction: DirectionEither, Tolerance: 0.1}, []float64{80}, []float64{100}, PhaseFailed},
		{"zero stable, zero canary", Baseline{Mode: BaselineRatio}, []float64{0}, []float64{0}, PhaseSuccessful},
		{"zero stable within margin", Baseline{Mode: BaselineRatio, Margin: 0.01}, []float64{0.005}, []float64{0}, PhaseSuccessful},
		{"zero stable beyond margin", Baseline{Mode: BaselineRatio, Margin: 0.01}, []float64{0.05}, []float64{0}, PhaseFailed},
		{"vector averaged", Baseline{Mode: BaselineRatio}, []float64{1, 3}, []float64{2}, PhaseSuccessful},
		{"mw too few", Baseline{Mode: BaselineMannWhitney}, low[:4], high, PhaseInconclusive},
		{"mw canary worse", Baseline{Mode: BaselineMannWhitney}, high, low, PhaseFailed},
		{"mw canary better", Baseline{Mode: BaselineMannWhitney}, low, high, PhaseSuccessful},
		{"mw canary lower, decrease is worse", Baseline{Mode: BaselineMannWhitney, Direction: DirectionDecrease}, low, high, PhaseFailed},
		{"mw no difference", Baseline{Mode: BaselineMannWhitney}, []float64{1, 3, 5, 7, 9}, []float64{2, 4, 6, 8, 10}, PhaseSuccessful},
		{"mw strict confidence", Baseline{Mode: BaselineMannWhitney, Confidence: 0.999999},
			[]float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12, 15}, PhaseSuccessful},
	}
	for _, tc := range cases {
		got, msg := compareBaseline(tc.b, tc.canary, tc.stable)
		if got != tc.want {
			t.Errorf("%s: %v (%s), want %v", tc.name, got, msg, tc.want)
		}
	}
}

// TestRunBaselineMannWhitney accumulates samples over measurements: the
// warm-up is inconclusive (tolerated by inconclusiveLimit), then the
// canary's consistently higher latency fails the metric.
func TestRunBaselineMannWhitney(t *testing.T) {
	m := Metric{Name: "lat", Interval: Duration{time.Second}, InconclusiveLimit: ip(2),
		Baseline: &Baseline{Mode: BaselineMannWhitney, MinSamples: 3},
		Provider: ProviderSpec{Prometheus: &PrometheusSpec{Address: "http://127.0.0.1:1", Query: `x{v="{{version}}"}`}}}
	n := map[string]float64{}
	p := ProviderFunc(func(_ context.Context, q Query) (Result, error) {
		n[q.Version]++
		if q.Args[ArgVersion] != q.Version {
			t.Errorf("args version %q for %q", q.Args[ArgVersion], q.Version)
		}
		if q.Version == "v2" {
			return VectorResult([]float64{10 + n[q.Version], 12 + n[q.Version]}), nil
		}
		return ScalarResult(1 + n[q.Version]/10), nil
	})
	var ms []Measurement
	out, err := Run(context.Background(), m, Args{ArgVersion: "v2", ArgStableVersion: "v1"}, p, newFakeClock(),
		func(x Measurement) error { ms = append(ms, x); return nil })
	if err != nil {
		t.Fatal(err)
	}
	// Stable has 1, 2, 3 samples after measurements 1-3: inconclusive twice, then p < 0.05.
	if out.Phase != PhaseFailed || len(ms) != 3 || ms[0].Phase != PhaseInconclusive || ms[2].Phase != PhaseFailed {
		t.Fatalf("outcome %+v after %d measurements", out, len(ms))
	}
	if !strings.Contains(ms[2].Message, "significantly worse") || !strings.HasPrefix(ms[2].ValueJSON(), `{"canary":[`) {
		t.Errorf("deciding measurement %+v %s", ms[2], ms[2].ValueJSON())
	}
	if _, err := Run(context.Background(), m, Args{ArgVersion: "v2"}, p, newFakeClock(), func(Measurement) error { return nil }); err == nil {
		t.Error("baseline without a stable version must be refused")
	}
}
