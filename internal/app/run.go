package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/secrets"
	"github.com/slipway-ci/slipway/internal/store"
)

// RunOptions is what `slipway run` was asked.
type RunOptions struct {
	Dir           string // inside the checkout; "" = current directory
	File          string // the spec; "" = <checkout root>/.slipway.yaml
	Base          string
	Event         string
	Before        string
	DefaultBranch string
	Resume        bool
	Observer      engine.Observer
	// Notice reports what slipway does before the run starts (waiting for
	// a concurrency group...).
	Notice func(string)
	engine.Options
}

// ErrNothingToResume is returned by Run with Resume when the last run of the
// commit and spec has nothing left to do, or there is none.
var ErrNothingToResume = errors.New("nothing to resume")

// Run runs the pipeline of a checkout: the `slipway run` job.
func (a *App) Run(ctx context.Context, o RunOptions) (*engine.Result, error) {
	if o.Notice == nil {
		o.Notice = func(string) {}
	}
	chg, err := change.Detect(ctx, change.Options{Dir: o.Dir, Base: o.Base, Event: o.Event, Before: o.Before,
		DefaultBranch: o.DefaultBranch, IncludeWorktree: o.Event == "" || o.Event == change.EventManual})
	if err != nil {
		return nil, err
	}
	specPath, err := FindSpec(o.Dir, o.File, chg.Root)
	if err != nil {
		return nil, err
	}
	spec, err := pipeline.Load(specPath, a.Actions)
	if err != nil {
		return nil, err
	}
	project := filepath.Dir(specPath)
	quarantine, err := quality.LoadQuarantine(filepath.Join(project, ".slipway", "quarantine.yaml"))
	if err != nil {
		return nil, err
	}
	for _, e := range quarantine.Expired(time.Now()) {
		o.Notice(fmt.Sprintf("%s:%d: quarantine of %s expired on %s: its failures count again (owner %s)",
			e.File, e.Line, e.Test, e.Expires.Format("2006-01-02"), e.Owner))
	}
	values, err := a.resolveSecrets(ctx, spec)
	if err != nil {
		return nil, err
	}
	if err := a.Sweep(ctx); err != nil {
		return nil, err
	}
	run, err := a.prepareRun(ctx, o, chg, project, spec)
	if err != nil {
		return nil, err
	}
	release, err := a.acquire(ctx, run, spec, o.Notice)
	if err != nil {
		if !o.Resume { // a resumed run belongs to whoever holds it
			a.abandon(run, err)
		}
		return nil, err
	}
	defer release()
	if o.Sandbox == "" || o.Sandbox == "auto" {
		o.Sandbox = a.SandboxDefault()
	}
	res, err := a.Engine.Run(ctx, run, &engine.Request{
		Plan: spec.Plan(), Change: chg, Root: project, Checkout: chg.Root, Secrets: values, Quarantine: quarantine,
		Resume: o.Resume, Observer: o.Observer, Options: o.Options,
	})
	if err != nil {
		return nil, err
	}
	a.evictCache(ctx, o.Notice)
	return res, nil
}

// resolveSecrets fetches every secret the spec declares, failing on the
// first run rather than halfway through it.
func (a *App) resolveSecrets(ctx context.Context, spec *pipeline.Spec) (map[string]string, error) {
	var names []string
	for _, st := range spec.Steps {
		names = append(names, st.Secrets...)
	}
	if len(names) == 0 {
		return nil, nil
	}
	chain := secrets.Chain{secrets.NewEnvProvider(a.Environ)}
	if a.Config.SecretsFile != "" {
		fp, err := secrets.LoadFileProvider(a.Config.SecretsFile)
		if err != nil {
			return nil, err
		}
		chain = append(chain, fp)
	}
	return secrets.Resolve(ctx, chain, names)
}

