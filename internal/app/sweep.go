package app

import (
	"context"
	"fmt"
	"time"

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
		if a.runAlive(r.ID) {
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
	now := time.Now()
	var records []store.Record
	for _, at := range attempts {
		if at.Status != store.Running {
			continue
		}
		if at.Ref != "" {
			if ex, ok := a.Engine.Executors[at.Executor]; ok {
				if err := ex.Reap(ctx, at.Ref); err != nil {
					return fmt.Errorf("run #%d: reap step %s: %w", r.ID, at.Step, err)
				}
			}
		}
		at.Status, at.Error, at.FinishedAt = store.Interrupted, "slipway stopped while it ran", now
		records = append(records, at)
	}
	steps, err := a.Store.Runs().Steps(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, s := range steps {
		if s.Status == store.Running || s.Status == store.Queued {
			s.Status, s.Reason = store.Interrupted, "slipway stopped before it finished"
			records = append(records, s)
		}
	}
	r.Status, r.Error, r.FinishedAt = store.Interrupted, "slipway stopped during the run", now
	records = append(records, r)
	return a.Store.Runs().Save(ctx, records...)
}
