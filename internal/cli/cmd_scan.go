package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/gatekeeper"
	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/osv"
)

func newScanCmd(g *globals) *cobra.Command {
	var o struct {
		failOn, sarif, git string
		requireFresh       bool
	}
	cmd := &cobra.Command{
		Use:   "scan <secrets|deps|sast|image> [dir|image-ref]",
		Short: "Run one security scanner; exit 1 when a finding reaches --fail-on",
		Long: `Scan runs one scanner over a directory (default: the current one), records its findings
in the state dir (so a gate can tell new findings from known ones) and prints them. Secrets are
redacted in every output. Exit status: 0 when no finding reaches --fail-on, 1 when one does,
2 on a usage or input error.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			min, err := scan.ParseSeverity(o.failOn)
			if err != nil {
				return usageError(fmt.Errorf("--fail-on: %w", err))
			}
			dir, ref := ".", ""
			if len(args) == 2 && args[0] == scan.Image {
				ref = args[1] // an image, not a directory
			} else if len(args) == 2 {
				dir = args[1]
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return usageError(err)
			}
			a, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer a.Close()
			chg, err := change.Detect(ctx, change.Options{Dir: abs})
			if err != nil {
				return usageError(err)
			}
			with := map[string]any{}
			if o.git != "" {
				with["git"] = o.git
			}
			if o.requireFresh {
				with["require-fresh-db"] = true
			}
			if ref != "" {
				with["ref"] = ref
			}
			t := gatekeeper.Target{Root: chg.Root, Dir: abs, Change: chg, With: with, StateDir: a.Config.StateDir, Log: g.stderr}
			_, rep, err := a.Gatekeeper.Scan(ctx, args[0], t, 0, "")
			if errors.Is(err, gatekeeper.ErrUsage) {
				return usageError(err)
			}
			if err != nil {
				return usageError(err) // bad input: a malformed lockfile, an unreadable tree
			}
			if o.sarif != "" {
				if err := gatekeeper.WriteSARIF(o.sarif, rep); err != nil {
					return err
				}
			}
			if g.json() {
				if err := json.NewEncoder(g.stdout).Encode(rep); err != nil {
					return err
				}
			} else {
				gatekeeper.Summary(g.stdout, rep, 20)
			}
			if n := rep.Count(min); n > 0 {
				return failedError(fmt.Errorf("%d %s findings at or above %s", n, args[0], min))
			}
			return nil
		},
	}
	cmd.AddCommand(newScanDBCmd(g))
	f := cmd.Flags()
	f.StringVar(&o.failOn, "fail-on", "low", "lowest severity that fails: info, low, medium, high, critical")
	f.StringVar(&o.sarif, "sarif", "", "also write SARIF 2.1.0 to this file")
	f.StringVar(&o.git, "git", "", "secrets: scan the commits of this range (base..head) instead of the work tree")
	f.BoolVar(&o.requireFresh, "require-fresh-db", false, "deps, image: fail when the vulnerability database is older than its maximum age")
	return cmd
}

// DefaultVulnSource is OSV's public bucket: <Ecosystem>/all.zip under it.
const DefaultVulnSource = "https://osv-vulnerabilities.storage.googleapis.com"

func newScanDBCmd(g *globals) *cobra.Command {
	db := &cobra.Command{Use: "db", Short: "The offline vulnerability database deps and image scans read",
		Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var source string
	update := &cobra.Command{
		Use:   "update",
		Short: "Fetch OSV records (from a URL or a directory) into the state dir's database",
		Long: `Update builds a new generation of the database from OSV records and switches to it
atomically: the osv-scanner offline layout (<Ecosystem>/all.zip) and the Go vulnerability
database layout that govulncheck reads. --source is a base URL serving <Ecosystem>/all.zip,
the URL of one zip, or a local directory of OSV JSON records or zips.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := g.absStateDir()
			if err != nil {
				return err
			}
			meta, err := osv.Update(cmd.Context(), source, gatekeeper.VulnDBDir(dir))
			if err != nil {
				return failedError(err)
			}
			if g.json() {
				return json.NewEncoder(g.stdout).Encode(meta)
			}
			fmt.Fprintf(g.stdout, "vulnerability database updated from %s: %d records (%v), newest modified %s\n",
				source, meta.Records, meta.Ecosystems, meta.Modified.Format("2006-01-02"))
			return nil
		},
	}
	update.Flags().StringVar(&source, "source", envOr(g.getenv, "SLIPWAY_VULNDB_SOURCE", DefaultVulnSource),
		"base URL, zip URL or local directory of OSV records (env SLIPWAY_VULNDB_SOURCE)")
	db.AddCommand(update)
	return db
}