// prepareRun creates the run record, or finds the run to resume.
func (a *App) prepareRun(ctx context.Context, o RunOptions, chg change.Info, project string, spec *pipeline.Spec) (*store.Run, error) {
	if o.Resume {
		runs, err := a.Store.Runs().List(ctx, store.RunFilter{Dir: project, Commit: chg.Commit, SpecDigest: spec.Digest, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(runs) == 0 {
			return nil, fmt.Errorf("%w: no earlier run of this commit with this pipeline", ErrNothingToResume)
		}
		run := runs[0]
		switch run.Status {
		case store.Success:
			return nil, fmt.Errorf("%w: run #%d succeeded", ErrNothingToResume, run.ID)
		case store.Running, store.Queued:
			return nil, fmt.Errorf("run #%d is still running (pid %d)", run.ID, run.PID)
		}
		run.Attempt++
		run.Status = store.Queued
		return run, nil
	}
	group := ""
	if spec.Concurrency != nil {
		group = spec.Concurrency.Group
	}
	run := &store.Run{Status: store.Queued, Attempt: 1, Dir: project, SpecFile: spec.File, SpecDigest: spec.Digest,
		Commit: chg.Commit, Branch: chg.Branch, Tag: chg.Tag, Event: chg.Event, Base: chg.Base,
		BaseRule: chg.BaseRule, BaseReason: chg.BaseReason, Group: group, PID: os.Getpid(), CreatedAt: time.Now()}
	if err := a.Store.Runs().Create(ctx, run); err != nil {
		return nil, err
	}
	return run, nil
}

// acquire takes the run's lock (proof of life for other processes) and its
// concurrency group: waiting for the group's current run, or cancelling it
// with cancel-in-progress.
func (a *App) acquire(ctx context.Context, run *store.Run, spec *pipeline.Spec, notice func(string)) (func(), error) {
	runLock, ok, err := a.lockRun(run.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("run #%d is being run by another process", run.ID)
	}
	if spec.Concurrency == nil {
		return runLock.Release, nil
	}
	c := spec.Concurrency
	groupLock, err := lock(ctx, a.groupLockPath(c.Group), func() {
		if c.CancelInProgress {
			a.cancelGroup(ctx, c.Group, run.ID, notice)
		} else {
			notice(fmt.Sprintf("waiting for the running run of concurrency group %q", c.Group))
		}
	})
	if err != nil {
		runLock.Release()
		return nil, err
	}
	return func() { groupLock.Release(); runLock.Release() }, nil
}

// cancelGroup asks the other live runs of a group to stop (SIGTERM: they
// record themselves as cancelled).
func (a *App) cancelGroup(ctx context.Context, group string, self int64, notice func(string)) {
	runs, err := a.Store.Runs().List(ctx, store.RunFilter{Group: group, Status: []store.Status{store.Running, store.Queued}})
	if err != nil {
		notice("cannot list the runs of concurrency group " + group + ": " + err.Error())
		return
	}
	for _, r := range runs {
		if r.ID == self || r.PID <= 0 || !a.runAlive(r.ID) {
			continue
		}
		notice(fmt.Sprintf("cancelling run #%d (pid %d) of concurrency group %q", r.ID, r.PID, group))
		if p, err := os.FindProcess(r.PID); err == nil {
			p.Signal(os.Interrupt) //nolint:errcheck // it may have just ended
		}
	}
}

// abandon records a run that never started.
func (a *App) abandon(run *store.Run, cause error) {
	run.Status, run.Error, run.FinishedAt = store.Cancelled, cause.Error(), time.Now()
	if errors.Is(cause, context.Canceled) {
		run.Error = "cancelled while waiting"
	}
	a.Store.Runs().Save(context.Background(), run) //nolint:errcheck // best effort: the run did not start
}

// evictCache keeps the step cache under its size cap after each run.
func (a *App) evictCache(ctx context.Context, notice func(string)) {
	n, err := a.Cache.Evict(ctx, a.Config.Retention.CacheMaxSize)
	if err != nil {
		notice("cache eviction: " + err.Error())
		return
	}
	if n > 0 {
		if _, err := a.sweepBlobs(ctx, false); err != nil {
			notice("cache eviction: " + err.Error())
		}
	}
}

// FindSpec locates the pipeline: the file given, else the nearest
// .slipway.yaml from dir up to the checkout root. Steps run in the
// directory holding it, so one repository can hold several projects.
func FindSpec(dir, file, checkout string) (string, error) {
	if file != "" {
		return filepath.Abs(file)
	}
	if dir == "" {
		dir = "."
	}
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	// git reports the checkout with symlinks resolved: compare like with like.
	if r, err := filepath.EvalSymlinks(d); err == nil {
		d = r
	}
	if r, err := filepath.EvalSymlinks(checkout); err == nil {
		checkout = r
	}
	for {
		p := filepath.Join(d, pipeline.DefaultFile)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(d)
		if d == checkout || parent == d || !within(d, checkout) {
			return "", fmt.Errorf("no %s in %s or above it up to %s: %w", pipeline.DefaultFile, dir, checkout, os.ErrNotExist)
		}
		d = parent
	}
}

// within reports whether path is root or below it, component-wise.
func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
