package change

import (
	"context"
	"fmt"
	"strings"
)

// baseChoice is the outcome of the base rule.
type baseChoice struct {
	sha    string // "" when every file of HEAD counts (root commit) or there is no commit
	rule   string
	reason string
}

// shallowHint is appended to errors caused by a history that stops too early.
const shallowHint = "this is a shallow clone: fetch more history (git fetch --deepen=N, or --unshallow) or pass --base"

// base applies the base rule, in order: the --base flag; a push's "before"
// commit; the merge-base with the default branch off it; the parent of
// HEAD on it.
func (g *repo) base(ctx context.Context, info *Info, refs refSet, opts Options) (baseChoice, error) {
	if info.Commit == "" {
		if opts.Base != "" {
			return baseChoice{}, fmt.Errorf("change: --base %s: the repository has no commit yet: %w", opts.Base, ErrUnknownRef)
		}
		return baseChoice{rule: RuleNoCommit, reason: "no commit yet"}, nil
	}
	if opts.Base != "" {
		return g.flagBase(ctx, opts.Base)
	}
	var note string
	if opts.Event == EventPush && opts.Before != "" {
		b, n, err := g.pushBase(ctx, opts.Before)
		if err != nil || b.sha != "" {
			return b, err
		}
		note = n + "; "
	}
	b, err := g.branchBase(ctx, info, refs)
	b.reason = note + b.reason
	return b, err
}

// flagBase resolves an explicit --base.
func (g *repo) flagBase(ctx context.Context, ref string) (baseChoice, error) {
	sha, ok, err := g.resolve(ctx, ref)
	if err != nil {
		return baseChoice{}, err
	}
	if !ok {
		msg := fmt.Sprintf("change: --base %s: no such commit in %s", ref, g.root)
		if g.shallow {
			msg += " (" + shallowHint + ")"
		}
		return baseChoice{}, fmt.Errorf("%s: %w", msg, ErrUnknownRef)
	}
	return baseChoice{sha: sha, rule: RuleFlag, reason: fmt.Sprintf("--base %s (%s)", ref, short(sha))}, nil
}

// pushBase uses the commit the branch pointed to before the push. When it
// cannot (a new branch, or a commit this clone does not have), it returns
// an empty choice and a note on why, and the branch rules decide.
func (g *repo) pushBase(ctx context.Context, before string) (baseChoice, string, error) {
	if isZeroSHA(before) {
		return baseChoice{}, "push created the branch (before is zero)", nil
	}
	sha, ok, err := g.resolve(ctx, before)
	if err != nil {
		return baseChoice{}, "", err
	}
	if !ok {
		return baseChoice{}, fmt.Sprintf("push before %s not in this clone (new branch, force push or shallow clone)", short(before)), nil
	}
	return baseChoice{sha: sha, rule: RulePushBefore, reason: fmt.Sprintf("before the push (%s)", short(sha))}, "", nil
}

// branchBase compares a branch with where it left the default branch, and
// a commit of the default branch with its parent. A branch with no commits
// of its own therefore changes nothing.
func (g *repo) branchBase(ctx context.Context, info *Info, refs refSet) (baseChoice, error) {
	def := info.DefaultBranch
	if info.Branch != "" && info.Branch == def {
		return g.parentBase(ctx, info.Commit, "parent on "+def)
	}
	defRef := refs.branchRef(def)
	if defRef == "" {
		if def == "" {
			return baseChoice{}, fmt.Errorf("change: HEAD is detached and there is no default branch (no origin/HEAD, main or master): pass --default-branch or --base: %w", ErrUnknownRef)
		}
		return baseChoice{}, fmt.Errorf("change: default branch %q not found (neither %s%s nor %s%s): fetch it or pass --base: %w",
			def, headsPrefix, def, originPrefix, def, ErrUnknownRef)
	}
	display := strings.TrimPrefix(strings.TrimPrefix(defRef, headsPrefix), "refs/remotes/")
	mb, ok, err := g.optional(ctx, "merge-base", "HEAD", defRef)
	if err != nil {
		return baseChoice{}, err
	}
	switch {
	case !ok && g.shallow:
		return baseChoice{}, fmt.Errorf("change: no merge-base of HEAD and %s: %s: %w", display, shallowHint, ErrShallow)
	case !ok:
		// An orphan branch shares no history: all of it is new.
		return baseChoice{rule: RuleRootCommit, reason: "no common history with " + display + ": every file is new"}, nil
	case info.Branch == "" && mb == info.Commit:
		// A detached checkout of a commit already on the default branch
		// (CI checking out a sha) is a default-branch commit, not an empty
		// branch.
		return g.parentBase(ctx, info.Commit, "detached HEAD is on "+display+": parent")
	}
	return baseChoice{sha: mb, rule: RuleMergeBase, reason: fmt.Sprintf("merge-base with %s (%s)", display, short(mb))}, nil
}

// parentBase uses the first parent of commit (the main line before a merge).
// The parent is read from the commit object itself so a shallow clone's cut
// is told apart from a real root commit.
func (g *repo) parentBase(ctx context.Context, commit, what string) (baseChoice, error) {
	raw, err := g.run(ctx, "cat-file", "commit", commit)
	if err != nil {
		return baseChoice{}, fmt.Errorf("change: %w", err)
	}
	parent := firstParent(raw)
	if parent == "" {
		return baseChoice{rule: RuleRootCommit, reason: "root commit: every file is new"}, nil
	}
	if !isHex(parent, 40) {
		return baseChoice{}, fmt.Errorf("change: commit %s has a malformed parent %q", short(commit), parent)
	}
	if _, ok, err := g.resolve(ctx, parent); err != nil {
		return baseChoice{}, err
	} else if !ok {
		return baseChoice{}, fmt.Errorf("change: parent %s of HEAD is missing: %s: %w", short(parent), shallowHint, ErrShallow)
	}
	return baseChoice{sha: parent, rule: RuleDefaultBranchParent, reason: fmt.Sprintf("%s (%s)", what, short(parent))}, nil
}

// firstParent returns the first "parent" header of a raw commit object.
func firstParent(raw string) string {
	for _, line := range strings.Split(raw, "\n") {
		if line == "" {
			break // end of headers
		}
		if p, ok := strings.CutPrefix(line, "parent "); ok {
			return p
		}
	}
	return ""
}

// resolve names the commit ref points at, if the repository has it.
func (g *repo) resolve(ctx context.Context, ref string) (string, bool, error) {
	return g.optional(ctx, "rev-parse", "--verify", "-q", ref+"^{commit}")
}
