package secrets

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"

	"github.com/fatih/semgroup"
	"github.com/zricethezav/gitleaks/v8/cmd/scm"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/sources"

	"github.com/slipway-ci/slipway/internal/scan"
)

// ErrGit marks a failure of git itself (not a repository, unknown
// revision).
var ErrGit = errors.New("secrets: git")

// parseRange splits "base..head" (or "base...head", or one revision) and
// refuses anything git could read as an option: the range becomes
// arguments of `git log`.
func parseRange(r string) ([]string, error) {
	if r == "" || strings.ContainsAny(r, " \t\r\n\x00") {
		return nil, fmt.Errorf("%w: git range %q", ErrUsage, r)
	}
	sep := ".."
	if strings.Contains(r, "...") {
		sep = "..."
	}
	revs := strings.Split(r, sep)
	if len(revs) > 2 {
		return nil, fmt.Errorf("%w: git range %q", ErrUsage, r)
	}
	for _, rev := range revs {
		if rev == "" || strings.HasPrefix(rev, "-") {
			return nil, fmt.Errorf("%w: git range %q", ErrUsage, r)
		}
	}
	return revs, nil
}

// verifyRevs checks each revision names a commit, for an error that says
// which one is wrong rather than a failed `git log`.
func verifyRevs(ctx context.Context, root string, revs []string) error {
	for _, rev := range revs {
		cmd := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
		if out, err := cmd.Output(); err != nil || len(out) == 0 {
			return fmt.Errorf("%w: %q is not a commit in %s", ErrGit, rev, root)
		}
	}
	return nil
}

// scanGit runs gitleaks' git-log source over the range: the lines each
// commit added, each finding tagged with its commit.
func scanGit(ctx context.Context, opts Options, r *rules, ignore ignoreSet, rep *scan.Report) error {
	revs, err := parseRange(opts.GitRange)
	if err != nil {
		return err
	}
	if err := verifyRevs(ctx, opts.Root, revs); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd, err := sources.NewGitLogCmdContext(ctx, opts.Root, opts.GitRange)
	if err != nil {
		return fmt.Errorf("%w: log: %w", ErrGit, err)
	}
	det := r.detector(ctx)
	src := &sources.Git{
		Cmd:    cmd,
		Config: &r.cfg,
		// No links to a forge in findings; gitleaks needs the value set.
		Remote: &sources.RemoteInfo{Platform: scm.NoPlatform},
		Sema:   semgroup.NewGroup(ctx, int64(opts.workers())),
	}
	var (
		mu      sync.Mutex
		commits = map[string]bool{}
		gitErr  error
	)
	err = src.Fragments(ctx, func(fr sources.Fragment, err error) error {
		if err != nil {
			mu.Lock()
			gitErr = err
			mu.Unlock()
			return nil
		}
		found := det.DetectContext(ctx, detect.Fragment(fr))
		mu.Lock()
		defer mu.Unlock()
		commits[fr.CommitSHA] = true
		for _, g := range found {
			h := hitFrom(g)
			if !ignore.ignored(fr.FilePath, g.Commit, h) {
				rep.Findings = append(rep.Findings, h.finding(fr.FilePath, g.Commit))
			}
		}
		return nil
	})
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if err := errors.Join(err, gitErr); err != nil {
		return fmt.Errorf("%w: log %s: %w", ErrGit, opts.GitRange, err)
	}
	rep.Scanned = len(commits)
	return nil
}
