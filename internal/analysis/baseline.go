package analysis

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// MannWhitney is the outcome of a Mann-Whitney U test of x against y.
type MannWhitney struct {
	U1 float64 // U of x: how often an x value beats a y value (ties count ½)
	U2 float64 // n1*n2 - U1
	Z  float64 // normal approximation, continuity-corrected
	P  float64 // two-sided p-value
}

// ErrTooFewSamples is returned when a sample is empty.
var ErrTooFewSamples = errors.New("analysis: a sample is empty")

// MannWhitneyU runs the two-sided Mann-Whitney U test with the normal
// approximation, a tie correction of the variance and a continuity
// correction of ½, as scipy.stats.mannwhitneyu(x, y,
// method="asymptotic") does. When every value is tied the samples are
// indistinguishable: P is 1.
func MannWhitneyU(x, y []float64) (MannWhitney, error) {
	n1, n2 := float64(len(x)), float64(len(y))
	if n1 == 0 || n2 == 0 {
		return MannWhitney{}, ErrTooFewSamples
	}
	ranks, tieTerm := rankAll(x, y)
	r1 := 0.0
	for _, r := range ranks[:len(x)] {
		r1 += r
	}
	u1 := r1 - n1*(n1+1)/2
	res := MannWhitney{U1: u1, U2: n1*n2 - u1, P: 1}
	n := n1 + n2
	mu := n1 * n2 / 2
	sigma := math.Sqrt(n1 * n2 / 12 * ((n + 1) - tieTerm/(n*(n-1))))
	if sigma == 0 || math.IsNaN(sigma) {
		return res, nil
	}
	u := max(res.U1, res.U2)
	res.Z = (u - mu - 0.5) / sigma
	res.P = min(1, 2*0.5*math.Erfc(res.Z/math.Sqrt2))
	return res, nil
}

// rankAll ranks x followed by y together (average ranks for ties) and
// returns Σ(t³-t) over the groups of ties.
func rankAll(x, y []float64) ([]float64, float64) {
	all := append(slices.Clone(x), y...)
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return all[idx[a]] < all[idx[b]] })
	ranks := make([]float64, len(all))
	tie := 0.0
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && all[idx[j]] == all[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			ranks[idx[k]] = avg
		}
		t := float64(j - i)
		tie += t*t*t - t
		i = j
	}
	return ranks, tie
}

// compareBaseline judges the canary's values against the stable's.
func compareBaseline(b Baseline, canary, stable []float64) (Phase, string) {
	canary, stable = dropNaN(canary), dropNaN(stable)
	if b.Mode == BaselineRatio {
		return compareRatio(b, mean(canary), mean(stable))
	}
	if len(canary) < b.minSamples() || len(stable) < b.minSamples() {
		return PhaseInconclusive, fmt.Sprintf("mann-whitney: %d canary and %d stable samples, %d each needed", len(canary), len(stable), b.minSamples())
	}
	mw, _ := MannWhitneyU(canary, stable)
	alpha := 1 - b.confidence()
	higher := mw.U1 > mw.U2
	msg := fmt.Sprintf("mann-whitney: U=%g p=%.4g (alpha %.3g), canary %s than stable", mw.U1, mw.P, alpha, map[bool]string{true: "higher", false: "lower"}[higher])
	if mw.P >= alpha {
		return PhaseSuccessful, msg + ": no significant difference"
	}
	worse := b.direction() == DirectionEither ||
		(b.direction() == DirectionIncrease && higher) || (b.direction() == DirectionDecrease && !higher)
	if worse {
		return PhaseFailed, msg + ": significantly worse"
	}
	return PhaseSuccessful, msg + ": significantly better"
}

func compareRatio(b Baseline, c, s float64) (Phase, string) {
	ratio := c / s
	msg := fmt.Sprintf("canary %g / stable %g = %.4g (tolerance %g, margin %g)", c, s, ratio, b.Tolerance, b.Margin)
	up := c > s*(1+b.Tolerance)+b.Margin
	down := c < s*(1-b.Tolerance)-b.Margin
	switch b.direction() {
	case DirectionIncrease:
		down = false
	case DirectionDecrease:
		up = false
	}
	if up || down {
		return PhaseFailed, msg
	}
	return PhaseSuccessful, msg
}

func dropNaN(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, f := range v {
		if !math.IsNaN(f) {
			out = append(out, f)
		}
	}
	return out
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, f := range v {
		s += f
	}
	return s / float64(len(v))
}
