package change

import (
	"testing"

	"github.com/slipway-ci/slipway/internal/change/changetest"
)

// defaultBranchCases cover how the default branch is found.
func defaultBranchCases() []detectCase {
	return []detectCase{
		{"origin/HEAD names the default branch", func(t *testing.T) (Options, Info) {
			origin := changetest.NewRepo(t)
			origin.Write("a", "1")
			c1 := origin.Commit("one")
			origin.Git("branch", "-m", "main", "trunk")
			clone := changetest.Clone(t, origin.Dir())
			clone.Git("branch", "main") // a local main must not win over origin/HEAD
			clone.Branch("feature")
			clone.Write("f", "1")
			f1 := clone.Commit("f")
			return Options{Dir: clone.Dir()}, Info{Git: true, Commit: f1, Branch: "feature", Event: EventManual,
				DefaultBranch: "trunk", Base: c1, BaseRule: RuleMergeBase, BaseReason: "merge-base with trunk (",
				Files: paths("f")}
		}},
		{"origin's branch when there is no local one", func(t *testing.T) (Options, Info) {
			origin := changetest.NewRepo(t)
			origin.Write("a", "1")
			c1 := origin.Commit("one")
			clone := changetest.Clone(t, origin.Dir())
			clone.Branch("feature")
			clone.Git("branch", "-D", "main")
			clone.Write("f", "1")
			f1 := clone.Commit("f")
			return Options{Dir: clone.Dir()}, Info{Git: true, Commit: f1, Branch: "feature", Event: EventManual,
				DefaultBranch: "main", Base: c1, BaseRule: RuleMergeBase, BaseReason: "merge-base with origin/main (",
				Files: paths("f")}
		}},
		{"init.defaultBranch when that branch exists", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Git("branch", "-m", "main", "trunk")
			r.Git("config", "init.defaultBranch", "trunk")
			r.Git("branch", "master")
			r.Branch("feature")
			r.Write("f", "1")
			f1 := r.Commit("f")
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: f1, Branch: "feature", Event: EventManual,
				DefaultBranch: "trunk", Base: c1, BaseRule: RuleMergeBase, Files: paths("f")}
		}},
		{"master when there is no main", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Git("branch", "-m", "main", "master")
			r.Git("config", "init.defaultBranch", "absent")
			r.Branch("feature")
			r.Write("f", "1")
			f1 := r.Commit("f")
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: f1, Branch: "feature", Event: EventManual,
				DefaultBranch: "master", Base: c1, BaseRule: RuleMergeBase, Files: paths("f")}
		}},
		{"current branch as a last resort", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			c1 := r.Commit("one")
			r.Git("branch", "-m", "main", "develop")
			r.Write("b", "1")
			c2 := r.Commit("two")
			return Options{Dir: r.Dir()}, Info{Git: true, Commit: c2, Branch: "develop", Event: EventManual,
				DefaultBranch: "develop", Base: c1, BaseRule: RuleDefaultBranchParent, Files: paths("b")}
		}},
		{"explicit default branch", func(t *testing.T) (Options, Info) {
			r := changetest.NewRepo(t)
			r.Write("a", "1")
			r.Commit("one")
			r.Branch("release")
			r.Write("r", "1")
			rel := r.Commit("r")
			r.Branch("fix")
			r.Write("x", "1")
			x := r.Commit("x")
			return Options{Dir: r.Dir(), DefaultBranch: "refs/heads/release"}, Info{Git: true, Commit: x,
				Branch: "fix", Event: EventManual, DefaultBranch: "release", Base: rel, BaseRule: RuleMergeBase,
				Files: paths("x")}
		}},
	}
}
