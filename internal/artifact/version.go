package artifact

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Version names the commit checked out in dir: its `vX.Y.Z` tag (the
// highest if several), else `vX.Y.(Z+1)-rc.<commits since>+<short sha>`
// after the highest release tag reachable from it (a pre-release of the
// next patch, so it sorts after vX.Y.Z), else `v0.0.0-rc.<commits>+<short sha>`.
// Pre-release tags (v1.2.0-rc.1) name the commit they are on but are no base
// for derived versions. Use TagSafe to make an OCI tag of it.
func Version(ctx context.Context, dir string) (string, error) {
	sha, err := git(ctx, dir, "rev-parse", "--short=7", "HEAD")
	if err != nil {
		return "", err
	}
	at, err := git(ctx, dir, "tag", "--points-at", "HEAD", "--list", "v*")
	if err != nil {
		return "", err
	}
	if v := highest(strings.Fields(at), false); v != "" {
		return v, nil
	}
	merged, err := git(ctx, dir, "tag", "--merged", "HEAD", "--list", "v*")
	if err != nil {
		return "", err
	}
	base, rng := highest(strings.Fields(merged), true), "HEAD"
	next := "v0.0.0"
	if base != "" {
		rng = "refs/tags/" + base + "..HEAD"
		sv, _ := parseSemver(base)
		next = fmt.Sprintf("v%d.%d.%d", sv.major, sv.minor, sv.patch+1)
	}
	n, err := git(ctx, dir, "rev-list", "--count", rng)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-rc.%s+%s", next, n, sha), nil
}

// highest returns the highest semver tag, only releases when releasesOnly.
func highest(tags []string, releasesOnly bool) string {
	best := ""
	for _, t := range tags {
		sv, ok := parseSemver(t)
		if !ok || (releasesOnly && len(sv.pre) > 0) {
			continue
		}
		if best == "" || CompareVersions(t, best) > 0 {
			best = t
		}
	}
	return best
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// TagSafe makes a version usable as an OCI tag, which cannot contain '+':
// '+' becomes '_', as helm does.
func TagSafe(v string) string { return strings.ReplaceAll(v, "+", "_") }

// semver is a parsed `vMAJOR.MINOR.PATCH[-PRE][+BUILD]`.
type semver struct {
	major, minor, patch uint64
	pre                 []string
}

// parseSemver parses a semantic version 2.0.0 with an optional 'v' prefix.
func parseSemver(s string) (semver, bool) {
	var v semver
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if !validIdents(s[i+1:], false) {
			return v, false
		}
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		if !validIdents(s[i+1:], true) {
			return v, false
		}
		v.pre, s = strings.Split(s[i+1:], "."), s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	nums := [3]*uint64{&v.major, &v.minor, &v.patch}
	for i, p := range parts {
		n, ok := numeric(p)
		if !ok {
			return v, false
		}
		*nums[i] = n
	}
	return v, true
}

// numeric parses a semver numeric identifier: digits, no leading zero.
func numeric(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func validIdents(s string, pre bool) bool {
	for _, id := range strings.Split(s, ".") {
		if id == "" || strings.TrimLeft(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") != "" {
			return false
		}
		if _, isNum := numeric(id); pre && !isNum && strings.TrimLeft(id, "0123456789") == "" {
			return false // numeric pre-release identifiers have no leading zeros
		}
	}
	return true
}

// CompareVersions compares two versions by semver precedence (build
// metadata ignored) and returns -1, 0 or +1. Invalid versions sort before
// valid ones and among themselves as strings.
func CompareVersions(a, b string) int {
	va, okA := parseSemver(a)
	vb, okB := parseSemver(b)
	switch {
	case !okA && !okB:
		return strings.Compare(a, b)
	case !okA:
		return -1
	case !okB:
		return 1
	}
	for _, c := range [][2]uint64{{va.major, vb.major}, {va.minor, vb.minor}, {va.patch, vb.patch}} {
		if c[0] != c[1] {
			return cmpUint(c[0], c[1])
		}
	}
	return comparePre(va.pre, vb.pre)
}

func comparePre(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1 // a release sorts after its pre-releases
	case len(b) == 0:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		na, numA := numeric(a[i])
		nb, numB := numeric(b[i])
		switch {
		case numA && numB && na != nb:
			return cmpUint(na, nb)
		case numA && !numB:
			return -1
		case !numA && numB:
			return 1
		case !numA && !numB && a[i] != b[i]:
			return strings.Compare(a[i], b[i])
		}
	}
	return cmpUint(uint64(len(a)), uint64(len(b)))
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
