package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/app"
	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/gatekeeper"
	"github.com/slipway-ci/slipway/internal/pipeline"
)

func newGateCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gate [run]",
		Short: "Evaluate the gates policy for a run (default: the latest run); exit 1 when it fails",
		Long: `Gate reads what a run's scan steps recorded and the reports its steps wrote, compares
them with the base commit (new code only, unless a scope says all), applies
.slipway/waivers.yaml and prints each condition with its value, threshold and verdict, then
the top findings with file:line. There is no flag that skips a failing gate.`,
		Args: cobra.MaximumNArgs(1),
		RunE: g.withApp(func(ctx context.Context, a *app.App, args []string) error {
			run, err := pickRun(ctx, a, args)
			if err != nil {
				return err
			}
			chg, err := change.Detect(ctx, change.Options{Dir: run.Dir})
			if err != nil {
				return usageError(err)
			}
			spec, err := pipeline.Load(run.SpecFile, a.Actions)
			if err != nil {
				return usageError(err)
			}
			res, err := a.Gatekeeper.Gate(ctx, gatekeeper.GateInput{RunID: run.ID, Root: chg.Root, Commit: run.Commit,
				Base: run.Base, Spec: spec, Tests: a.Store.Tests(), Log: g.stderr})
			if errors.Is(err, gatekeeper.ErrUsage) {
				return usageError(err)
			}
			if err != nil {
				return err
			}
			if g.json() {
				if err := json.NewEncoder(g.stdout).Encode(res); err != nil {
					return err
				}
			} else if err := res.Table(g.stdout); err != nil {
				return err
			}
			if !res.Pass {
				return failedError(fmt.Errorf("the gate fails for run #%d", run.ID))
			}
			return nil
		}),
	}
	return cmd
}
