package change

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/change/changetest"
)

func TestDetectErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		setup   func(t *testing.T) Options
		wantIs  error
		wantMsg string // a substring of the error
	}{
		{"unknown --base", func(t *testing.T) Options {
			return Options{Dir: twoCommits(t).Dir(), Base: "no-such-branch"}
		}, ErrUnknownRef, "--base no-such-branch: no such commit"},
		{"--base outside git", func(t *testing.T) Options {
			return Options{Dir: t.TempDir(), Base: "main"}
		}, ErrUnknownRef, "not a git checkout"},
		{"--base before the first commit", func(t *testing.T) Options {
			return Options{Dir: changetest.NewRepo(t).Dir(), Base: "main"}
		}, ErrUnknownRef, "no commit yet"},
		{"--base that looks like a flag", func(t *testing.T) Options {
			return Options{Dir: twoCommits(t).Dir(), Base: "--output=/tmp/x"}
		}, ErrInvalidOption, "cannot start with '-'"},
		{"unknown event", func(t *testing.T) Options {
			return Options{Dir: t.TempDir(), Event: "cron"}
		}, ErrInvalidOption, `event "cron": want push, pull_request, tag or manual`},
		{"before that is not a sha", func(t *testing.T) Options {
			return Options{Dir: t.TempDir(), Event: EventPush, Before: "HEAD~1"}
		}, ErrInvalidOption, "not a commit sha"},
		{"bad default branch name", func(t *testing.T) Options {
			return Options{Dir: t.TempDir(), DefaultBranch: "-x"}
		}, ErrInvalidOption, "not a valid branch name"},
		{"missing directory", func(t *testing.T) Options {
			return Options{Dir: filepath.Join(t.TempDir(), "absent")}
		}, fs.ErrNotExist, "absent"},
		{"Dir is a file", func(t *testing.T) Options {
			f := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return Options{Dir: f}
		}, ErrInvalidOption, "not a directory"},
		{"explicit default branch that does not exist", func(t *testing.T) Options {
			r := twoCommits(t)
			r.Branch("feature")
			return Options{Dir: r.Dir(), DefaultBranch: "develop"}
		}, ErrUnknownRef, `default branch "develop" not found`},
		{"detached HEAD without a default branch", func(t *testing.T) Options {
			r := twoCommits(t)
			r.Git("branch", "-m", "main", "trunk")
			r.Checkout("HEAD~1")
			return Options{Dir: r.Dir()}
		}, ErrUnknownRef, "pass --default-branch or --base"},
		{"shallow clone on the default branch", func(t *testing.T) Options {
			clone := changetest.Clone(t, twoCommits(t).URL(), "--depth=1")
			return Options{Dir: clone.Dir()}
		}, ErrShallow, "git fetch --deepen"},
		{"shallow clone of a feature branch", func(t *testing.T) Options {
			origin := twoCommits(t)
			origin.Branch("feature")
			origin.Write("f", "1")
			origin.Commit("f")
			origin.Checkout("main")
			origin.Write("m", "1")
			origin.Commit("m")
			clone := changetest.Clone(t, origin.URL(), "--depth=1", "--no-single-branch", "--branch=feature")
			return Options{Dir: clone.Dir()}
		}, ErrShallow, "no merge-base of HEAD and origin/main"},
		{"shallow clone and a --base it lacks", func(t *testing.T) Options {
			origin := twoCommits(t)
			clone := changetest.Clone(t, origin.URL(), "--depth=1")
			return Options{Dir: clone.Dir(), Base: origin.Rev("HEAD~1")}
		}, ErrUnknownRef, "shallow clone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.setup(t)
			info, err := Detect(context.Background(), opts)
			if err == nil {
				t.Fatalf("Detect succeeded with %+v, want an error", info)
			}
			if !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q is not %v", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
		})
	}
}

func TestDetectCanceled(t *testing.T) {
	t.Parallel()
	r := twoCommits(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Detect(ctx, Options{Dir: r.Dir()})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestDetectWithoutGit cannot be parallel: it empties PATH.
func TestDetectWithoutGit(t *testing.T) {
	r := twoCommits(t)
	t.Setenv("PATH", t.TempDir())
	info, err := Detect(context.Background(), Options{Dir: r.Dir()})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if info.Git || info.BaseRule != RuleNoGit || info.Files != nil || !info.AllChanged() {
		t.Errorf("got %+v, want a no-git change", info)
	}
	if !strings.Contains(info.BaseReason, "git is not installed") {
		t.Errorf("BaseReason = %q", info.BaseReason)
	}
}

// TestDetectIgnoresGitDir checks that a GIT_DIR inherited from a hook does
// not make Detect read another repository. Not parallel: it sets env.
func TestDetectIgnoresGitDir(t *testing.T) {
	other := twoCommits(t)
	r := changetest.NewRepo(t)
	r.Write("x", "1")
	want := r.Commit("x")
	t.Setenv("GIT_DIR", filepath.Join(other.Dir(), ".git"))
	info, err := Detect(context.Background(), Options{Dir: r.Dir()})
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	if info.Commit != want {
		t.Errorf("Commit = %s, want %s from Dir, not GIT_DIR", info.Commit, want)
	}
}

// twoCommits is a main branch with files a then b.
func twoCommits(t *testing.T) *changetest.Repo {
	t.Helper()
	r := changetest.NewRepo(t)
	r.Write("a", "1")
	r.Commit("one")
	r.Write("b", "1")
	r.Commit("two")
	return r
}
