package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/app"
	"github.com/slipway-ci/slipway/internal/store"
)

type logsOptions struct {
	attempt int
	all     bool
}

func newLogsCmd(g *globals) *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:   "logs [run] [step]",
		Short: "Print the stored logs of a run (default: the latest run)",
		Long: `Logs prints what steps wrote, as stored (secrets masked). Without a run it shows
the latest run; without a step, every step in the order they started. A step name
without a matrix suffix shows all its instances.`,
		Example: `  slipway logs
  slipway logs 12 build
  slipway logs 12 'test[go=1.22]' --attempt 1`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runLogs(cmd.Context(), g, o, args) },
	}
	cmd.Flags().IntVar(&o.attempt, "attempt", 0, "show this attempt of the step (default: the last one)")
	cmd.Flags().BoolVar(&o.all, "all-attempts", false, "show every attempt, not only the last one")
	return cmd
}

func runLogs(ctx context.Context, g *globals, o logsOptions, args []string) error {
	if o.attempt < 0 {
		return usageError(fmt.Errorf("--attempt must be a positive number, not %d", o.attempt))
	}
	a, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	run, err := pickRun(ctx, a, args)
	if err != nil {
		return err
	}
	attempts, err := a.Store.Runs().Attempts(ctx, run.ID)
	if err != nil {
		return err
	}
	step := ""
	if len(args) > 1 {
		step = args[1]
	}
	chosen := chooseAttempts(attempts, step, o)
	if len(chosen) == 0 {
		return usageError(fmt.Errorf("run #%d has no log for %q", run.ID, step))
	}
	w := bufio.NewWriter(g.stdout)
	defer w.Flush()
	for _, at := range chosen {
		if err := printLog(w, g, a.Config.StateDir, at, len(chosen) > 1); err != nil {
			return err
		}
	}
	return nil
}

// pickRun is the run named by args[0], or the latest one.
func pickRun(ctx context.Context, a *app.App, args []string) (*store.Run, error) {
	if len(args) > 0 {
		id, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
		if err != nil {
			return nil, usageError(fmt.Errorf("%q is not a run number", args[0]))
		}
		r, err := a.Store.Runs().Get(ctx, id)
		if err != nil {
			return nil, usageError(err)
		}
		return r, nil
	}
	runs, err := a.Store.Runs().List(ctx, store.RunFilter{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, usageError(fmt.Errorf("no run yet in %s", a.Config.StateDir))
	}
	return runs[0], nil
}

func chooseAttempts(attempts []*store.Attempt, step string, o logsOptions) []*store.Attempt {
	last := map[string]*store.Attempt{}
	var order []string
	var out []*store.Attempt
	for _, at := range attempts {
		if step != "" && at.Step != step && !strings.HasPrefix(at.Step, step+"[") {
			continue
		}
		if o.attempt > 0 && at.Number != o.attempt {
			continue
		}
		if o.all || o.attempt > 0 {
			out = append(out, at)
			continue
		}
		if _, seen := last[at.Step]; !seen {
			order = append(order, at.Step)
		}
		if prev := last[at.Step]; prev == nil || at.Number > prev.Number {
			last[at.Step] = at
		}
	}
	for _, s := range order {
		out = append(out, last[s])
	}
	return out
}

func printLog(w *bufio.Writer, g *globals, stateDir string, at *store.Attempt, header bool) error {
	f, err := os.Open(filepath.Join(stateDir, at.LogPath))
	if err != nil && at.LogSize == 0 {
		f, err = os.Open(os.DevNull) // a silent step has no log file
	}
	if err != nil {
		return fmt.Errorf("log of %s attempt %d: %w (pruned?)", at.Step, at.Number, err)
	}
	defer f.Close()
	if g.json() {
		enc := json.NewEncoder(w)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			enc.Encode(map[string]any{"step": at.Step, "attempt": at.Number, "line": sc.Text()}) //nolint:errcheck // flushed below
		}
		return sc.Err()
	}
	if header {
		fmt.Fprintf(w, "── %s (attempt %d, %s) ──\n", at.Step, at.Number, at.Status)
	}
	_, err = io.Copy(w, f)
	return err
}
