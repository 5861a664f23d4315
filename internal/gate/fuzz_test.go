package gate

import (
	"errors"
	"testing"

	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

func FuzzWaivers(f *testing.F) {
	for _, s := range []string{
		waiversYAML, "", "waivers:", "waivers: {}", "[", "waivers: [a, {rule: x}]",
		"waivers:\n- &a {rule: G1, owner: o, reason: r, expires: 2027-01-01}\n- *a\n",
		"waivers:\n- {fingerprint: f, owner: o, reason: r, expires: 2027-01-01T25:00:00Z}",
		"waivers:\n- {rule: r, path: '{a,b}/**', scanner: deps, owner: o, reason: r, expires: 2027-01-01}",
	} {
		f.Add([]byte(s))
	}
	findings := []scan.Finding{
		{Scanner: scan.SAST, Rule: "G1", Path: "a/b.go", Line: 1, Fingerprint: "f"},
		{Scanner: scan.Deps, Rule: "r", Package: "p", Fingerprint: "g"},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, err := ParseWaivers("fuzz.yaml", data)
		if err != nil {
			var pe *yamlpos.Error
			if !errors.As(err, &pe) || pe.File != "fuzz.yaml" {
				t.Fatalf("error %v does not name the file", err)
			}
			return
		}
		for _, w := range ws.Entries {
			if w.Owner == "" || w.Reason == "" || w.Expires.IsZero() || w.Line == 0 ||
				(w.Fingerprint == "") == (w.Rule == "") {
				t.Errorf("accepted an incomplete waiver: %+v", w)
			}
		}
		a := Apply(findings, ws, now)
		if len(a.Applied)+len(a.Expired)+len(a.Stale) != len(ws.Entries) {
			t.Errorf("a waiver was lost: %+v", a)
		}
		for _, m := range a.Applied {
			if len(m.Findings) == 0 {
				t.Errorf("applied waiver without findings: %+v", m)
			}
		}
	})
}

func FuzzPolicy(f *testing.F) {
	for _, s := range []string{"", "secrets: low", "quality: [new_coverage >= 80, 'a ? b : c']", "deps: {fail-on: x, scope: y}",
		"quality: 'new_issues == 0 && [1,2].all(x, x > new_lines)'", "sast: {fail-on: high}\nquality:\n- coverage >= 1e309"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := LoadPolicy("gates.yaml", data)
		if err != nil {
			return
		}
		res := Evaluate(EvalInput{Policy: p, Metrics: map[string]float64{"coverage": 1}, Now: now})
		if len(res.Conditions) != len(p.Scanners)+len(p.Conditions) {
			t.Errorf("%d rows for %d conditions", len(res.Conditions), len(p.Scanners)+len(p.Conditions))
		}
	})
}
