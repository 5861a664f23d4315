package osv

import (
	"strings"

	debversion "github.com/knqyf263/go-deb-version"
	"golang.org/x/mod/semver"
)

// A comparer orders two versions of one ecosystem; ok is false when
// either version cannot be read, so that nothing is matched by guesswork.
type comparer func(a, b string) (c int, ok bool)

// comparerFor picks the ordering for a range of type typ ("SEMVER" or
// "ECOSYSTEM") in ecosystem eco, or nil when it is unknown.
func comparerFor(typ, eco string) comparer {
	switch {
	case typ == "SEMVER":
		return compareSemver
	case typ != "ECOSYSTEM":
		return nil // GIT ranges name commits, not releases
	case eco == "Go", eco == "npm", eco == "crates.io":
		return compareSemver
	case eco == "PyPI":
		return comparePEP440
	case debianLike(eco):
		return compareDeb
	}
	return nil
}

// debianLike reports ecosystems whose versions dpkg orders: "Debian:12",
// "Ubuntu:22.04:LTS", and the bare names.
func debianLike(eco string) bool {
	name, _, _ := strings.Cut(eco, ":")
	return name == "Debian" || name == "Ubuntu"
}

// compareDeb orders epoch:upstream-revision as dpkg does ("~" before
// anything, letters before other symbols).
func compareDeb(a, b string) (int, bool) {
	va, err := debversion.NewVersion(a)
	if err != nil {
		return 0, false
	}
	vb, err := debversion.NewVersion(b)
	if err != nil {
		return 0, false
	}
	return va.Compare(vb), true
}

// canonSemver adds the "v" Go's semver package wants; OSV and npm omit it.
func canonSemver(v string) string {
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return v
}

func compareSemver(a, b string) (int, bool) {
	a, b = canonSemver(a), canonSemver(b)
	if !semver.IsValid(a) || !semver.IsValid(b) {
		return 0, false
	}
	return semver.Compare(a, b), true
}

// normalizeName applies the ecosystem's name equivalence: PyPI names are
// case-insensitive with -, _ and . interchangeable (PEP 503).
func normalizeName(eco, name string) string {
	if eco != "PyPI" {
		return name
	}
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// sameVersion compares explicit "versions" entries: exactly, or by
// ordering when the ecosystem has one ("1.0" == "1.0.0" in PyPI).
func sameVersion(eco, a, b string) bool {
	if eco == "Go" {
		return canonSemver(a) == canonSemver(b)
	}
	if cmp := comparerFor("ECOSYSTEM", eco); cmp != nil {
		if c, ok := cmp(a, b); ok {
			return c == 0
		}
	}
	return a == b
}
