package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/config"
)

type pruneOptions struct {
	maxAge    time.Duration
	maxRuns   int
	cacheSize string
	dryRun    bool
}

func newPruneCmd(g *globals) *cobra.Command {
	var o pruneOptions
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove old runs, logs and cache entries beyond the retention limits",
		Long: `Prune removes runs (with their logs and test results) older than --max-age or
beyond the newest --max-runs, cache entries beyond --cache-max-size (least recently
used first), and stored content nothing references any more. The limits default to
the configuration (retention: in config.yaml). The cache size cap also applies
automatically after every run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPrune(cmd.Context(), cmd.Flags().Changed, g, o) },
	}
	f := cmd.Flags()
	f.DurationVar(&o.maxAge, "max-age", 0, "remove runs older than this (default 720h; env SLIPWAY_RETENTION_MAX_AGE)")
	f.IntVar(&o.maxRuns, "max-runs", 0, "keep at most this many runs (default 1000; env SLIPWAY_RETENTION_MAX_RUNS)")
	f.StringVar(&o.cacheSize, "cache-max-size", "", "shrink the step cache to this size, e.g. 500MB (default 5GiB; env SLIPWAY_CACHE_MAX_SIZE)")
	f.BoolVar(&o.dryRun, "dry-run", false, "only say what would be removed")
	return cmd
}

func runPrune(ctx context.Context, changed func(string) bool, g *globals, o pruneOptions) error {
	a, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if o.maxAge < 0 || o.maxRuns < 0 {
		return usageError(fmt.Errorf("--max-age and --max-runs must not be negative"))
	}
	r := a.Config.Retention
	if changed("max-age") {
		r.MaxAge = o.maxAge
	}
	if changed("max-runs") {
		r.MaxRuns = o.maxRuns
	}
	if changed("cache-max-size") {
		if r.CacheMaxSize, err = config.ParseSize(o.cacheSize); err != nil {
			return usageError(err)
		}
	}
	rep, err := a.Prune(ctx, r, o.dryRun)
	if err != nil {
		return err
	}
	if g.json() {
		if rep.Runs == nil {
			rep.Runs = []int64{}
		}
		return json.NewEncoder(g.stdout).Encode(rep)
	}
	verb := "removed"
	if o.dryRun {
		verb = "would remove"
	}
	fmt.Fprintf(g.stdout, "%s %d run(s), %d cache entr(ies), %d blob(s) (%s)\n", verb, len(rep.Runs),
		rep.CacheEntries, rep.Blobs, humanize.IBytes(uint64(rep.BlobBytes)))
	return nil
}
