package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/app"
	"github.com/slipway-ci/slipway/internal/deploy"
	"github.com/slipway-ci/slipway/internal/localapi"
	"github.com/slipway-ci/slipway/internal/registry"
)

type upOptions struct {
	addr   string
	detach bool
}

func newUpCmd(g *globals) *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the deployment process: local target, routers, controller, registry and local API",
		Long: `Up runs what deployments need, in one process, until SIGTERM or 'slipway down':
the local deploy target (replicas and per-environment routers), the deployment
controller, the embedded registry and the local API that 'slipway deploy' talks to
(loopback, with the token in <state-dir>/up/token, 0600).

Replicas run in their own sessions: stopping 'up' leaves them serving, and the next
'up' re-adopts them and resumes the deployments in progress. 'slipway deploy' starts
'up --detach' by itself when none runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.detach {
				return runUpDetached(cmd.Context(), g, o)
			}
			return runUp(cmd.Context(), g, o)
		},
	}
	cmd.Flags().StringVar(&o.addr, "addr", "127.0.0.1:0", "loopback address of the local API")
	cmd.Flags().BoolVarP(&o.detach, "detach", "d", false, "run in the background (log: <state-dir>/logs/up.log)")
	return cmd
}

// lateHandler answers 503 until the deployer is ready: the API's lock is
// taken first, so a second `up` fails before it touches any replica.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	localapi.WriteError(w, http.StatusServiceUnavailable, errors.New("slipway up is starting"))
}

func runUp(ctx context.Context, g *globals, o upOptions) error {
	a, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	logf := func(f string, args ...any) {
		fmt.Fprintf(g.stderr, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(f, args...))
	}
	late := &lateHandler{}
	srv, err := localapi.Serve(ctx, localapi.Options{StateDir: a.Config.StateDir, Addr: o.addr, Handler: late, Logf: logf,
		Version: version})
	var running *localapi.RunningError
	if errors.As(err, &running) {
		return failedError(err)
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	stopReg := serveRegistry(ctx, a, logf)
	defer stopReg()
	dep, err := a.OpenDeployer(ctx, logf)
	if err != nil {
		return err
	}
	var h http.Handler = upHandler(a, dep)
	late.h.Store(&h)
	printUp(ctx, g, a, dep, srv)
	select {
	case <-ctx.Done():
	case <-srv.ShutdownRequested():
	}
	logf("slipway up: stopping (replicas keep running)")
	dep.Close()
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// serveRegistry serves the state dir's registry for as long as up runs. A
// `slipway run` serving it for its own length is waited for in the
// background (up uses that one meanwhile) and then taken over.
func serveRegistry(ctx context.Context, a *app.App, logf func(string, ...any)) (stop func()) {
	opts := registry.Options{StateDir: a.Config.StateDir, Holder: registry.HolderUp, Logf: logf}
	reg, err := registry.Serve(ctx, opts)
	var held *registry.HeldError
	switch {
	case err == nil:
		return func() { reg.Close() }
	case !errors.As(err, &held) || held.Holder != registry.HolderRun:
		logf("registry: %v; using it", err)
		return func() {}
	}
	logf("registry: served by a run (pid %d) until it ends; taking it over then", held.PID)
	done := make(chan *registry.Server, 1)
	go func() {
		opts.Wait = true
		reg, err := registry.Serve(ctx, opts)
		if err != nil {
			done <- nil
			return
		}
		a.Release.Reconnect()
		logf("registry: now served by up at %s", reg.Addr())
		done <- reg
	}()
	return func() {
		select {
		case reg := <-done:
			if reg != nil {
				reg.Close()
			}
		case <-ctx.Done():
		}
	}
}

// upHandler serves the deployment API plus the workload stop `down` uses.
func upHandler(a *app.App, dep *app.Deployer) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", deploy.Handler(dep.Controller, a.ResolveDeploy))
	mux.HandleFunc("GET /v1/endpoints", func(w http.ResponseWriter, r *http.Request) {
		localapi.WriteJSON(w, http.StatusOK, dep.Endpoints(r.Context()))
	})
	mux.HandleFunc("POST /v1/workloads/stop", func(w http.ResponseWriter, r *http.Request) {
		n, err := dep.StopWorkloads(r.Context())
		if err != nil {
			localapi.WriteError(w, http.StatusInternalServerError, err)
			return
		}
		localapi.WriteJSON(w, http.StatusOK, map[string]int{"stopped": n})
	})
	return mux
}

func printUp(ctx context.Context, g *globals, a *app.App, dep *app.Deployer, srv *localapi.Server) {
	envs := dep.Endpoints(ctx)
	if g.json() {
		json.NewEncoder(g.stdout).Encode(map[string]any{"api": srv.Addr(), "state_dir": a.Config.StateDir, "environments": envs})
		return
	}
	fmt.Fprintf(g.stdout, "slipway up: API at %s (state dir %s)\n", srv.Addr(), a.Config.StateDir)
	printEndpoints(g.stdout, envs)
}

func printEndpoints(w io.Writer, envs []app.Endpoint) {
	for _, e := range envs {
		fmt.Fprintf(w, "  %-12s %s serves %s\n", e.Env, e.URL, e.Version)
	}
}

func runUpDetached(ctx context.Context, g *globals, o upOptions) error {
	dir, err := g.absStateDir()
	if err != nil {
		return err
	}
	c, err := localapi.EnsureRunning(ctx, localapi.DetachOptions{StateDir: dir, Args: localapi.UpArgs(dir, g.configFile, o.addr)})
	if err != nil {
		return err
	}
	var envs []app.Endpoint
	if err := c.Do(ctx, http.MethodGet, "/v1/endpoints", nil, &envs); err != nil {
		return apiErr(err)
	}
	if g.json() {
		return json.NewEncoder(g.stdout).Encode(map[string]any{"api": c.Addr(), "pid": c.Info().PID, "log": localapi.LogPath(dir),
			"environments": envs})
	}
	fmt.Fprintf(g.stdout, "slipway up is running in the background (pid %d, API at %s, log %s)\n",
		c.Info().PID, c.Addr(), localapi.LogPath(dir))
	printEndpoints(g.stdout, envs)
	fmt.Fprintln(g.stdout, "'slipway deploy status' shows the environments, 'slipway deploy logs <environment>' what they write; 'slipway down' stops everything")
	return nil
}

// downWithoutUp stops the replicas a killed `up` left behind.
func downWithoutUp(ctx context.Context, g *globals, keep bool) error {
	if keep {
		fmt.Fprintln(g.stderr, "slipway up is not running")
		return nil
	}
	a, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.StopWorkloads(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "slipway up is not running; %d environments' replicas stopped\n", n)
	return nil
}

func newDownCmd(g *globals) *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop 'slipway up' and the replicas it runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			dir, err := g.absStateDir()
			if err != nil {
				return err
			}
			c, err := localapi.Dial(ctx, dir)
			if errors.Is(err, localapi.ErrNotRunning) {
				return downWithoutUp(ctx, g, keep)
			}
			if err != nil {
				return err
			}
			var out struct{ Stopped int }
			if !keep {
				if err := c.Do(ctx, http.MethodPost, "/v1/workloads/stop", struct{}{}, &out); err != nil {
					return err
				}
			}
			if err := localapi.Stop(ctx, dir); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "slipway up stopped (%d environments' replicas stopped)\n", out.Stopped)
			return nil
		},
	}
	cmd.Flags().BoolVar(&keep, "keep-workloads", false, "leave the replicas and routers' state for the next 'slipway up'")
	return cmd
}
