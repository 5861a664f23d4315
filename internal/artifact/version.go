package artifact

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/slipway-ci/slipway/internal/change"
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
		core, _, _ := change.ParseVersion(base)
		next = fmt.Sprintf("v%d.%d.%d", core[0], core[1], core[2]+1)
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
		_, pre, ok := change.ParseVersion(t)
		if !ok || (releasesOnly && pre) {
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

// CompareVersions compares two versions by semver precedence (build
// metadata ignored) and returns -1, 0 or +1. Invalid versions sort before
// valid ones and among themselves as strings.
func CompareVersions(a, b string) int { return change.CompareVersions(a, b) }
