package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/release"
	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/target"
)

const canaryYAML = `environments:
  production:
    target: local
    replicas: 2
    strategy: canary
    secrets: [API_KEY]
    canary:
      steps:
        - set-weight: 20
        - analysis: errors
        - set-weight: 50
    analysis:
      errors:
        metrics:
          - name: error-rate
            count: 2
            interval: 10ms
            failureLimit: 0
            successCondition: result < 0.05
            provider: {builtin: {metric: error-rate}}
    probes:
      readiness: {path: /healthz}
`

func TestCanaryPromotesAndRollsBack(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, canaryYAML)
	v1 := r.deploy(ctx, "production", "v1.0.0", store.DeploySucceeded)
	if got := r.target.last().Route; got != (target.Route{Stable: "v1.0.0"}) {
		t.Fatalf("first deployment route = %+v", got)
	}
	if !r.admit.has("production=" + v1.Digest) {
		t.Fatal("success did not move the environment tag")
	}
	if env := r.target.last().Workload.Environ; !slices.Contains(env, "API_KEY=s3cr3t-API_KEY") {
		t.Fatalf("secret not given to the workload: %v", env)
	}
	if strings.Contains(string(v1.Spec), "s3cr3t") {
		t.Fatal("secret value recorded")
	}

	v2 := r.deploy(ctx, "production", "v1.1.0", store.DeploySucceeded)
	if got := r.target.weights(); !slices.Equal(got, []float64{0, 20, 50}) {
		t.Fatalf("canary weights = %v, want [0 20 50]", got)
	}
	if got := r.target.last().Route; got != (target.Route{Stable: "v1.1.0"}) {
		t.Fatalf("after success route = %+v", got)
	}
	ms, err := r.store.Deployments().Measurements(ctx, v2.ID)
	if err != nil || len(ms) != 2 || ms[0].Phase != "successful" || ms[0].Analysis != "step-2" {
		t.Fatalf("measurements = %+v, %v", ms, err)
	}

	r.target.errRate["v1.2.0"] = 0.3
	v3 := r.deploy(ctx, "production", "v1.2.0", store.DeployRolledBack)
	if !strings.Contains(v3.Reason, `metric "error-rate"`) || !strings.Contains(v3.Reason, "0.3") {
		t.Fatalf("rollback reason %q does not name the metric and value", v3.Reason)
	}
	if got := r.target.last().Route; got.Stable != "v1.1.0" || got.CanaryWeight != 0 {
		t.Fatalf("after rollback route = %+v, want all on v1.1.0", got)
	}
	if r.admit.has("production=" + v3.Digest) {
		t.Fatal("a rolled-back version moved the environment tag")
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, canaryYAML)
	r.admit.refused[digestOf("v0.9.0")] = true
	if _, err := r.start(ctx, "production", "v0.9.0"); !errors.Is(err, release.ErrRefused) {
		t.Fatalf("unverified artifact: err = %v", err)
	}
	if n, _ := r.store.Deployments().List(ctx, store.DeploymentFilter{}); len(n) != 0 {
		t.Fatal("a refused artifact was recorded as a deployment")
	}
	r.deploy(ctx, "production", "v1.0.0", store.DeploySucceeded)
	if _, err := r.start(ctx, "production", "v0.9.9"); !errors.Is(err, ErrDowngrade) {
		t.Fatalf("downgrade: err = %v", err)
	}
	res, err := r.c.Start(ctx, Request{Env: r.spec.Environment("production"), Repo: "hello", Digest: digestOf("v0.9.9"),
		Version: "v0.9.9", AllowDowngrade: true})
	if err != nil {
		t.Fatalf("--allow-downgrade: %v", err)
	}
	r.until(ctx, res.Deployment.ID, store.DeploySucceeded)
	res, err = r.start(ctx, "production", "v0.9.9")
	if err != nil || !res.Unchanged {
		t.Fatalf("same digest again: %+v, %v", res, err)
	}
}

// Two builds of one version: the one published earlier is a downgrade.
func TestDowngradeOrdersSameVersionByPublishTime(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, canaryYAML)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	build := func(name string, at time.Time) Request {
		r.published[digestOf(name)] = at
		return Request{Env: r.spec.Environment("production"), Repo: "hello", Digest: digestOf(name), Version: "v1.0.0"}
	}
	cur := build("v1.0.0+b", t0)
	res, err := r.c.Start(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	r.until(ctx, res.Deployment.ID, store.DeploySucceeded)
	if _, err := r.c.Start(ctx, build("v1.0.0+a", t0.Add(-time.Hour))); !errors.Is(err, ErrDowngrade) {
		t.Fatalf("an earlier build of the same version: err = %v, want ErrDowngrade", err)
	}
	res, err = r.c.Start(ctx, build("v1.0.0+c", t0.Add(time.Hour)))
	if err != nil {
		t.Fatalf("a later build of the same version: %v", err)
	}
	r.until(ctx, res.Deployment.ID, store.DeploySucceeded)
}

