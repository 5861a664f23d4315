package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ci/slipway/internal/deploy"
	"github.com/slipway-ci/slipway/internal/secrets"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target/local"
)

// Deployer is what `slipway up` runs: the local target and the deployment
// controller over this state dir.
type Deployer struct {
	Target     *local.Target
	Controller *deploy.Controller
}

// OpenDeployer starts the local target and the controller and resumes the
// deployments the store holds. Close it before the App.
func (a *App) OpenDeployer(ctx context.Context, logf func(string, ...any)) (*Deployer, error) {
	tgt, err := local.New(ctx, local.Options{Dir: filepath.Join(a.Config.StateDir, "deploy"), Logf: logf,
		Fetch: func(ctx context.Context, repo, digest string) (v1.Image, error) {
			return a.Release.Image(ctx, repo, digest)
		}})
	if err != nil {
		return nil, err
	}
	chain := secrets.Chain{secrets.NewEnvProvider(a.Environ)}
	if a.Config.SecretsFile != "" {
		fp, err := secrets.LoadFileProvider(a.Config.SecretsFile)
		if err != nil {
			tgt.Close()
			return nil, err
		}
		chain = append(chain, fp)
	}
	ctl := deploy.New(deploy.Options{Store: a.Store.Deployments(), Target: tgt, Admit: a.Release, Logf: logf,
		Secret: func(name string) (string, bool) {
			v, ok, err := chain.Lookup(context.Background(), name)
			return v, ok && err == nil
		},
		Published: func(ctx context.Context, repo, digest string) (time.Time, error) {
			art, err := a.Store.Artifacts().Get(ctx, repo, digest)
			if errors.Is(err, store.ErrNotFound) {
				return time.Time{}, nil // published elsewhere: versions alone decide
			}
			if err != nil {
				return time.Time{}, err
			}
			return art.Created, nil
		}})
	if err := ctl.Recover(ctx); err != nil {
		ctl.Close()
		tgt.Close()
		return nil, err
	}
	return &Deployer{Target: tgt, Controller: ctl}, nil
}

// StopWorkloads stops the replicas `slipway up` left when it is not
// running (after a kill): `slipway down` with nothing to ask.
func (a *App) StopWorkloads(ctx context.Context) (int, error) {
	tgt, err := local.New(ctx, local.Options{Dir: filepath.Join(a.Config.StateDir, "deploy"), Fetch: a.Release.Image})
	if err != nil {
		return 0, err
	}
	defer tgt.Close()
	return deploy.New(deploy.Options{Store: a.Store.Deployments(), Target: tgt, Admit: a.Release}).StopWorkloads(ctx)
}

// Close stops the controller and the target, leaving replicas running.
func (d *Deployer) Close() error {
	d.Controller.Close()
	return d.Target.Close()
}

// ResolveDeploy turns an API call into a deployment request: the project's
// pipeline and trust policy, the environment, and the artifact by digest.
func (a *App) ResolveDeploy(ctx context.Context, call deploy.Call) (deploy.Request, error) {
	if !filepath.IsAbs(call.Dir) {
		return deploy.Request{}, fmt.Errorf("%w: dir must be absolute", deploy.ErrBadCall)
	}
	proj, err := a.LoadProject(ctx, call.Dir, call.File)
	if err != nil {
		return deploy.Request{}, fmt.Errorf("%w: %w", deploy.ErrBadCall, err)
	}
	env := proj.Spec.Environment(call.Env)
	if env == nil {
		var names []string
		for _, e := range proj.Spec.Environments {
			names = append(names, e.Name)
		}
		slices.Sort(names)
		return deploy.Request{}, fmt.Errorf("%w: %s declares no environment %q (it has %v)", deploy.ErrBadCall, proj.Spec.File, call.Env, names)
	}
	req := deploy.Request{Env: env, Policy: &proj.Trust, Actor: call.Actor, Reason: call.Reason}
	if call.Artifact == "" {
		return req, nil // a rollback picks its artifact
	}
	art, err := a.Release.Lookup(ctx, call.Artifact)
	if err != nil {
		return req, fmt.Errorf("%w: %w", deploy.ErrBadCall, err)
	}
	req.Repo, req.Digest, req.Version = art.Repo, art.Digest, art.Version
	return req, nil
}

// Endpoint is where an environment is served.
type Endpoint struct {
	Env     string `json:"environment"`
	URL     string `json:"url"`
	Version string `json:"version"`
	State   string `json:"state"`
}

// Endpoints lists every deployed environment's router address and what
// it serves.
func (d *Deployer) Endpoints(ctx context.Context) []Endpoint {
	latest, err := d.Controller.Latest(ctx)
	if err != nil {
		return nil
	}
	var out []Endpoint
	for _, dep := range latest {
		st, err := d.Target.Status(ctx, dep.Service, dep.Env)
		if err != nil {
			continue
		}
		out = append(out, Endpoint{Env: dep.Env, URL: st.Endpoint, Version: st.Route.Stable, State: string(dep.State)})
	}
	slices.SortFunc(out, func(a, b Endpoint) int { return strings.Compare(a.Env, b.Env) })
	return out
}

// StopWorkloads stops every environment's replicas and routers.
func (d *Deployer) StopWorkloads(ctx context.Context) (int, error) {
	return d.Controller.StopWorkloads(ctx)
}
