package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/deploy"
	"github.com/slipway-ci/slipway/internal/localapi"
	"github.com/slipway-ci/slipway/internal/store"
)

func newDeployActionCmd(g *globals, name, short string) *cobra.Command {
	return &cobra.Command{
		Use:   name + " <environment>",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.upClient(cmd.Context(), false)
			if err != nil {
				return err
			}
			var d store.Deployment
			path := "/v1/envs/" + url.PathEscape(args[0]) + "/" + name
			if err := c.Do(cmd.Context(), http.MethodPost, path, deploy.Call{Actor: actor(g)}, &d); err != nil {
				return apiErr(err)
			}
			return g.print(&d, fmt.Sprintf("deployment %d (%s to %s): %s", d.ID, d.Version, d.Env, d.State))
		},
	}
}

func newDeployRollbackCmd(g *globals) *cobra.Command {
	var o deployOptions
	cmd := &cobra.Command{
		Use:   "rollback <environment>",
		Short: "Return an environment to its previous successful version (aborts one in progress)",
		Long: `Rollback aborts the environment's deployment in progress; otherwise it deploys the
digest that was current before the current one: a switch of traffic when that
version still runs, a redeploy by digest otherwise. No analysis, no approval, no
downgrade check; the artifact is verified again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			call, err := g.call(args[0], o)
			if err != nil {
				return err
			}
			c, err := g.upClient(ctx, true)
			if err != nil {
				return err
			}
			var res deploy.Result
			if err := c.Do(ctx, http.MethodPost, "/v1/rollback", call, &res); err != nil {
				return apiErr(err)
			}
			return g.follow(ctx, c, &res, o.noWait)
		},
	}
	cmd.Flags().StringVarP(&o.file, "file", "f", "", "pipeline file declaring the environments")
	cmd.Flags().StringVar(&o.reason, "reason", "", "why, recorded with the deployment")
	cmd.Flags().BoolVar(&o.noWait, "no-wait", false, "return once the rollback is recorded")
	return cmd
}

func newDeployStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status [environment]",
		Short: "Show an environment's deployment, its analysis measurements and its replicas; without one, every environment",
		Long: `Status shows an environment's latest deployment (with its canary step), what
serves it, its replicas, and the last 10 measurements of each analysis metric
(-o json has them all). Without an environment it lists every environment: what
serves it, where, and its latest deployment.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.upClient(cmd.Context(), false)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				return printOverview(cmd.Context(), g, c)
			}
			var st deploy.Status
			if err := c.Do(cmd.Context(), http.MethodGet, "/v1/envs/"+url.PathEscape(args[0]), nil, &st); err != nil {
				return apiErr(err)
			}
			if g.json() {
				return g.print(&st, "")
			}
			printStatus(g, &st)
			return nil
		},
	}
}

// printOverview lists every environment: what serves it, where, and its
// latest deployment.
func printOverview(ctx context.Context, g *globals, c *localapi.Client) error {
	var sts []*deploy.Status
	if err := c.Do(ctx, http.MethodGet, "/v1/envs", nil, &sts); err != nil {
		return apiErr(err)
	}
	if g.json() {
		return g.print(sts, "")
	}
	if len(sts) == 0 {
		fmt.Fprintln(g.stdout, "no deployments yet: 'slipway deploy <environment> --artifact <ref>' starts one")
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENVIRONMENT\tSERVES\tENDPOINT\tLATEST DEPLOYMENT")
	for _, st := range sts {
		serves, endpoint := "-", "-"
		if st.Current != nil {
			serves = st.Current.Version
		}
		if st.Target != nil {
			endpoint = st.Target.Endpoint
		}
		d := st.Deployment
		latest := fmt.Sprintf("%d: %s (%s) %s", d.ID, d.Version, d.Strategy, d.State)
		if p := deploy.Progress(d); p != "" && d.State.Active() {
			latest += ", " + p
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", st.Env, serves, endpoint, latest)
	}
	return tw.Flush()
}

func printStatus(g *globals, st *deploy.Status) {
	w := g.stdout
	if st.Current != nil {
		fmt.Fprintf(w, "%s runs %s (%s)\n", st.Env, st.Current.Version, shortDigest(st.Current.Digest))
	}
	if t := st.Target; t != nil {
		fmt.Fprintf(w, "served at %s; route: %s", t.Endpoint, t.Route.Stable)
		if t.Route.Canary != "" {
			fmt.Fprintf(w, ", %g%% to %s", t.Route.CanaryWeight, t.Route.Canary)
		}
		fmt.Fprintln(w)
		for _, v := range t.Versions {
			fmt.Fprintf(w, "  %-24s %d/%d ready, %d running, %d restarts\n", v.Name, v.Ready, v.Replicas, v.Running, v.Restarts)
		}
	}
	d := st.Deployment
	steps := deploy.Progress(d)
	if steps != "" {
		steps = ", " + steps
	}
	fmt.Fprintf(w, "deployment %d: %s (%s) %s%s, %g%% on the new version%s\n", d.ID, d.Version, d.Strategy, d.State,
		steps, d.Weight, reasonOf(d.Reason))
	if d.Approver != "" {
		fmt.Fprintf(w, "approved by %s\n", d.Approver)
	}
	if len(st.Measurements) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ANALYSIS\tMETRIC\tAT\tPHASE\tVALUE\tMESSAGE")
	shown, left := lastMeasurements(st.Measurements, measurementsShown)
	for _, m := range shown {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Analysis, m.Metric, m.At.Local().Format("15:04:05"), m.Phase, m.Value, m.Message)
	}
	tw.Flush()
	if left > 0 {
		fmt.Fprintf(w, "(%d earlier measurements not shown; -o json has them all)\n", left)
	}
}

// measurementsShown is how many measurements of each (analysis, metric)
// status prints: a background analysis measures for as long as it runs.
const measurementsShown = 10

// lastMeasurements keeps the last n of each (analysis, metric), in order,
// and counts the others.
func lastMeasurements(ms []*store.Measurement, n int) (kept []*store.Measurement, left int) {
	seen := map[[2]string]int{}
	keep := make([]bool, len(ms))
	for i := len(ms) - 1; i >= 0; i-- {
		k := [2]string{ms[i].Analysis, ms[i].Metric}
		if seen[k] < n {
			keep[i] = true
		}
		seen[k]++
	}
	for i, m := range ms {
		if keep[i] {
			kept = append(kept, m)
		} else {
			left++
		}
	}
	return kept, left
}

func newDeployHistoryCmd(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history <environment>",
		Short: "List an environment's deployments, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeployHistory(cmd.Context(), g, args[0], limit)
		},
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 20, "how many")
	return cmd
}

func runDeployHistory(ctx context.Context, g *globals, env string, limit int) error {
	c, err := g.upClient(ctx, false)
	if err != nil {
		return err
	}
	var ds []*store.Deployment
	path := fmt.Sprintf("/v1/envs/%s/history?limit=%d", url.PathEscape(env), limit)
	if err := c.Do(ctx, http.MethodGet, path, nil, &ds); err != nil {
		return apiErr(err)
	}
	if g.json() {
		return g.print(ds, "")
	}
	tw := tabwriter.NewWriter(g.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tSTRATEGY\tSTATE\tBY\tSTARTED\tREASON")
	for _, d := range ds {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Version, d.Strategy, d.State, d.Actor,
			d.Created.Local().Format("2006-01-02 15:04:05"), d.Reason)
	}
	return tw.Flush()
}
