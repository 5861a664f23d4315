package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/slipway-ci/slipway/internal/cache"
	"github.com/slipway-ci/slipway/internal/cas"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/store"
)

// runStep takes one step to its final state: from the cache, or through its
// attempts; then stores its outputs and saves it durably before reporting.
func (r *runState) runStep(ctx context.Context, ns *nodeState) *nodeState {
	rec, n := ns.rec, ns.node
	rec.StartedAt, rec.RunAttempt, rec.Reason = r.e.now(), r.run.Attempt, ""
	rec.ExitCode, rec.CacheHit, rec.Outputs, rec.CacheKey = 0, false, "", ""
	dir := r.stepDir(n)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return r.settle(ns, nil, store.Failure, fmt.Sprintf("workdir %s does not exist", n.Workdir))
	}
	var cached *cache.Entry
	if n.Step.Cache != nil && r.e.Cache != nil && !r.req.NoCache {
		key, err := r.cacheKey(ctx, ns, dir)
		if err != nil {
			return r.settle(ns, nil, store.Failure, err.Error())
		}
		rec.CacheKey = key
		entry, err := r.e.Cache.Get(ctx, key)
		switch {
		case err == nil && !r.req.VerifyCache:
			return r.cacheHit(ctx, ns, entry, dir)
		case err == nil:
			cached = entry
		case !errors.Is(err, cache.ErrMiss):
			r.req.Observer.Notice(n.Name, "cache unavailable: "+err.Error())
		}
	}
	final := r.attempts(ctx, ns, dir)
	if rec.Status == store.Success && len(n.Outputs) > 0 {
		d, _, err := r.e.Blobs.Snapshot(dir, n.Outputs, r.secretCheck())
		if err != nil {
			rec.Status, rec.Reason = store.Failure, err.Error()
		} else {
			rec.Outputs = string(d)
		}
	}
	switch {
	case cached != nil && rec.Status == store.Success && string(cached.Outputs) != rec.Outputs:
		ns.mismatch = true
		rec.Status = store.Failure
		rec.Reason = "cache verification: outputs differ from the cached ones (an input is not declared in cache.inputs or cache.env?)"
	case cached == nil && rec.CacheKey != "" && rec.Status == store.Success:
		if err := r.fillCache(ctx, ns, final); err != nil {
			r.req.Observer.Notice(n.Name, "not cached: "+err.Error())
		}
	}
	if rec.Status == store.Failure && n.Step.ContinueOnError {
		rec.Status = store.FailureAllowed
	}
	return r.settle(ns, final, rec.Status, rec.Reason)
}

// settle saves the step (and its last attempt) durably and hands it back to
// the scheduler.
func (r *runState) settle(ns *nodeState, final *store.Attempt, status store.Status, reason string) *nodeState {
	r.freed <- struct{}{} // the step's commands are done: its slot is free
	ns.rec.Status, ns.rec.Reason, ns.rec.FinishedAt = status, reason, r.e.now()
	records := []store.Record{copyStep(ns.rec)}
	if final != nil {
		c := *final
		records = append(records, &c)
	}
	if err := r.commit.Save(records...); err != nil {
		// The store is gone: the run cannot be trusted to continue.
		r.cancel(fmt.Errorf("store: %w", err))
		ns.rec.Status, ns.rec.Reason = store.Failure, "could not record the result: "+err.Error()
	}
	return ns
}

// stepDir is the step's working directory.
func (r *runState) stepDir(n *pipeline.Node) string {
	return filepath.Join(r.req.Root, filepath.FromSlash(n.Workdir))
}

