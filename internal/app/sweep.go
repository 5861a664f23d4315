package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/store"
)

// Sweep settles runs whose slipway died (kill -9, power loss): it kills the
// processes their running steps left behind and marks those steps and the
// run interrupted, so that `slipway run --resume` runs them again.
func (a *App) Sweep(ctx context.Context) error {
	runs, err := a.Store.Runs().List(ctx, store.RunFilter{Status: []store.Status{store.Running, store.Queued}})
	if err != nil {
		return err
	}
	for _, r := range runs {
		// A run is created a moment before its process locks it: a young
		// queued run without a lock is most likely just starting.
		starting := r.Status == store.Queued && time.Since(r.CreatedAt) < 10*time.Second
		if starting || a.runAlive(r.ID) {
			continue
		}
		if err := a.interrupt(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) interrupt(ctx context.Context, r *store.Run) error {
	attempts, err := a.Store.Runs().Attempts(ctx, r.ID)
	if err != nil {
		return err
	}
	final := map[string]bool{}
	for _, at := range attempts {
		final[fmt.Sprintf("%s/%d", at.Step, at.Number)] = at.Status.Final()
	}
	journal := engine.JournalPath(a.Config.StateDir, r.ID)
	started, err := engine.ReadJournal(journal)
	if err != nil {
		return fmt.Errorf("run #%d: %w", r.ID, err)
	}
	now := time.Now()
	var records []store.Record
	tried := map[string]int{} // attempts numbers are never reused: logs are named by them
	for _, p := range started {
		tried[p.Step] = max(tried[p.Step], p.Attempt)
		if final[fmt.Sprintf("%s/%d", p.Step, p.Attempt)] {
			continue
		}
		msg := "slipway stopped while it ran"
		if ex, ok := a.Engine.Executors[p.Executor]; ok && p.Ref != "" {
			// A reference that cannot be reaped must not block every later
			// run: it is recorded on the attempt instead.
			if err := ex.Reap(ctx, p.Ref); err != nil {
				msg += "; its processes could not be reaped: " + err.Error()
			}
		}
		records = append(records, &store.Attempt{RunID: r.ID, Step: p.Step, Number: p.Attempt, RunAttempt: r.Attempt,
			Status: store.Interrupted, Executor: p.Executor, Ref: p.Ref, Error: msg, FinishedAt: now})
	}
	steps, err := a.Store.Runs().Steps(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, s := range steps {
		if s.Status == store.Running || s.Status == store.Queued {
			s.Status, s.Reason = store.Interrupted, "slipway stopped before it finished"
			s.Attempts = max(s.Attempts, tried[s.Name])
			records = append(records, s)
		}
	}
	r.Status, r.Error, r.FinishedAt = store.Interrupted, "slipway stopped during the run", now
	records = append(records, r)
	if err := a.Store.Runs().Save(ctx, records...); err != nil {
		return err
	}
	return removeIfExists(journal)
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
