// Package engine runs a pipeline's DAG: it schedules steps by edge (a step
// starts the moment its needs are done), bounds parallelism, retries, times
// out and cancels steps, serves and fills the step cache, masks secrets in
// every log, and records every state change durably before reporting it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/cache"
	"github.com/slipway-ci/slipway/internal/cas"
	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/executor"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/secrets"
	"github.com/slipway-ci/slipway/internal/store"
)

// Engine runs pipelines. One Engine serves many runs.
type Engine struct {
	Store     store.Store
	Blobs     *cas.Store
	Cache     cache.Backend // nil: no step cache
	Executors map[string]executor.Executor
	Actions   *action.Registry
	StateDir  string
	// CacheMAC keys the hashes of secret values in cache keys.
	CacheMAC []byte
	// Hidden are paths sandboxed steps never see (state dir, credentials).
	Hidden []string
	// BaseEnv is the environment every step starts from (PATH, HOME, LANG).
	BaseEnv []string
	// LookupEnv reads slipway's own environment, for `cache.env`.
	LookupEnv func(string) (string, bool)
	Now       func() time.Time
}

// Options tune one run.
type Options struct {
	Parallel    int
	FailFast    bool
	StepTimeout time.Duration // default for steps without `timeout:`
	RunTimeout  time.Duration // default when the spec has no `timeout:`
	Grace       time.Duration // SIGTERM → SIGKILL
	Sandbox     string        // default for steps without `sandbox:`: on, off, strict
	NoCache     bool
	VerifyCache bool
}

// Request is one run to perform.
type Request struct {
	Plan       *pipeline.Plan
	Change     change.Info
	Root       string            // where steps run: the spec's directory, absolute
	Checkout   string            // the repository root (Root or above it); "" = Root
	Secrets    map[string]string // values of every secret the spec declares
	Quarantine *quality.Quarantine
	// Resume continues run's previous attempt: steps that succeeded (or were
	// skipped) are kept, everything else runs again.
	Resume   bool
	Observer Observer
	Options
}

// Result is how a run ended.
type Result struct {
	Run   *store.Run
	Steps []*store.Step
	// CacheMismatches names the steps whose re-executed outputs differ from
	// the cached ones (with --verify-cache).
	CacheMismatches []string
	Quarantined     []quality.QuarantinedFailure
}

var (
	errRunTimeout  = errors.New("run timed out")
	errStepTimeout = errors.New("step timed out")
	errFailFast    = errors.New("cancelled by --fail-fast")
)

// Run executes the plan as run, which the caller created (its ID is set).
// It returns an error only when slipway itself failed (the store, the log
// directory); step failures are in the Result.
func (e *Engine) Run(ctx context.Context, run *store.Run, req *Request) (*Result, error) {
	if req.Observer == nil {
		req.Observer = Discard{}
	}
	if req.Parallel < 1 {
		req.Parallel = 1
	}
	r, err := e.newRunState(run, req)
	if err != nil {
		return nil, err
	}
	defer r.commit.Close()
	if r.tmp, err = newTmpDirs(e.StateDir, run.ID); err != nil {
		return nil, err
	}
	defer r.tmp.close()
	r.journal = newJournal(JournalPath(e.StateDir, run.ID))
	finished := false
	defer func() { r.journal.close(finished) }()
	timeout := req.RunTimeout
	if req.Plan.Spec.Timeout > 0 {
		timeout = req.Plan.Spec.Timeout
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if timeout > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithTimeoutCause(runCtx, timeout, errRunTimeout)
		defer stop()
	}
	r.cancel = cancel
	if err := r.start(); err != nil {
		return nil, err
	}
	r.schedule(runCtx)
	res, err := r.finish(ctx, runCtx)
	finished = err == nil
	return res, err
}

// runState is one run in progress. The scheduler goroutine owns it; step
// goroutines only touch their own node's record until they report back.
type runState struct {
	e       *Engine
	req     *Request
	run     *store.Run
	nodes   []*nodeState
	masker  *secrets.Masker
	commit  *committer
	tmp     *tmpDirs
	journal *journal
	cancel  context.CancelCauseFunc
	results chan *nodeState
	freed   chan struct{}
	result  *Result
	failed  bool // a step failed (fail-fast trigger)
}

