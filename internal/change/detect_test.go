package change

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slipway-ci/slipway/internal/change/changetest"
)

// detectCase builds a repository and says what Detect must find in it.
// want.BaseReason is a substring of the expected reason; want.Root, when
// set, is compared after resolving symlinks.
type detectCase struct {
	name  string
	setup func(t *testing.T) (Options, Info)
}

// paths returns a non-nil slice: a git change with no files is not an
// unknown change.
func paths(p ...string) []string { return append([]string{}, p...) }

const zeroSHA = "0000000000000000000000000000000000000000"

func TestDetect(t *testing.T) {
	t.Parallel()
	cases := []detectCase{
		{"default branch with several commits", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			r.Commit("one")
			r.Write("b", "1")
			c2 := r.Commit("two")
			r.Write("a", "2")
			r.Write("c", "1")
			c3 := r.Commit("three")
			return Options{Dir: r.Dir()}, Info{Git: true, Root: r.Dir(), Commit: c3, Branch: "main",
				Event: EventManual, DefaultBranch: "main", Base: c2, BaseRule: RuleDefaultBranchParent,
				BaseReason: "parent on main (" + c2[:7] + ")", Files: paths("a", "c")}
		}},
		{"feature branch counts only its own files", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Branch("feature")
			r.Write("f/one.go", "1")
			r.Commit("f1")
			r.Write("f/two.go", "1")
			f2 := r.Commit("f2")
			r.Checkout("main")
			r.Write("m", "main moved on")
			r.Commit("main")
			r.Checkout("feature")
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: f2, Branch: "feature", Event: EventManual,
				DefaultBranch: "main", Base: c1, BaseRule: RuleMergeBase,
				BaseReason: "merge-base with main (" + c1[:7] + ")", Files: paths("f/one.go", "f/two.go")}
		}},
		{"brand-new branch has no changed files", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			r.Commit("one")
			r.Write("b", "1")
			c2 := r.Commit("two")
			r.Branch("new")
			return Options{Dir: r.Dir(), Event: EventPush, Before: zeroSHA}, Info{Git: true, Commit: c2,
				Branch: "new", Event: EventPush, DefaultBranch: "main", Base: c2, BaseRule: RuleMergeBase,
				BaseReason: "push created the branch (before is zero); merge-base with main", Files: paths()}
		}},
		{"push uses the before commit", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Write("b", "1")
			r.Commit("two")
			r.Write("c", "1")
			c3 := r.Commit("three")
			return Options{Dir: r.Dir(), Event: EventPush, Before: strings.ToUpper(c1)}, Info{Git: true,
				Commit: c3, Branch: "main", Event: EventPush, DefaultBranch: "main", Base: c1,
				BaseRule: RulePushBefore, BaseReason: "before the push", Files: paths("b", "c")}
		}},
		{"push before is ignored for other events", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			c1 := r.Commit("one")
			r.Write("b", "1")
			c2 := r.Commit("two")
			r.Write("c", "1")
			c3 := r.Commit("three")
			return Options{Dir: r.Dir(), Event: EventManual, Before: c1}, Info{Git: true, Commit: c3,
				Branch: "main", Event: EventManual, DefaultBranch: "main", Base: c2,
				BaseRule: RuleDefaultBranchParent, BaseReason: "parent on main", Files: paths("c")}
		}},
		{"push before unknown to the clone falls through", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Write("b", "1")
			c2 := r.Commit("two")
			return Options{Dir: r.Dir(), Event: EventPush, Before: strings.Repeat("de", 20)}, Info{Git: true,
				Commit: c2, Branch: "main", Event: EventPush, DefaultBranch: "main", Base: c1,
				BaseRule: RuleDefaultBranchParent, BaseReason: "push before dedede", Files: paths("b")}
		}},
		{"zero before on a feature branch uses the merge-base", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Branch("feature")
			r.Write("f", "1")
			f1 := r.Commit("f")
			return Options{Dir: r.Dir(), Event: EventPush, Before: strings.Repeat("0", 64)}, Info{Git: true,
				Commit: f1, Branch: "feature", Event: EventPush, DefaultBranch: "main", Base: c1,
				BaseRule: RuleMergeBase, BaseReason: "before is zero", Files: paths("f")}
		}},
		{"--base wins over everything", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Tag("v1.0.0")
			r.Write("b", "1")
			c2 := r.Commit("two")
			r.Write("c", "1")
			c3 := r.Commit("three")
			return Options{Dir: r.Dir(), Base: "v1.0.0", Event: EventPush, Before: c2}, Info{Git: true,
				Commit: c3, Branch: "main", Event: EventPush, DefaultBranch: "main", Base: c1,
				BaseRule: RuleFlag, BaseReason: "--base v1.0.0 (" + c1[:7] + ")", Files: paths("b", "c")}
		}},
		{"root commit: every file is new", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			r.Write("dir/b", "1")
			c1 := r.Commit("one")
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: c1, Branch: "main", Event: EventManual,
				DefaultBranch: "main", BaseRule: RuleRootCommit, BaseReason: "root commit",
				Files: paths("a", "dir/b")}
		}},
		{"detached HEAD on a feature commit", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Branch("feature")
			r.Write("f", "1")
			f1 := r.Commit("f")
			r.Checkout("main")
			r.Write("m", "1")
			r.Commit("m")
			r.Checkout(f1)
			return Options{Dir: r.Dir(), Event: EventPullRequest}, Info{Git: true, Commit: f1,
				Event: EventPullRequest, DefaultBranch: "main", Base: c1, BaseRule: RuleMergeBase,
				BaseReason: "merge-base with main", Files: paths("f")}
		}},
		{"detached HEAD on a default-branch commit", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Write("b", "1")
			c2 := r.Commit("two")
			r.Tag("v1.2.0")
			r.Write("c", "1")
			r.Commit("three")
			r.Checkout("v1.2.0")
			return Options{Dir: r.Dir(), Event: EventTag}, Info{Git: true, Commit: c2, Tag: "v1.2.0",
				Event: EventTag, DefaultBranch: "main", Base: c1, BaseRule: RuleDefaultBranchParent,
				BaseReason: "detached HEAD is on main: parent", Files: paths("b")}
		}},
		{"merge commit on main compares with its first parent", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			r.Commit("one")
			r.Branch("feature")
			r.Write("f", "1")
			r.Commit("f")
			r.Checkout("main")
			r.Write("m", "1")
			m := r.Commit("m")
			r.Git("merge", "-q", "--no-ff", "-m", "merge", "feature")
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: r.Rev("HEAD"), Branch: "main",
				Event: EventManual, DefaultBranch: "main", Base: m, BaseRule: RuleDefaultBranchParent,
				Files: paths("f")}
		}},
		{"worktree changes included", func(t *testing.T) (Options, Info) {
			r, c1, c2 := worktreeFixture(t)
			return Options{Dir: r.Dir(), IncludeWorktree: true}, Info{Git: true, Commit: c2, Branch: "main",
				Event: EventManual, DefaultBranch: "main", Base: c1, BaseRule: RuleDefaultBranchParent,
				Files: paths("a", "b", "gone", "nested/u", "staged", "untracked"), Dirty: true}
		}},
		{"worktree changes excluded but dirty", func(t *testing.T) (Options, Info) {
			r, c1, c2 := worktreeFixture(t)
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: c2, Branch: "main", Event: EventManual,
				DefaultBranch: "main", Base: c1, BaseRule: RuleDefaultBranchParent, Files: paths("a"), Dirty: true}
		}},
		{"renames count as delete plus add", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("old/name.txt", strings.Repeat("same content\n", 20))
			r.Commit("one")
			r.Git("-c", "diff.renames=true", "mv", "old", "new")
			c2 := r.Commit("rename")
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: c2, Branch: "main", Event: EventManual,
				DefaultBranch: "main", Base: r.Rev("HEAD~1"), BaseRule: RuleDefaultBranchParent,
				Files: paths("new/name.txt", "old/name.txt")}
		}},
		{"paths with spaces, unicode and newlines", func(t *testing.T) (Options, Info) {
			names := []string{"with space.txt", "ünï/ファイル.txt", "tab\there", `back\slash "q"`}
			if runtime.GOOS != "windows" {
				names = append(names, "new\nline.txt")
			}
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			r.Commit("one")
			for _, n := range names {
				r.Write(n, n)
			}
			c2 := r.Commit("odd")
			r.Write("untracked file ✓", "x")
			return Options{Dir: r.Dir(), IncludeWorktree: true}, Info{Git: true, Commit: c2, Branch: "main",
				Event: EventManual, DefaultBranch: "main", Base: r.Rev("HEAD~1"), BaseRule: RuleDefaultBranchParent,
				Files: sorted(append(names, "untracked file ✓")), Dirty: true}
		}},
		{"Dir below the top of the work tree", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("sub/deep/x", "1")
			c1 := r.Commit("one")
			r.Write("sub/deep/y", "1")
			c2 := r.Commit("two")
			return Options{Dir: filepath.Join(r.Dir(), "sub", "deep")}, Info{Git: true, Root: r.Dir(), Commit: c2,
				Branch: "main", Event: EventManual, DefaultBranch: "main", Base: c1,
				BaseRule: RuleDefaultBranchParent, Files: paths("sub/deep/y")}
		}},
		{"not a git checkout", func(t *testing.T) (Options, Info) {
			dir := t.TempDir()
			return Options{Dir: dir, Event: EventPush, DefaultBranch: "main"}, Info{Root: dir, Event: EventPush,
				DefaultBranch: "main", BaseRule: RuleNoGit, BaseReason: "not a git checkout"}
		}},
		{"inside the .git directory is not a work tree", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			dir := filepath.Join(r.Dir(), ".git")
			return Options{Dir: dir}, Info{Root: dir, Event: EventManual, BaseRule: RuleNoGit,
				BaseReason: "not a git work tree"}
		}},
		{"no commit yet", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("staged", "1")
			r.Git("add", "staged")
			r.Write("untracked", "1")
			return Options{Dir: r.Dir(), IncludeWorktree: true}, Info{Git: true, Branch: "main",
				Event: EventManual, DefaultBranch: "main", BaseRule: RuleNoCommit,
				Files: paths("staged", "untracked"), Dirty: true}
		}},
		{"orphan branch shares no history", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			r.Commit("one")
			r.Git("checkout", "-q", "--orphan", "site")
			r.Git("rm", "-q", "-r", "--cached", ".")
			r.Remove("a")
			r.Write("index.html", "1")
			s1 := r.Commit("site")
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: s1, Branch: "site", Event: EventManual,
				DefaultBranch: "main", BaseRule: RuleRootCommit, BaseReason: "no common history with main",
				Files: paths("index.html")}
		}},
		{"tag prefers the highest semver", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			for _, tag := range []string{"nightly", "v1.0.0-rc.1", "a-tag"} {
				r.Tag(tag)
			}
			r.Git("tag", "-a", "-m", "release", "v1.0.0")
			r.Git("tag", "-a", "-m", "old", "v0.9.0")
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: c1, Branch: "main", Tag: "v1.0.0",
				Event: EventManual, DefaultBranch: "main", BaseRule: RuleRootCommit, Files: paths("a")}
		}},
		{"linked worktree", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Git("branch", "feature")
			wt := filepath.Join(t.TempDir(), "wt")
			r.Git("worktree", "add", "-q", wt, "feature")
			if err := os.WriteFile(filepath.Join(wt, "w"), []byte("1"), 0o644); err != nil {
				t.Fatal(err)
			}
			return Options{Dir: wt, IncludeWorktree: true}, Info{Git: true, Root: wt, Commit: c1, Branch: "feature",
				Event: EventManual, DefaultBranch: "main", Base: c1, BaseRule: RuleMergeBase, Files: paths("w"), Dirty: true}
		}},
		{"SHA-256 repository", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Remove(".git")
			r.Git("init", "-q", "--object-format=sha256")
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Write("b", "1")
			c2 := r.Commit("two")
			if len(c2) != 64 {
				t.Fatalf("fixture: sha %q is not SHA-256", c2)
			}
			return Options{Dir: r.Dir(), Event: EventPush, Before: c1}, Info{Git: true, Commit: c2,
				Branch: "main", Event: EventPush, DefaultBranch: "main", Base: c1, BaseRule: RulePushBefore,
				Files: paths("b")}
		}},
	}
	cases = append(cases, defaultBranchCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts, want := tc.setup(t)
			got, err := Detect(context.Background(), opts)
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			checkInfo(t, got, want)
		})
	}
}

