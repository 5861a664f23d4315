package analysis

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"text/template"
)

// Args are the values a query, URL, header or body may use: `{{version}}`
// (or `{{.version}}`), and `{{arg "some-name"}}` for names that are not
// identifiers. A missing arg is an error, never an empty string.
type Args map[string]string

// Standard args the deployment controller sets.
const (
	ArgVersion       = "version"       // the version being measured
	ArgService       = "service"       // the service name
	ArgEnv           = "env"           // the environment
	ArgStableVersion = "stableVersion" // the stable version (baseline mode)
)

// StandardArgs are always known to Validate.
var StandardArgs = []string{ArgVersion, ArgService, ArgEnv, ArgStableVersion}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// with returns a copy of a with one more value.
func (a Args) with(k, v string) Args {
	out := maps.Clone(a)
	if out == nil {
		out = Args{}
	}
	out[k] = v
	return out
}

// funcs gives each identifier-named arg its own template function; values
// is nil at validation time, when only the names are known.
func argFuncs(names []string, values Args) template.FuncMap {
	fm := template.FuncMap{
		"arg": func(name string) (string, error) {
			if values == nil {
				return "", nil
			}
			v, ok := values[name]
			if !ok {
				return "", fmt.Errorf("no arg %q", name)
			}
			return v, nil
		},
		// promQuote quotes a value for a PromQL label matcher.
		"promQuote": func(s string) string {
			return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
		},
	}
	for _, n := range names {
		if !identRE.MatchString(n) || fm[n] != nil {
			continue
		}
		fm[n] = func() string { return values[n] }
	}
	return fm
}

// parseArgTemplate checks that src is a valid template using only known
// arg names.
func parseArgTemplate(src string, known []string) error {
	_, err := template.New("").Option("missingkey=error").Funcs(argFuncs(known, nil)).Parse(src)
	return err
}

// expand renders src with args.
func expand(src string, args Args) (string, error) {
	if !strings.Contains(src, "{{") {
		return src, nil
	}
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	t, err := template.New("").Option("missingkey=error").Funcs(argFuncs(names, args)).Parse(src)
	if err != nil {
		return "", fmt.Errorf("template %q: %w", src, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]string(args)); err != nil {
		return "", fmt.Errorf("template %q: %w", src, err)
	}
	return b.String(), nil
}
