package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/app"
	"github.com/slipway-ci/slipway/internal/deploy"
	"github.com/slipway-ci/slipway/internal/localapi"
	"github.com/slipway-ci/slipway/internal/store"
)

type deployOptions struct {
	artifact       string
	file           string
	reason         string
	allowDowngrade bool
	noWait         bool
}

func newDeployCmd(g *globals) *cobra.Command {
	var o deployOptions
	cmd := &cobra.Command{
		Use:   "deploy <environment> --artifact <ref>",
		Short: "Deploy an artifact to an environment, and act on deployments",
		Long: `Deploy verifies the artifact with the environment's trust policy and requires:,
then rolls it out with the environment's strategy (rolling, blue-green or canary
with analysis) through 'slipway up', which it starts in the background when none
runs. It waits and prints progress; exit 0 when the deployment succeeded, 1 when
it was rolled back or failed (the reason says why).

The artifact is repo@sha256:..., or repo:tag (resolved once to its digest).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runDeploy(cmd.Context(), g, args[0], o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.artifact, "artifact", "", "the artifact to deploy (required)")
	f.StringVarP(&o.file, "file", "f", "", "pipeline file declaring the environments (default: nearest .slipway.yaml)")
	f.StringVar(&o.reason, "reason", "", "why, recorded with the deployment")
	f.BoolVar(&o.allowDowngrade, "allow-downgrade", false, "allow a lower version than the environment runs")
	f.BoolVar(&o.noWait, "no-wait", false, "return once the deployment is recorded")
	cmd.MarkFlagRequired("artifact") //nolint:errcheck // the flag exists
	cmd.AddCommand(newDeployStatusCmd(g), newDeployHistoryCmd(g), newDeployRollbackCmd(g), newDeployLogsCmd(g))
	for _, c := range []struct{ name, short string }{
		{"approve", "Approve a deployment waiting for approval (you are recorded as approver)"},
		{"pause", "Pause a deployment where it is"},
		{"resume", "Resume a paused deployment"},
		{"finish", "Skip a canary's remaining steps: all traffic to the new version"},
		{"abort", "Abort a deployment: traffic back to the stable version"},
	} {
		cmd.AddCommand(newDeployActionCmd(g, c.name, c.short))
	}
	return cmd
}

// client reaches `slipway up`, starting it in the background if needed.
func (g *globals) upClient(ctx context.Context, start bool) (*localapi.Client, error) {
	dir, err := g.absStateDir()
	if err != nil {
		return nil, err
	}
	if !start {
		c, err := localapi.Dial(ctx, dir)
		if errors.Is(err, localapi.ErrNotRunning) {
			return nil, failedError(fmt.Errorf("%w: start it with 'slipway up' (or 'slipway deploy' starts it)", err))
		}
		return c, err
	}
	return localapi.EnsureRunning(ctx, localapi.DetachOptions{StateDir: dir, Args: localapi.UpArgs(dir, g.configFile, "")})
}

func (g *globals) call(env string, o deployOptions) (deploy.Call, error) {
	wd, err := os.Getwd()
	if err != nil {
		return deploy.Call{}, err
	}
	file := o.file
	if file != "" {
		if file, err = filepath.Abs(file); err != nil {
			return deploy.Call{}, err
		}
	}
	return deploy.Call{Dir: wd, File: file, Env: env, Artifact: o.artifact, AllowDowngrade: o.allowDowngrade,
		Actor: actor(g), Reason: o.reason}, nil
}

// promoteByDeploy is `artifact promote` to an environment Slipway deploys.
func (g *globals) promoteByDeploy(ctx context.Context, dir, env, ref, reason string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	call := deploy.Call{Dir: abs, Env: env, Artifact: ref, Actor: actor(g), Reason: reason}
	return g.startDeploy(ctx, call, false)
}

func runDeploy(ctx context.Context, g *globals, env string, o deployOptions) error {
	call, err := g.call(env, o)
	if err != nil {
		return err
	}
	return g.startDeploy(ctx, call, o.noWait)
}

func (g *globals) startDeploy(ctx context.Context, call deploy.Call, noWait bool) error {
	c, err := g.upClient(ctx, true)
	if err != nil {
		return err
	}
	var res deploy.Result
	if err := c.Do(ctx, http.MethodPost, "/v1/deploy", call, &res); err != nil {
		return apiErr(err)
	}
	return g.follow(ctx, c, &res, noWait)
}

// follow prints a started deployment's progress until it ends.
func (g *globals) follow(ctx context.Context, c *localapi.Client, res *deploy.Result, noWait bool) error {
	d := res.Deployment
	if res.Unchanged {
		return g.print(res, fmt.Sprintf("%s already runs %s (%s)", d.Env, d.Version, d.Digest))
	}
	if !g.json() {
		fmt.Fprintf(g.stdout, "deployment %d: %s@%s (%s) to %s, %s\n", d.ID, d.Repo, shortDigest(d.Digest), d.Version, d.Env, d.Strategy)
	}
	if noWait {
		return g.print(res, "")
	}
	progress := g.stdout
	if g.json() {
		progress = io.Discard
	}
	last, err := app.Follow(ctx, c, d, progress)
	if err != nil {
		return apiErr(err)
	}
	res.Deployment = last
	if g.json() {
		json.NewEncoder(g.stdout).Encode(res)
	} else if last.State == store.DeploySucceeded {
		fmt.Fprintf(g.stdout, "%s now runs %s\n", last.Env, last.Version)
	}
	if last.State != store.DeploySucceeded {
		return failedError(fmt.Errorf("deployment %d %s: %s", last.ID, last.State, last.Reason))
	}
	return nil
}

func reasonOf(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

// shortDigest is sha256: and 12 hex digits.
func shortDigest(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}

// print writes v as JSON, or msg as text.
func (g *globals) print(v any, msg string) error {
	if g.json() {
		return json.NewEncoder(g.stdout).Encode(v)
	}
	if msg != "" {
		fmt.Fprintln(g.stdout, msg)
	}
	return nil
}

// apiErr maps the API's statuses to exit codes, here at the edge.
func apiErr(err error) error {
	var ae *localapi.APIError
	if !errors.As(err, &ae) {
		return err
	}
	msg := errors.New(ae.Message)
	if ae.Status == http.StatusBadRequest {
		return usageError(msg)
	}
	return failedError(msg)
}
