package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/slipway-ci/slipway/internal/analysis"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/release"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/trust"
)

// Errors callers map to exit codes and HTTP statuses.
var (
	// ErrDowngrade refuses a lower version than the environment's current one.
	ErrDowngrade = errors.New("downgrade")
	// ErrNoDeployment means the environment has no deployment to act on.
	ErrNoDeployment = errors.New("no deployment")
	// ErrStopping ends a Wait when the controller stops: the deployment
	// goes on when the next controller starts.
	ErrStopping = errors.New("slipway up is stopping; the deployment resumes when it starts again")
	// ErrNotDeployable means the environment is deployed by another tool.
	ErrNotDeployable = errors.New("not deployable by slipway")
)

// Admitter checks and records an artifact's entry into an environment;
// release.Service is the implementation.
type Admitter interface {
	Admit(ctx context.Context, ref release.Ref, env *pipeline.Environment, policy *trust.Policy) (*release.Report, error)
	Enter(ctx context.Context, ref release.Ref, env, actor, reason string) (*store.Promotion, bool, error)
}

// Options configure a Controller.
type Options struct {
	Store  store.Deployments
	Target target.Target
	Admit  Admitter
	// Secret resolves an environment's secrets: into replicas, never stored.
	Secret func(name string) (string, bool)
	Now    func() time.Time
	Clock  analysis.Clock
	HTTP   *http.Client // for prometheus and webhook metrics
	Logf   func(string, ...any)
	// Published is when repo@digest was published: it orders two builds of
	// one version for the downgrade check. Nil, or the zero time (not
	// known): versions alone decide.
	Published func(ctx context.Context, repo, digest string) (time.Time, error)
	// RollbackWait bounds how long a rollback waits for the stable replicas.
	RollbackWait time.Duration
}

// Controller runs the deployments of one state dir: one goroutine per
// active deployment, driven by the state recorded in the store, so a new
// Controller over the same store (after a restart or a crash) resumes
// where the last one was. Safe for concurrent use.
type Controller struct {
	o    Options
	ctx  context.Context // runners live as long as the controller
	stop context.CancelFunc

	mu      sync.Mutex
	runners map[string]*runner // by environment
	wg      sync.WaitGroup
}

// New returns a Controller; Recover starts the deployments left active.
func New(o Options) *Controller {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Clock == nil {
		o.Clock = analysis.RealClock{}
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.RollbackWait == 0 {
		o.RollbackWait = 2 * time.Minute
	}
	if o.Secret == nil {
		o.Secret = func(string) (string, bool) { return "", false }
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Controller{o: o, ctx: ctx, stop: stop, runners: map[string]*runner{}}
}

// Close stops every runner without changing any deployment's state: the
// next Controller resumes them. Workloads keep running.
func (c *Controller) Close() error {
	c.stop()
	c.wg.Wait()
	return nil
}

// Recover reconciles the target with the store: active deployments resume,
// and environments whose latest deployment ended get exactly their current
// version (finishing scale-downs a restart interrupted).
func (c *Controller) Recover(ctx context.Context) error {
	latest, err := c.Latest(ctx)
	if err != nil {
		return err
	}
	for _, d := range latest {
		if d.State.Active() {
			if err := c.launch(d); err != nil {
				return err
			}
			continue
		}
		if err := c.settle(ctx, d.Env); err != nil {
			c.o.Logf("deploy: %s: reconcile: %v", d.Env, err)
		}
	}
	return nil
}

// Latest is the latest deployment of every environment.
func (c *Controller) Latest(ctx context.Context) ([]*store.Deployment, error) {
	all, err := c.o.Store.List(ctx, store.DeploymentFilter{})
	if err != nil {
		return nil, err
	}
	var out []*store.Deployment
	seen := map[string]bool{}
	for _, d := range all { // newest first
		if !seen[d.Env] {
			seen[d.Env] = true
			out = append(out, d)
		}
	}
	return out, nil
}

// StopWorkloads stops the runners (deployments stay recorded as they are)
// and removes every environment's workloads from the target: `slipway down`.
// It returns how many environments it stopped.
func (c *Controller) StopWorkloads(ctx context.Context) (int, error) {
	c.Close()
	latest, err := c.Latest(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, d := range latest {
		err := c.o.Target.Remove(ctx, d.Service, d.Env)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, target.ErrUnknownSlot):
			errs = append(errs, fmt.Errorf("%s: %w", d.Env, err))
		}
	}
	return n, errors.Join(errs...)
}

// settle makes an idle environment run exactly its current version.
func (c *Controller) settle(ctx context.Context, env string) error {
	cur, err := c.current(ctx, env)
	if err != nil || cur == nil {
		return err
	}
	r, err := c.newRunner(cur)
	if err != nil {
		return err
	}
	return r.settle(ctx, cur)
}

// current is the environment's latest successful deployment, or nil.
func (c *Controller) current(ctx context.Context, env string) (*store.Deployment, error) {
	ds, err := c.o.Store.List(ctx, store.DeploymentFilter{Env: env, State: store.DeploySucceeded, Limit: 1})
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return ds[0], nil
}

func (c *Controller) launch(d *store.Deployment) error {
	r, err := c.newRunner(d)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.runners[d.Env]; old != nil && old.id == d.ID {
		return nil
	}
	c.runners[d.Env] = r
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		r.drive(c.ctx)
		c.mu.Lock()
		if c.runners[d.Env] == r {
			delete(c.runners, d.Env)
		}
		c.mu.Unlock()
	}()
	return nil
}

func (c *Controller) runner(env string) *runner {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runners[env]
}

// Wait blocks until deployment id ends (or ctx does) and returns it.
func (c *Controller) Wait(ctx context.Context, id int64, progress func(*store.Deployment)) (*store.Deployment, error) {
	var last store.DeployState
	var lastStep int
	for {
		d, err := c.o.Store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if progress != nil && (d.State != last || d.Step != lastStep) {
			progress(d)
			last, lastStep = d.State, d.Step
		}
		if !d.State.Active() {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-c.ctx.Done():
			return d, ErrStopping
		case <-time.After(waitPoll):
		}
	}
}

func describe(d *store.Deployment) string {
	return fmt.Sprintf("deployment %d of %s to %s", d.ID, d.Version, d.Env)
}
