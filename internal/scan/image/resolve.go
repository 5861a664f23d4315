package image

import (
	"strings"
)

// found is a package, by its package URL, at a place in the image: a file
// inside it, or the digest of the SBOM that listed it.
type found struct {
	purl purl
	path string
}

// target is a package as OSV names it.
type target struct {
	Ecosystem string // "Go", "Debian:12", ...
	Name      string // as installed, e.g. a Debian binary package
	Query     string // the name OSV's records use: a Debian source package
	Version   string
	Path      string
}

// ecosystems maps purl types to OSV ecosystems, with the separator between
// namespace and name in that ecosystem's package names.
var ecosystems = map[string]struct{ eco, sep string }{
	"golang":   {"Go", "/"},
	"npm":      {"npm", "/"},
	"pypi":     {"PyPI", "/"},
	"cargo":    {"crates.io", "/"},
	"gem":      {"RubyGems", "/"},
	"nuget":    {"NuGet", "/"},
	"hex":      {"Hex", "/"},
	"pub":      {"Pub", "/"},
	"composer": {"Packagist", "/"},
	"maven":    {"Maven", ":"},
}

// resolve names f in OSV's terms; ok is false for packages OSV cannot say
// anything about (no version, or an ecosystem it does not cover).
func resolve(f found, d distro) (target, bool) {
	p := f.purl
	if p.Version == "" {
		return target{}, false
	}
	if p.Type == "deb" {
		return resolveDeb(f, d)
	}
	e, ok := ecosystems[p.Type]
	if !ok {
		return target{}, false
	}
	t := target{Ecosystem: e.eco, Name: p.fullName(e.sep), Version: p.Version, Path: f.path}
	if t.Ecosystem == "Go" && t.Name == "stdlib" {
		if t.Version, ok = goSemver(t.Version); !ok {
			return target{}, false
		}
	}
	t.Query = t.Name
	return t, true
}

func resolveDeb(f found, image distro) (target, bool) {
	p := f.purl
	d := image
	if q := p.Qualifiers["distro"]; q != "" {
		if qd := distroQualifier(p.Namespace, q); qd.VersionID != "" || d.ID == "" {
			d = qd
		}
	}
	if d.ID == "" {
		d.ID = strings.ToLower(p.Namespace)
	}
	eco, ok := debEcosystem(d)
	if !ok {
		return target{}, false
	}
	t := target{Ecosystem: eco, Name: p.Name, Query: p.Name, Version: p.Version, Path: f.path}
	// OSV's Debian and Ubuntu records name source packages.
	if src, _, _ := strings.Cut(p.Qualifiers["upstream"], " "); src != "" {
		t.Query = src
	}
	return t, true
}

// goSemver turns a Go toolchain version ("1.26.8", "go1.26rc1") into the
// semantic version OSV's stdlib records use ("1.26.8", "1.26.0-rc.1").
func goSemver(v string) (string, bool) {
	v = strings.TrimPrefix(v, "go")
	v, _, _ = strings.Cut(v, " ") // "go1.26.8 X:nodwarf5"
	v, _, _ = strings.Cut(v, "+")
	pre := ""
	for _, tag := range []string{"rc", "beta"} {
		if i := strings.Index(v, tag); i > 0 {
			pre = "-" + tag + "." + v[i+len(tag):]
			v = v[:i]
			break
		}
	}
	switch strings.Count(v, ".") {
	case 1:
		v += ".0"
	case 2:
	default:
		return "", false
	}
	if v[0] < '0' || v[0] > '9' {
		return "", false
	}
	return v + pre, true
}
