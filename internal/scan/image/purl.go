package image

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// errBadPURL marks a package URL that does not follow the purl spec.
var errBadPURL = errors.New("bad package URL")

// purl is a parsed package URL (https://github.com/package-url/purl-spec):
// pkg:type/namespace/name@version?qualifiers#subpath.
type purl struct {
	Type, Namespace, Name, Version string
	Qualifiers                     map[string]string
}

// parsePURL reads a package URL, percent-decoding its parts.
func parsePURL(s string) (purl, error) {
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		return purl{}, fmt.Errorf("%w %q: no pkg: scheme", errBadPURL, clip(s))
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	var p purl
	if i := strings.LastIndexByte(rest, '@'); i >= 0 && !strings.Contains(rest[i:], "/") {
		v, err := url.PathUnescape(rest[i+1:])
		if err != nil {
			return purl{}, fmt.Errorf("%w %q: version: %w", errBadPURL, clip(s), err)
		}
		p.Version, rest = v, rest[:i]
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	if len(segs) < 2 || segs[0] == "" {
		return purl{}, fmt.Errorf("%w %q: want type/name", errBadPURL, clip(s))
	}
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil || u == "" {
			return purl{}, fmt.Errorf("%w %q: path segment %d", errBadPURL, clip(s), i)
		}
		segs[i] = u
	}
	p.Type = strings.ToLower(segs[0])
	p.Name = segs[len(segs)-1]
	p.Namespace = strings.Join(segs[1:len(segs)-1], "/")
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return purl{}, fmt.Errorf("%w %q: qualifiers: %w", errBadPURL, clip(s), err)
		}
		p.Qualifiers = make(map[string]string, len(q))
		for k, v := range q {
			p.Qualifiers[strings.ToLower(k)] = v[0]
		}
	}
	return p, nil
}

// fullName joins namespace and name as the ecosystem spells package names.
func (p purl) fullName(sep string) string {
	if p.Namespace == "" {
		return p.Name
	}
	return p.Namespace + sep + p.Name
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
