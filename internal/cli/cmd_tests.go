package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/quality"
	"github.com/slipway-ci/slipway/internal/store"
)

func newTestsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tests", Short: "Test results recorded from step reports",
		Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var since time.Duration
	var commit string
	flaky := &cobra.Command{
		Use:   "flaky",
		Short: "List tests that both passed and failed on the same commit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTestsFlaky(cmd.Context(), g, since, commit)
		},
	}
	flaky.Flags().DurationVar(&since, "since", 30*24*time.Hour, "look at runs this recent")
	flaky.Flags().StringVar(&commit, "commit", "", "only this commit")
	cmd.AddCommand(flaky)
	return cmd
}

func runTestsFlaky(ctx context.Context, g *globals, since time.Duration, commit string) error {
	a, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	results, err := a.Store.Tests().Results(ctx, store.TestFilter{Commit: commit, Since: time.Now().Add(-since)})
	if err != nil {
		return err
	}
	in := make([]quality.Result, len(results))
	for i, r := range results {
		in[i] = quality.Result{Commit: r.Commit, RunID: r.RunID, Attempt: r.Attempt, Case: quality.TestCase{
			Suite: r.Suite, Name: r.Name, Duration: r.Duration, Outcome: quality.Outcome(r.Outcome), Message: r.Message}}
	}
	flaky := quality.Flaky(in)
	if g.json() {
		if flaky == nil {
			flaky = []quality.FlakyTest{}
		}
		return json.NewEncoder(g.stdout).Encode(flaky)
	}
	if len(flaky) == 0 {
		fmt.Fprintln(g.stdout, "no flaky test")
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TEST\tCOMMIT\tPASSED\tFAILED\tRUNS")
	for _, f := range flaky {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%v\n", f.ID, short(f.Commit), f.Passes, f.Failures, f.Runs)
	}
	return tw.Flush()
}
