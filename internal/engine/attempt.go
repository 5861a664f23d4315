package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/executor"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/store"
)

// outcome classifies how an attempt ended, for retries and messages.
type outcome int

const (
	outSuccess outcome = iota
	outFailure
	outTimeout
	outExecutorError
	outCancelled
)

// attempts runs a step's attempts until one succeeds, the retry policy is
// exhausted, or the run is cancelled. It returns the last attempt.
func (r *runState) attempts(ctx context.Context, ns *nodeState, dir string) *store.Attempt {
	rec, retry := ns.rec, ns.node.Step.Retry
	for try := 0; ; try++ {
		rec.Attempts++
		a, out := r.attempt(ctx, ns, dir, rec.Attempts)
		rec.ExitCode, rec.Reason = a.ExitCode, a.Error
		switch out {
		case outSuccess:
			rec.Status = store.Success
			if a.Error != "" {
				rec.Reason = a.Error
			}
			return a
		case outCancelled:
			rec.Status = store.Cancelled
			return a
		}
		rec.Status = store.Failure
		if try >= retry.Max || !retryable(retry, out, a.ExitCode) || ctx.Err() != nil {
			return a
		}
		r.commit.SaveAsync(copyAttempt(a))
		r.req.Observer.Notice(rec.Name, fmt.Sprintf("attempt %d failed (%s); retrying (%d of %d)", rec.Attempts, a.Error, try+1, retry.Max))
	}
}

func retryable(p pipeline.Retry, out outcome, code int) bool {
	switch out {
	case outTimeout:
		return slices.Contains(p.When, pipeline.RetryTimeout)
	case outExecutorError:
		return slices.Contains(p.When, pipeline.RetryExecutorError)
	case outFailure:
		return slices.Contains(p.When, pipeline.RetryFailure) || slices.Contains(p.ExitCodes, code)
	}
	return false
}

// attempt runs a step once, streaming its output through the masker into
// its log, and records the attempt.
func (r *runState) attempt(ctx context.Context, ns *nodeState, dir string, number int) (*store.Attempt, outcome) {
	n := ns.node
	a := &store.Attempt{RunID: r.run.ID, Step: n.Name, Number: number, RunAttempt: r.run.Attempt,
		Status: store.Running, Executor: n.Step.Executor, LogPath: logPath(r.run.ID, n.Name, number), StartedAt: r.e.now()}
	if n.Step.Uses != "" {
		a.Executor = "builtin"
	}
	fail := func(out outcome, msg string) (*store.Attempt, outcome) {
		a.Status, a.Error, a.FinishedAt = store.Failure, msg, r.e.now()
		if out == outCancelled {
			a.Status = store.Cancelled
		}
		return a, out
	}
	sink, err := openLog(filepath.Join(r.e.StateDir, a.LogPath), r.masker, r.req.Observer, n.Name)
	if err != nil {
		return fail(outExecutorError, err.Error())
	}
	r.req.Observer.StepStarted(n.Name, number)
	timeout := n.Step.Timeout
	if timeout == 0 {
		timeout = r.req.StepTimeout
	}
	stepCtx, cancel := context.WithTimeoutCause(ctx, timeout, errStepTimeout)
	defer cancel()
	var out outcome
	var msg string
	if n.Step.Uses != "" {
		out, msg = r.runAction(stepCtx, ns, dir, sink)
	} else {
		out, msg = r.runProcess(stepCtx, ns, dir, number, a, sink)
	}
	size, err := sink.Close()
	a.LogSize = size
	if err != nil && out == outSuccess {
		out, msg = outExecutorError, "log: "+err.Error()
	}
	if out == outCancelled && errors.Is(context.Cause(stepCtx), errStepTimeout) && ctx.Err() == nil {
		out, msg = outTimeout, fmt.Sprintf("timed out after %s", timeout)
	}
	out, msg = r.applyReports(ns, dir, a, out, msg)
	a.Error, a.FinishedAt = msg, r.e.now()
	switch out {
	case outSuccess:
		a.Status = store.Success
	case outCancelled:
		a.Status = store.Cancelled
	default:
		a.Status = store.Failure
	}
	return a, out
}

