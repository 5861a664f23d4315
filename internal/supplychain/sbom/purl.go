package sbom

import (
	"sort"
	"strings"
)

// golangPURL builds pkg:golang/<module path>[@version]. Path segments and
// the version are percent-encoded as the purl spec requires (so
// "+incompatible" becomes "%2Bincompatible").
func golangPURL(path, version string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = purlEscape(s)
	}
	p := "pkg:golang/" + strings.Join(segs, "/")
	if version != "" && version != "(devel)" {
		p += "@" + purlEscape(version)
	}
	return p
}

// debPURL builds pkg:deb/debian/<name>@<version>?arch=<arch>[&upstream=<source>].
func debPURL(name, version, arch, source string) string {
	p := "pkg:deb/debian/" + purlEscape(name)
	if version != "" {
		p += "@" + purlEscape(version)
	}
	q := map[string]string{"arch": arch}
	if source != "" && source != name {
		q["upstream"] = source
	}
	return p + purlQualifiers(q)
}

// purlQualifiers renders non-empty qualifiers sorted by key, as the spec
// requires for a canonical purl.
func purlQualifiers(q map[string]string) string {
	keys := make([]string, 0, len(q))
	for k, v := range q {
		if v != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + purlEscape(q[k]))
	}
	return b.String()
}

// purlEscape percent-encodes everything but RFC 3986 unreserved characters.
func purlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