const longAnalysisYAML = `environments:
  production:
    target: local
    strategy: canary
    canary:
      steps:
        - set-weight: 20
        - analysis: errors
    analysis:
      errors:
        metrics:
          - name: error-rate
            count: 100000
            interval: 10ms
            failureLimit: 100000
            successCondition: result < 0.05
            provider: {builtin: {metric: error-rate}}
    probes: {readiness: {path: /healthz}}
`

// A restart in the middle of an analysis re-runs it when it had only
// passed, and rolls back when it had seen a failure (which a re-run would
// forget).
func TestInterruptedAnalysis(t *testing.T) {
	for _, tc := range []struct {
		name    string
		errRate float64
		want    store.DeployState
	}{
		{"passing", 0, store.DeployProgressing},
		{"failing", 0.3, store.DeployRolledBack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t, longAnalysisYAML)
			r.deploy(ctx, "production", "v1.0.0", store.DeploySucceeded)
			r.target.setErrRate("v2.0.0", tc.errRate)
			res, err := r.start(ctx, "production", "v2.0.0")
			if err != nil {
				t.Fatal(err)
			}
			id := res.Deployment.ID
			for ms := []*store.Measurement(nil); len(ms) < 2; ms, _ = r.store.Deployments().Measurements(ctx, id) {
				time.Sleep(5 * time.Millisecond)
			}
			r.target.setErrRate("v2.0.0", 0)
			r.reopen(ctx)
			if tc.want == store.DeployProgressing {
				n, _ := r.store.Deployments().Measurements(ctx, id)
				for ms := n; len(ms) < len(n)+2; ms, _ = r.store.Deployments().Measurements(ctx, id) {
					time.Sleep(5 * time.Millisecond)
				}
			}
			d := r.until(ctx, id, tc.want)
			if tc.want == store.DeployRolledBack && !strings.Contains(d.Reason, "interrupted after") {
				t.Fatalf("reason %q does not say the analysis was interrupted", d.Reason)
			}
			if d, _ := r.store.Deployments().Get(ctx, id); d.State != tc.want {
				t.Fatalf("state %s (%s), want %s", d.State, d.Reason, tc.want)
			}
		})
	}
}

const pausedYAML = `environments:
  production:
    target: local
    strategy: canary
    approval: required
    probes: {readiness: {path: /healthz}}
    canary:
      steps:
        - set-weight: 10
        - pause: {}
        - set-weight: 60
`

func TestApprovalPauseResumeAcrossRestart(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, pausedYAML)
	r.deploy(ctx, "production", "v1.0.0", store.DeployAwaitingApproval)
	if _, err := r.c.Approve(ctx, "production", "alice"); err != nil {
		t.Fatal(err)
	}
	d1 := r.until(ctx, 1, store.DeploySucceeded)
	if d1.Approver != "alice" {
		t.Fatalf("approver = %q", d1.Approver)
	}
	res, err := r.start(ctx, "production", "v2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	r.until(ctx, res.Deployment.ID, store.DeployAwaitingApproval)
	if _, err := r.start(ctx, "production", "v2.1.0"); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("second deployment while one is active: %v", err)
	}
	if _, err := r.c.Approve(ctx, "production", "bob"); err != nil {
		t.Fatal(err)
	}
	d := r.until(ctx, res.Deployment.ID, store.DeployPaused)
	if d.Step != 2 || d.Weight != 10 {
		t.Fatalf("paused at step %d weight %v, want 2 and 10", d.Step, d.Weight)
	}
	// A restart while paused keeps the recorded weight and waits again.
	r.target.reset()
	r.reopen(ctx)
	r.target.waitApplied(t)
	if got := r.target.last().Route; got.CanaryWeight != 10 || got.Canary != "v2.0.0" {
		t.Fatalf("after restart route = %+v, want 10%% on v2.0.0", got)
	}
	if _, err := r.c.Resume(ctx, "production", "bob"); err != nil {
		t.Fatal(err)
	}
	r.until(ctx, d.ID, store.DeploySucceeded)
	if got := r.target.weights(); !slices.Equal(got, []float64{10, 60}) {
		t.Fatalf("weights after resume = %v", got)
	}
}

