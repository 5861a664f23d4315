package secrets

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// gitRepo is a real repository in a temporary directory.
type gitRepo struct {
	tb  testing.TB
	dir string
}

func newGitRepo(tb testing.TB) *gitRepo {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("git not installed")
	}
	r := &gitRepo{tb: tb, dir: tb.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.tb.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.tb.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (an empty content deletes) and commits them.
func (r *gitRepo) commit(msg string, files map[string]string) string {
	r.tb.Helper()
	for name, content := range files {
		if content == "" {
			r.git("rm", "-q", name)
			continue
		}
		writeTree(r.tb, r.dir, map[string]string{name: content})
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func TestScanGitRange(t *testing.T) {
	aws, pat := fakeAWSKey("git"), fakeGitHubPAT("git")
	r := newGitRepo(t)
	base := r.commit("clean", map[string]string{"README.md": "hello\n"})
	c2 := r.commit("add key", map[string]string{"conf/app.env": "X=1\nAWS_ACCESS_KEY_ID=" + aws + "\n"})
	c3 := r.commit("swap key for token", map[string]string{"conf/app.env": "", "main.go": "package main\n\nvar t = \"" + pat + "\"\n"})

	type hit struct{ loc, commit string }
	tests := []struct {
		rng  string
		want []hit
	}{
		{base + ".." + c3, []hit{{"conf/app.env:2:aws-access-token", c2}, {"main.go:3:github-pat", c3}}},
		{c2 + "..HEAD", []hit{{"main.go:3:github-pat", c3}}},
		{base + ".." + base, nil},
		{"HEAD", []hit{{"conf/app.env:2:aws-access-token", c2}, {"main.go:3:github-pat", c3}}},
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			rep, err := Scan(t.Context(), Options{Root: r.dir, GitRange: tt.rng})
			if err != nil {
				t.Fatal(err)
			}
			var got []hit
			for _, f := range rep.Findings {
				got = append(got, hit{loc{f.Path, f.Rule, f.Line}.String(), f.Commit})
				if strings.Contains(f.Snippet, aws) || strings.Contains(f.Snippet, pat) {
					t.Errorf("snippet not redacted")
				}
			}
			slices.SortFunc(got, func(a, b hit) int { return strings.Compare(a.loc, b.loc) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings = %v, want %v", got, tt.want)
			}
		})
	}

	// The tree at HEAD only has the token; the key lives on in history.
	rep, err := Scan(t.Context(), Options{Root: r.dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := locs(rep); len(got) != 1 || got[0].Rule != "github-pat" {
		t.Errorf("tree findings = %v", got)
	}

	// A commit fingerprint in .gitleaksignore drops just that finding.
	r.commit("ignore", map[string]string{IgnoreFile: c2 + ":conf/app.env:aws-access-token:2\n"})
	rep, err = Scan(t.Context(), Options{Root: r.dir, GitRange: base + ".." + c3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Commit != c3 || rep.Scanned != 2 {
		t.Errorf("after ignore: %v (scanned %d commits)", locs(rep), rep.Scanned)
	}
}

func TestScanGitRangeErrors(t *testing.T) {
	r := newGitRepo(t)
	r.commit("one", map[string]string{"a": "a\n"})
	tests := []struct {
		rng  string
		want error
	}{
		{"--output=/tmp/x", ErrUsage},
		{"HEAD..--all", ErrUsage},
		{"HEAD main", ErrUsage},
		{"a..b..c", ErrUsage},
		{"HEAD..", ErrUsage},
		{"nosuchbranch..HEAD", ErrGit},
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			if _, err := Scan(t.Context(), Options{Root: r.dir, GitRange: tt.rng}); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Scan(t.Context(), Options{Root: t.TempDir(), GitRange: "HEAD"}); !errors.Is(err, ErrGit) {
		t.Errorf("not a repository: err = %v, want ErrGit", err)
	}
}
