package pipeline

import (
	"fmt"
	"regexp"
	"strings"
)

// exprRE matches `${{ ... }}`; only `matrix.<name>` may appear inside.
var exprRE = regexp.MustCompile(`\$\{\{(.*?)\}\}`)

// interpolate replaces `${{ matrix.<name> }}` with the combination's values.
// Unknown names are reported by lint before this runs.
func interpolate(s string, matrix map[string]string) string {
	if !strings.Contains(s, "${{") {
		return s
	}
	return exprRE.ReplaceAllStringFunc(s, func(m string) string {
		name, err := matrixRef(m)
		if err != nil {
			return m
		}
		return matrix[name]
	})
}

// matrixRef returns <name> of a `${{ matrix.<name> }}` occurrence.
func matrixRef(m string) (string, error) {
	inner := strings.TrimSpace(exprRE.FindStringSubmatch(m)[1])
	name, ok := strings.CutPrefix(inner, "matrix.")
	if !ok || !envNameRE.MatchString(name) {
		return "", fmt.Errorf("%s: only ${{ matrix.<name> }} can be interpolated", m)
	}
	return name, nil
}

// interpolationErrors lists the problems of the `${{ }}` uses in s given the
// step's matrix dimensions.
func interpolationErrors(s string, dims map[string]bool) []string {
	var out []string
	for _, m := range exprRE.FindAllString(s, -1) {
		name, err := matrixRef(m)
		switch {
		case err != nil:
			out = append(out, err.Error())
		case !dims[name]:
			out = append(out, fmt.Sprintf("%s: the step has no matrix dimension %q", m, name))
		}
	}
	return out
}
