// Package changetest builds real git repositories for tests, with the git
// binary, in t.TempDir(). Commits are deterministic: fixed author, committer
// and dates that advance one minute per commit, so the same fixture always
// has the same shas.
//
// The repositories ignore the user's and the system's git configuration,
// and every helper fails the test on error.
package changetest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Repo is a git work tree under test.
type Repo struct {
	t       testing.TB
	dir     string
	commits int // commits made through this Repo, for their dates
}

// epoch is the date of a fixture's first commit.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// NewRepo creates an empty repository whose first branch is main. It skips
// the test when git is not installed.
func NewRepo(t testing.TB) *Repo {
	t.Helper()
	requireGit(t)
	r := &Repo{t: t, dir: t.TempDir()}
	r.Git("init", "-q")
	return r
}

// Clone clones src (a path or URL) with extra clone arguments, such as
// "--depth=1"; a local path needs a file:// URL for --depth to apply.
func Clone(t testing.TB, src string, args ...string) *Repo {
	t.Helper()
	requireGit(t)
	r := &Repo{t: t, dir: t.TempDir()}
	r.Git(append(append([]string{"clone", "-q"}, args...), src, ".")...)
	return r
}

func requireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

// Dir is the top of the work tree.
func (r *Repo) Dir() string { return r.dir }

// URL is a file:// URL of the repository, for shallow clones.
func (r *Repo) URL() string { return "file://" + filepath.ToSlash(r.dir) }

// Write creates or replaces the file at path (slash-separated, relative to
// the top of the work tree), creating parent directories.
func (r *Repo) Write(path, content string) {
	r.t.Helper()
	p := r.path(path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Remove deletes the file or directory at path.
func (r *Repo) Remove(path string) {
	r.t.Helper()
	if err := os.RemoveAll(r.path(path)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *Repo) path(path string) string {
	r.t.Helper()
	p := filepath.FromSlash(path)
	if !filepath.IsLocal(p) {
		r.t.Fatalf("changetest: path %q is not inside the repository", path)
	}
	return filepath.Join(r.dir, p)
}

// Commit stages every change (additions, modifications, deletions) and
// commits it, even when nothing changed. It returns the new commit's sha.
func (r *Repo) Commit(msg string) string {
	r.t.Helper()
	r.Git("add", "-A")
	date := epoch.Add(time.Duration(r.commits) * time.Minute).Format(time.RFC3339)
	r.commits++
	r.run([]string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date},
		"commit", "-q", "--allow-empty", "--no-verify", "-m", msg)
	return r.Rev("HEAD")
}

// Branch creates a branch at HEAD and switches to it.
func (r *Repo) Branch(name string) {
	r.t.Helper()
	r.Git("checkout", "-q", "-b", name)
}

// Checkout switches to a branch, or detaches HEAD at any other ref.
func (r *Repo) Checkout(ref string) {
	r.t.Helper()
	r.Git("checkout", "-q", ref)
}

// Tag creates a lightweight tag at HEAD.
func (r *Repo) Tag(name string) {
	r.t.Helper()
	r.Git("tag", name)
}

// Rev returns the full sha of the commit ref names.
func (r *Repo) Rev(ref string) string {
	r.t.Helper()
	return r.Git("rev-parse", "--verify", ref+"^{commit}")
}

// Git runs any git command in the work tree and returns its standard
// output without the trailing newline.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	return r.run(nil, args...)
}

func (r *Repo) run(extraEnv []string, args ...string) string {
	r.t.Helper()
	full := append([]string{"-C", r.dir,
		"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
		"-c", "core.autocrlf=false", "-c", "advice.detachedHead=false", "-c", "protocol.file.allow=always",
	}, args...)
	cmd := exec.Command("git", full...)
	cmd.Env = append(Env(), extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("changetest: git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSuffix(stdout.String(), "\n")
}

// Env is the environment fixture git commands run with: the process
// environment without variables that point git at another repository, with
// a fixed identity and without global or system configuration.
func Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
			"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX",
			"GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG", "GIT_CONFIG_COUNT",
			"GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Slipway Test", "GIT_AUTHOR_EMAIL=test@slipway.invalid",
		"GIT_COMMITTER_NAME=Slipway Test", "GIT_COMMITTER_EMAIL=test@slipway.invalid",
		"GIT_TERMINAL_PROMPT=0", "LC_ALL=C",
	)
}