type nodeState struct {
	node    *pipeline.Node
	rec     *store.Step
	pending int  // needs not finished yet
	decided bool // run, skipped, blocked or cancelled: settled once
	done    bool // final for this run attempt
	// set by the step goroutine
	mismatch    bool
	quarantined []quality.QuarantinedFailure
}

func (e *Engine) newRunState(run *store.Run, req *Request) (*runState, error) {
	r := &runState{
		e: e, req: req, run: run, masker: secrets.NewMasker(req.Secrets),
		commit:  newCommitter(e.Store.Runs()),
		results: make(chan *nodeState, len(req.Plan.Nodes)),
		freed:   make(chan struct{}, len(req.Plan.Nodes)),
		result:  &Result{Run: run},
	}
	var previous map[string]*store.Step
	if req.Resume {
		steps, err := e.Store.Runs().Steps(context.Background(), run.ID)
		if err != nil {
			r.commit.Close()
			return nil, err
		}
		previous = map[string]*store.Step{}
		for _, s := range steps {
			previous[s.Name] = s
		}
	}
	for _, n := range req.Plan.Nodes {
		ns := &nodeState{node: n, pending: len(n.Deps)}
		if prev := previous[n.Name]; prev != nil {
			ns.rec = prev
			if !keep(prev.Status) {
				prev.Status, prev.Reason, prev.ExitCode = store.Queued, "", 0
				prev.StartedAt, prev.FinishedAt = time.Time{}, time.Time{}
			}
		} else {
			ns.rec = &store.Step{RunID: run.ID, Name: n.Name, Index: n.Index, Status: store.Queued}
		}
		r.nodes = append(r.nodes, ns)
	}
	return r, nil
}

// keep says which steps a resumed run does not run again.
func keep(s store.Status) bool { return s == store.Success || s == store.Skipped }

func (r *runState) start() error {
	now := r.e.now()
	r.run.Status, r.run.PID, r.run.Error = store.Running, os.Getpid(), ""
	if r.run.StartedAt.IsZero() || r.req.Resume {
		r.run.StartedAt = now
	}
	r.run.FinishedAt = time.Time{}
	records := []store.Record{r.run}
	for _, ns := range r.nodes {
		records = append(records, ns.rec)
	}
	if err := r.commit.Save(records...); err != nil {
		return fmt.Errorf("start run: %w", err)
	}
	r.req.Observer.RunStarted(r.run, r.steps())
	for _, name := range r.masker.TooShort() {
		r.req.Observer.Notice("", fmt.Sprintf("secret %s is shorter than %d characters and is not masked in logs", name, secrets.MinLen))
	}
	return nil
}

func (r *runState) steps() []*store.Step {
	out := make([]*store.Step, len(r.nodes))
	for i, ns := range r.nodes {
		c := *ns.rec
		out[i] = &c
	}
	return out
}

func (r *runState) finish(ctx, runCtx context.Context) (*Result, error) {
	status, msg := store.Success, ""
	for _, ns := range r.nodes {
		switch ns.rec.Status {
		case store.Failure, store.Blocked:
			if status == store.Success {
				status, msg = store.Failure, "step "+ns.node.Name+" "+string(ns.rec.Status)
			}
		case store.Cancelled:
			if status == store.Success {
				status, msg = store.Cancelled, "cancelled"
			}
		}
		if ns.mismatch {
			r.result.CacheMismatches = append(r.result.CacheMismatches, ns.node.Name)
		}
		r.result.Quarantined = append(r.result.Quarantined, ns.quarantined...)
	}
	switch cause := context.Cause(runCtx); {
	case errors.Is(cause, errRunTimeout):
		status, msg = store.Failure, "run timed out"
	case ctx.Err() != nil:
		status, msg = store.Cancelled, "cancelled"
	case errors.Is(cause, errFailFast) && status == store.Cancelled:
		status = store.Failure
	}
	r.run.Status, r.run.Error, r.run.FinishedAt = status, msg, r.e.now()
	if err := r.commit.Save(r.run); err != nil {
		return nil, fmt.Errorf("finish run: %w", err)
	}
	r.result.Steps = r.steps()
	r.req.Observer.RunFinished(r.run, r.result.Steps)
	return r.result, nil
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}
