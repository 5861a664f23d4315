package osv

import (
	"fmt"
	"math"
	"strings"

	"github.com/slipway-ci/slipway/internal/scan"
)

// cvss3Weights are the CVSS v3.x base metric values (spec §7.4).
var cvss3Weights = map[string]map[string]float64{
	"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
	"AC": {"L": 0.77, "H": 0.44},
	"UI": {"N": 0.85, "R": 0.62},
	"C":  {"H": 0.56, "L": 0.22, "N": 0},
	"I":  {"H": 0.56, "L": 0.22, "N": 0},
	"A":  {"H": 0.56, "L": 0.22, "N": 0},
}

// CVSS3BaseScore computes the base score of a CVSS v3.0/v3.1 vector such
// as "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" (9.8).
func CVSS3BaseScore(vector string) (float64, error) {
	parts := strings.Split(vector, "/")
	if len(parts) == 0 || (parts[0] != "CVSS:3.0" && parts[0] != "CVSS:3.1") {
		return 0, fmt.Errorf("not a CVSS v3 vector: %q", clip(vector))
	}
	m := make(map[string]string)
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: bad metric %q", clip(vector), clip(p))
		}
		m[k] = v
	}
	w := make(map[string]float64)
	for k, vals := range cvss3Weights {
		x, ok := vals[m[k]]
		if !ok {
			return 0, fmt.Errorf("CVSS vector %q: bad or missing %s", clip(vector), k)
		}
		w[k] = x
	}
	changed := m["S"] == "C"
	if !changed && m["S"] != "U" {
		return 0, fmt.Errorf("CVSS vector %q: bad or missing S", clip(vector))
	}
	pr, ok := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}[m["PR"]]
	if !ok {
		return 0, fmt.Errorf("CVSS vector %q: bad or missing PR", clip(vector))
	}
	if changed && m["PR"] == "L" {
		pr = 0.68
	} else if changed && m["PR"] == "H" {
		pr = 0.5
	}
	iss := 1 - (1-w["C"])*(1-w["I"])*(1-w["A"])
	impact := 6.42 * iss
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	}
	if impact <= 0 {
		return 0, nil
	}
	exploit := 8.22 * w["AV"] * w["AC"] * pr * w["UI"]
	if changed {
		return roundUp(math.Min(1.08*(impact+exploit), 10)), nil
	}
	return roundUp(math.Min(impact+exploit, 10)), nil
}

// roundUp is CVSS 3.1's Roundup, which avoids floating-point surprises.
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// SeverityOfScore is the CVSS qualitative rating of a score.
func SeverityOfScore(s float64) scan.Severity { return scan.SeverityOfScore(s) }