// cacheKey names the step's result from everything declared to affect it.
func (r *runState) cacheKey(ctx context.Context, ns *nodeState, dir string) (string, error) {
	n := ns.node
	inputs, err := cache.HashInputs(ctx, dir, n.Inputs)
	if err != nil {
		return "", err
	}
	in := cache.KeyInput{
		Executor: n.Step.Executor, Sandbox: r.sandboxMode(n).String(), Workdir: n.Workdir,
		Shell: n.Step.Shell, Command: n.Run, Action: n.Step.Uses, With: n.With, Env: n.Env,
		Matrix: n.Combo.Map(), Patterns: n.Inputs, Inputs: inputs, Outputs: n.Outputs,
		HostEnv: map[string]*string{}, Needs: map[string]string{}, Secrets: map[string]string{},
	}
	if n.Step.Uses != "" {
		in.Shell = ""
	}
	for _, name := range n.Step.Cache.Env {
		if v, ok := r.e.LookupEnv(name); ok {
			in.HostEnv[name] = &v
		} else {
			in.HostEnv[name] = nil
		}
	}
	for _, d := range n.Deps {
		in.Needs[r.nodes[d].node.Name] = r.nodes[d].rec.Outputs
	}
	for _, s := range n.Step.Secrets {
		in.Secrets[s] = cache.SecretMAC(r.e.CacheMAC, r.req.Secrets[s])
	}
	return cache.Key(in), nil
}

// cacheHit restores a cached result: outputs into the checkout, the log
// replayed, the step recorded as a successful attempt served by the cache.
func (r *runState) cacheHit(ctx context.Context, ns *nodeState, e *cache.Entry, dir string) *nodeState {
	rec := ns.rec
	rec.Attempts++
	a := &store.Attempt{RunID: r.run.ID, Step: rec.Name, Number: rec.Attempts, RunAttempt: r.run.Attempt,
		Status: store.Success, Executor: "cache", LogPath: logPath(r.run.ID, rec.Name, rec.Attempts), StartedAt: r.e.now()}
	if e.Outputs != "" {
		if err := r.e.Blobs.Restore(e.Outputs, dir); err != nil {
			return r.settle(ns, nil, store.Failure, "restore cached outputs: "+err.Error())
		}
	}
	r.req.Observer.StepStarted(rec.Name, rec.Attempts)
	size, err := r.replayLog(e.Log, a.LogPath, rec.Name)
	if err != nil {
		return r.settle(ns, nil, store.Failure, "replay cached log: "+err.Error())
	}
	a.LogSize, a.FinishedAt = size, r.e.now()
	rec.CacheHit, rec.Outputs = true, string(e.Outputs)
	return r.settle(ns, a, store.Success, "cached")
}

func (r *runState) replayLog(d cas.Digest, rel, step string) (int64, error) {
	sink, err := openLog(filepath.Join(r.e.StateDir, rel), r.masker, r.req.Observer, step)
	if err != nil {
		return 0, err
	}
	var copyErr error
	if d != "" {
		var src io.ReadCloser
		if src, copyErr = r.e.Blobs.Open(d); copyErr == nil {
			_, copyErr = io.Copy(sink, src)
			src.Close()
		}
	}
	size, err := sink.Close()
	if copyErr != nil {
		return size, copyErr
	}
	return size, err
}

// fillCache stores a successful step's log and outputs under its key.
func (r *runState) fillCache(ctx context.Context, ns *nodeState, final *store.Attempt) error {
	var logD cas.Digest
	var size int64
	if final != nil && final.LogSize > 0 {
		var err error
		logD, size, err = r.e.Blobs.PutFile(filepath.Join(r.e.StateDir, final.LogPath))
		if err != nil {
			return err
		}
	}
	if ns.rec.Outputs != "" {
		t, err := r.e.Blobs.ReadTree(cas.Digest(ns.rec.Outputs))
		if err != nil {
			return err
		}
		size += t.Size()
	}
	return r.e.Cache.Put(ctx, &cache.Entry{Key: ns.rec.CacheKey, Step: ns.rec.Name,
		Outputs: cas.Digest(ns.rec.Outputs), Log: logD, Size: size})
}

// secretCheck refuses an output file holding one of the run's secrets, in
// any of the forms the masker knows, before it is stored or handed on.
func (r *runState) secretCheck() cas.Check {
	if r.masker.Empty() {
		return nil
	}
	return func(rel, abs string) error {
		f, err := os.Open(abs)
		if err != nil {
			return err
		}
		defer f.Close()
		hit, err := r.masker.Scan(f)
		if err != nil {
			return fmt.Errorf("output %s: %w", rel, err)
		}
		if hit != nil {
			return fmt.Errorf("output %s contains the value of secret %s (%s form): refusing to store or hand it on", rel, hit.Secret, hit.Form)
		}
		return nil
	}
}

func casDigest(s string) cas.Digest { return cas.Digest(s) }
