package osv

import "strings"

// mergeAliases folds records about the same vulnerability (e.g. GO-… and
// GHSA-… for one Go module) into one Vuln: the Go database's ID wins,
// because govulncheck reports by it; the highest known severity wins.
func mergeAliases(vs []Vuln) []Vuln {
	var out []Vuln
	for _, v := range vs {
		i := indexOfAlias(out, v)
		if i < 0 {
			out = append(out, v)
			continue
		}
		out[i] = merge(out[i], v)
	}
	return out
}

func indexOfAlias(vs []Vuln, v Vuln) int {
	names := map[string]bool{v.ID: true}
	for _, a := range v.Aliases {
		names[a] = true
	}
	for i, w := range vs {
		if names[w.ID] {
			return i
		}
		for _, a := range w.Aliases {
			if names[a] { // the same ID or a shared alias (a CVE)
				return i
			}
		}
	}
	return -1
}

func merge(a, b Vuln) Vuln {
	keep, other := a, b
	if strings.HasPrefix(b.ID, "GO-") && !strings.HasPrefix(a.ID, "GO-") {
		keep, other = b, a
	}
	if other.Severity > keep.Severity {
		keep.Severity, keep.Score = other.Severity, other.Score
	}
	if keep.FixedIn == "" {
		keep.FixedIn = other.FixedIn
	}
	seen := map[string]bool{keep.ID: true}
	var aliases []string
	for _, x := range append(append(append([]string(nil), keep.Aliases...), other.ID), other.Aliases...) {
		if !seen[x] {
			seen[x] = true
			aliases = append(aliases, x)
		}
	}
	keep.Aliases = aliases
	return keep
}
