package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/slipway-ci/slipway/internal/action"
	"github.com/slipway-ci/slipway/internal/deploy"
	"github.com/slipway-ci/slipway/internal/localapi"
	"github.com/slipway-ci/slipway/internal/store"
)

// deployAction is `uses: deploy`: it deploys the image this run published
// to an environment through `slipway up` (started when none runs) and
// fails the step unless the deployment succeeds.
type deployAction struct{ a *App } // a is nil in Builtins (lint, schema)

func (deployAction) Name() string { return "deploy" }

func (deployAction) Schema() json.RawMessage {
	return json.RawMessage(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["environment"],
  "properties": {
    "environment": {"type": "string", "description": "an environment of this pipeline with target: local"},
    "repo": {"type": "string", "description": "which published artifact, when the run published several"},
    "allow-downgrade": {"type": "boolean"}
  }
}`)
}

func (d deployAction) Run(ctx context.Context, inv *action.Invocation) error {
	var w struct {
		Env       string `json:"environment"`
		Repo      string `json:"repo"`
		Downgrade bool   `json:"allow-downgrade"`
	}
	b, _ := json.Marshal(inv.With)
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	art, err := d.published(ctx, inv.RunID, w.Repo)
	if err != nil {
		return err
	}
	c, err := localapi.EnsureRunning(ctx, localapi.DetachOptions{StateDir: d.a.Config.StateDir, Args: localapi.UpArgs(d.a.Config.StateDir, d.a.Config.File, "")})
	if err != nil {
		return err
	}
	call := deploy.Call{Dir: inv.Root, File: inv.SpecFile, Env: w.Env, Artifact: art.Repo + "@" + art.Digest,
		AllowDowngrade: w.Downgrade, Actor: fmt.Sprintf("run %d", inv.RunID), Reason: "step " + inv.Step}
	var res deploy.Result
	if err := c.Do(ctx, http.MethodPost, "/v1/deploy", call, &res); err != nil {
		return err
	}
	dep := res.Deployment
	if res.Unchanged {
		fmt.Fprintf(inv.Output, "%s already runs %s\n", dep.Env, dep.Version)
		return nil
	}
	fmt.Fprintf(inv.Output, "deployment %d: %s (%s) to %s, %s\n", dep.ID, dep.Version, dep.Digest, dep.Env, dep.Strategy)
	if dep, err = Follow(ctx, c, dep, inv.Output); err != nil {
		return err
	}
	if dep.State != store.DeploySucceeded {
		return fmt.Errorf("deployment %d %s: %s", dep.ID, dep.State, dep.Reason)
	}
	return nil
}

// published is the one image the run published (in repo, when given).
func (d deployAction) published(ctx context.Context, runID int64, repo string) (*store.Artifact, error) {
	arts, err := d.a.Store.Artifacts().List(ctx, store.ArtifactFilter{RunID: runID, Repo: repo})
	if err != nil {
		return nil, err
	}
	var imgs []*store.Artifact
	for _, a := range arts {
		if a.Kind == store.KindImage {
			imgs = append(imgs, a)
		}
	}
	switch len(imgs) {
	case 0:
		return nil, fmt.Errorf("deploy: this run published no image yet; give the step `needs:` on the publish step")
	case 1:
		return imgs[0], nil
	}
	return nil, fmt.Errorf("deploy: this run published %d images; say which with `with: {repo: ...}`", len(imgs))
}

// Follow streams deployment d's progress from `slipway up`, a line per
// change to w ("progressing  20% on v2, step 2/5, pause 3s"), and returns
// its last recorded state. Cancelling ctx stops the following only.
func Follow(ctx context.Context, c *localapi.Client, d *store.Deployment, w io.Writer) (*store.Deployment, error) {
	lastReason := ""
	err := c.Stream(ctx, http.MethodGet, fmt.Sprintf("/v1/deployments/%d/wait", d.ID), nil, func(line []byte) error {
		var cur store.Deployment
		if err := json.Unmarshal(line, &cur); err != nil || cur.ID == 0 {
			return fmt.Errorf("progress: %s", line)
		}
		d = &cur
		at := fmt.Sprintf("%g%% on %s", cur.Weight, cur.Version)
		if p := deploy.Progress(&cur); p != "" {
			at += ", " + p
		}
		if cur.Reason != "" && cur.Reason != lastReason { // said once, not on every line
			at += ": " + cur.Reason
		}
		lastReason = cur.Reason
		fmt.Fprintf(w, "  %-17s %s\n", cur.State, at)
		return nil
	})
	if err != nil && ctx.Err() != nil {
		// Ctrl-C stops the watching, not the deployment.
		return d, fmt.Errorf("stopped following deployment %d, which goes on in slipway up "+
			"('slipway deploy status %s' shows it, 'slipway deploy abort %s' stops it): %w", d.ID, d.Env, d.Env, ctx.Err())
	}
	return d, err
}