// worktreeFixture leaves staged, unstaged, deleted, untracked and ignored
// changes on top of two commits.
func worktreeFixture(t *testing.T) (r *changetest.Repo, c1, c2 string) {
	t.Helper()
	r = changetest.NewRepo(t)
	r.Write(".gitignore", "*.log\n")
	r.Write("a", "1")
	r.Write("b", "1")
	r.Write("gone", "1")
	c1 = r.Commit("one")
	r.Write("a", "2")
	c2 = r.Commit("two")
	r.Write("b", "unstaged")
	r.Write("staged", "1")
	r.Git("add", "staged")
	r.Remove("gone")
	r.Write("untracked", "1")
	r.Write("nested/u", "1")
	r.Write("ignored.log", "1")
	return r, c1, c2
}

func sorted(s []string) []string {
	out := paths(s...)
	slices.Sort(out)
	return out
}

// checkInfo compares got with want as described on detectCase.
func checkInfo(t *testing.T, got, want Info) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Info{}, "Root", "BaseReason")); diff != "" {
		t.Errorf("Detect mismatch (-want +got):\n%s\nreason: %s", diff, got.BaseReason)
	}
	if !strings.Contains(got.BaseReason, want.BaseReason) {
		t.Errorf("BaseReason = %q, want it to contain %q", got.BaseReason, want.BaseReason)
	}
	if got.AllChanged() != !want.Git {
		t.Errorf("AllChanged() = %v, want %v", got.AllChanged(), !want.Git)
	}
	if !filepath.IsAbs(got.Root) {
		t.Errorf("Root %q is not absolute", got.Root)
	}
	if want.Root != "" && realPath(t, got.Root) != realPath(t, want.Root) {
		t.Errorf("Root = %q, want %q", got.Root, want.Root)
	}
}

func realPath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
