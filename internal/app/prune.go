package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/slipway-ci/slipway/internal/cas"
	"github.com/slipway-ci/slipway/internal/config"
	"github.com/slipway-ci/slipway/internal/engine"
	"github.com/slipway-ci/slipway/internal/store"
)

// PruneReport says what a prune removed (or would remove, dry).
type PruneReport struct {
	DryRun       bool    `json:"dry_run"`
	Runs         []int64 `json:"runs"`
	CacheEntries int     `json:"cache_entries"`
	Blobs        int     `json:"blobs"`
	BlobBytes    int64   `json:"blob_bytes"`
}

// DefaultBlobGrace protects blobs written by a run in progress, which no
// record references yet, from a concurrent sweep.
const DefaultBlobGrace = time.Hour

// Prune removes runs (with their logs and test results) beyond the retention
// limits, cache entries beyond the size cap, and content no longer
// referenced.
func (a *App) Prune(ctx context.Context, r config.Retention, dryRun bool) (*PruneReport, error) {
	rep := &PruneReport{DryRun: dryRun}
	if !dryRun {
		if err := a.Sweep(ctx); err != nil { // settle crashed runs so they can go too
			return nil, err
		}
	}
	runs, err := a.Store.Runs().List(ctx, store.RunFilter{})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	kept := 0
	for _, run := range runs { // newest first
		if run.Status == store.Running || run.Status == store.Queued {
			continue
		}
		tooOld := r.MaxAge > 0 && now.Sub(run.CreatedAt) > r.MaxAge
		tooMany := r.MaxRuns > 0 && kept >= r.MaxRuns
		if tooOld || tooMany {
			rep.Runs = append(rep.Runs, run.ID)
			continue
		}
		kept++
	}
	if !dryRun && len(rep.Runs) > 0 {
		if err := a.Store.Runs().Delete(ctx, rep.Runs...); err != nil {
			return nil, err
		}
		for _, id := range rep.Runs {
			if err := os.RemoveAll(filepath.Join(a.Config.StateDir, "logs", fmt.Sprint(id))); err != nil {
				return nil, err
			}
			if err := removeIfExists(engine.JournalPath(a.Config.StateDir, id)); err != nil {
				return nil, err
			}
		}
		a.sweepTmp()
	}
	if dryRun {
		n, err := a.wouldEvict(ctx, r.CacheMaxSize)
		if err != nil {
			return nil, err
		}
		rep.CacheEntries = n
		dead, err := a.sweepBlobs(ctx, true)
		if err != nil {
			return nil, err
		}
		rep.Blobs, rep.BlobBytes = len(dead), sumSizes(dead)
		return rep, nil
	}
	if rep.CacheEntries, err = a.Cache.Evict(ctx, r.CacheMaxSize); err != nil {
		return nil, err
	}
	swept, err := a.sweepBlobs(ctx, dryRun)
	if err != nil {
		return nil, err
	}
	rep.Blobs, rep.BlobBytes = len(swept), sumSizes(swept)
	return rep, nil
}

// sweepTmp removes the temp dirs that crashed runs left behind.
func (a *App) sweepTmp() {
	dir := filepath.Join(a.Config.StateDir, "tmp")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		var id int64
		if _, err := fmt.Sscanf(e.Name(), "run-%d-", &id); err == nil && !a.runAlive(id) {
			os.RemoveAll(filepath.Join(dir, e.Name())) //nolint:errcheck // retried at the next prune
		}
	}
}

func (a *App) wouldEvict(ctx context.Context, maxBytes int64) (int, error) {
	entries, err := a.Store.CacheIndex().List(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	n := 0
	for _, e := range entries {
		if total <= maxBytes {
			break
		}
		total -= e.Size
		n++
	}
	return n, nil
}

// sweepBlobs deletes content that no step and no cache entry references
// (mark and sweep), sparing recent blobs of runs in progress.
func (a *App) sweepBlobs(ctx context.Context, dryRun bool) ([]cas.BlobInfo, error) {
	live := map[cas.Digest]bool{}
	mark := func(tree cas.Digest) {
		live[tree] = true
		if t, err := a.Blobs.ReadTree(tree); err == nil {
			for _, d := range t.Blobs() {
				live[d] = true
			}
		}
	}
	outputs, err := a.Store.Runs().OutputDigests(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range outputs {
		mark(cas.Digest(d))
	}
	entries, err := a.Store.CacheIndex().List(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Outputs != "" {
			mark(cas.Digest(e.Outputs))
		}
		live[cas.Digest(e.Log)] = true
	}
	var dead []cas.BlobInfo
	cutoff := time.Now().Add(-a.BlobGrace)
	err = a.Blobs.Walk(func(b cas.BlobInfo) error {
		if live[b.Digest] || b.ModTime.After(cutoff) {
			return nil
		}
		dead = append(dead, b)
		if dryRun {
			return nil
		}
		return a.Blobs.Delete(b.Digest)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return dead, nil
}

func sumSizes(bs []cas.BlobInfo) int64 {
	var n int64
	for _, b := range bs {
		n += b.Size
	}
	return n
}
