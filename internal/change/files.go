package change

import (
	"context"
	"slices"
	"strings"
)

// diffFlags make "git diff" list root-relative paths with renames as a
// delete plus an add, whatever the user's diff configuration says.
var diffFlags = []string{"diff", "--name-only", "-z", "--no-renames", "--no-relative", "--no-ext-diff", "--no-textconv"}

// files fills info.Files and info.Dirty.
func (g *repo) files(ctx context.Context, info *Info, b baseChoice, includeWorktree bool) error {
	var committed []string
	var err error
	switch {
	case b.sha != "":
		committed, err = g.list(ctx, slices.Concat(diffFlags, []string{b.sha, "HEAD", "--"})...)
	case b.rule == RuleRootCommit:
		committed, err = g.list(ctx, "ls-tree", "-r", "-z", "--name-only", "--full-tree", "HEAD")
	}
	if err != nil {
		return err
	}
	worktree, err := g.worktree(ctx, info.Commit != "")
	if err != nil {
		return err
	}
	info.Dirty = len(worktree) > 0
	if includeWorktree {
		committed = append(committed, worktree...)
	}
	info.Files = normalizePaths(committed)
	return nil
}

// worktree lists uncommitted files: tracked files that differ from HEAD
// (staged or not) and untracked files that are not ignored. Before the first
// commit every file in the index is uncommitted.
func (g *repo) worktree(ctx context.Context, hasHead bool) ([]string, error) {
	var tracked []string
	var err error
	if hasHead {
		tracked, err = g.list(ctx, slices.Concat(diffFlags, []string{"HEAD", "--"})...)
	} else {
		tracked, err = g.list(ctx, "ls-files", "-z", "--full-name")
	}
	if err != nil {
		return nil, err
	}
	untracked, err := g.list(ctx, "ls-files", "-z", "--others", "--exclude-standard", "--full-name")
	if err != nil {
		return nil, err
	}
	return append(tracked, untracked...), nil
}

// normalizePaths sorts and de-duplicates paths. A nested repository shows
// up among untracked files as "dir/": the slash is dropped so it reads like
// any other path. The result is never nil, so an empty change is told apart
// from an unknown one.
func normalizePaths(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if p = strings.TrimSuffix(p, "/"); p != "" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
