package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/registry"
)

type registryOptions struct {
	addr string
}

func newRegistryCmd(g *globals) *cobra.Command {
	var o registryOptions
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Serve the state dir's embedded OCI registry until interrupted",
		Long: `Registry serves the embedded OCI registry (CNCF distribution, stored in the state
dir) on a loopback address. One process serves a state dir's registry at a time:
'slipway run' uses the running one, or serves it for the length of the run.

Reads are anonymous; pushes need the credentials that 'slipway registry credentials'
prints. Tags v<digit>... (releases) and sha-* (commits) are immutable and environment tags move only through
'slipway artifact promote'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRegistry(cmd.Context(), g, o) },
	}
	cmd.Flags().StringVar(&o.addr, "addr", envOr(g.getenv, "SLIPWAY_REGISTRY_ADDR", "127.0.0.1:0"), "loopback address to listen on (env SLIPWAY_REGISTRY_ADDR)")
	cmd.AddCommand(&cobra.Command{
		Use:   "credentials",
		Short: "Print the user name and password that push to the embedded registry",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runRegistryCredentials(g) },
	}, &cobra.Command{
		Use:   "status",
		Short: "Say which process serves the embedded registry, and where",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runRegistryStatus(g) },
	})
	return cmd
}

func (g *globals) absStateDir() (string, error) {
	cfg, err := g.config()
	if err != nil {
		return "", err
	}
	return filepath.Abs(cfg.StateDir)
}

func runRegistry(ctx context.Context, g *globals, o registryOptions) error {
	dir, err := g.absStateDir()
	if err != nil {
		return err
	}
	srv, err := registry.Serve(ctx, registry.Options{StateDir: dir, Addr: o.addr, Holder: registry.HolderRegistry,
		Logf: func(f string, a ...any) { fmt.Fprintf(g.stderr, f+"\n", a...) }})
	var held *registry.HeldError
	if errors.As(err, &held) {
		return failedError(err)
	}
	if err != nil {
		return err
	}
	if g.json() {
		json.NewEncoder(g.stdout).Encode(map[string]string{"addr": srv.Addr(), "state_dir": dir})
	} else {
		fmt.Fprintf(g.stdout, "registry serving %s at %s (Ctrl-C stops it)\n", dir, srv.Addr())
	}
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		return err
	}
	return ctx.Err()
}

func runRegistryCredentials(g *globals) error {
	dir, err := g.absStateDir()
	if err != nil {
		return err
	}
	c, err := registry.Credentials(dir)
	if err != nil {
		return err
	}
	if g.json() {
		return json.NewEncoder(g.stdout).Encode(map[string]string{"username": c.Username, "password": c.Password})
	}
	fmt.Fprintf(g.stdout, "username: %s\npassword: %s\n", c.Username, c.Password)
	return nil
}

func runRegistryStatus(g *globals) error {
	dir, err := g.absStateDir()
	if err != nil {
		return err
	}
	info, ok, err := registry.Running(dir)
	if err != nil {
		return err
	}
	if g.json() {
		return json.NewEncoder(g.stdout).Encode(map[string]any{"running": ok, "addr": info.Addr, "holder": info.Holder, "pid": info.PID})
	}
	if !ok {
		fmt.Fprintln(g.stdout, "not running: 'slipway run' serves it while a run needs it; 'slipway registry' serves it standalone")
		return nil
	}
	fmt.Fprintf(g.stdout, "served by %s (pid %d) at %s since %s\n", info.Holder, info.PID, info.Addr, info.Started.Format("2006-01-02 15:04:05"))
	return nil
}
