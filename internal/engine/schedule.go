package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/store"
)

// schedule runs the DAG by edge: a step is decided the moment its last need
// finishes, and started as soon as a slot is free. Only this goroutine
// touches scheduling state; steps report back on r.results.
func (r *runState) schedule(ctx context.Context) {
	var ready []*nodeState
	enqueue := func(ns *nodeState) { ready = append(ready, ns) }
	remaining := len(r.nodes)
	var complete func(ns *nodeState)
	complete = func(ns *nodeState) {
		ns.done = true
		remaining--
		if ns.rec.Status == store.Failure && r.req.FailFast && !r.failed {
			r.failed = true
			r.cancel(errFailFast)
		}
		for _, d := range ns.node.Dependants {
			dep := r.nodes[d]
			dep.pending--
			if dep.pending == 0 && !dep.decided {
				r.decide(ctx, dep, enqueue, complete)
			}
		}
	}
	r.restoreKept(complete)
	for _, ns := range r.nodes {
		if ns.pending == 0 && !ns.decided && !keep(ns.rec.Status) {
			r.decide(ctx, ns, enqueue, complete)
		}
	}
	// busy counts steps holding a parallelism slot (their commands run);
	// inflight counts steps not reported back yet. A step frees its slot as
	// soon as its commands end, so an independent step starts while the
	// finished one's result is being made durable.
	busy, inflight := 0, 0
	cancelled := ctx.Done()
	for remaining > 0 || inflight > 0 {
		for busy < r.req.Parallel && len(ready) > 0 && ctx.Err() == nil {
			ns := ready[0]
			ready = ready[1:]
			busy++
			inflight++
			ns.rec.Status = store.Running
			go func() { r.results <- r.runStep(ctx, ns) }()
		}
		if ctx.Err() != nil {
			for _, ns := range ready {
				r.finalize(ns, store.Cancelled, cancelReason(ctx), complete)
			}
			ready = nil
		}
		if inflight == 0 {
			break // nothing runs and nothing can start: every step is decided
		}
		select {
		case <-r.freed:
			busy--
		case ns := <-r.results:
			inflight--
			r.req.Observer.StepFinished(ns.rec, ns.rec.FinishedAt.Sub(ns.rec.StartedAt))
			complete(ns)
		case <-cancelled:
			cancelled = nil // steps see it through their context
		}
	}
}

// restoreKept marks the steps a resumed run keeps as done, after putting
// their outputs back in the checkout; a step whose outputs are gone runs again.
func (r *runState) restoreKept(complete func(*nodeState)) {
	if !r.req.Resume {
		return
	}
	for _, ns := range r.nodes {
		if !keep(ns.rec.Status) {
			continue
		}
		if ns.rec.Outputs != "" {
			dir := r.stepDir(ns.node)
			if err := r.e.Blobs.Restore(casDigest(ns.rec.Outputs), dir); err != nil {
				r.req.Observer.Notice(ns.node.Name, fmt.Sprintf("outputs of the previous attempt are gone (%v); running it again", err))
				ns.rec.Status = store.Queued
				continue
			}
		}
	}
	var kept []*nodeState
	for _, ns := range r.nodes {
		if keep(ns.rec.Status) {
			ns.decided = true // before any completes: none may be decided again
			kept = append(kept, ns)
		}
	}
	for _, ns := range kept {
		complete(ns)
	}
}

// decide runs a step whose needs are all finished, or settles it without
// running: blocked by a failed need, skipped by `if:` or `paths:`, or
// cancelled.
func (r *runState) decide(ctx context.Context, ns *nodeState, enqueue, complete func(*nodeState)) {
	ns.decided = true
	if ctx.Err() != nil {
		r.finalize(ns, store.Cancelled, cancelReason(ctx), complete)
		return
	}
	ok, failedNeed := true, ""
	for _, d := range ns.node.Deps {
		if st := r.nodes[d].rec.Status; !st.OK() {
			ok = false
			if failedNeed == "" {
				failedNeed = r.nodes[d].node.Name + " (" + string(st) + ")"
			}
		}
	}
	cond := ns.node.Cond()
	run, err := cond.Eval(r.condInput(ns, ok))
	switch {
	case err != nil:
		r.finalize(ns, store.Failure, err.Error(), complete)
	case !run && !ok && !cond.UsesStatus():
		r.finalize(ns, store.Blocked, "needs "+failedNeed, complete)
	case !run:
		r.finalize(ns, store.Skipped, "if: "+cond.Source+" is false", complete)
	case !r.pathsMatch(ns.node.Step):
		r.finalize(ns, store.Skipped, "no changed file matches its paths", complete)
	default:
		enqueue(ns)
	}
}

func (r *runState) condInput(ns *nodeState, ok bool) pipeline.CondInput {
	c := r.req.Change
	needs := map[string]string{}
	for _, ref := range ns.node.Step.Needs {
		needs[ref.Name] = r.groupResult(ref.Name)
	}
	return pipeline.CondInput{
		Branch: c.Branch, Event: c.Event, Tag: c.Tag, Commit: c.Commit, ChangedFiles: c.Files,
		Env: ns.node.Env, Matrix: ns.node.Combo.Map(), Needs: needs, Success: ok, Failure: !ok,
	}
}

// groupResult is the result of every instance a `needs` name designates:
// the first non-success, else success (skipped when all were skipped).
func (r *runState) groupResult(name string) string {
	result := ""
	for _, n := range r.req.Plan.Resolve(name) {
		st := r.nodes[n.Index].rec.Status
		switch {
		case st == store.FailureAllowed || st == store.Success:
			if result == "" || result == string(store.Skipped) {
				result = string(store.Success)
			}
		case st == store.Skipped:
			if result == "" {
				result = string(store.Skipped)
			}
		default:
			return string(st)
		}
	}
	return result
}

// pathsMatch applies `paths:` / `paths-ignore:`: a changed file counts when
// it matches paths (or there are none) and no paths-ignore pattern; the step
// runs when one file counts. Outside git every filter matches.
func (r *runState) pathsMatch(st *pipeline.Step) bool {
	if len(st.Paths) == 0 && len(st.PathsIgnore) == 0 {
		return true
	}
	if r.req.Change.AllChanged() {
		return true
	}
	for _, f := range r.req.Change.Files {
		if (len(st.Paths) == 0 || matchAny(st.Paths, f)) && !matchAny(st.PathsIgnore, f) {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, f string) bool {
	for _, p := range patterns {
		if ok, _ := doublestar.Match(p, f); ok {
			return true
		}
	}
	return false
}

// finalize settles a step that does not run.
func (r *runState) finalize(ns *nodeState, status store.Status, reason string, complete func(*nodeState)) {
	now := r.e.now()
	ns.rec.Status, ns.rec.Reason = status, reason
	ns.rec.StartedAt, ns.rec.FinishedAt = now, now
	r.commit.SaveAsync(copyStep(ns.rec))
	r.req.Observer.StepFinished(ns.rec, 0)
	complete(ns)
}

func cancelReason(ctx context.Context) string {
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
		return strings.TrimPrefix(cause.Error(), "context ")
	}
	return "cancelled"
}

func copyStep(s *store.Step) *store.Step { c := *s; return &c }
