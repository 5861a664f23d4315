package deploy

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/analysis"
	"github.com/slipway-ci/slipway/internal/pipeline"
	"github.com/slipway-ci/slipway/internal/release"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
	"github.com/slipway-ci/slipway/internal/trust"
)

// fakeTarget is an in-memory target for the controller's logic: every
// version is ready at once unless broken, and its router data grows by 100
// requests per read with the version's error rate.
type fakeTarget struct {
	mu      sync.Mutex
	applied []target.Desired
	broken  map[string]bool // WaitReady fails at once
	hang    map[string]bool // WaitReady waits for its ctx
	errRate map[string]float64
	samples map[string]analysis.Sample
	removed int
}

func newFakeTarget() *fakeTarget {
	return &fakeTarget{broken: map[string]bool{}, hang: map[string]bool{}, errRate: map[string]float64{}, samples: map[string]analysis.Sample{}}
}

func (f *fakeTarget) Apply(_ context.Context, d target.Desired) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, d)
	return nil
}

func (f *fakeTarget) WaitReady(ctx context.Context, _, _, version string, n int) error {
	f.mu.Lock()
	broken, hang := f.broken[version], f.hang[version]
	f.mu.Unlock()
	if hang && n > 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	if broken && n > 0 {
		return fmt.Errorf("%s exited 3 times: %w", version, target.ErrNotReady)
	}
	return ctx.Err()
}

func (f *fakeTarget) Status(context.Context, string, string) (target.Status, error) {
	return target.Status{}, nil
}

func (f *fakeTarget) Remove(context.Context, string, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed++
	f.applied = append(f.applied, target.Desired{})
	return nil
}

func (f *fakeTarget) Close() error { return nil }

func (f *fakeTarget) Sample(_, _, version string) (analysis.Sample, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.samples[version]
	s.Requests += 100
	s.Errors += int64(100 * f.errRate[version])
	f.samples[version] = s
	return s, nil
}

func (f *fakeTarget) setErrRate(version string, rate float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errRate[version] = rate
}

// reset forgets what was applied.
func (f *fakeTarget) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = nil
}

// waitApplied waits until something was applied.
func (f *fakeTarget) waitApplied(tb testing.TB) {
	tb.Helper()
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(5 * time.Millisecond) {
		f.mu.Lock()
		n := len(f.applied)
		f.mu.Unlock()
		if n > 0 {
			return
		}
	}
	tb.Fatal("nothing applied")
}

// last is the latest desired state.
func (f *fakeTarget) last() target.Desired {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied[len(f.applied)-1]
}

// weights lists the canary weights applied, in order, without repeats.
func (f *fakeTarget) weights() []float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []float64
	for _, d := range f.applied {
		if w := d.Route.CanaryWeight; d.Route.Canary != "" && (len(out) == 0 || out[len(out)-1] != w) {
			out = append(out, w)
		}
	}
	return out
}

// fakeAdmitter admits everything except refused digests and records
// environment entries.
type fakeAdmitter struct {
	mu      sync.Mutex
	refused map[string]bool
	entered []string
}

func (a *fakeAdmitter) Admit(_ context.Context, ref release.Ref, env *pipeline.Environment, _ *trust.Policy) (*release.Report, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.refused[ref.Digest] {
		return &release.Report{}, fmt.Errorf("%w: %s may not enter %s: unsigned", release.ErrRefused, ref, env.Name)
	}
	return &release.Report{OK: true}, nil
}

func (a *fakeAdmitter) Enter(_ context.Context, ref release.Ref, env, _, _ string) (*store.Promotion, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entered = append(a.entered, env+"="+ref.Digest)
	return &store.Promotion{}, false, nil
}

func (a *fakeAdmitter) has(s string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Contains(a.entered, s)
}

// rig is a controller over a real store with a fake target.
type rig struct {
	t      testing.TB
	store  store.Store
	target *fakeTarget
	admit  *fakeAdmitter
	c      *Controller
	spec   *pipeline.Spec
	// published is when each digest was published (absent: the zero time).
	published map[string]time.Time
}

func newRig(t testing.TB, yaml string) *rig {
	t.Helper()
	spec, err := pipeline.Parse("test.yaml", []byte("steps:\n  a: {run: 'true'}\n"+yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, store: openStore(t), target: newFakeTarget(), admit: &fakeAdmitter{refused: map[string]bool{}}, spec: spec,
		published: map[string]time.Time{}}
	r.open()
	return r
}

// open starts a controller over the rig's store (again, after reopen).
func (r *rig) open() {
	r.c = New(Options{Store: r.store.Deployments(), Target: r.target, Admit: r.admit, RollbackWait: 5 * time.Second,
		Secret:    func(n string) (string, bool) { return "s3cr3t-" + n, true },
		Published: func(_ context.Context, _, digest string) (time.Time, error) { return r.published[digest], nil }})
	r.t.Cleanup(func() { r.c.Close() })
}

func (r *rig) reopen(ctx context.Context) {
	r.t.Helper()
	r.c.Close()
	r.open()
	if err := r.c.Recover(ctx); err != nil {
		r.t.Fatal(err)
	}
}

func digestOf(v string) string { return fmt.Sprintf("sha256:%064x", []byte(v)) }

func (r *rig) start(ctx context.Context, env, version string) (*Result, error) {
	return r.c.Start(ctx, Request{Env: r.spec.Environment(env), Repo: "hello", Digest: digestOf(version), Version: version, Actor: "ci"})
}

// deploy starts a deployment and waits until it reaches a state in want.
func (r *rig) deploy(ctx context.Context, env, version string, want ...store.DeployState) *store.Deployment {
	r.t.Helper()
	res, err := r.start(ctx, env, version)
	if err != nil {
		r.t.Fatal(err)
	}
	return r.until(ctx, res.Deployment.ID, want...)
}

// until polls deployment id until its state is one of want.
func (r *rig) until(ctx context.Context, id int64, want ...store.DeployState) *store.Deployment {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		d, err := r.store.Deployments().Get(ctx, id)
		if err != nil {
			r.t.Fatal(err)
		}
		if slices.Contains(want, d.State) {
			return d
		}
		select {
		case <-ctx.Done():
			r.t.Fatalf("deployment %d is %s (%s), want %v", id, d.State, d.Reason, want)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
