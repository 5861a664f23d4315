package gate

import (
	"math"
	"strings"
	"testing"
)

func TestParseCondition(t *testing.T) {
	tests := []struct {
		src       string
		metrics   map[string]float64
		threshold string
		scope     Scope
		value     float64
		pass, na  bool
	}{
		{"new_coverage >= 80", map[string]float64{"new_coverage": 80}, ">= 80", New, 80, true, false},
		{"new_coverage >= 80", map[string]float64{"new_coverage": 79.9}, ">= 80", New, 79.9, false, false},
		{"new_duplicated_lines_pct <= 3", map[string]float64{"new_duplicated_lines_pct": 3.5}, "<= 3", New, 3.5, false, false},
		{"new_issues == 0", map[string]float64{"new_issues": 0}, "== 0", New, 0, true, false},
		{"max_new_function_complexity <= 15", map[string]float64{"max_new_function_complexity": 16}, "<= 15", New, 16, false, false},
		{"70 <= coverage", map[string]float64{"coverage": 71}, ">= 70", All, 71, true, false},
		{"coverage > 60.5", map[string]float64{"coverage": 60.5}, "> 60.5", All, 60.5, false, false},
		{"tests_failed == 0 && tests > 0", map[string]float64{"tests_failed": 0, "tests": 0}, "tests_failed == 0 && tests > 0", All, 0, false, false},
		{"coverage >= 50 || new_lines < 10", map[string]float64{"coverage": 10, "new_lines": 3}, "coverage >= 50 || new_lines < 10", New, 10, true, false},
		// A metric that does not apply passes.
		{"new_coverage >= 80", map[string]float64{"new_coverage": math.NaN()}, ">= 80", New, math.NaN(), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			c, err := ParseCondition(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if c.Threshold != tt.threshold || c.Scope != tt.scope {
				t.Errorf("threshold %q scope %q, want %q %q", c.Threshold, c.Scope, tt.threshold, tt.scope)
			}
			out, err := c.Eval(tt.metrics)
			if err != nil {
				t.Fatal(err)
			}
			if out.Pass != tt.pass || out.NA != tt.na || !same(out.Value, tt.value) || len(out.Missing) > 0 {
				t.Errorf("outcome %+v, want pass=%v na=%v value=%v", out, tt.pass, tt.na, tt.value)
			}
		})
	}
}

func TestConditionMissingMetricFails(t *testing.T) {
	c, err := ParseCondition("new_coverage >= 80 && new_issues == 0")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Eval(map[string]float64{"new_issues": 0})
	if err != nil {
		t.Fatal(err)
	}
	if out.Pass || out.NA || len(out.Missing) != 1 || out.Missing[0] != "new_coverage" {
		t.Errorf("outcome %+v: a metric that was not measured must fail the condition", out)
	}
}

func TestParseConditionErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"", "empty condition"},
		{"new_covrage >= 80", `condition "new_covrage >= 80": unknown metric "new_covrage" (did you mean "new_coverage"?); known metrics: coverage, new_coverage,`},
		{"new_coverage >=", `condition "new_coverage >=": ERROR: <input>:1:16: Syntax error`},
		{"new_coverage + 1", `condition "new_coverage + 1" must be true or false, not a double`},
		{"1 > 0", `condition "1 > 0" names no metric`},
		{`new_coverage >= "80"`, `condition "new_coverage >= \"80\"": ERROR: <input>:1:14: found no matching overload`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := ParseCondition(tt.src)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant prefix %s", err, tt.want)
			}
		})
	}
}

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
