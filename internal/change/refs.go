package change

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

const (
	headsPrefix  = "refs/heads/"
	originPrefix = "refs/remotes/origin/"
)

// refSet holds the local branches and origin's remote-tracking branches,
// read once, and where origin/HEAD points.
type refSet struct {
	names      map[string]bool // full ref names
	originHEAD string          // branch name origin/HEAD points at, or ""
}

// branchRef returns the full ref of branch: the local branch, else origin's.
func (r refSet) branchRef(branch string) string {
	switch {
	case branch == "":
		return ""
	case r.names[headsPrefix+branch]:
		return headsPrefix + branch
	case r.names[originPrefix+branch]:
		return originPrefix + branch
	}
	return ""
}

// refs lists local and origin branches in one git call.
func (g *repo) refs(ctx context.Context) (refSet, error) {
	out, err := g.run(ctx, "for-each-ref", "--format=%(refname)%00%(symref)", headsPrefix, originPrefix)
	if err != nil {
		return refSet{}, fmt.Errorf("change: %w", err)
	}
	rs := refSet{names: map[string]bool{}}
	for _, line := range strings.Split(out, "\n") {
		name, target, _ := strings.Cut(line, "\x00")
		if name == "" {
			continue
		}
		rs.names[name] = true
		if name == originPrefix+"HEAD" && strings.HasPrefix(target, originPrefix) {
			rs.originHEAD = strings.TrimPrefix(target, originPrefix)
		}
	}
	return rs, nil
}

// head returns the full sha of HEAD, or "" before the first commit.
func (g *repo) head(ctx context.Context) (string, error) {
	sha, _, err := g.optional(ctx, "rev-parse", "--verify", "-q", "HEAD^{commit}")
	return sha, err
}

// branch returns the checked-out branch, or "" when HEAD is detached.
func (g *repo) branch(ctx context.Context) (string, error) {
	ref, ok, err := g.optional(ctx, "symbolic-ref", "-q", "HEAD")
	if err != nil || !ok {
		return "", err
	}
	return strings.TrimPrefix(ref, headsPrefix), nil
}

// defaultBranch picks the default branch: where origin/HEAD points, else
// init.defaultBranch if that branch exists, else main, else master, else
// the current branch.
func (g *repo) defaultBranch(ctx context.Context, refs refSet, current string) (string, error) {
	if refs.originHEAD != "" {
		return refs.originHEAD, nil
	}
	configured, _, err := g.optional(ctx, "config", "--get", "init.defaultBranch")
	if err != nil {
		return "", err
	}
	for _, b := range []string{configured, "main", "master"} {
		if refs.branchRef(b) != "" {
			return b, nil
		}
	}
	return current, nil
}

// tag returns the preferred tag pointing at HEAD, or "".
func (g *repo) tag(ctx context.Context) (string, error) {
	out, err := g.run(ctx, "for-each-ref", "--points-at=HEAD", "--format=%(refname:strip=2)", "refs/tags/")
	if err != nil {
		return "", fmt.Errorf("change: %w", err)
	}
	return pickTag(strings.Fields(out)), nil
}

// pickTag prefers semver-looking tags (highest precedence first, so a
// release wins over its release candidate on the same commit), then the
// lexically first tag.
func pickTag(tags []string) string {
	if len(tags) == 0 {
		return ""
	}
	sorted := append([]string(nil), tags...)
	sort.Slice(sorted, func(i, j int) bool {
		a, aok := parseSemver(sorted[i])
		b, bok := parseSemver(sorted[j])
		switch {
		case aok != bok:
			return aok
		case aok:
			if c := a.compare(b); c != 0 {
				return c > 0
			}
		}
		return sorted[i] < sorted[j]
	})
	return sorted[0]
}