// runProcess runs a `run:` step on its executor.
func (r *runState) runProcess(ctx context.Context, ns *nodeState, dir string, number int, a *store.Attempt, sink *logSink) (outcome, string) {
	n := ns.node
	ex, ok := r.e.Executors[n.Step.Executor]
	if !ok {
		return outExecutorError, fmt.Sprintf("executor %q is not available", n.Step.Executor)
	}
	tmp, err := r.tmp.get()
	if err != nil {
		return outExecutorError, err.Error()
	}
	defer r.tmp.put(tmp)
	mode := r.sandboxMode(n)
	home := r.e.home()
	if mode == executor.SandboxStrict {
		home = filepath.Join(tmp, ".home")
		if err := os.Mkdir(home, 0o700); err != nil {
			return outExecutorError, err.Error()
		}
	}
	job := &executor.Job{
		ID:    fmt.Sprintf("%d/%s/%d", r.run.ID, n.Name, number),
		Shell: shellCommand(n.Step.Shell), Script: n.Run, Argv: simpleArgv(n.Run), Dir: dir,
		Env:    r.stepEnv(ns, number, tmp, home),
		Output: sink, Grace: r.req.Grace,
		Sandbox: executor.Sandbox{Mode: mode, Writable: writable(r.req.Checkout, r.req.Root, tmp, home), Hidden: r.e.Hidden},
	}
	proc, err := ex.Start(ctx, job)
	if err != nil {
		if ctx.Err() != nil {
			return outCancelled, "cancelled before it started"
		}
		return outExecutorError, err.Error()
	}
	a.Ref = proc.Ref()
	if err := r.journal.add(JournalEntry{Step: n.Name, Attempt: number, Executor: ex.Name(), Ref: a.Ref}); err != nil {
		r.req.Observer.Notice(n.Name, "process journal: "+err.Error())
	}
	exit, err := proc.Wait(ctx)
	a.ExitCode, a.Signal = exit.Code, exit.Signal
	switch {
	case exit.Canceled:
		return outCancelled, cancelReason(ctx)
	case err != nil:
		return outExecutorError, err.Error()
	case exit.Signal != "":
		return outFailure, "killed by signal " + exit.Signal
	case exit.Code != 0:
		return outFailure, "exit code " + strconv.Itoa(exit.Code)
	}
	return outSuccess, ""
}

// runAction runs a `uses:` built-in in process.
func (r *runState) runAction(ctx context.Context, ns *nodeState, dir string, sink *logSink) (outcome, string) {
	n := ns.node
	act, ok := r.e.Actions.Lookup(n.Step.Uses)
	if !ok {
		return outExecutorError, fmt.Sprintf("built-in %q is not available", n.Step.Uses)
	}
	env := map[string]string{}
	for k, v := range n.Env {
		env[k] = v
	}
	for _, s := range n.Step.Secrets {
		env[s] = r.req.Secrets[s]
	}
	err := act.Run(ctx, &action.Invocation{RunID: r.run.ID, Step: n.Name, Root: r.req.Root, Dir: dir,
		With: n.With, Env: env, Output: sink, Change: r.req.Change, SpecFile: r.req.Plan.Spec.File,
		SpecDigest: r.req.Plan.Spec.Digest, Sandboxed: r.allSandboxed(), RunStarted: r.run.StartedAt})
	switch {
	case ctx.Err() != nil:
		return outCancelled, cancelReason(ctx)
	case err != nil:
		fmt.Fprintf(sink, "%s: %v\n", n.Step.Uses, err)
		return outFailure, err.Error()
	}
	return outSuccess, ""
}

func shellCommand(shell string) []string {
	if shell == "bash" {
		return []string{"bash", "-e", "-o", "pipefail", "-c"}
	}
	return []string{"/bin/sh", "-e", "-c"}
}

func (r *runState) sandboxMode(n *pipeline.Node) executor.SandboxMode {
	mode := n.Step.Sandbox
	if mode == "" {
		mode = r.req.Sandbox
	}
	switch mode {
	case "on":
		return executor.SandboxOn
	case "strict":
		return executor.SandboxStrict
	}
	return executor.SandboxOff
}

// allSandboxed reports whether every `run:` step of the plan runs sandboxed.
func (r *runState) allSandboxed() bool {
	for _, n := range r.req.Plan.Nodes {
		if n.Step.Uses == "" && r.sandboxMode(n) == executor.SandboxOff {
			return false
		}
	}
	return true
}

func writable(paths ...string) []string {
	var out []string
	for _, p := range paths {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func copyAttempt(a *store.Attempt) *store.Attempt { c := *a; return &c }