func TestAbortFinishAndRollbackCommand(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, pausedYAML)
	approve := func(id int64) {
		r.until(ctx, id, store.DeployAwaitingApproval)
		if _, err := r.c.Approve(ctx, "production", "alice"); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range []string{"v1.0.0", "v2.0.0"} {
		res, err := r.start(ctx, "production", v)
		if err != nil {
			t.Fatal(err)
		}
		approve(res.Deployment.ID)
		if i == 1 {
			r.until(ctx, res.Deployment.ID, store.DeployPaused)
			if _, err := r.c.Finish(ctx, "production", "alice"); err != nil {
				t.Fatal(err)
			}
		}
		if d := r.until(ctx, res.Deployment.ID, store.DeploySucceeded); i == 1 && d.Step != 3 {
			t.Fatalf("finish not recorded: step %d, want 3", d.Step)
		}
	}
	if got := r.target.weights(); slices.Contains(got, 60) {
		t.Fatalf("finish still walked the remaining steps: %v", got)
	}
	res, err := r.start(ctx, "production", "v3.0.0")
	if err != nil {
		t.Fatal(err)
	}
	approve(res.Deployment.ID)
	r.until(ctx, res.Deployment.ID, store.DeployPaused)
	if _, err := r.c.Abort(ctx, "production", "bob"); err != nil {
		t.Fatal(err)
	}
	d := r.until(ctx, res.Deployment.ID, store.DeployRolledBack)
	if d.Reason != "aborted by bob" || r.target.last().Route.Stable != "v2.0.0" {
		t.Fatalf("abort: reason %q route %+v", d.Reason, r.target.last().Route)
	}
	rb, err := r.c.Rollback(ctx, Request{Env: r.spec.Environment("production"), Actor: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	d = r.until(ctx, rb.Deployment.ID, store.DeploySucceeded)
	if d.Version != "v1.0.0" || d.Strategy != StrategyRollback || d.Approver != "" {
		t.Fatalf("rollback deployment = %+v", d)
	}
	if got := r.target.last().Route; got != (target.Route{Stable: "v1.0.0"}) {
		t.Fatalf("after rollback route = %+v", got)
	}
}

const rollingYAML = `environments:
  staging:
    target: local
    replicas: 3
    strategy: rolling
    rolling: {max-surge: 1}
    probes: {readiness: {path: /healthz}}
`

func TestRollingBatchesAndProbeFailure(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, rollingYAML)
	r.deploy(ctx, "staging", "v1.0.0", store.DeploySucceeded)
	r.target.reset()
	r.deploy(ctx, "staging", "v1.1.0", store.DeploySucceeded)
	var counts [][2]int
	for _, d := range r.target.applied {
		if len(d.Versions) == 2 {
			counts = append(counts, [2]int{d.Versions[0].Replicas, d.Versions[1].Replicas})
		}
	}
	for _, c := range counts {
		if c[0]+c[1] > 4 || c[0]+c[1] < 3 {
			t.Fatalf("rolling went outside maxSurge 1: old/new %v in %v", c, counts)
		}
	}
	if last := r.target.last(); len(last.Versions) != 1 || last.Versions[0].Name != "v1.1.0" || last.Versions[0].Replicas != 3 {
		t.Fatalf("rolling end state = %+v", last.Versions)
	}
	r.target.broken["v1.2.0"] = true
	d := r.deploy(ctx, "staging", "v1.2.0", store.DeployRolledBack)
	if !strings.Contains(d.Reason, "probe failure") {
		t.Fatalf("reason = %q", d.Reason)
	}
	if got := r.target.last(); got.Route.Stable != "v1.1.0" || got.Versions[0].Replicas != 3 {
		t.Fatalf("after failed rolling update = %+v", got)
	}
}

func TestProgressDeadlineAndFailedRollback(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, strings.Replace(rollingYAML, "    rolling: {max-surge: 1}\n", "    rolling: {max-surge: 1}\n    progress-deadline: 200ms\n", 1))
	r.deploy(ctx, "staging", "v1.0.0", store.DeploySucceeded)
	r.target.hang["v1.1.0"] = true
	d := r.deploy(ctx, "staging", "v1.1.0", store.DeployRolledBack)
	if !strings.HasPrefix(d.Reason, "progress deadline") {
		t.Fatalf("reason = %q", d.Reason)
	}
	// When the stable version cannot come back either, the deployment
	// fails and says why: a human must look.
	r.target.broken["v1.2.0"] = true
	r.target.broken["v1.0.0"] = true
	d = r.deploy(ctx, "staging", "v1.2.0", store.DeployFailed)
	if !strings.Contains(d.Reason, "rollback failed: v1.0.0 not ready") {
		t.Fatalf("reason = %q", d.Reason)
	}
}
