package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slipway-ci/slipway/internal/app"
	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/secrets"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/yamlpos"
)

type runOptions struct {
	dir, file                   string
	base, event, before, defBr  string
	resume, failFast, quiet     bool
	noCache, verifyCache        bool
	parallel                    int
	timeout, stepTimeout, grace time.Duration
	sandbox                     string
}

func newRunCmd(g *globals) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the pipeline of the current checkout",
		Long: `Run executes .slipway.yaml as a DAG: each step starts as soon as the steps it
needs are done, up to --parallel at once. Steps run in the checkout, sandboxed with
bwrap when it is installed, with secrets masked in every log.

--resume continues the last run of this commit and pipeline: only failed, cancelled,
blocked, interrupted and never-started steps run again.`,
		Example: `  slipway run
  slipway run -C examples/hello --parallel 4
  slipway run --resume
  slipway run --base origin/main --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd.Context(), cmd, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.dir, "dir", "C", "", "run in this directory (default: the current one)")
	f.StringVarP(&o.file, "file", "f", "", "pipeline file (default: .slipway.yaml at the checkout root)")
	f.IntVarP(&o.parallel, "parallel", "j", 0, "steps running at once (default: number of CPUs; env SLIPWAY_PARALLEL)")
	f.BoolVar(&o.failFast, "fail-fast", false, "cancel everything when a step fails")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not print step output (it is still stored: slipway logs)")
	f.BoolVar(&o.resume, "resume", false, "re-run only what failed or did not finish in the last run of this commit")
	f.StringVar(&o.base, "base", "", "base ref for changed files (default: the push's previous commit, else the merge-base with the default branch)")
	f.StringVar(&o.event, "event", "manual", "event: manual, push, pull_request or tag")
	f.StringVar(&o.before, "before", "", "for --event push: the commit the branch pointed to before the push")
	f.StringVar(&o.defBr, "default-branch", "", "default branch (default: detected from origin/HEAD, else main or master)")
	f.DurationVar(&o.timeout, "timeout", 0, "timeout of the whole run (default 6h; env SLIPWAY_RUN_TIMEOUT)")
	f.DurationVar(&o.stepTimeout, "step-timeout", 0, "timeout of steps without timeout: (default 1h; env SLIPWAY_STEP_TIMEOUT)")
	f.DurationVar(&o.grace, "grace", 0, "time between SIGTERM and SIGKILL when stopping a step (default 10s; env SLIPWAY_GRACE)")
	f.StringVar(&o.sandbox, "sandbox", "", "default sandbox for steps: auto, on, off or strict (default auto; env SLIPWAY_SANDBOX)")
	f.BoolVar(&o.noCache, "no-cache", false, "neither read nor fill the step cache")
	f.BoolVar(&o.verifyCache, "verify-cache", false, "re-execute cached steps and fail those whose outputs differ from the cache")
	return cmd
}

func runRun(ctx context.Context, cmd *cobra.Command, g *globals, o runOptions) error {
	cfg, err := g.config()
	if err != nil {
		return err
	}
	if o.sandbox != "" {
		cfg.Sandbox = o.sandbox
	}
	if err := cfg.Validate(); err != nil {
		return usageError(err)
	}
	a, err := app.Open(ctx, cfg, g.environ)
	if err != nil {
		return err
	}
	defer a.Close()
	changed := cmd.Flags().Changed
	opts := engine.Options{
		Parallel: pick(changed("parallel"), o.parallel, cfg.Parallel), FailFast: o.failFast,
		StepTimeout: pick(changed("step-timeout"), o.stepTimeout, cfg.StepTimeout),
		RunTimeout:  pick(changed("timeout"), o.timeout, cfg.RunTimeout),
		Grace:       pick(changed("grace"), o.grace, cfg.Grace),
		Sandbox:     cfg.Sandbox, NoCache: o.noCache, VerifyCache: o.verifyCache,
	}
	if opts.Parallel < 1 || opts.StepTimeout <= 0 || opts.RunTimeout <= 0 || opts.Grace < 0 {
		return usageError(errors.New("--parallel must be at least 1, timeouts positive and --grace not negative"))
	}
	out := newObserver(g, isTerminal(g.stdout), o.quiet)
	defer out.Close()
	res, err := a.Run(ctx, app.RunOptions{Dir: o.dir, File: o.file, Base: o.base, Event: o.event, Before: o.before,
		DefaultBranch: o.defBr, Resume: o.resume, Observer: out, Notice: func(msg string) { out.Notice("", msg) },
		Options: opts})
	switch {
	case errors.Is(err, app.ErrNothingToResume):
		out.Notice("", err.Error())
		return nil
	case isInputError(err):
		return usageError(err)
	case err != nil:
		return err
	}
	out.Summary(res, a.Config.StateDir)
	switch res.Run.Status {
	case store.Success:
		return nil
	case store.Cancelled:
		return &exitError{ExitCancelled, fmt.Errorf("run #%d cancelled", res.Run.ID)}
	}
	return failedError(fmt.Errorf("run #%d failed: %s", res.Run.ID, res.Run.Error))
}

// isInputError recognises problems with what the user gave: the pipeline,
// the secrets, flags such as --base.
func isInputError(err error) bool {
	var ye yamlpos.Errors
	var ype *yamlpos.Error
	var me *secrets.MissingError
	var mode *secrets.ModeError
	return errors.As(err, &ye) || errors.As(err, &ype) || errors.As(err, &me) || errors.As(err, &mode) ||
		errors.Is(err, os.ErrNotExist) || errors.Is(err, change.ErrUnknownRef) ||
		errors.Is(err, change.ErrShallow) || errors.Is(err, change.ErrInvalidOption)
}

// pick takes the flag's value when it was given, else the configuration's.
func pick[T any](given bool, flag, cfg T) T {
	if given {
		return flag
	}
	return cfg
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
