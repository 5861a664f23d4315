package analysis

import (
	"math"
	"testing"
)

func TestConditionEval(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		src     string
		in      Result
		want    bool
		wantErr bool
	}{
		{"result < 0.05", ScalarResult(0.01), true, false},
		{"result < 1", ScalarResult(1), false, false}, // int literal against a double
		{"result < 0.05", VectorResult([]float64{0.01}), true, false},
		{"result[0] < 0.05", ScalarResult(0.01), true, false},
		{"result[0] < 0.05", VectorResult([]float64{0.2, 0.01}), false, false},
		{"result.all(x, x < 1)", VectorResult([]float64{0.2, 0.5}), true, false},
		{"size(result) == 2", VectorResult([]float64{0.2, 0.5}), true, false},
		{"isNaN(result)", ScalarResult(nan), true, false},
		{"isNaN(result)", VectorResult([]float64{1, nan}), true, false},
		{"isNaN(result)", VectorResult([]float64{1, 2}), false, false},
		{"isInf(result)", ScalarResult(math.Inf(1)), true, false},
		{"result < 0.05", VectorResult([]float64{0.01, 0.02}), false, true}, // a scalar condition on a real vector
		{"result[3] < 1", VectorResult([]float64{0.01}), false, true},       // out of range
	}
	for _, tc := range cases {
		c, err := compileCondition(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		got, err := c.eval(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s on %v = %v, %v; want %v (error %v)", tc.src, tc.in.Values(), got, err, tc.want, tc.wantErr)
		}
	}
}

func TestConditionsPhase(t *testing.T) {
	mk := func(s, f string) conditions {
		t.Helper()
		var cs conditions
		var err error
		if s != "" {
			if cs.success, err = compileCondition(s); err != nil {
				t.Fatal(err)
			}
		}
		if f != "" {
			if cs.failure, err = compileCondition(f); err != nil {
				t.Fatal(err)
			}
		}
		return cs
	}
	cases := []struct {
		s, f string
		v    float64
		want Phase
	}{
		{"result < 1", "result > 2", 0, PhaseSuccessful},
		{"result < 1", "result > 2", 5, PhaseFailed},
		{"result < 1", "result > 2", 1.5, PhaseInconclusive},
		{"result < 10", "result > 2", 5, PhaseFailed}, // failure wins when both hold
		{"result < 1", "", 1.5, PhaseFailed},
		{"", "result > 2", 1.5, PhaseSuccessful},
		{"", "", 99, PhaseSuccessful},
	}
	for _, tc := range cases {
		got, err := mk(tc.s, tc.f).phase(ScalarResult(tc.v))
		if err != nil || got != tc.want {
			t.Errorf("(%q, %q) on %v = %v, %v; want %v", tc.s, tc.f, tc.v, got, err, tc.want)
		}
	}
}

func TestResultJSON(t *testing.T) {
	for _, tc := range []struct {
		in   Result
		want string
	}{
		{ScalarResult(0.5), `0.5`},
		{VectorResult([]float64{1, math.NaN(), math.Inf(-1)}), `[1,"NaN","-Inf"]`},
		{NoData(), `null`},
	} {
		m := Measurement{Value: tc.in}
		if got := m.ValueJSON(); got != tc.want {
			t.Errorf("ValueJSON = %s, want %s", got, tc.want)
		}
	}
	st := ScalarResult(1)
	if got := (Measurement{Value: ScalarResult(2), Stable: &st}).ValueJSON(); got != `{"canary":2,"stable":1}` {
		t.Errorf("baseline ValueJSON = %s", got)
	}
}
