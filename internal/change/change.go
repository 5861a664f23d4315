// Package change describes the change a pipeline runs for: the commit, its
// branch and tag, the base commit it is compared with, and the files it
// changes. Path filters, conditions and the "new code" quality and security
// gates all read the changed files from here, so they share one rule.
//
// Everything is read with the git command, not a Go git library, so the
// answer matches what users see with git themselves (including linked
// worktrees, shallow clones and SHA-256 repositories).
package change

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Event names accepted in Options.Event.
const (
	EventPush        = "push"
	EventPullRequest = "pull_request"
	EventTag         = "tag"
	EventManual      = "manual"
)

// Base rules reported in Info.BaseRule, in the order Detect tries them.
const (
	RuleFlag                = "flag"                  // Options.Base was given
	RulePushBefore          = "push-before"           // the commit the branch pointed to before the push
	RuleMergeBase           = "merge-base"            // merge-base of HEAD and the default branch
	RuleDefaultBranchParent = "default-branch-parent" // first parent of HEAD on the default branch
	RuleRootCommit          = "root-commit"           // no base: every file of HEAD is changed
	RuleNoCommit            = "no-commit"             // the repository has no commit yet
	RuleNoGit               = "no-git"                // not a git checkout: changes are unknown
)

// Errors returned by Detect, to be checked with errors.Is.
var (
	// ErrUnknownRef: Options.Base or the default branch names nothing in
	// the local repository.
	ErrUnknownRef = errors.New("unknown git ref")
	// ErrShallow: the base commit is cut off by a shallow clone.
	ErrShallow = errors.New("base commit missing from shallow clone")
	// ErrInvalidOption: an Options field is malformed.
	ErrInvalidOption = errors.New("invalid option")
)

// Options say where the checkout is and what triggered the run.
type Options struct {
	Dir             string // any directory inside the checkout (or not a checkout at all); "" = current directory
	Base            string // explicit base ref (--base); wins over every other rule
	Event           string // EventPush, EventPullRequest, EventTag or EventManual; "" = EventManual
	Before          string // push only: the commit the branch pointed to before the push; all zeros = new branch
	DefaultBranch   string // default branch name; "" = detect
	IncludeWorktree bool   // count uncommitted (staged, unstaged, untracked-not-ignored) files as changed
}

// Info is one change: what Detect found.
type Info struct {
	Git           bool     // false when Dir is not inside a git work tree
	Root          string   // absolute top of the work tree (Dir when not git)
	Commit        string   // full sha of HEAD; "" when there is no commit yet or not git
	Branch        string   // current branch; "" when HEAD is detached
	Tag           string   // a tag pointing at HEAD, if any (highest semver first, then lexical)
	Event         string   // the event, defaulted
	DefaultBranch string   // the default branch, given or detected
	Base          string   // full sha of the base commit; "" when none
	BaseRule      string   // which rule chose the base: one of the Rule* constants
	BaseReason    string   // the same, for humans: "merge-base with main (a1b2c3d)"
	Files         []string // changed paths relative to Root, slash-separated, sorted, unique; nil when !Git
	Dirty         bool     // the work tree has uncommitted changes (tracked or untracked)
}

// AllChanged reports whether the changed files are unknown, in which case
// every path filter must match: running a step too many is safer than
// skipping one that was needed.
func (i Info) AllChanged() bool { return !i.Git }

// Detect inspects the checkout at opts.Dir and returns the change it holds.
// A directory outside any git work tree, or a machine without git, is not an
// error: the result has Git false and AllChanged true.
func Detect(ctx context.Context, opts Options) (Info, error) {
	opts, err := normalize(opts)
	if err != nil {
		return Info{}, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return Info{}, fmt.Errorf("change: %w", err)
	}
	if st, err := os.Stat(dir); err != nil {
		return Info{}, fmt.Errorf("change: %w", err)
	} else if !st.IsDir() {
		return Info{}, fmt.Errorf("change: %s is not a directory: %w", dir, ErrInvalidOption)
	}
	info := Info{Root: dir, Event: opts.Event, DefaultBranch: opts.DefaultBranch}

	g, why, err := open(ctx, dir)
	if err != nil {
		return Info{}, err
	}
	if g == nil {
		if opts.Base != "" {
			return Info{}, fmt.Errorf("change: --base %s: %s: %w", opts.Base, why, ErrUnknownRef)
		}
		info.BaseRule, info.BaseReason = RuleNoGit, why+": every path counts as changed"
		return info, nil
	}
	if err := g.fill(ctx, &info, opts); err != nil {
		return Info{}, err
	}
	return info, nil
}

// fill completes info for a git work tree.
func (g *repo) fill(ctx context.Context, info *Info, opts Options) error {
	info.Git = true
	info.Root = g.root
	var err error
	if info.Commit, err = g.head(ctx); err != nil {
		return err
	}
	if info.Branch, err = g.branch(ctx); err != nil {
		return err
	}
	refs, err := g.refs(ctx)
	if err != nil {
		return err
	}
	if info.DefaultBranch == "" {
		if info.DefaultBranch, err = g.defaultBranch(ctx, refs, info.Branch); err != nil {
			return err
		}
	}
	if info.Commit != "" {
		if info.Tag, err = g.tag(ctx); err != nil {
			return err
		}
	}
	b, err := g.base(ctx, info, refs, opts)
	if err != nil {
		return err
	}
	info.Base, info.BaseRule, info.BaseReason = b.sha, b.rule, b.reason
	return g.files(ctx, info, b, opts.IncludeWorktree)
}

// normalize applies defaults and rejects malformed options. Refs starting
// with "-" are refused because git would read them as flags.
func normalize(opts Options) (Options, error) {
	if opts.Dir == "" {
		opts.Dir = "."
	}
	if opts.Event == "" {
		opts.Event = EventManual
	}
	switch opts.Event {
	case EventPush, EventPullRequest, EventTag, EventManual:
	default:
		return opts, fmt.Errorf("change: event %q: want %s, %s, %s or %s: %w",
			opts.Event, EventPush, EventPullRequest, EventTag, EventManual, ErrInvalidOption)
	}
	opts.Base = strings.TrimSpace(opts.Base)
	if strings.HasPrefix(opts.Base, "-") {
		return opts, fmt.Errorf("change: --base %q: a ref cannot start with '-': %w", opts.Base, ErrInvalidOption)
	}
	opts.Before = strings.ToLower(strings.TrimSpace(opts.Before))
	if opts.Before != "" && !isHex(opts.Before, 4) {
		return opts, fmt.Errorf("change: before %q is not a commit sha: %w", opts.Before, ErrInvalidOption)
	}
	opts.DefaultBranch = strings.TrimPrefix(strings.TrimSpace(opts.DefaultBranch), "refs/heads/")
	if strings.HasPrefix(opts.DefaultBranch, "-") || strings.ContainsAny(opts.DefaultBranch, " \t\n\x00~^:?*[\\") {
		return opts, fmt.Errorf("change: default branch %q is not a valid branch name: %w", opts.DefaultBranch, ErrInvalidOption)
	}
	return opts, nil
}

// isHex reports whether s is at least min lowercase hex digits and no longer
// than a SHA-256 object name.
func isHex(s string, min int) bool {
	if len(s) < min || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isZeroSHA reports whether s is the all-zero object name forges send as
// "before" when a branch is created.
func isZeroSHA(s string) bool {
	return (len(s) == 40 || len(s) == 64) && strings.Trim(s, "0") == ""
}

// short abbreviates a sha for messages.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
