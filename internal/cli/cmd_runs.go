package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/store"
)

func newRunsCmd(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List recent runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return usageError(fmt.Errorf("--limit must be at least 1, not %d", limit))
			}
			a, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			return listRuns(cmd.Context(), g, a.Store.Runs(), limit)
		},
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 20, "how many runs")
	return cmd
}

func listRuns(ctx context.Context, g *globals, runs store.Runs, limit int) error {
	list, err := runs.List(ctx, store.RunFilter{Limit: limit})
	if err != nil {
		return err
	}
	if g.json() {
		out := make([]jsonRun, len(list))
		for i, r := range list {
			out[i] = toJSONRun(r)
		}
		return json.NewEncoder(g.stdout).Encode(out)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSTATUS\tCOMMIT\tBRANCH\tSTARTED\tDURATION\tDIR")
	for _, r := range list {
		dur := ""
		if !r.FinishedAt.IsZero() && !r.StartedAt.IsZero() {
			dur = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, short(r.Commit), r.Branch,
			r.CreatedAt.Format("2006-01-02 15:04:05"), dur, r.Dir)
	}
	return tw.Flush()
}
