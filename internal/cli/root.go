// Package cli is slipway's command line: one file per command, each an
// options struct, its flags and a plain function doing the work. Errors
// become exit codes here and nowhere else.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/app"
	"github.com/slipway-ci/slipway/internal/config"
)

// Exit codes.
const (
	ExitOK        = 0
	ExitFailed    = 1   // the run, lint or check failed
	ExitUsage     = 2   // bad flags, bad config, bad input
	ExitCancelled = 130 // interrupted
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error  { return &exitError{ExitUsage, err} }
func failedError(err error) error { return &exitError{ExitFailed, err} }

// globals are the flags every command has.
type globals struct {
	stateDir   string
	configFile string
	output     string
	stdout     io.Writer
	stderr     io.Writer
	environ    []string
	getenv     func(string) string
}

// Run runs the command line and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	closeInheritedFDs()
	app.Version = version
	g := &globals{stdout: stdout, stderr: stderr, environ: environ, getenv: lookup(environ)}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	code := ExitFailed
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case errors.Is(err, context.Canceled):
		code = ExitCancelled
	case isUsage(err):
		code = ExitUsage
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "slipway: "+msg)
	}
	return code
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "slipway",
		Short: "Slipway: pipelines, signed artifacts and progressive deployments in one binary",
		Long: `Slipway is a CI/CD system in one binary. 'slipway run' executes the pipeline in
.slipway.yaml as a DAG, on this machine, with the same engine the server uses; it
builds, scans, signs and publishes artifacts ('slipway artifact'). 'slipway deploy'
rolls them out (rolling, blue-green, canary under analysis) through 'slipway up'.

State (database, cache, logs) lives in the state dir: --state-dir, SLIPWAY_STATE_DIR,
default ${XDG_STATE_HOME:-~/.local/state}/slipway. Configuration comes from
--config, SLIPWAY_CONFIG or ${XDG_CONFIG_HOME:-~/.config}/slipway/config.yaml.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.stateDir, "state-dir", "", "state directory (env SLIPWAY_STATE_DIR)")
	pf.StringVar(&g.configFile, "config", g.getenv("SLIPWAY_CONFIG"), "config file (env SLIPWAY_CONFIG)")
	pf.StringVarP(&g.output, "output", "o", envOr(g.getenv, "SLIPWAY_OUTPUT", "text"), "output format: text or json (env SLIPWAY_OUTPUT)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if g.output != "text" && g.output != "json" {
			return usageError(fmt.Errorf("--output must be text or json, not %q", g.output))
		}
		return nil
	}
	root.AddCommand(newRunCmd(g), newLintCmd(g), newSchemaCmd(g), newLogsCmd(g), newPruneCmd(g),
		newVersionCmd(g), newTestsCmd(g), newRunsCmd(g), newRegistryCmd(g), newKeysCmd(g), newArtifactCmd(g), newScanCmd(g), newGateCmd(g),
		newUpCmd(g), newDownCmd(g), newDeployCmd(g))
	markUsageErrors(root)
	return root
}

// markUsageErrors makes cobra's own flag and argument errors exit 2.
func markUsageErrors(c *cobra.Command) {
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usageError(err)
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsageErrors(sub)
	}
}

// config loads the configuration with the global flags applied.
func (g *globals) config() (config.Config, error) {
	cfg, err := config.Load(g.configFile, g.getenv)
	if err != nil {
		return cfg, usageError(err)
	}
	if g.stateDir != "" {
		cfg.StateDir = g.stateDir
	}
	return cfg, nil
}

// open opens the state dir.
func (g *globals) open(ctx context.Context) (*app.App, error) {
	cfg, err := g.config()
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, g.environ)
}

func (g *globals) json() bool { return g.output == "json" }

func lookup(environ []string) func(string) string {
	m := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// isUsage recognises the one usage error cobra raises before any command
// runs: an unknown subcommand of the root.
func isUsage(err error) bool { return strings.HasPrefix(err.Error(), "unknown command") }

// withApp is a RunE that opens the state dir's App for fn and closes it
// after.
func (g *globals) withApp(fn func(ctx context.Context, a *app.App, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a, err := g.open(cmd.Context())
		if err != nil {
			return err
		}
		defer a.Close()
		return fn(cmd.Context(), a, args)
	}
}
