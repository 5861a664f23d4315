package change

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// GitError is a git command that failed.
type GitError struct {
	Args     []string // arguments after "git -C dir"
	ExitCode int      // -1 when git did not run or was killed
	Stderr   string   // trimmed standard error
	Err      error
}

func (e *GitError) Error() string {
	msg := "git " + strings.Join(e.Args, " ") + ": " + e.Err.Error()
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *GitError) Unwrap() error { return e.Err }

// exitCode is the exit status of a failed git command, or -1.
func exitCode(err error) int {
	var ge *GitError
	if errors.As(err, &ge) {
		return ge.ExitCode
	}
	return -1
}

// repo runs git commands in one work tree.
type repo struct {
	git     string   // path of the git binary
	root    string   // top of the work tree; commands run here
	env     []string // process environment for git
	shallow bool     // the repository is a shallow clone
}

// repoLocationVars point git at another repository than the one around the
// directory; a hook or a parent git process may have set them.
var repoLocationVars = []string{
	"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
	"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX",
}

// gitEnv is the environment for git: stable English output, no pager, no
// prompts, and no index.lock taken for read-only commands (another git
// process in the checkout must not fail because of us).
func gitEnv() []string {
	env := make([]string, 0, len(os.Environ())+5)
outer:
	for _, kv := range os.Environ() {
		for _, v := range repoLocationVars {
			if strings.HasPrefix(kv, v+"=") {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "GIT_PAGER=cat", "PAGER=cat",
		"GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0")
}

// open finds the work tree around dir. It returns a nil repo and a reason
// when dir is not in a work tree or git is not installed.
func open(ctx context.Context, dir string) (*repo, string, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return nil, "git is not installed", nil
	}
	g := &repo{git: bin, root: dir, env: gitEnv()}
	out, err := g.run(ctx, "rev-parse", "--is-inside-work-tree")
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) && strings.Contains(ge.Stderr, "not a git repository") {
			return nil, "not a git checkout", nil
		}
		return nil, "", fmt.Errorf("change: %w", err)
	}
	if strings.TrimSpace(out) != "true" {
		return nil, "not a git work tree", nil
	}
	out, err = g.run(ctx, "rev-parse", "--show-toplevel", "--is-shallow-repository")
	if err != nil {
		return nil, "", fmt.Errorf("change: %w", err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		return nil, "", fmt.Errorf("change: git rev-parse --show-toplevel: unexpected output %q", out)
	}
	g.root, g.shallow = lines[0], lines[1] == "true"
	return g, "", nil
}

// run runs git with args in the work tree and returns its standard output.
func (g *repo) run(ctx context.Context, args ...string) (string, error) {
	full := append([]string{"-C", g.root, "--no-pager", "-c", "core.quotepath=off"}, args...)
	cmd := exec.CommandContext(ctx, g.git, full...)
	cmd.Env = g.env
	cmd.WaitDelay = 5 * time.Second // a hook's child holding the pipes must not hang us
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("git %s: %w", args[0], ctx.Err())
		}
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return stdout.String(), &GitError{Args: args, ExitCode: code, Stderr: strings.TrimSpace(stderr.String()), Err: err}
	}
	return stdout.String(), nil
}

// optional runs a command whose exit status 1 means "none" (rev-parse -q
// --verify, symbolic-ref -q, config --get, merge-base): it returns the
// trimmed output and whether there was one.
func (g *repo) optional(ctx context.Context, args ...string) (string, bool, error) {
	out, err := g.run(ctx, args...)
	if err != nil {
		if exitCode(err) == 1 {
			return "", false, nil
		}
		return "", false, fmt.Errorf("change: %w", err)
	}
	return strings.TrimSpace(out), true, nil
}

// list runs a command with NUL-terminated output and returns its entries.
func (g *repo) list(ctx context.Context, args ...string) ([]string, error) {
	out, err := g.run(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("change: %w", err)
	}
	return splitZ(out), nil
}

// splitZ splits NUL-terminated git output, dropping empty entries.
func splitZ(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "\x00") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
